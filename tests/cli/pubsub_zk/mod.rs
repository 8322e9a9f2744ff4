//! The ZooKeeper strategy (the course's PA3/PA4) across `rolecall pubsub`
//! processes against the real servers of `scripts/servers.sh`: the primary
//! discovery, a primary broker and the strongest publisher each killed with
//! SIGKILL, a server of the 3-server ensemble stopped mid-run, and a kazoo
//! client that must see the primary rolecall reports.

mod examples;
mod harness;
mod outage;

use std::time::{Duration, Instant};

use harness::*;

#[test]
fn the_primary_discovery_killed_a_backup_takes_over_and_clients_register_again() {
    let _serial = crate::zk::serial();
    let sys = System::new("discovery", &env("ROLECALL_ZK"), "Direct", 1);
    let d1 = sys.start("d1", "discovery", &["-p", "34501", "-P", "1", "-S", "1"]);
    d1.wait_for(
        "discovery PRIMARY: elected, serving at tcp://localhost:34501",
        Duration::from_secs(20),
    );
    let mut d1 = d1;
    let d2 = sys.start("d2", "discovery", &["-p", "34502", "-P", "1", "-S", "1"]);
    d2.wait_for(
        "discovery BACKUP: the primary is tcp://localhost:34501",
        Duration::from_secs(20),
    );
    // kazoo sees the same primary.
    assert_eq!(
        sys.kazoo_contenders("discovery"),
        vec!["tcp://localhost:34501", "tcp://localhost:34502"]
    );
    let mut publisher = sys.publisher("pub1", "34503", "weather", "20", "240");
    let mut sub = sys.subscriber("sub1", "weather", "240", "8000", &[]);
    publisher.wait_for("publisher DISSEMINATE", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(2));
    let killed = d1.kill9();
    let elected = d2.wait_for(
        "discovery PRIMARY: elected, serving at tcp://localhost:34502",
        Duration::from_secs(15),
    );
    assert!(
        elected - killed <= FAILOVER,
        "the backup took {:?} to take over (bound {FAILOVER:?})",
        elected - killed
    );
    publisher.wait_for(
        "pub1 again with the new primary discovery tcp://localhost:34502",
        Duration::from_secs(10),
    );
    sub.wait_for(
        "sub1 again with the new primary discovery tcp://localhost:34502",
        Duration::from_secs(10),
    );
    assert_eq!(
        sys.kazoo_contenders("discovery"),
        vec!["tcp://localhost:34502"]
    );
    // A subscriber that joins after the failover finds the publisher through the new primary.
    let mut late = sys.subscriber("sub2", "weather", "20", "8000", &[]);
    assert_eq!(
        late.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        late.text()
    );
    assert_eq!(accounts(&late.text()).0, 20, "{}", late.text());
    // The first subscriber never noticed: every publication, none lost, none twice.
    assert_eq!(
        sub.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        sub.text()
    );
    assert_eq!(accounts(&sub.text()), (240, 0, 0, 0), "{}", sub.text());
    assert_eq!(
        publisher.finish(Duration::from_secs(30)),
        Some(0),
        "{}",
        publisher.text()
    );
}

