//! `zk.session` after its session expires: a new session, its ephemeral
//! nodes made again, whether the server or only the client saw the expiry;
//! and a cut too short to expire it.
//!
//! The session goes through a [`Proxy`]. (Expiring it by attaching a second
//! client and closing that one raced the first client's reconnection: each
//! could close the other's connection before its handshake finished, until
//! the attach timed out.)

use std::time::Duration;

use rolecall_actors::zk::{client, Call, ConnectionState, Info, Mode, Op, Outcome, Session};
use rolecall_runtime::wire::WireConfig;
use rolecall_runtime::{NodeExit, Ref, Running, Tap};

use crate::proxy::Proxy;
use crate::support::{bare, next, node, servers, unique, until_empty};

const DATA: &[u8] = b"10.0.0.1:5000";

/// A running `zk.session` (4 s timeout) through its own `proxy`, connected,
/// that has created the persistent `root` and the ephemeral `eph`
/// (`{root}/me`).
struct Setup {
    proxy: Proxy,
    running: Running,
    zk: Ref<Session>,
    state: Tap<ConnectionState>,
    first: i64,
    root: String,
    eph: String,
    bare: client::Client,
}

async fn setup(name: &str) -> Setup {
    setup_with(name, "").await
}

/// As [`setup`], with `more` parameters (`, key = value` each).
async fn setup_with(name: &str, more: &str) -> Setup {
    let proxy = Proxy::to(&servers());
    let root = unique(name);
    let mut n = node(&format!(
        r#"
        [actors.zk]
        kind = "zk.session"
        params = {{ servers = "{}", session_timeout_ms = 4000{more} }}
        "#,
        proxy.addr()
    ));
    let mut state = n
        .tap::<ConnectionState>("zk.state", WireConfig::default())
        .unwrap();
    let running = n.start().await.expect("start");
    let ConnectionState::Connected { session: first, .. } = next(&mut state, 10).await else {
        panic!("connected first")
    };
    let zk = running.actor::<Session>("zk").unwrap();
    assert_eq!(session_id(&zk).await, Some(first));
    zk.send(Call(Op::create(&root, b"", Mode::Persistent)))
        .await
        .unwrap()
        .unwrap();
    let eph = format!("{root}/me");
    zk.send(Call(Op::create(&eph, DATA, Mode::Ephemeral)))
        .await
        .unwrap()
        .unwrap();
    let bare = bare(&servers()).await;
    Setup {
        proxy,
        running,
        zk,
        state,
        first,
        root,
        eph,
        bare,
    }
}

impl Setup {
    /// Stops the node (which must not have failed) and removes `root` once
    /// the session's nodes are gone.
    async fn end(self) {
        self.running.shutdown();
        assert_eq!(self.running.wait().await, NodeExit::Completed);
        until_empty(&self.bare, &self.root).await;
        self.bare.delete(&self.root, None).await.unwrap();
    }
}

async fn session_id(zk: &Ref<Session>) -> Option<i64> {
    zk.send(Info).await.unwrap().map(|info| info.id().0)
}

/// Waits for the new session after an `Expired` state (calling `expired`
/// then); its id.
async fn new_session(state: &mut Tap<ConnectionState>, expired: impl FnOnce()) -> i64 {
    let mut expired = Some(expired);
    let mut saw_expired = false;
    loop {
        match next(state, 20).await {
            ConnectionState::Expired => {
                saw_expired = true;
                if let Some(f) = expired.take() {
                    f();
                }
            }
            ConnectionState::Connected {
                session,
                fresh: true,
            } => {
                assert!(saw_expired, "an Expired state before the new session");
                return session;
            }
            _ => {}
        }
    }
}

