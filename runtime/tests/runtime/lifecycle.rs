//! Ordered start, end of input travelling down a pipeline, graceful shutdown
//! with draining, and backpressure policies end to end.

use std::time::Duration;

use rolecall_runtime::wire::{Policy, WireConfig};
use rolecall_runtime::{Node, NodeExit};

use crate::common::*;

#[actix_rt::test]
async fn consumers_start_before_producers_and_after_is_respected() {
    let tag = "start-order";
    let t = topology(&format!(
        r#"
        [actors.source]
        kind = "test.source"
        params = {{ tag = "{tag}", count = 3 }}
        [actors.stage]
        kind = "test.stage"
        params = {{ tag = "{tag}" }}
        [actors.sink]
        kind = "test.sink"
        params = {{ tag = "{tag}" }}
        [actors.late]
        kind = "test.sink"
        after = ["source"]
        params = {{ tag = "{tag}" }}
        [[wires]]
        from = "source.out"
        to = "stage.in"
        [[wires]]
        from = "stage.out"
        to = "sink.in"
        "#
    ));
    let running = Node::all(t, registry()).start().await.expect("start");
    running.shutdown();
    running.wait().await;
    let starts = lines(tag, "start");
    let pos = |s: &str| {
        starts
            .iter()
            .position(|l| l == s)
            .unwrap_or_else(|| panic!("{s} missing in {starts:?}"))
    };
    assert!(pos("start sink") < pos("start stage#1"), "{starts:?}");
    assert!(pos("start stage#1") < pos("start source"), "{starts:?}");
    assert!(pos("start source") < pos("start late"), "{starts:?}");
}

#[actix_rt::test]
async fn end_of_input_travels_down_and_the_node_completes_by_itself() {
    let tag = "eoi";
    let t = topology(&format!(
        r#"
        [actors.source]
        kind = "test.source"
        params = {{ tag = "{tag}", count = 500 }}
        [actors.stage]
        kind = "test.stage"
        params = {{ tag = "{tag}" }}
        [actors.sink]
        kind = "test.sink"
        params = {{ tag = "{tag}" }}
        [[wires]]
        from = "source.out"
        to = "stage.in"
        capacity = 8
        [[wires]]
        from = "stage.out"
        to = "sink.in"
        capacity = 8
        "#
    ));
    let running = Node::all(t, registry()).start().await.expect("start");
    let exit = actix_rt::time::timeout(Duration::from_secs(10), running.wait()).await;
    assert_eq!(exit, Ok(NodeExit::Completed));
    let got = lines(tag, "sink got");
    assert_eq!(got.len(), 500);
    assert_eq!(got.last().map(String::as_str), Some("sink got 499"));
    assert_eq!(lines(tag, "sink end"), vec!["sink end"]);
}

#[actix_rt::test]
async fn graceful_shutdown_drains_the_wires() {
    let tag = "drain";
    let t = topology(&format!(
        r#"
        [topology]
        drain_timeout = "5s"
        [actors.source]
        kind = "test.source"
        params = {{ tag = "{tag}", count = 0, interval_ms = 1 }}
        [actors.slow]
        kind = "test.stage"
        params = {{ tag = "{tag}", work_us = 2000 }}
        [actors.sink]
        kind = "test.sink"
        params = {{ tag = "{tag}" }}
        [[wires]]
        from = "source.out"
        to = "slow.in"
        capacity = 64
        [[wires]]
        from = "slow.out"
        to = "sink.in"
        "#
    ));
    let running = Node::all(t, registry()).start().await.expect("start");
    actix_rt::time::sleep(Duration::from_millis(150)).await;
    running.shutdown();
    let stats_before_exit = running.wire_stats();
    assert_eq!(running.wait().await, NodeExit::Completed);
    let _ = stats_before_exit;
    let got = lines(tag, "sink got");
    // Everything the source sent reached the sink: nothing was lost in the wires.
    let numbers: Vec<u64> = got
        .iter()
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    assert!(!numbers.is_empty());
    assert_eq!(
        numbers,
        (0..numbers.len() as u64).collect::<Vec<_>>(),
        "no gaps"
    );
    assert_eq!(
        lines(tag, "sink end"),
        vec!["sink end"],
        "the sink saw its input end"
    );
}

/// Pushes 2000 numbers into a 16-slot wire in front of a 200 µs-per-message
/// consumer; returns (sent, delivered, dropped, most ever queued).
async fn flood(tag: &str, policy: Policy) -> (u64, u64, u64, u64) {
    let t = topology(&format!(
        r#"
        [actors.slow]
        kind = "test.stage"
        params = {{ tag = "{tag}", work_us = 200 }}
        "#
    ));
    let mut node = Node::all(t, registry());
    let input = node
        .inject::<Num>("slow.in", WireConfig::new(16, policy))
        .expect("inject");
    let tap = node
        .tap::<Num>("slow.out", WireConfig::new(100_000, Policy::Block))
        .expect("tap");
    let running = node.start().await.expect("start");
    let sent = 2_000u64;
    let mut most = 0;
    for i in 0..sent {
        input.output().send_async(Num(i)).await;
        let s = input.stats();
        most = most.max(s.queued + s.in_flight);
        if i % 100 == 0 {
            actix_rt::task::yield_now().await;
        }
    }
    let dropped = input.stats().dropped;
    drop(input);
    let delivered = tap.collect().await.len() as u64;
    assert_eq!(running.wait().await, NodeExit::Completed);
    (sent, delivered, dropped, most)
}

#[actix_rt::test]
async fn block_policy_slows_the_producer_and_loses_nothing() {
    let (sent, delivered, dropped, most) = flood("bp-block", Policy::Block).await;
    assert_eq!(delivered, sent);
    assert_eq!(dropped, 0);
    assert!(
        most <= 16,
        "the wire never holds more than its capacity: {most}"
    );
}

#[actix_rt::test]
async fn drop_policies_bound_the_wire_and_count_every_drop() {
    for (tag, policy) in [
        ("bp-newest", Policy::DropNewest),
        ("bp-oldest", Policy::DropOldest),
    ] {
        let (sent, delivered, dropped, most) = flood(tag, policy).await;
        assert!(
            delivered < sent,
            "{policy}: a 200 µs consumer cannot keep up"
        );
        assert_eq!(
            dropped,
            sent - delivered,
            "{policy}: every missing message is counted"
        );
        assert!(most <= 16, "{policy}: {most}");
    }
}

#[actix_rt::test]
async fn an_actor_blocked_on_a_full_wire_is_aborted_so_shutdown_completes() {
    let tag = "abort-blocked";
    let t = topology(&format!(
        r#"
        [topology]
        drain_timeout = "100ms"
        [actors.source]
        kind = "test.source"
        params = {{ tag = "{tag}", count = 0 }}
        [actors.slow]
        kind = "test.stage"
        params = {{ tag = "{tag}", work_us = 20000 }}
        [[wires]]
        from = "source.out"
        to = "slow.in"
        capacity = 1
        "#
    ));
    let running = Node::all(t, registry()).start().await.expect("start");
    actix_rt::time::sleep(Duration::from_millis(100)).await;
    running.shutdown();
    // The source waits on its full wire and cannot see the stop request; it is
    // aborted after the grace period and the node still completes.
    let exit = actix_rt::time::timeout(Duration::from_secs(10), running.wait()).await;
    assert_eq!(exit, Ok(NodeExit::Completed));
}
