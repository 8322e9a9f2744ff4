//! A driven SUB against a publisher that is not there yet, then goes away
//! without a word (its socket closed, as `kill -9` leaves it) and comes back
//! on the same port: the SUB connects whenever the publisher binds and
//! reconnects by itself, on its node's thread, with no restart of its own.

use super::*;

/// A publisher of its own (another program's, to the SUB): binds `port`
/// and sends `tag N` every 10 ms until the receiver has seen one.
fn publish_until_seen(port: u16, tag: &str, seen: &std::sync::atomic::AtomicBool) {
    let ctx = zmq::Context::new();
    let publisher = ctx.socket(zmq::PUB).expect("PUB");
    publisher.set_linger(0).expect("linger");
    publisher
        .bind(&format!("tcp://127.0.0.1:{port}"))
        .expect("binds");
    for i in 0..500 {
        publisher
            .send(format!("{tag} {i}").as_bytes(), 0)
            .expect("sends");
        if seen.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[actix_rt::test]
async fn a_driven_sub_started_first_follows_its_publisher_through_a_restart() {
    let mut n = node(
        r#"
        [actors.sub]
        kind = "zmq.sub"
        params = { connect = ["tcp://127.0.0.1:16067"], subscribe = ["first", "second"] }
        "#,
    );
    let mut out = n
        .tap::<Frames>("sub.out", WireConfig::default())
        .expect("tap");
    // The SUB connects before anything listens on its port.
    let running = n.start().await.expect("start");
    for tag in ["first", "second"] {
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&seen);
        let publisher = std::thread::spawn(move || publish_until_seen(16067, tag, &flag));
        let got = text(&recv(&mut out).await);
        seen.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(got[0].starts_with(tag), "{tag}: got {got:?}");
        // Gone without a word: the socket and its context closed at once.
        publisher.join().expect("publisher");
        // What it sent after the one seen may still arrive, before the next
        // publisher starts.
        while let Ok(Some(f)) =
            actix_rt::time::timeout(Duration::from_millis(200), out.recv()).await
        {
            assert!(text(&f)[0].starts_with(tag), "only {tag} before the next");
        }
    }
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}
