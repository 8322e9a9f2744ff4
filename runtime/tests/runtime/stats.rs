//! `NodeHandle::actor_stats`: per-actor handled counts, backlog and restarts
//! from the wires and the supervisor; a panicking handler's message frees its
//! wire slot.

use rolecall_runtime::wire::WireConfig;
use rolecall_runtime::{Node, NodeExit};

use crate::common::*;

#[actix_rt::test]
async fn actor_stats_count_handled_backlog_and_restarts_across_a_panic() {
    let tag = "actor-stats";
    let t = topology(&format!(
        r#"
        [actors.stage]
        kind = "test.stage"
        backoff = {{ min = "5ms", max = "50ms", jitter = 0.0 }}
        params = {{ tag = "{tag}", panic_on = 5 }}
        "#
    ));
    let mut node = Node::all(t, registry()).with_seed(1);
    // A wire of one slot: if the poisoned message kept its slot after the
    // panic, nothing more could ever be queued.
    let input = node
        .inject::<Num>(
            "stage.in",
            WireConfig::new(1, rolecall_runtime::Policy::Block),
        )
        .expect("inject");
    let tap = node
        .tap::<Num>("stage.out", WireConfig::default())
        .expect("tap");
    let running = node.start().await.expect("start");
    for i in 0..20 {
        actix_rt::time::timeout(
            std::time::Duration::from_secs(5),
            input.output().send_async(Num(i)),
        )
        .await
        .expect("the wire has room again after the panic");
    }
    // Let the stage take the last message before reading the counters.
    while input.stats().queued > 0 {
        actix_rt::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    let stats = running.handle().actor_stats().await;
    let stage = stats
        .iter()
        .find(|s| s.actor == "stage")
        .unwrap_or_else(|| panic!("{stats:?}"));
    assert_eq!(stage.handled, 20, "{stage:?}");
    assert_eq!(stage.backlog, 0, "{stage:?}");
    assert_eq!(stage.restarts, 1, "{stage:?}");
    assert!(stage.running && stage.started, "{stage:?}");
    drop(input);
    let got = tap.collect().await;
    assert_eq!(got.len(), 19, "all but the poisoned message");
    assert_eq!(running.wait().await, NodeExit::Completed);
}
