//! `zk.session`: typed requests and errors, watches, digest ACLs (expiry:
//! `expiry.rs`).

use std::time::Duration;

use rolecall_actors::zk::{
    client, Access, Call, ConnectionState, Error, EventKind, Mode, Op, Outcome, Reply, Request,
    Session, WatchEvent,
};
use rolecall_runtime::wire::WireConfig;

use crate::support::{bare, next, node, servers, unique};

fn session_toml(servers: &str, extra: &str) -> String {
    format!(
        r#"
        [actors.zk]
        kind = "zk.session"
        params = {{ servers = "{servers}", session_timeout_ms = 2000 {extra} }}
        "#
    )
}

#[actix_rt::test]
async fn requests_and_typed_errors() {
    let root = unique("requests");
    let mut n = node(&session_toml(&servers(), ""));
    let mut state = n
        .tap::<ConnectionState>("zk.state", WireConfig::default())
        .unwrap();
    let running = n.start().await.expect("start");
    assert!(matches!(
        next(&mut state, 10).await,
        ConnectionState::Connected { fresh: true, .. }
    ));
    let zk = running.actor::<Session>("zk").unwrap();
    let call = |op| {
        let zk = zk.clone();
        async move { zk.send(Call(op)).await.expect("session answers") }
    };
    assert_eq!(
        call(Op::create(&root, b"root", Mode::Persistent)).await,
        Ok(Outcome::Created { path: root.clone() })
    );
    let a = format!("{root}/a");
    call(Op::create(&a, b"one", Mode::Persistent))
        .await
        .unwrap();
    assert_eq!(
        call(Op::Get {
            path: a.clone(),
            watch: false
        })
        .await,
        Ok(Outcome::Data {
            data: b"one".to_vec(),
            version: 0
        })
    );
    assert_eq!(
        call(Op::Set {
            path: a.clone(),
            data: b"two".to_vec(),
            version: Some(0)
        })
        .await,
        Ok(Outcome::Written { version: 1 })
    );
    // Wrong version, missing node, existing node, bad paths: typed errors.
    assert_eq!(
        call(Op::Set {
            path: a.clone(),
            data: b"x".to_vec(),
            version: Some(0)
        })
        .await,
        Err(Error::BadVersion {
            path: a.clone(),
            expected: 0
        })
    );
    assert_eq!(
        call(Op::Delete {
            path: a.clone(),
            version: Some(7)
        })
        .await,
        Err(Error::BadVersion {
            path: a.clone(),
            expected: 7
        })
    );
    assert_eq!(
        call(Op::Get {
            path: format!("{root}/missing"),
            watch: false
        })
        .await,
        Err(Error::NoNode {
            path: format!("{root}/missing")
        })
    );
    assert_eq!(
        call(Op::create(&a, b"", Mode::Persistent)).await,
        Err(Error::NodeExists { path: a.clone() })
    );
    for bad in ["no-slash", "/a//b", "/trailing/"] {
        assert!(
            matches!(call(Op::Get { path: bad.into(), watch: false }).await, Err(Error::InvalidPath { ref path, .. }) if path == bad),
            "{bad}"
        );
    }
    assert_eq!(
        call(Op::Delete {
            path: root.clone(),
            version: None
        })
        .await,
        Err(Error::NotEmpty { path: root.clone() })
    );
    // Sequential nodes get a 10-digit suffix; children come sorted.
    let Ok(Outcome::Created { path: s1 }) = call(Op::create(
        &format!("{root}/seq-"),
        b"",
        Mode::PersistentSequential,
    ))
    .await
    else {
        panic!("sequential create")
    };
    assert!(
        s1.starts_with(&format!("{root}/seq-")) && s1.len() == root.len() + 15,
        "{s1}"
    );
    assert_eq!(
        call(Op::Children {
            path: root.clone(),
            watch: false
        })
        .await,
        Ok(Outcome::Children {
            names: vec!["a".into(), s1[root.len() + 1..].to_owned()]
        })
    );
    assert_eq!(
        call(Op::Exists {
            path: a.clone(),
            watch: false
        })
        .await,
        Ok(Outcome::Exists { version: Some(1) })
    );
    assert_eq!(
        call(Op::Delete {
            path: a.clone(),
            version: Some(1)
        })
        .await,
        Ok(Outcome::Deleted)
    );
    assert_eq!(
        call(Op::Exists {
            path: a.clone(),
            watch: false
        })
        .await,
        Ok(Outcome::Exists { version: None })
    );
    call(Op::Delete {
        path: s1,
        version: None,
    })
    .await
    .unwrap();
    call(Op::Delete {
        path: root,
        version: None,
    })
    .await
    .unwrap();
    running.shutdown();
    running.wait().await;
}

