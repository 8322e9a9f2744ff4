//! An endpoint's socket thread both fills `out` and drains `in`: with a
//! responder between them on tiny wires, a burst must back up without
//! deadlocking (the thread keeps sending while `out` is full).

use super::*;
use rolecall_runtime::wire::Policy;

#[actix_rt::test]
async fn a_router_with_a_responder_on_tiny_wires_answers_a_burst() {
    let mut n = node(
        r#"
        [actors.router]
        kind = "zmq.router"
        params = { bind = ["tcp://127.0.0.1:16018"] }
        [actors.server]
        kind = "text.responder"
        params = { reply_prefix = "re: " }
        [actors.client]
        kind = "zmq.dealer"
        params = { connect = ["tcp://127.0.0.1:16018"] }
        [[wires]]
        from = "router.out"
        to = "server.in"
        capacity = 2
        [[wires]]
        from = "server.out"
        to = "router.in"
        capacity = 2
        "#,
    );
    let ask = n
        .inject::<Frames>("client.in", WireConfig::default())
        .expect("inject");
    let mut answers = n
        .tap::<Frames>("client.out", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    let sender = actix_rt::spawn(async move {
        for i in 0..3000 {
            ask.output()
                .send_async(Frames::from(vec![Vec::new(), format!("q{i}").into_bytes()]))
                .await;
        }
        ask // kept until the end: the client stops once its input ends
    });
    let mut got = 0;
    while got < 3000 {
        match actix_rt::time::timeout(Duration::from_secs(5), answers.recv()).await {
            Ok(Some(f)) => {
                assert_eq!(text(&f), vec![String::new(), format!("re: q{got}")]);
                got += 1;
            }
            Ok(None) => {
                running.shutdown();
                panic!("client.out ended after {got}: {:?}", running.wait().await)
            }
            Err(_) => break,
        }
    }
    assert_eq!(got, 3000, "every request answered");
    drop(sender.await.expect("sender"));
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

/// A PULL read on its node's thread stops reading while its consumer's wire
/// is full: a slow consumer on a wire of 2 gets a burst of 3,000 whole and
/// in order (libzmq's queues fill and push back on the pusher), and the
/// endpoint stays responsive meanwhile.
#[actix_rt::test]
async fn a_driven_pull_with_a_slow_consumer_loses_nothing() {
    let mut n = node(
        r#"
        [actors.push]
        kind = "zmq.push"
        params = { bind = ["tcp://127.0.0.1:16059"], sndhwm = 10 }
        [actors.pull]
        kind = "zmq.pull"
        after = ["push"]
        params = { connect = ["tcp://127.0.0.1:16059"], rcvhwm = 10 }
        "#,
    );
    let input = n
        .inject::<Frames>("push.in", WireConfig::default())
        .expect("inject");
    let mut out = n
        .tap::<Frames>("pull.out", WireConfig::new(2, Policy::Block))
        .expect("tap");
    let running = n.start().await.expect("start");
    let sender = actix_rt::spawn(async move {
        for i in 0..3000 {
            input
                .output()
                .send_async(Frames::one(format!("{i}").into_bytes()))
                .await;
        }
        input
    });
    for i in 0..3000 {
        if i % 500 == 0 {
            // The consumer falls behind: everything upstream fills.
            actix_rt::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(text(&recv(&mut out).await), vec![format!("{i}")]);
    }
    drop(sender.await.expect("sender"));
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}