#[test]
fn a_primary_broker_killed_its_backup_replays_and_subscribers_lose_nothing() {
    let _serial = crate::zk::serial();
    let sys = System::new("brokers", &env("ROLECALL_ZK"), "Broker", 2);
    let _d = sys.start(
        "d",
        "discovery",
        &["-p", "34511", "-P", "1", "-S", "2", "-B", "3"],
    );
    let idle = ["--idle-timeout-ms", "4000"];
    let mut b1 = sys.start(
        "b1",
        "broker",
        &[&["-n", "b1", "-p", "34512", "--group", "0"][..], &idle].concat(),
    );
    b1.wait_for("broker PRIMARY of its group", Duration::from_secs(20));
    let mut b2 = sys.start(
        "b2",
        "broker",
        &[&["-n", "b2", "-p", "34513", "--group", "0"][..], &idle].concat(),
    );
    b2.wait_for(
        "broker BACKUP: the primary is tcp://localhost:34512",
        Duration::from_secs(20),
    );
    let mut b3 = sys.start(
        "b3",
        "broker",
        &[&["-n", "b3", "-p", "34514", "--group", "1"][..], &idle].concat(),
    );
    let results = tempfile::tempdir().unwrap();
    let lp = results.path().join("sub.lp");
    // weather is group 0, humidity group 1 (of 2).
    let mut publisher = sys.publisher("pub1", "34515", "weather,humidity", "25", "300");
    let mut sub = sys.subscriber(
        "sub1",
        "weather,humidity",
        "600",
        "10000",
        &["--results", lp.to_str().unwrap()],
    );
    // A second subscriber of group 0 only: the replay waits for both.
    let mut sub2 = sys.subscriber("sub2", "weather", "300", "10000", &[]);
    publisher.wait_for("publisher DISSEMINATE", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(3));
    let killed_ns = wall_ns();
    let killed = b1.kill9();
    let promoted = b2.wait_for(
        "broker PRIMARY: elected: replaying",
        Duration::from_secs(15),
    );
    assert!(
        promoted - killed <= FAILOVER,
        "promotion took {:?}",
        promoted - killed
    );
    assert_eq!(
        sub.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        sub.text()
    );
    let (delivered, lost, duplicates, _) = accounts(&sub.text());
    // The backup buffered what the primary forwarded: nothing is lost, the
    // overlap it replays is dropped as duplicates (and counted).
    assert_eq!((delivered, lost), (600, 0), "{}", sub.text());
    assert!(
        duplicates > 0,
        "the replay overlaps what the primary forwarded: {}",
        sub.text()
    );
    // Weather (group 0) resumed through the new primary within the bound.
    let first_after = deliveries(&lp)
        .into_iter()
        .filter(|(_, t, ts)| t == "weather" && *ts > killed_ns)
        .map(|(_, _, ts)| ts)
        .min()
        .expect("weather deliveries after the kill");
    let gap = Duration::from_nanos((first_after - killed_ns) as u64);
    assert!(
        gap <= FAILOVER,
        "first weather delivery {gap:?} after the kill (bound {FAILOVER:?})"
    );
    // The load by broker: group 1's broker forwarded humidity only, the backup weather after its promotion.
    for b in [&mut b2, &mut b3, &mut publisher] {
        assert_eq!(b.finish(Duration::from_secs(30)), Some(0), "{}", b.text());
    }
    assert!(
        b3.text().contains("forwarded 300 publications of group 1"),
        "{}",
        b3.text()
    );
    assert!(
        b2.text().contains("publications of group 0"),
        "{}",
        b2.text()
    );
    // It replayed once both subscribers had subscribed (sub1 to its two
    // topics, sub2 to one), not after the whole settle; neither lost any.
    assert!(
        b2.text()
            .contains("(3 subscriptions, then 100 ms without one)"),
        "{}",
        b2.text()
    );
    assert_eq!(
        sub2.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        sub2.text()
    );
    assert_eq!(accounts(&sub2.text()).0, 300, "{}", sub2.text());
    assert_eq!(accounts(&sub2.text()).1, 0, "{}", sub2.text());
}

