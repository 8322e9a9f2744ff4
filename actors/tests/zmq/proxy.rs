//! `zmq.proxy` in each mode, with endpoint actors on both sides: messages
//! pass, the capture port sees every one, and the inspection detour can drop
//! or change them.

use super::*;

/// Collects from `tap` until `n` messages arrived or 5 s passed.
async fn take(tap: &mut Tap<Frames>, n: usize) -> Vec<Vec<String>> {
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while got.len() < n && std::time::Instant::now() < deadline {
        if let Ok(Some(f)) = actix_rt::time::timeout(Duration::from_millis(50), tap.recv()).await {
            got.push(text(&f));
        }
    }
    got
}

#[actix_rt::test]
async fn pull_push_streams_in_order_and_captures_every_message() {
    let mut n = node(
        r#"
        [actors.proxy]
        kind = "zmq.proxy"
        params = { mode = "pull-push", frontend = { bind = ["tcp://127.0.0.1:16020"] }, backend = { bind = ["tcp://127.0.0.1:16021"] } }
        [actors.source]
        kind = "zmq.push"
        params = { connect = ["tcp://127.0.0.1:16020"] }
        [actors.sink]
        kind = "zmq.pull"
        params = { connect = ["tcp://127.0.0.1:16021"] }
        "#,
    );
    let input = n
        .inject::<Frames>("source.in", WireConfig::default())
        .expect("inject");
    let mut out = n
        .tap::<Frames>("sink.out", WireConfig::default())
        .expect("tap");
    let mut capture = n
        .tap::<Frames>("proxy.capture", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    for i in 0..200 {
        input
            .output()
            .send_async(Frames::from(vec![
                b"task".to_vec(),
                format!("{i}").into_bytes(),
            ]))
            .await;
    }
    let expected: Vec<Vec<String>> = (0..200)
        .map(|i| vec!["task".to_owned(), format!("{i}")])
        .collect();
    assert_eq!(take(&mut out, 200).await, expected);
    assert_eq!(take(&mut capture, 200).await, expected);
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

#[actix_rt::test]
async fn router_dealer_brokers_requests_to_a_worker_and_replies_back() {
    let mut n = node(
        r#"
        [actors.proxy]
        kind = "zmq.proxy"
        params = { mode = "router-dealer", frontend = { bind = ["tcp://127.0.0.1:16022"] }, backend = { bind = ["tcp://127.0.0.1:16023"] } }
        [actors.worker]
        kind = "zmq.rep"
        params = { connect = ["tcp://127.0.0.1:16023"] }
        [actors.server]
        kind = "text.responder"
        params = { reply_prefix = "re: " }
        [actors.alice]
        kind = "zmq.req"
        params = { connect = ["tcp://127.0.0.1:16022"] }
        [actors.bob]
        kind = "zmq.req"
        params = { connect = ["tcp://127.0.0.1:16022"] }
        [[wires]]
        from = "worker.out"
        to = "server.in"
        [[wires]]
        from = "server.out"
        to = "worker.in"
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
    let mut capture = n
        .tap::<Frames>("proxy.capture", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    for i in 0..5 {
        to_alice
            .output()
            .send_async(Frames::text(&format!("alice {i}")))
            .await;
        to_bob
            .output()
            .send_async(Frames::text(&format!("bob {i}")))
            .await;
    }
    for i in 0..5 {
        assert_eq!(
            text(&recv(&mut alice).await),
            vec![format!("re: alice {i}")]
        );
        assert_eq!(text(&recv(&mut bob).await), vec![format!("re: bob {i}")]);
    }
    // Ten requests in and ten replies out, each with the ROUTER's envelope
    // (identity, empty delimiter, body).
    let captured = take(&mut capture, 20).await;
    assert_eq!(captured.len(), 20, "{captured:?}");
    assert!(captured.iter().all(|m| m.len() == 3 && m[1].is_empty()));
    let replies = captured.iter().filter(|m| m[2].starts_with("re: ")).count();
    assert_eq!(replies, 10, "{captured:?}");
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

#[actix_rt::test]
async fn xsub_xpub_forwards_topics_and_subscriptions_through_an_inspector() {
    let mut n = node(
        r#"
        [actors.proxy]
        kind = "zmq.proxy"
        params = { mode = "xsub-xpub", inspect = "forward", frontend = { bind = ["tcp://127.0.0.1:16024"] }, backend = { bind = ["tcp://127.0.0.1:16025"] } }
        [actors.inspector]
        kind = "text.inspect"
        params = { drop_containing = "secret" }
        [actors.publisher]
        kind = "zmq.pub"
        params = { connect = ["tcp://127.0.0.1:16024"] }
        [actors.subscriber]
        kind = "zmq.sub"
        params = { connect = ["tcp://127.0.0.1:16025"], subscribe = ["news"] }
        [[wires]]
        from = "proxy.from_frontend"
        to = "inspector.in"
        [[wires]]
        from = "inspector.out"
        to = "proxy.to_backend"
        "#,
    );
    let publish = n
        .inject::<Frames>("publisher.in", WireConfig::default())
        .expect("inject");
    let mut got = n
        .tap::<Frames>("subscriber.out", WireConfig::default())
        .expect("tap");
    let mut capture = n
        .tap::<Frames>("proxy.capture", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    // Publish until the subscription has crossed the proxy (slow joiner).
    let mut first = None;
    for _ in 0..200 {
        publish.output().send_async(Frames::text("sports 0")).await;
        publish.output().send_async(Frames::text("news 0")).await;
        if let Ok(Some(f)) = actix_rt::time::timeout(Duration::from_millis(20), got.recv()).await {
            first = Some(text(&f));
            break;
        }
    }
    assert_eq!(first, Some(vec!["news 0".to_owned()]));
    for i in 1..=10 {
        publish
            .output()
            .send_async(Frames::text(&format!("news secret {i}")))
            .await;
        publish
            .output()
            .send_async(Frames::text(&format!("news {i}")))
            .await;
    }
    let rest = take(&mut got, 10).await;
    let news: Vec<Vec<String>> = rest.into_iter().filter(|m| m[0] != "news 0").collect();
    let expected: Vec<Vec<String>> = (1..=10).map(|i| vec![format!("news {i}")]).collect();
    assert_eq!(news, expected, "the inspector dropped the secret ones");
    // The capture saw the subscription going upstream and the secrets passing.
    let captured = take(&mut capture, 10_000).await;
    assert!(
        captured.contains(&vec!["\u{1}news".to_owned()]),
        "{captured:?}"
    );
    assert!(captured.contains(&vec!["news secret 3".to_owned()]));
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

#[actix_rt::test]
async fn router_dealer_with_both_directions_inspected_can_change_and_drop() {
    // Requests pass an inspector that drops "secret" ones; replies pass one
    // that drops replies to "bad" requests. What passes reaches its socket.
    let mut n = node(
        r#"
        [actors.proxy]
        kind = "zmq.proxy"
        params = { mode = "router-dealer", inspect = "both", frontend = { bind = ["tcp://127.0.0.1:16027"] }, backend = { bind = ["tcp://127.0.0.1:16028"] } }
        [actors.requests]
        kind = "text.inspect"
        params = { drop_containing = "secret" }
        [actors.replies]
        kind = "text.inspect"
        params = { drop_containing = "re: bad" }
        [actors.worker]
        kind = "zmq.dealer"
        params = { connect = ["tcp://127.0.0.1:16028"] }
        [actors.server]
        kind = "text.responder"
        params = { reply_prefix = "re: " }
        [actors.client]
        kind = "zmq.dealer"
        params = { connect = ["tcp://127.0.0.1:16027"] }
        [[wires]]
        from = "proxy.from_frontend"
        to = "requests.in"
        [[wires]]
        from = "requests.out"
        to = "proxy.to_backend"
        [[wires]]
        from = "proxy.from_backend"
        to = "replies.in"
        [[wires]]
        from = "replies.out"
        to = "proxy.to_frontend"
        [[wires]]
        from = "worker.out"
        to = "server.in"
        [[wires]]
        from = "server.out"
        to = "worker.in"
        "#,
    );
    let ask = n
        .inject::<Frames>("client.in", WireConfig::default())
        .expect("inject");
    let mut answers = n
        .tap::<Frames>("client.out", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    actix_rt::time::sleep(Duration::from_millis(200)).await;
    for body in ["one", "secret two", "bad three", "four"] {
        // DEALER to ROUTER: an empty delimiter frame, then the body.
        ask.output()
            .send_async(Frames::from(vec![Vec::new(), body.as_bytes().to_vec()]))
            .await;
    }
    let got = take(&mut answers, 3).await;
    assert_eq!(
        got,
        vec![
            vec![String::new(), "re: one".to_owned()],
            vec![String::new(), "re: four".to_owned()],
        ],
        "the secret request and the bad reply were dropped"
    );
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

#[actix_rt::test]
async fn a_slow_inspector_on_small_wires_backs_up_without_deadlock() {
    // The device thread both fills `from_frontend` and drains `to_backend`:
    // it must keep draining while the inspector's inlet is full.
    let mut n = node(
        r#"
        [actors.proxy]
        kind = "zmq.proxy"
        params = { mode = "pull-push", inspect = "forward", frontend = { bind = ["tcp://127.0.0.1:16029"] }, backend = { bind = ["tcp://127.0.0.1:16019"] } }
        [actors.inspector]
        kind = "text.inspect"
        [actors.source]
        kind = "zmq.push"
        params = { connect = ["tcp://127.0.0.1:16029"] }
        [actors.sink]
        kind = "zmq.pull"
        params = { connect = ["tcp://127.0.0.1:16019"] }
        [[wires]]
        from = "proxy.from_frontend"
        to = "inspector.in"
        capacity = 2
        [[wires]]
        from = "inspector.out"
        to = "proxy.to_backend"
        capacity = 2
        "#,
    );
    let input = n
        .inject::<Frames>("source.in", WireConfig::default())
        .expect("inject");
    let mut out = n
        .tap::<Frames>("sink.out", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    let sender = actix_rt::spawn(async move {
        for i in 0..3000 {
            input
                .output()
                .send_async(Frames::text(&format!("m{i}")))
                .await;
        }
    });
    let got = take(&mut out, 3000).await;
    assert_eq!(got.len(), 3000, "all through, in order");
    assert!(got
        .iter()
        .enumerate()
        .all(|(i, m)| m == &vec![format!("m{i}")]));
    sender.await.expect("sender");
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

/// A `pull-push` proxy binding `front` and `back` (each side monitored when
/// its flag says so), a PUSH connected to the front and, with `sink`, a PULL
/// connected to the back; returns the node's monitor events collected until
/// `enough` holds for them or `within` passed.
async fn proxy_monitor_events(
    (front, monitor_front): (u16, bool),
    (back, monitor_back): (u16, bool),
    sink: bool,
    within: Duration,
    enough: impl Fn(&[SocketEvent]) -> bool,
) -> Vec<SocketEvent> {
    let mut text = format!(
        r#"
        [actors.proxy]
        kind = "zmq.proxy"
        params = {{ mode = "pull-push", frontend = {{ bind = ["tcp://127.0.0.1:{front}"], monitor = {monitor_front} }}, backend = {{ bind = ["tcp://127.0.0.1:{back}"], monitor = {monitor_back} }} }}
        [actors.source]
        kind = "zmq.push"
        after = ["proxy"]
        params = {{ connect = ["tcp://127.0.0.1:{front}"] }}
        "#
    );
    if sink {
        text.push_str(&format!(
            r#"
        [actors.sink]
        kind = "zmq.pull"
        after = ["proxy"]
        params = {{ connect = ["tcp://127.0.0.1:{back}"] }}
        "#
        ));
    }
    let mut n = node(&text);
    let mut tap = n
        .tap::<SocketEvent>("proxy.monitor", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    let mut events = Vec::new();
    let deadline = std::time::Instant::now() + within;
    while !enough(&events) && std::time::Instant::now() < deadline {
        if let Ok(Some(e)) = actix_rt::time::timeout(Duration::from_millis(100), tap.recv()).await {
            events.push(e);
        }
    }
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
    events
}

fn seen(events: &[SocketEvent], side: &str, kind: EventKind) -> bool {
    events.iter().any(|e| e.socket == side && e.kind == kind)
}

#[actix_rt::test]
async fn the_monitor_port_reports_each_monitored_sides_socket_events() {
    let events = proxy_monitor_events(
        (16031, true),
        (16032, true),
        true,
        Duration::from_secs(10),
        |e| seen(e, "frontend", EventKind::Accepted) && seen(e, "backend", EventKind::Accepted),
    )
    .await;
    assert!(events.iter().all(|e| e.actor == "proxy"), "{events:?}");
    // Each side is seen listening on its own endpoint, then accepting its peer.
    for (side, port) in [("frontend", 16031), ("backend", 16032)] {
        let first = events.iter().find(|e| e.socket == side);
        assert_eq!(
            first.map(|e| (e.kind, e.endpoint.clone())),
            Some((EventKind::Listening, format!("tcp://127.0.0.1:{port}"))),
            "{events:?}"
        );
        assert!(seen(&events, side, EventKind::Accepted), "{events:?}");
    }
}

#[actix_rt::test]
async fn unmonitored_sides_send_no_events() {
    let events = proxy_monitor_events(
        (16033, false),
        (16034, true),
        false,
        Duration::from_secs(2),
        |_| false,
    )
    .await;
    assert!(events.iter().any(|e| e.socket == "backend"), "{events:?}");
    assert!(events.iter().all(|e| e.socket == "backend"), "{events:?}");
}