/// Waits (at most `secs`) until `path` holds `DATA`, owned by `session`.
async fn until_owned(c: &client::Client, path: &str, session: i64, secs: u64) {
    let mut last = None;
    for _ in 0..secs * 10 {
        last = c.get_data(path).await.ok();
        if let Some((data, stat)) = &last {
            if stat.ephemeral_owner == session {
                assert_eq!(data, DATA);
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} owned by session {session:#x} within {secs} s; last seen {last:?}");
}

#[actix_rt::test]
async fn expiry_opens_a_new_session_and_recreates_ephemerals() {
    let mut s = setup("expiry").await;
    // Cut until the server has expired the session (its ephemeral node is
    // gone), then let the client back in: it learns of the expiry, by the
    // server's answer or its own clock, and opens a new session.
    s.proxy.cut();
    let mut gone = false;
    for _ in 0..300 {
        if s.bare.get_data(&s.eph).await.is_err() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        gone,
        "the server expires the session within 15 s of the cut"
    );
    s.proxy.mend();
    let second = new_session(&mut s.state, || {}).await;
    assert_ne!(s.first, second, "a new session id");
    assert_eq!(session_id(&s.zk).await, Some(second));
    until_owned(&s.bare, &s.eph, second, 5).await;
    s.end().await;
}

#[actix_rt::test]
async fn a_node_the_expired_session_still_holds_is_replaced_at_once() {
    let mut s = setup("expiry-client").await;
    // A sequential ephemeral node (never made again) shows whether the old
    // session still lives on the server.
    let marker = format!("{}/old-", s.root);
    s.zk.send(Call(Op::create(&marker, b"", Mode::EphemeralSequential)))
        .await
        .unwrap()
        .unwrap();
    // The client hears nothing while the server hears its pings and
    // reconnections: the client expires the session by its own clock, the
    // server keeps it (and its nodes) until its timeout after the last of them.
    s.proxy.drop_answers();
    let second = new_session(&mut s.state, || s.proxy.mend()).await;
    assert_ne!(s.first, second, "a new session id");
    until_owned(&s.bare, &s.eph, second, 15).await;
    let children = s.bare.list_children(&s.root).await.unwrap();
    assert!(
        children.iter().any(|c| c.starts_with("old-")),
        "the node was replaced while the old session still lived: {children:?}"
    );
    s.end().await;
}

#[actix_rt::test]
async fn a_node_another_session_took_is_waited_out_then_made_again() {
    let mut s = setup("expiry-other").await;
    // Another client takes the path, then the actor's session expires.
    let other = bare(&servers()).await;
    s.bare.delete(&s.eph, None).await.unwrap();
    let eph = client::CreateMode::Ephemeral.with_acls(client::Acls::anyone_all());
    other.create(&s.eph, b"other", &eph).await.unwrap();
    let other_id = other.session_id().0;
    s.proxy.cut();
    let second = new_session(&mut s.state, || s.proxy.mend()).await;
    // The new session leaves the other client's node alone...
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (data, stat) = s.bare.get_data(&s.eph).await.unwrap();
    assert_eq!(
        (data.as_slice(), stat.ephemeral_owner),
        (&b"other"[..], other_id)
    );
    // ...and creates its own as soon as that one goes.
    drop(other);
    until_owned(&s.bare, &s.eph, second, 10).await;
    s.end().await;
}

#[actix_rt::test]
async fn a_cut_shorter_than_the_timeout_keeps_the_session_and_its_nodes() {
    let mut s = setup("expiry-short").await;
    s.proxy.cut();
    assert_eq!(next(&mut s.state, 10).await, ConnectionState::Disconnected);
    // A request made while cut (after the client saw the disconnection) waits
    // for the link and is answered by the same session.
    let zk = s.zk.clone();
    let eph = s.eph.clone();
    let during = actix_rt::spawn(async move {
        zk.send(Call(Op::Get {
            path: eph,
            watch: false,
        }))
        .await
        .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.proxy.mend();
    match actix_rt::time::timeout(Duration::from_secs(10), during).await {
        Ok(Ok(Ok(Outcome::Data { data, .. }))) => assert_eq!(data, DATA),
        other => panic!("a request made while cut: {other:?}"),
    }
    // The same session, no expiry; the node still its own.
    loop {
        match next(&mut s.state, 10).await {
            ConnectionState::Connected { session, fresh } => {
                assert_eq!((session, fresh), (s.first, false));
                break;
            }
            ConnectionState::Disconnected => {}
            other => panic!("only reconnection after a short cut, not {other:?}"),
        }
    }
    until_owned(&s.bare, &s.eph, s.first, 5).await;
    s.end().await;
}

#[actix_rt::test]
async fn an_outage_longer_than_the_connect_timeout_is_waited_out() {
    // connect_timeout_ms bounds only the first session: once the session
    // expired, opening a new one keeps trying (reconnect_timeout_ms unset).
    let mut s = setup_with("expiry-outage", ", connect_timeout_ms = 1000").await;
    s.proxy.cut();
    loop {
        match next(&mut s.state, 20).await {
            ConnectionState::Expired => break,
            ConnectionState::Disconnected => {}
            other => panic!("only Disconnected, then Expired, while cut: {other:?}"),
        }
    }
    // Three connect timeouts of refused reopening attempts.
    tokio::time::sleep(Duration::from_secs(3)).await;
    s.proxy.mend();
    let second = match next(&mut s.state, 20).await {
        ConnectionState::Connected {
            session,
            fresh: true,
        } => session,
        other => panic!("a new session once the link is back, not {other:?}"),
    };
    assert_ne!(s.first, second, "a new session id");
    assert_eq!(session_id(&s.zk).await, Some(second));
    until_owned(&s.bare, &s.eph, second, 10).await;
    s.end().await;
}

#[actix_rt::test]
async fn a_reconnect_timeout_fails_the_node_when_the_outage_outlasts_it() {
    let mut s = setup_with(
        "expiry-outage-bounded",
        ", connect_timeout_ms = 1000, reconnect_timeout_ms = 1000",
    )
    .await;
    s.proxy.cut();
    loop {
        if next(&mut s.state, 20).await == ConnectionState::Expired {
            break;
        }
    }
    let exit = actix_rt::time::timeout(Duration::from_secs(15), s.running.wait())
        .await
        .expect("the node ends within 15 s of the expiry");
    match exit {
        NodeExit::Failed(why) => assert!(
            why.contains("zk.session `zk`") && why.contains("cannot reach ZooKeeper"),
            "{why}"
        ),
        other => panic!("the node fails, not {other:?}"),
    }
    until_empty(&s.bare, &s.root).await;
    s.bare.delete(&s.root, None).await.unwrap();
}

#[actix_rt::test]
async fn a_shutdown_while_the_server_is_away_ends_the_wait_at_once() {
    // The actor waits for a server in `ctx.wait`, which holds up everything
    // else, its stop included: the wait races the stop instead of being
    // aborted after the supervisor's 2 s grace.
    let mut s = setup_with("expiry-stop", ", connect_timeout_ms = 1000").await;
    s.proxy.cut();
    loop {
        if next(&mut s.state, 20).await == ConnectionState::Expired {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let asked = std::time::Instant::now();
    s.running.shutdown();
    assert_eq!(s.running.wait().await, NodeExit::Completed);
    let took = asked.elapsed();
    assert!(
        took < Duration::from_millis(1900),
        "stopped in {took:?}, not aborted after the 2 s grace"
    );
    s.proxy.mend();
    until_empty(&s.bare, &s.root).await;
    s.bare.delete(&s.root, None).await.unwrap();
}