#[test]
fn the_strongest_publisher_owns_its_topic_and_the_next_takes_over_on_the_ensemble() {
    let _serial = crate::zk::serial();
    let sys = System::new("owners", &env("ROLECALL_ZK_ENSEMBLE"), "Direct", 1);
    let _d = sys.start("d", "discovery", &["-p", "34521", "-P", "2", "-S", "1"]);
    let results = tempfile::tempdir().unwrap();
    let lp = results.path().join("sub.lp");
    let pubs = |name: &str, port: &str, strength: &str| {
        sys.start(
            name,
            "publisher",
            &[
                "-n",
                name,
                "-p",
                port,
                "--topics",
                "weather",
                "--strength",
                strength,
                "-f",
                "20",
                "-i",
                "400",
            ],
        )
    };
    let mut strong = pubs("p1", "34522", "10");
    let _weak = pubs("p2", "34523", "5");
    let mut sub = sys.subscriber(
        "sub1",
        "weather",
        "260",
        "10000",
        &["--results", lp.to_str().unwrap()],
    );
    sub.wait_for(
        "owner of weather: p1 (strength 10)",
        Duration::from_secs(30),
    );
    strong.wait_for("publisher DISSEMINATE", Duration::from_secs(60));
    // kazoo sees the ownership nodes the subscriber decides by.
    assert_eq!(sys.kazoo_children("owners/weather"), vec!["p1=10", "p2=5"]);
    // A server of the ensemble stops: sessions move to the others, nothing
    // changes (p2 may have owned the topic for a moment at the start, before
    // p1's node was there: only later changes count).
    std::thread::sleep(Duration::from_secs(2));
    let stopped = Instant::now();
    let _restart = StoppedZkServer::stop("zk-ens1");
    std::thread::sleep(Duration::from_secs(4));
    let changed = sub
        .lines
        .lock()
        .unwrap()
        .iter()
        .any(|(t, l)| *t > stopped && l.contains("owner of weather"));
    assert!(
        !changed,
        "the owner changed while a server was down:\n{}",
        sub.text()
    );
    let killed_ns = wall_ns();
    let killed = strong.kill9();
    let took_over = sub.wait_for_after(
        "owner of weather: p2 (strength 5)",
        Some(killed),
        Duration::from_secs(15),
    );
    assert!(
        took_over - killed <= FAILOVER,
        "ownership moved after {:?}",
        took_over - killed
    );
    assert_eq!(sys.kazoo_children("owners/weather"), vec!["p2=5"]);
    assert_eq!(
        sub.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        sub.text()
    );
    let (delivered, lost, _, not_owner) = accounts(&sub.text());
    assert_eq!(delivered, 260, "{}", sub.text());
    assert_eq!(lost, 0, "{}", sub.text());
    assert!(
        not_owner > 0,
        "p2's publications before the takeover are not delivered: {}",
        sub.text()
    );
    let seen = deliveries(&lp);
    // Before the kill only the owner's publications were delivered.
    assert!(seen
        .iter()
        .filter(|(_, _, ts)| *ts < killed_ns)
        .all(|(p, _, _)| p == "p1"));
    let first_p2 = seen
        .iter()
        .filter(|(p, _, _)| p == "p2")
        .map(|(_, _, ts)| *ts)
        .min()
        .expect("p2 delivered after the takeover");
    let gap = Duration::from_nanos((first_p2 - killed_ns).max(0) as u64);
    assert!(
        gap <= FAILOVER,
        "p2's first delivery {gap:?} after the kill (bound {FAILOVER:?})"
    );
}

#[test]
fn clients_started_before_the_broker_and_discovery_wait_for_their_election() {
    let _serial = crate::zk::serial();
    let sys = System::new("order", &env("ROLECALL_ZK"), "Broker", 1);
    // The reverse of the usual order: subscriber, publisher, broker, discovery last.
    let mut sub = sys.subscriber("sub1", "weather", "40", "8000", &[]);
    let mut publisher = sys.publisher("pub1", "34531", "weather", "20", "60");
    std::thread::sleep(Duration::from_secs(2));
    let mut broker = sys.start(
        "b1",
        "broker",
        &["-n", "b1", "-p", "34532", "--idle-timeout-ms", "3000"],
    );
    std::thread::sleep(Duration::from_secs(2));
    let _d = sys.start("d", "discovery", &["-p", "34533", "-P", "1", "-S", "1"]);
    assert_eq!(
        sub.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        sub.text()
    );
    assert_eq!(accounts(&sub.text()), (40, 0, 0, 0), "{}", sub.text());
    for p in [&mut publisher, &mut broker] {
        assert_eq!(p.finish(Duration::from_secs(30)), Some(0), "{}", p.text());
    }
}