#[actix_rt::test]
async fn wired_requests_are_answered_by_id_concurrently() {
    let root = unique("wired");
    let mut n = node(&session_toml(&servers(), ""));
    let requests = n
        .inject::<Request>("zk.requests", WireConfig::default())
        .unwrap();
    let mut replies = n.tap::<Reply>("zk.replies", WireConfig::default()).unwrap();
    let running = n.start().await.expect("start");
    requests
        .output()
        .send_async(Request {
            id: 1,
            op: Op::create(&root, b"", Mode::Persistent),
        })
        .await;
    assert_eq!(next(&mut replies, 10).await.id, 1);
    for i in 0..50u64 {
        let op = Op::create(&format!("{root}/n{i}"), &i.to_be_bytes(), Mode::Ephemeral);
        requests
            .output()
            .send_async(Request { id: 100 + i, op })
            .await;
    }
    let mut ids: Vec<u64> = Vec::new();
    for _ in 0..50 {
        let r = next(&mut replies, 10).await;
        assert!(r.result.is_ok(), "{r:?}");
        ids.push(r.id);
    }
    ids.sort();
    assert_eq!(ids, (100..150).collect::<Vec<_>>());
    requests
        .output()
        .send_async(Request {
            id: 2,
            op: Op::Children {
                path: root.clone(),
                watch: false,
            },
        })
        .await;
    let r = next(&mut replies, 10).await;
    assert!(
        matches!(r, Reply { id: 2, result: Ok(Outcome::Children { ref names }) } if names.len() == 50)
    );
    running.shutdown();
    running.wait().await;
    // The session is closed: its ephemeral children are gone.
    let c = bare(&servers()).await;
    assert!(c.list_children(&root).await.unwrap().is_empty());
    c.delete(&root, None).await.unwrap();
}

#[actix_rt::test]
async fn oneshot_and_persistent_watches() {
    let root = unique("watches");
    let mut n = node(&session_toml(&servers(), ""));
    let mut events = n
        .tap::<WatchEvent>("zk.events", WireConfig::default())
        .unwrap();
    let running = n.start().await.expect("start");
    let zk = running.actor::<Session>("zk").unwrap();
    let c = bare(&servers()).await;
    let opts = client::CreateMode::Persistent.with_acls(client::Acls::anyone_all());
    c.create(&root, b"0", &opts).await.unwrap();
    // One-shot data watch: fires once.
    zk.send(Call(Op::Get {
        path: root.clone(),
        watch: true,
    }))
    .await
    .unwrap()
    .unwrap();
    c.set_data(&root, b"1", None).await.unwrap();
    c.set_data(&root, b"2", None).await.unwrap();
    assert_eq!(
        next(&mut events, 15).await,
        WatchEvent {
            path: root.clone(),
            kind: EventKind::DataChanged,
            persistent: false
        }
    );
    // Exists watch on a node not yet there fires on create.
    let child = format!("{root}/later");
    zk.send(Call(Op::Exists {
        path: child.clone(),
        watch: true,
    }))
    .await
    .unwrap()
    .unwrap();
    c.create(&child, b"", &opts).await.unwrap();
    assert_eq!(
        next(&mut events, 15).await,
        WatchEvent {
            path: child.clone(),
            kind: EventKind::Created,
            persistent: false
        }
    );
    // Persistent recursive watch: every change below the root.
    zk.send(Call(Op::Watch {
        path: root.clone(),
        recursive: true,
    }))
    .await
    .unwrap()
    .unwrap();
    for v in [b"a", b"b", b"c"] {
        c.set_data(&child, v, None).await.unwrap();
        assert_eq!(
            next(&mut events, 15).await,
            WatchEvent {
                path: child.clone(),
                kind: EventKind::DataChanged,
                persistent: true
            }
        );
    }
    c.delete(&child, None).await.unwrap();
    assert_eq!(
        next(&mut events, 15).await,
        WatchEvent {
            path: child.clone(),
            kind: EventKind::Deleted,
            persistent: true
        }
    );
    c.delete(&root, None).await.unwrap();
    running.shutdown();
    running.wait().await;
}

#[actix_rt::test]
async fn digest_acl_refuses_sessions_without_the_credentials() {
    let root = unique("acl");
    let s = servers();
    let n = node(&format!(
        r#"
        [actors.alice]
        kind = "zk.session"
        params = {{ servers = "{s}", auth = ["alice:secret"] }}
        [actors.anon]
        kind = "zk.session"
        params = {{ servers = "{s}" }}
        [actors.mallory]
        kind = "zk.session"
        params = {{ servers = "{s}", auth = ["alice:wrong"] }}
        [actors.alice2]
        kind = "zk.session"
        params = {{ servers = "{s}", auth = ["alice:secret"] }}
        "#
    ));
    let running = n.start().await.expect("start");
    let call = |name: &str, op| {
        let zk = running.actor::<Session>(name).unwrap();
        async move { zk.send(Call(op)).await.expect("session answers") }
    };
    call(
        "alice",
        Op::Create {
            path: root.clone(),
            data: b"private".to_vec(),
            mode: Mode::Persistent,
            access: Access::Creator,
        },
    )
    .await
    .unwrap();
    for who in ["anon", "mallory"] {
        assert_eq!(
            call(
                who,
                Op::Get {
                    path: root.clone(),
                    watch: false
                }
            )
            .await,
            Err(Error::NoAuth { path: root.clone() }),
            "{who}"
        );
        assert_eq!(
            call(
                who,
                Op::Set {
                    path: root.clone(),
                    data: vec![],
                    version: None
                }
            )
            .await,
            Err(Error::NoAuth { path: root.clone() }),
            "{who}"
        );
    }
    assert_eq!(
        call(
            "alice2",
            Op::Get {
                path: root.clone(),
                watch: false
            }
        )
        .await,
        Ok(Outcome::Data {
            data: b"private".to_vec(),
            version: 0
        })
    );
    call(
        "alice2",
        Op::Delete {
            path: root,
            version: None,
        },
    )
    .await
    .unwrap();
    running.shutdown();
    running.wait().await;
}

