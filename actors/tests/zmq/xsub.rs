//! XSUB connecting to XPUB (the direction a subscriber-side proxy uses): the
//! subscription always arrives, however the connection races it, and an
//! unsubscription made later arrives too. Run many times in a row.

use super::*;

async fn next(seen: &mut Tap<Frames>) -> Option<Vec<Vec<u8>>> {
    actix_rt::time::timeout(Duration::from_secs(3), seen.recv())
        .await
        .ok()
        .flatten()
        .map(Frames::into_vecs)
}

async fn one_round(port: u16, xsub_first: bool, settle: Duration) -> Result<(), String> {
    let xpub = format!(
        r#"
        [actors.xpub]
        kind = "zmq.xpub"
        params = {{ bind = ["tcp://127.0.0.1:{port}"] }}
        "#
    );
    let xsub = format!(
        r#"
        [actors.xsub]
        kind = "zmq.xsub"
        params = {{ connect = ["tcp://127.0.0.1:{port}"], subscribe = ["news"] }}
        "#
    );
    // Either the XPUB listens first, or the XSUB connects before there is
    // anything to connect to (and retries).
    let mut n = match xsub_first {
        false => node(&format!("{xpub}{xsub}")),
        true => node(&format!("{xsub}{xpub}")),
    };
    let mut seen = n
        .tap::<Frames>("xpub.out", WireConfig::default())
        .expect("tap");
    let changes = n
        .inject::<Subscription>("xsub.subscriptions", WireConfig::default())
        .expect("inject");
    let running = n.start().await.expect("start");
    let subscribed = next(&mut seen).await;
    let result = if subscribed != Some(vec![b"\x01news".to_vec()]) {
        Err(format!("port {port}: subscription: {subscribed:?}"))
    } else {
        // Later changes arrive as well, exactly once each, also after the
        // connection has long been up.
        actix_rt::time::sleep(settle).await;
        changes
            .output()
            .send_async(Subscription::Unsubscribe(b"news".to_vec()))
            .await;
        changes
            .output()
            .send_async(Subscription::Subscribe(b"sport".to_vec()))
            .await;
        let a = next(&mut seen).await;
        let b = next(&mut seen).await;
        if a == Some(vec![b"\x00news".to_vec()]) && b == Some(vec![b"\x01sport".to_vec()]) {
            Ok(())
        } else {
            Err(format!("port {port}: changes: {a:?} {b:?}"))
        }
    };
    running.shutdown();
    running.wait().await;
    result
}

#[actix_rt::test]
async fn xsub_connecting_to_xpub_always_delivers_its_subscriptions() {
    let mut failures = Vec::new();
    for round in 0..20 {
        if let Err(e) = one_round(
            16030 + round,
            round % 2 == 1,
            Duration::from_millis(300 * u64::from(round % 3)),
        )
        .await
        {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 20 rounds failed: {failures:#?}",
        failures.len()
    );
}
