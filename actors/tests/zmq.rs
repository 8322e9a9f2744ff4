//! Endpoint actors against real libzmq sockets: every transport, routing
//! envelopes, run-time subscriptions, socket monitoring, bind failures.

use std::time::Duration;

use rolecall_actors::zmq::{EventKind, Frames, SocketEvent, Subscription};
use rolecall_runtime::topology::{load_str, Overrides};
use rolecall_runtime::wire::WireConfig;
use rolecall_runtime::{Injector, Node, NodeExit, Registry, Running, Tap};

#[path = "zmq/backpressure.rs"]
mod backpressure;
#[path = "zmq/bad_input.rs"]
mod bad_input;
#[path = "zmq/context.rs"]
mod context;
#[path = "zmq/proxy.rs"]
mod proxy;
#[path = "zmq/restart.rs"]
mod restart;
#[path = "zmq/xsub.rs"]
mod xsub;

fn registry() -> Registry {
    let mut r = Registry::new();
    rolecall_actors::register_all(&mut r).expect("kinds register");
    r
}

fn node(text: &str) -> Node {
    let t = load_str(text, "zmq-test.toml", &registry(), &Overrides::new())
        .unwrap_or_else(|e| panic!("{e}"));
    Node::all(t, registry()).with_seed(3)
}

async fn recv(tap: &mut Tap<Frames>) -> Frames {
    actix_rt::time::timeout(Duration::from_secs(5), tap.recv())
        .await
        .expect("a message within 5 s")
        .expect("the wire is open")
}