#[actix_rt::test]
async fn unreachable_servers_and_bad_parameters_are_typed_errors() {
    let c = rolecall_actors::zk::Connect {
        servers: Some("127.0.0.1:1".into()),
        session_timeout_ms: Some(1000),
        connect_timeout_ms: Some(600),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let e = c.connect().await.map(|_| ()).unwrap_err();
    let took = started.elapsed();
    match &e {
        Error::Unreachable {
            servers,
            origin,
            reason,
            ..
        } => {
            assert_eq!(servers, "127.0.0.1:1");
            assert_eq!(origin, "the `servers` parameter");
            assert_eq!(reason, "127.0.0.1:1: connection refused");
        }
        other => panic!("{other:?}"),
    }
    // Tried again (100 ms, 200 ms) within the connect timeout, not past it.
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let text = e.to_string();
    assert!(!text.contains('\n'), "{text}");
    assert!(
        text.contains("ROLECALL_ZK") && text.contains("`servers`"),
        "{text}"
    );
    let bad = rolecall_actors::zk::Connect {
        auth: vec!["nocolon".into()],
        ..c.clone()
    };
    assert!(bad.validate().unwrap_err().contains("nocolon"));
    let bad = rolecall_actors::zk::Connect {
        connect_timeout_ms: Some(10),
        ..c
    };
    assert!(bad.validate().unwrap_err().contains("connect_timeout_ms"));
}

#[actix_rt::test]
async fn an_unreachable_server_fails_the_node_after_the_connect_timeout_without_restarts() {
    let n = node(
        r#"
        [actors.zk]
        kind = "zk.session"
        params = { servers = "127.0.0.1:1", session_timeout_ms = 500, connect_timeout_ms = 1000 }
        restart = "on-failure"
        max_restarts = 2
        within = "60s"
        backoff = { min = "300ms", factor = 2.0, jitter = 0.0 }
        "#,
    );
    let started = std::time::Instant::now();
    let reason = match n.start().await {
        Err(e) => e.to_string(),
        Ok(running) => match running.wait().await {
            rolecall_runtime::NodeExit::Failed(reason) => reason,
            other => panic!("{other:?}"),
        },
    };
    let took = started.elapsed();
    assert!(
        reason.starts_with(
            "zk.session `zk`: cannot reach ZooKeeper at 127.0.0.1:1 (from the `servers` parameter)"
        ),
        "{reason}"
    );
    assert!(!reason.contains("panicked"), "{reason}");
    // One connect timeout; a restart would have tried for another second.
    assert!(took >= Duration::from_millis(700), "{took:?}");
    assert!(took < Duration::from_millis(1900), "{took:?}");
}

#[actix_rt::test]
async fn requests_past_max_in_flight_wait_and_are_all_answered() {
    let root = unique("in-flight");
    let mut n = node(&session_toml(&servers(), ", max_in_flight = 2"));
    let requests = n
        .inject::<Request>("zk.requests", WireConfig::default())
        .unwrap();
    let mut replies = n.tap::<Reply>("zk.replies", WireConfig::default()).unwrap();
    let running = n.start().await.expect("start");
    let zk = running.actor::<Session>("zk").unwrap();
    zk.send(Call(Op::create(&root, b"", Mode::Persistent)))
        .await
        .unwrap()
        .unwrap();
    // Wired requests and Ref calls together, far past the limit.
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let zk = zk.clone();
            let path = format!("{root}/c{i}");
            actix_rt::spawn(
                async move { zk.send(Call(Op::create(&path, b"", Mode::Ephemeral))).await },
            )
        })
        .collect();
    for i in 0..100u64 {
        let op = Op::create(&format!("{root}/w{i}"), b"", Mode::Ephemeral);
        requests.output().send_async(Request { id: i, op }).await;
    }
    let mut ids: Vec<u64> = Vec::new();
    for _ in 0..100 {
        let r = next(&mut replies, 15).await;
        assert!(r.result.is_ok(), "{r:?}");
        ids.push(r.id);
    }
    ids.sort();
    assert_eq!(ids, (0..100).collect::<Vec<_>>());
    for c in calls {
        assert!(matches!(c.await.unwrap(), Ok(Ok(Outcome::Created { .. }))));
    }
    running.shutdown();
    running.wait().await;
    let c = bare(&servers()).await;
    crate::support::until_empty(&c, &root).await;
    c.delete(&root, None).await.unwrap();
}
