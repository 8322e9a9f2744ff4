//! One ZeroMQ context per node: its endpoints, its hops and any role that
//! opens sockets of its own meet over `inproc://`, another node in the same
//! process has its own `inproc://` names (unless they share one context,
//! `Node::with_zmq`), and one ZAP handler serves the node's CURVE hops and
//! CURVE endpoints together.

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use serde::Deserialize;

use super::*;

/// A role that opens a socket of its own in its node's context: a PUSH
/// connected to `endpoint`, sending `count` numbered messages at start.
struct OwnSocket {
    socket: zmq::Socket,
    count: u32,
}

#[derive(Deserialize)]
struct OwnSocketParams {
    endpoint: String,
    count: u32,
}

impl Actor for OwnSocket {
    type Context = Context<Self>;

    fn started(&mut self, _ctx: &mut Context<Self>) {
        for i in 0..self.count {
            self.socket
                .send(format!("own {i}").as_bytes(), 0)
                .expect("send");
        }
    }
}

impl Role for OwnSocket {
    type Params = OwnSocketParams;
    const ABOUT: &'static str = "test: pushes over a socket of its own";

    fn ports(_ports: &mut Ports<Self>) {}

    fn build(p: &OwnSocketParams, io: &mut Io) -> Result<Self, CreateError> {
        let socket = io.zmq().socket(zmq::PUSH)?;
        socket.connect(&p.endpoint)?;
        Ok(OwnSocket {
            socket,
            count: p.count,
        })
    }
}

fn registry_with_own_socket() -> Registry {
    let mut r = registry();
    r.register::<OwnSocket>("test.own-socket")
        .expect("registers");
    r
}

/// push → pull over `inproc://rolecall-context-shared` (the same name in
/// every node), `tag` in each message.
fn inproc_pipeline(tag: &str) -> Node {
    node(&format!(
        r#"
        [topology]
        name = "inproc-{tag}"
        [actors.pull]
        kind = "zmq.pull"
        params = {{ bind = ["inproc://rolecall-context-shared"] }}
        [actors.push]
        kind = "zmq.push"
        after = ["pull"]
        params = {{ connect = ["inproc://rolecall-context-shared"] }}
        "#
    ))
}

#[actix_rt::test]
async fn endpoints_of_a_node_meet_over_inproc_and_each_node_has_its_own_names() {
    // Two nodes in one process bind the same inproc name: each in its own
    // context (one process-wide context would refuse the second bind).
    let mut runs = Vec::new();
    for tag in ["one", "two"] {
        let mut n = inproc_pipeline(tag);
        let input = n
            .inject::<Frames>("push.in", WireConfig::default())
            .expect("inject");
        let out = n
            .tap::<Frames>("pull.out", WireConfig::default())
            .expect("tap");
        let running = n.start().await.expect("start");
        runs.push((tag, input, out, running));
    }
    for (tag, input, _, _) in &runs {
        for i in 0..50 {
            input
                .output()
                .send_async(Frames::text(&format!("{tag} {i}")))
                .await;
        }
    }
    for (tag, _, out, _) in &mut runs {
        for i in 0..50 {
            assert_eq!(text(&recv(out).await), vec![format!("{tag} {i}")]);
        }
    }
    for (_, _, _, running) in runs {
        running.shutdown();
        assert_eq!(running.wait().await, NodeExit::Completed);
    }
}

