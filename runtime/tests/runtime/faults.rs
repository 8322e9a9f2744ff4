//! Fault injection is counted: a faulty wire's `WireStats` show what the
//! `[[faults]]` layer dropped and duplicated, so that what its consumer
//! handled is exactly `sent - fault_dropped + fault_duplicated`.

use std::time::Duration;

use rolecall_runtime::wire::WireStats;
use rolecall_runtime::{Node, NodeExit, Running};

use crate::common::*;

/// `source.out -> sink.in` with `count` numbers and this fault table; `idle`
/// keeps the node up (until shut down) so its statistics can be read at the end.
fn faulty(tag: &str, count: u64, fault: &str) -> rolecall_runtime::topology::Topology {
    topology(&format!(
        r#"
        [actors.source]
        kind = "test.source"
        params = {{ tag = "{tag}", count = {count} }}
        [actors.sink]
        kind = "test.sink"
        params = {{ tag = "{tag}" }}
        [actors.idle]
        kind = "test.source"
        params = {{ tag = "{tag}", count = 0, interval_ms = 1000 }}
        [[wires]]
        from = "source.out"
        to = "sink.in"
        [[faults]]
        wires = ["source.out -> sink.in"]
        {fault}
        "#
    ))
}

fn wire(running: &Running) -> WireStats {
    let all = running.wire_stats();
    all.iter()
        .find(|(label, _)| label.starts_with("source.out"))
        .map(|(_, s)| *s)
        .unwrap_or_else(|| panic!("no source.out wire in {all:?}"))
}

/// Runs until the sink has ended, then returns the wire's counters once the
/// last handled message is settled (bounded by a timeout).
async fn run_to_end(tag: &str, running: &Running, sent: u64) -> WireStats {
    let ended = eventually(Duration::from_secs(20), || {
        !lines(tag, "sink end").is_empty()
    })
    .await;
    assert!(ended, "the sink never ended: {:?}", wire(running));
    eventually(Duration::from_secs(5), || {
        let s = wire(running);
        s.delivered + s.fault_dropped == sent + s.fault_duplicated
    })
    .await;
    wire(running)
}

#[actix_rt::test]
async fn fault_drops_and_duplicates_are_counted_exactly() {
    let tag = "fault-counts";
    let sent = 2000;
    let t = faulty(tag, sent, "drop = 0.1\nduplicate = 0.1");
    let running = Node::all(t, registry())
        .with_seed(7)
        .start()
        .await
        .expect("start");
    let s = run_to_end(tag, &running, sent).await;
    assert!(s.fault_dropped > 0 && s.fault_duplicated > 0, "{s:?}");
    assert_eq!(s.dropped, 0, "no overflow on a block wire: {s:?}");
    assert_eq!(
        s.delivered,
        sent - s.fault_dropped + s.fault_duplicated,
        "{s:?}"
    );
    assert_eq!(s.accepted, s.delivered, "{s:?}");
    let got = lines(tag, "sink got").len() as u64;
    assert_eq!(got, s.delivered, "{s:?}");
    // The same counts surface per actor (and so in `metrics.runtime`).
    let stats = running.handle().actor_stats().await;
    let sink = stats
        .iter()
        .find(|a| a.actor == "sink")
        .unwrap_or_else(|| panic!("{stats:?}"));
    assert_eq!(
        (sink.handled, sink.fault_dropped, sink.fault_duplicated),
        (s.delivered, s.fault_dropped, s.fault_duplicated),
        "{sink:?}"
    );
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

#[actix_rt::test]
async fn delayed_copies_lost_with_their_stopped_sender_are_counted() {
    let tag = "fault-delay-lost";
    let sent = 50;
    // The source sends everything at once and stops long before the delay ends.
    let t = faulty(tag, sent, "delay = \"30s\"\nduplicate = 0.2");
    let running = Node::all(t, registry())
        .with_seed(3)
        .start()
        .await
        .expect("start");
    let s = run_to_end(tag, &running, sent).await;
    assert!(s.fault_duplicated > 0, "{s:?}");
    assert_eq!(s.delivered, 0, "{s:?}");
    assert_eq!(s.fault_dropped, sent + s.fault_duplicated, "{s:?}");
    assert!(lines(tag, "sink got").is_empty());
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}
