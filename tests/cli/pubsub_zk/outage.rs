//! ZooKeeper itself gone for longer than the session timeout and the connect
//! timeout together, under a running PA3 system: nothing exits, publications
//! keep flowing, and the election is won again once the server is back.

use std::time::Duration;

use super::harness::*;

#[test]
fn a_zookeeper_outage_longer_than_the_session_timeout_is_waited_out() {
    let _serial = crate::zk::serial();
    let sys = System::new("outage", &env("ROLECALL_ZK"), "Direct", 1);
    let d = sys.start("d", "discovery", &["-p", "34541", "-P", "1", "-S", "1"]);
    d.wait_for(
        "discovery PRIMARY: elected, serving at tcp://localhost:34541",
        Duration::from_secs(20),
    );
    let mut publisher = sys.publisher("pub1", "34542", "weather", "20", "500");
    let mut sub = sys.subscriber("sub1", "weather", "500", "30000", &[]);
    publisher.wait_for("publisher DISSEMINATE", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(2));
    // The standalone server down for 12 s: every session expires (4 s) and
    // reopening is refused for longer than the 5 s connect timeout.
    let outage = StoppedZkServer::stop("zookeeper");
    let down = std::time::Instant::now();
    d.wait_for("trying again until it answers", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(12).saturating_sub(down.elapsed()));
    drop(outage);
    let back = d.wait_for("reached ZooKeeper at", Duration::from_secs(30));
    // The discovery replica contends again and is the primary again (after
    // the server has expired the old session that still held its first node).
    d.wait_for_after(
        "discovery PRIMARY: elected, serving at tcp://localhost:34541",
        Some(back),
        Duration::from_secs(15),
    );
    assert_eq!(
        sub.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        sub.text()
    );
    assert_eq!(accounts(&sub.text()), (500, 0, 0, 0), "{}", sub.text());
    assert_eq!(
        publisher.finish(Duration::from_secs(30)),
        Some(0),
        "{}",
        publisher.text()
    );
    for p in [&sub, &publisher] {
        assert!(
            p.text().contains("reached ZooKeeper at"),
            "every process waited the outage out: {}",
            p.text()
        );
    }
    assert!(!d.text().contains("node failed"), "{}", d.text());
}