#[actix_rt::test]
async fn a_role_s_own_socket_in_the_node_context_reaches_an_endpoint_over_inproc() {
    let text_of_topology = r#"
        [actors.pull]
        kind = "zmq.pull"
        params = { bind = ["inproc://rolecall-context-own"] }
        [actors.own]
        kind = "test.own-socket"
        after = ["pull"]
        params = { endpoint = "inproc://rolecall-context-own", count = 20 }
        "#;
    let registry = registry_with_own_socket();
    let t = load_str(text_of_topology, "own.toml", &registry, &Overrides::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut n = Node::all(t, registry_with_own_socket()).with_seed(3);
    let mut out = n
        .tap::<Frames>("pull.out", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    for i in 0..20 {
        assert_eq!(text(&recv(&mut out).await), vec![format!("own {i}")]);
    }
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

#[actix_rt::test]
async fn a_curve_hop_and_a_curve_endpoint_share_their_node_s_zap_handler() {
    use rolecall_actors::zmq::curve::generate;
    let dir = std::env::temp_dir().join(format!("rolecall-ctx-curve-{}", std::process::id()));
    let a = generate(&dir, "a").expect("keys");
    let b = generate(&dir, "b").expect("keys");
    let friend = generate(&dir, "friend").expect("keys");
    let server = generate(&dir, "server").expect("keys");
    // Node `b` receives a CURVE hop from `a` (its ZAP domain admits a's key)
    // and runs a CURVE REP that admits only `friend`. `stranger` presents
    // a's key pair: good enough for the hop, not for the endpoint.
    let client = |name: &str, keys: &rolecall_actors::zmq::curve::KeyFiles| {
        format!(
            r#"
            [actors.{name}]
            kind = "zmq.req"
            node = "b"
            after = ["rep"]
            params = {{ connect = ["tcp://127.0.0.1:16042"], monitor = true, curve = {{ secret_key = "{}", public_key = "{}", server_key = "{}" }} }}
            "#,
            keys.secret.display(),
            keys.public.display(),
            server.public.display()
        )
    };
    let topology = format!(
        r#"
        [topology]
        name = "shared-zap"
        drain_timeout = "2s"
        [nodes.a]
        address = "127.0.0.1"
        base_port = 16040
        curve_public_key = "{}"
        curve_secret_key = "{}"
        [nodes.b]
        address = "127.0.0.1"
        base_port = 16041
        curve_public_key = "{}"
        curve_secret_key = "{}"
        [actors.relay]
        kind = "text.responder"
        node = "a"
        params = {{ reply_prefix = "hop: " }}
        [actors.sink]
        kind = "text.responder"
        node = "b"
        params = {{ reply_prefix = "" }}
        [[wires]]
        from = "relay.out"
        to = "sink.in"
        [actors.rep]
        kind = "zmq.rep"
        node = "b"
        params = {{ bind = ["tcp://127.0.0.1:16042"], curve = {{ secret_key = "{}", allow = ["{}"] }} }}
        [actors.server]
        kind = "text.responder"
        node = "b"
        [[wires]]
        from = "rep.out"
        to = "server.in"
        [[wires]]
        from = "server.out"
        to = "rep.in"
        {}
        {}
        "#,
        a.public.display(),
        a.secret.display(),
        b.public.display(),
        b.secret.display(),
        server.secret.display(),
        friend.public.display(),
        client("friend", &friend),
        client("stranger", &a),
    );
    let load = || {
        load_str(&topology, "shared-zap.toml", &registry(), &Overrides::new())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut node_b = Node::new(load(), registry(), "b").expect("node b");
    let mut node_a = Node::new(load(), registry(), "a").expect("node a");
    let mut hop_out = node_b
        .tap::<Frames>("sink.out", WireConfig::default())
        .expect("tap");
    let to_friend = node_b
        .inject::<Frames>("friend.in", WireConfig::default())
        .expect("inject");
    let mut friend_out = node_b
        .tap::<Frames>("friend.out", WireConfig::default())
        .expect("tap");
    let to_stranger = node_b
        .inject::<Frames>("stranger.in", WireConfig::default())
        .expect("inject");
    let mut stranger_out = node_b
        .tap::<Frames>("stranger.out", WireConfig::default())
        .expect("tap");
    let mut stranger_events = node_b
        .tap::<SocketEvent>("stranger.monitor", WireConfig::default())
        .expect("tap");
    let into_hop = node_a
        .inject::<Frames>("relay.in", WireConfig::default())
        .expect("inject");
    let running_b = node_b.start().await.expect("start b");
    let running_a = node_a.start().await.expect("start a");

    // The hop: admitted by its domain in b's one ZAP handler.
    for i in 0..10 {
        into_hop
            .output()
            .send_async(Frames::text(&format!("{i}")))
            .await;
    }
    for i in 0..10 {
        assert_eq!(text(&recv(&mut hop_out).await), vec![format!("hop: {i}")]);
    }
    // The endpoint: its own domain in the same handler.
    to_friend.output().send_async(Frames::text("hi")).await;
    assert_eq!(text(&recv(&mut friend_out).await), vec!["world: hi"]);
    to_stranger.output().send_async(Frames::text("hi")).await;
    let mut refused = false;
    while let Some(kind) = next(&mut stranger_events).await {
        if kind == EventKind::HandshakeFailedAuth {
            refused = true;
            break;
        }
    }
    assert!(
        refused,
        "a key the hop admits is not on the endpoint's allowlist"
    );
    let nothing = actix_rt::time::timeout(Duration::from_millis(300), stranger_out.recv()).await;
    assert!(nothing.is_err(), "the stranger gets no reply");

    running_a.shutdown();
    running_a.wait().await;
    running_b.shutdown();
    running_b.wait().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_rt::test]
async fn nodes_that_share_a_context_meet_over_inproc() {
    let mut receiving = node(
        r#"
        [topology]
        name = "shared-receiving"
        [actors.pull]
        kind = "zmq.pull"
        params = { bind = ["inproc://rolecall-context-between"] }
        "#,
    );
    let sending = node(
        r#"
        [topology]
        name = "shared-sending"
        [actors.push]
        kind = "zmq.push"
        params = { connect = ["inproc://rolecall-context-between"] }
        "#,
    );
    let mut sending = sending.with_zmq(receiving.zmq().clone());
    let mut out = receiving
        .tap::<Frames>("pull.out", WireConfig::default())
        .expect("tap");
    let input = sending
        .inject::<Frames>("push.in", WireConfig::default())
        .expect("inject");
    let receiving = receiving.start().await.expect("start");
    let sending = sending.start().await.expect("start");
    for i in 0..20 {
        input
            .output()
            .send_async(Frames::text(&format!("across {i}")))
            .await;
    }
    for i in 0..20 {
        assert_eq!(text(&recv(&mut out).await), vec![format!("across {i}")]);
    }
    for running in [sending, receiving] {
        running.shutdown();
        assert_eq!(running.wait().await, NodeExit::Completed);
    }
}

/// A node's context terminated while its driven PUB and SUB are open (a
/// program ending it early, say): both notice at once and close their
/// sockets, so the termination does not wait out the PUB's linger and the
/// grace after it, and the node still stops cleanly.
#[actix_rt::test]
async fn terminating_the_context_closes_driven_sockets_at_once() {
    let mut n = node(
        r#"
        [actors.pub]
        kind = "zmq.pub"
        params = { bind = ["inproc://rolecall-terminated"], linger_ms = 5000 }
        [actors.sub]
        kind = "zmq.sub"
        after = ["pub"]
        params = { connect = ["inproc://rolecall-terminated"], subscribe = [""] }
        "#,
    );
    let zmq = n.zmq().clone();
    let input = n
        .inject::<Frames>("pub.in", WireConfig::default())
        .expect("inject");
    let mut out = n
        .tap::<Frames>("sub.out", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    // Published until the subscription is in place (the slow joiner).
    let mut joined = false;
    for _ in 0..100 {
        input.output().send_async(Frames::text("hello")).await;
        if actix_rt::time::timeout(Duration::from_millis(20), out.recv())
            .await
            .is_ok()
        {
            joined = true;
            break;
        }
    }
    assert!(joined, "the subscriber receives");
    // Terminated off the node's thread (which keeps running the endpoints).
    let started = std::time::Instant::now();
    let terminated = actix_rt::task::spawn_blocking(move || zmq.terminate())
        .await
        .expect("joins");
    assert!(terminated.is_ok(), "terminated: {terminated:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "terminating took {:?}: a socket stayed open",
        started.elapsed()
    );
    drop(input);
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}