fn text(f: &Frames) -> Vec<String> {
    f.iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

/// A started node with `push` bound at `bind` and `pull` connected to
/// `connect`: what goes into `push.in` comes out of `pull.out`.
async fn push_pull(bind: &str, connect: &str) -> (Running, Injector<Frames>, Tap<Frames>) {
    let mut n = node(&format!(
        r#"
        [actors.push]
        kind = "zmq.push"
        params = {{ bind = ["{bind}"] }}
        [actors.pull]
        kind = "zmq.pull"
        after = ["push"]
        params = {{ connect = ["{connect}"] }}
        "#
    ));
    let input = n
        .inject::<Frames>("push.in", WireConfig::default())
        .expect("inject");
    let out = n
        .tap::<Frames>("pull.out", WireConfig::default())
        .expect("tap");
    (n.start().await.expect("start"), input, out)
}

#[actix_rt::test]
async fn push_pull_over_tcp_ipc_and_inproc() {
    let ipc = format!("ipc:///tmp/rolecall-test-{}.sock", std::process::id());
    for (bind, connect) in [
        (
            "tcp://127.0.0.1:16001".to_owned(),
            "tcp://127.0.0.1:16001".to_owned(),
        ),
        (ipc.clone(), ipc.clone()),
        (
            "inproc://rolecall-test-pipe".to_owned(),
            "inproc://rolecall-test-pipe".to_owned(),
        ),
    ] {
        let (running, input, mut out) = push_pull(&bind, &connect).await;
        for i in 0..100 {
            input
                .output()
                .send_async(Frames::from(vec![
                    b"part".to_vec(),
                    format!("{i}").into_bytes(),
                ]))
                .await;
        }
        for i in 0..100 {
            assert_eq!(
                text(&recv(&mut out).await),
                vec!["part".to_owned(), format!("{i}")],
                "{bind}"
            );
        }
        running.shutdown();
        assert_eq!(running.wait().await, NodeExit::Completed);
    }
}

/// Frames of every size class come out of a socket as they went in: empty,
/// small ones (copied out of their ZeroMQ message) and large ones (sharing
/// it), in one multipart message and alone, and a large one stays intact
/// after the socket has received many more messages into its slots.
#[actix_rt::test]
async fn received_frames_of_every_size_arrive_intact() {
    let address = "tcp://127.0.0.1:16043";
    let (running, input, mut out) = push_pull(address, address).await;
    let body = |size: usize, seed: usize| -> Vec<u8> {
        (0..size).map(|i| ((i * 31 + seed) % 251) as u8).collect()
    };
    let sizes = [0usize, 1, 255, 256, 1024, 8192, 8193, 65_536, 1 << 20];
    let all: Vec<Vec<u8>> = sizes.iter().map(|&s| body(s, s)).collect();
    input.output().send_async(Frames::from(all.clone())).await;
    for (i, &s) in sizes.iter().enumerate() {
        input.output().send_async(Frames::one(body(s, i))).await;
    }
    let first = recv(&mut out).await;
    assert_eq!(first.clone().into_vecs(), all);
    for (i, &s) in sizes.iter().enumerate() {
        let m = recv(&mut out).await;
        assert_eq!(m.len(), 1);
        assert_eq!(m[0], body(s, i), "a single frame of {s} bytes");
    }
    // The large frames of the first message were not overwritten by the
    // messages received after it.
    assert_eq!(first.into_vecs(), all);
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

#[actix_rt::test]
async fn router_dealer_keeps_the_envelope_so_replies_find_their_sender() {
    let mut n = node(
        r#"
        [actors.router]
        kind = "zmq.router"
        params = { bind = ["tcp://127.0.0.1:16002"] }
        [actors.server]
        kind = "text.responder"
        params = { reply_prefix = "re: " }
        [actors.alice]
        kind = "zmq.dealer"
        params = { connect = ["tcp://127.0.0.1:16002"], identity = "alice" }
        [actors.bob]
        kind = "zmq.dealer"
        params = { connect = ["tcp://127.0.0.1:16002"], identity = "bob" }
        [[wires]]
        from = "router.out"
        to = "server.in"
        [[wires]]
        from = "server.out"
        to = "router.in"
        "#,
    );
    let to_alice = n
        .inject::<Frames>("alice.in", WireConfig::default())
        .expect("inject");
    let to_bob = n
        .inject::<Frames>("bob.in", WireConfig::default())
        .expect("inject");
    let mut alice = n
        .tap::<Frames>("alice.out", WireConfig::default())
        .expect("tap");
    let mut bob = n
        .tap::<Frames>("bob.out", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    actix_rt::time::sleep(Duration::from_millis(200)).await;
    to_alice
        .output()
        .send_async(Frames::text("from alice"))
        .await;
    to_bob.output().send_async(Frames::text("from bob")).await;
    assert_eq!(text(&recv(&mut alice).await), vec!["re: from alice"]);
    assert_eq!(text(&recv(&mut bob).await), vec!["re: from bob"]);
    running.shutdown();
    running.wait().await;
}

#[actix_rt::test]
async fn subscriptions_change_at_run_time() {
    let mut n = node(
        r#"
        [actors.pub]
        kind = "zmq.pub"
        params = { bind = ["tcp://127.0.0.1:16003"] }
        [actors.sub]
        kind = "zmq.sub"
        params = { connect = ["tcp://127.0.0.1:16003"], subscribe = ["a"] }
        "#,
    );
    let publish = n
        .inject::<Frames>("pub.in", WireConfig::default())
        .expect("inject");
    let subscriptions = n
        .inject::<Subscription>("sub.subscriptions", WireConfig::default())
        .expect("inject");
    let mut got = n
        .tap::<Frames>("sub.out", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    // Publish until the subscription is live (slow joiner), then check filtering.
    let mut first = None;
    for _ in 0..100 {
        publish
            .output()
            .send_async(Frames::text("b: not for us"))
            .await;
        publish.output().send_async(Frames::text("a: hello")).await;
        if let Ok(Some(f)) = actix_rt::time::timeout(Duration::from_millis(20), got.recv()).await {
            first = Some(f);
            break;
        }
    }
    assert_eq!(first.map(|f| text(&f)), Some(vec!["a: hello".to_owned()]));
    subscriptions
        .output()
        .send_async(Subscription::Unsubscribe(b"a".to_vec()))
        .await;
    subscriptions
        .output()
        .send_async(Subscription::Subscribe(b"b".to_vec()))
        .await;
    let mut switched = false;
    for _ in 0..100 {
        publish.output().send_async(Frames::text("a: old")).await;
        publish.output().send_async(Frames::text("b: new")).await;
        if let Ok(Some(f)) = actix_rt::time::timeout(Duration::from_millis(20), got.recv()).await {
            if text(&f) == vec!["b: new".to_owned()] {
                switched = true;
                break;
            }
        }
    }
    assert!(switched, "after the change only b arrives");
    running.shutdown();
    running.wait().await;
}

#[actix_rt::test]
async fn xpub_sees_subscriptions_and_xsub_sends_them() {
    let mut n = node(
        r#"
        [actors.xsub]
        kind = "zmq.xsub"
        params = { bind = ["tcp://127.0.0.1:16004"], subscribe = ["news"] }
        [actors.xpub]
        kind = "zmq.xpub"
        after = ["xsub"]
        params = { connect = ["tcp://127.0.0.1:16004"] }
        "#,
    );
    let mut seen = n
        .tap::<Frames>("xpub.out", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    let f = recv(&mut seen).await;
    assert_eq!(
        f.into_vecs(),
        vec![[&[1u8][..], b"news"].concat()],
        "a subscribe message: 0x01 + topic"
    );
    running.shutdown();
    running.wait().await;
}

async fn next(tap: &mut Tap<SocketEvent>) -> Option<EventKind> {
    actix_rt::time::timeout(Duration::from_secs(5), tap.recv())
        .await
        .ok()
        .flatten()
        .map(|e| e.kind)
}

#[actix_rt::test]
async fn the_monitor_port_reports_socket_events() {
    let mut n = node(
        r#"
        [actors.rep]
        kind = "zmq.rep"
        params = { bind = ["tcp://127.0.0.1:16005"], monitor = true }
        [actors.req]
        kind = "zmq.req"
        after = ["rep"]
        params = { connect = ["tcp://127.0.0.1:16005"], monitor = true }
        "#,
    );
    let mut rep_events = n
        .tap::<SocketEvent>("rep.monitor", WireConfig::default())
        .expect("tap");
    let mut req_events = n
        .tap::<SocketEvent>("req.monitor", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    let mut rep_kinds = Vec::new();
    while !rep_kinds.contains(&EventKind::Accepted) {
        match next(&mut rep_events).await {
            Some(k) => rep_kinds.push(k),
            None => break,
        }
    }
    assert_eq!(
        rep_kinds.first(),
        Some(&EventKind::Listening),
        "{rep_kinds:?}"
    );
    assert!(rep_kinds.contains(&EventKind::Accepted), "{rep_kinds:?}");
    let mut req_kinds = Vec::new();
    while !req_kinds.contains(&EventKind::Connected) {
        match next(&mut req_events).await {
            Some(k) => req_kinds.push(k),
            None => break,
        }
    }
    assert!(req_kinds.contains(&EventKind::Connected), "{req_kinds:?}");
    running.shutdown();
    running.wait().await;
}

#[actix_rt::test]
async fn a_bind_that_fails_is_a_crash_retried_then_escalated() {
    let _holder = zmq::Context::new().socket(zmq::PULL).expect("socket");
    _holder.bind("tcp://127.0.0.1:16006").expect("first bind");
    let n = node(
        r#"
        [actors.pull]
        kind = "zmq.pull"
        max_restarts = 2
        backoff = { min = "5ms", max = "20ms" }
        params = { bind = ["tcp://127.0.0.1:16006"] }
        "#,
    );
    let running = n.start().await.expect("start");
    match running.wait().await {
        NodeExit::Failed(reason) => {
            assert!(
                reason.contains("binding tcp://127.0.0.1:16006: Address already in use"),
                "{reason}"
            )
        }
        other => panic!("expected failure, got {other:?}"),
    }
}

#[actix_rt::test]
async fn curve_admits_allowlisted_clients_and_refuses_unknown_keys() {
    use rolecall_actors::zmq::curve::generate;
    let dir = std::env::temp_dir().join(format!("rolecall-curve-{}", std::process::id()));
    let server = generate(&dir, "server").expect("server keys");
    let friend = generate(&dir, "friend").expect("friend keys");
    let stranger = generate(&dir, "stranger").expect("stranger keys");
    let client = |name: &str, keys: &rolecall_actors::zmq::curve::KeyFiles| {
        format!(
            r#"
            [actors.{name}]
            kind = "zmq.req"
            after = ["rep"]
            params = {{ connect = ["tcp://127.0.0.1:16007"], monitor = true, curve = {{ secret_key = "{}", public_key = "{}", server_key = "{}" }} }}
            "#,
            keys.secret.display(),
            keys.public.display(),
            server.public.display()
        )
    };
    let topology = format!(
        r#"
        [actors.rep]
        kind = "zmq.rep"
        params = {{ bind = ["tcp://127.0.0.1:16007"], curve = {{ secret_key = "{}", allow = ["{}"] }} }}
        [actors.server]
        kind = "text.responder"
        [[wires]]
        from = "rep.out"
        to = "server.in"
        [[wires]]
        from = "server.out"
        to = "rep.in"
        {}
        {}
        "#,
        server.secret.display(),
        friend.public.display(),
        client("friend", &friend),
        client("stranger", &stranger)
    );
    let mut n = node(&topology);
    let to_friend = n
        .inject::<Frames>("friend.in", WireConfig::default())
        .expect("inject");
    let to_stranger = n
        .inject::<Frames>("stranger.in", WireConfig::default())
        .expect("inject");
    let mut friend_out = n
        .tap::<Frames>("friend.out", WireConfig::default())
        .expect("tap");
    let mut stranger_out = n
        .tap::<Frames>("stranger.out", WireConfig::default())
        .expect("tap");
    let mut stranger_events = n
        .tap::<SocketEvent>("stranger.monitor", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    to_friend.output().send_async(Frames::text("hi")).await;
    to_stranger.output().send_async(Frames::text("hi")).await;
    assert_eq!(text(&recv(&mut friend_out).await), vec!["world: hi"]);
    let mut refused = false;
    while let Some(kind) = next(&mut stranger_events).await {
        if kind == EventKind::HandshakeFailedAuth {
            refused = true;
            break;
        }
    }
    assert!(refused, "the stranger's handshake fails on authentication");
    let nothing = actix_rt::time::timeout(Duration::from_millis(300), stranger_out.recv()).await;
    assert!(nothing.is_err(), "the stranger gets no reply");
    running.shutdown();
    running.wait().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_rt::test]
async fn curve_client_with_the_wrong_server_key_is_never_connected() {
    use rolecall_actors::zmq::curve::generate;
    let dir = std::env::temp_dir().join(format!("rolecall-curve-wrong-{}", std::process::id()));
    let server = generate(&dir, "server").expect("server keys");
    let other = generate(&dir, "other").expect("other keys");
    let client = generate(&dir, "client").expect("client keys");
    // An empty allowlist admits any client key: only the server key is wrong.
    let topology = format!(
        r#"
        [actors.rep]
        kind = "zmq.rep"
        params = {{ bind = ["tcp://127.0.0.1:16008"], curve = {{ secret_key = "{}" }} }}
        [actors.server]
        kind = "text.responder"
        [[wires]]
        from = "rep.out"
        to = "server.in"
        [[wires]]
        from = "server.out"
        to = "rep.in"
        [actors.req]
        kind = "zmq.req"
        after = ["rep"]
        params = {{ connect = ["tcp://127.0.0.1:16008"], monitor = true, curve = {{ secret_key = "{}", public_key = "{}", server_key = "{}" }} }}
        "#,
        server.secret.display(),
        client.secret.display(),
        client.public.display(),
        other.public.display()
    );
    let mut n = node(&topology);
    let to_req = n
        .inject::<Frames>("req.in", WireConfig::default())
        .expect("inject");
    let mut req_out = n
        .tap::<Frames>("req.out", WireConfig::default())
        .expect("tap");
    let mut events = n
        .tap::<SocketEvent>("req.monitor", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    to_req.output().send_async(Frames::text("hi")).await;
    // Failed handshakes, retried; never a successful one.
    let mut failed = 0;
    while failed < 2 {
        match next(&mut events).await {
            Some(EventKind::HandshakeSucceeded) => panic!("handshake with the wrong server key"),
            Some(EventKind::HandshakeFailedNoDetail | EventKind::HandshakeFailedProtocol) => {
                failed += 1
            }
            Some(_) => {}
            None => panic!("no handshake failure reported (seen {failed})"),
        }
    }
    let nothing = actix_rt::time::timeout(Duration::from_millis(300), req_out.recv()).await;
    assert!(nothing.is_err(), "no reply without a handshake");
    running.shutdown();
    running.wait().await;
    let _ = std::fs::remove_dir_all(&dir);
}
