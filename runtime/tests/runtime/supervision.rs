//! Supervision with real actors: panics and handler errors are crashes, the
//! actor comes back with its wires and its address, limits escalate.

use std::time::Duration;

use actix::Actor;
use rolecall_runtime::wire::WireConfig;
use rolecall_runtime::{Injector, Node, NodeExit, Running};

use crate::common::*;

const FAST_BACKOFF: &str = r#"backoff = { min = "5ms", max = "50ms", jitter = 0.0 }"#;

#[actix_rt::test]
async fn a_panicking_handler_is_restarted_and_only_the_poisoned_message_is_lost() {
    let tag = "panic-restart";
    let t = topology(&format!(
        r#"
        [actors.stage]
        kind = "test.stage"
        {FAST_BACKOFF}
        params = {{ tag = "{tag}", panic_on = 50 }}
        "#
    ));
    let mut node = Node::all(t, registry()).with_seed(1);
    node.subscribe(EventLog { tag: tag.into() }.start().recipient());
    let input = node
        .inject::<Num>("stage.in", WireConfig::default())
        .expect("inject");
    let tap = node
        .tap::<Num>("stage.out", WireConfig::default())
        .expect("tap");
    let running = node.start().await.expect("start");
    let stage = running.actor::<Stage>("stage").expect("typed address");
    assert_eq!(
        stage
            .send(WhoAreYou)
            .await
            .expect("first incarnation answers"),
        1
    );

    for i in 0..100 {
        input.output().send_async(Num(i)).await;
    }
    drop(input); // ends the wire: the stage stops after draining it

    let got: Vec<u64> = tap.collect().await.into_iter().map(|n| n.0).collect();
    let expected: Vec<u64> = (0..100).filter(|&i| i != 50).collect();
    assert_eq!(
        got, expected,
        "every message but the poisoned one, in order"
    );
    assert_eq!(running.wait().await, NodeExit::Completed);

    let events = lines(tag, "event");
    assert!(
        events
            .iter()
            .any(|e| e.contains("stage: crashed: panicked: stage got the poisoned number 50")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.contains("stage: restarting in 5ms (attempt 1)")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.contains("stage: started (incarnation 2)")),
        "{events:?}"
    );
}

#[actix_rt::test]
async fn the_address_stays_valid_across_a_restart() {
    let tag = "address-stable";
    let t = topology(&format!(
        r#"
        [actors.stage]
        kind = "test.stage"
        {FAST_BACKOFF}
        params = {{ tag = "{tag}", panic_on = 1 }}
        "#
    ));
    let mut node = Node::all(t, registry()).with_seed(1);
    let input = node
        .inject::<Num>("stage.in", WireConfig::default())
        .expect("inject");
    let running = node.start().await.expect("start");
    let stage = running.actor::<Stage>("stage").expect("typed address");
    assert_eq!(stage.send(WhoAreYou).await.expect("answer"), 1);
    input.output().send_async(Num(1)).await; // crash
    assert!(
        eventually(Duration::from_secs(2), || journal(tag)
            .contains(&"start stage#2".to_owned()))
        .await
    );
    // The same Ref reaches the new incarnation.
    assert_eq!(
        stage.send(WhoAreYou).await.expect("answer after restart"),
        2
    );
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

/// One `test.stage` with fast restarts, its events journaled under `tag`,
/// and an injector into its `cmd` port.
async fn a_stage_taking_commands(tag: &str) -> (Running, Injector<Cmd>) {
    let t = topology(&format!(
        r#"
        [actors.stage]
        kind = "test.stage"
        {FAST_BACKOFF}
        params = {{ tag = "{tag}" }}
        "#
    ));
    let mut node = Node::all(t, registry()).with_seed(1);
    node.subscribe(EventLog { tag: tag.into() }.start().recipient());
    let cmd = node
        .inject::<Cmd>("stage.cmd", WireConfig::default())
        .expect("inject");
    (node.start().await.expect("start"), cmd)
}

/// Sends `commands`, then checks that "one" and "two" were handled and that
/// the stage crashed with `reason` in between.
async fn crashes_between_one_and_two(tag: &str, commands: [&str; 3], reason: &str) {
    let (running, cmd) = a_stage_taking_commands(tag).await;
    for c in commands {
        cmd.output().send_async(Cmd(c.into())).await;
    }
    assert!(eventually(Duration::from_secs(2), || lines(tag, "cmd").len() == 2).await);
    assert_eq!(lines(tag, "cmd"), vec!["cmd one", "cmd two"]);
    let restarted = || lines(tag, "start stage#").len() == 2;
    assert!(
        eventually(Duration::from_secs(2), restarted).await,
        "restarted once"
    );
    let crashed = format!("stage: crashed: {reason}");
    assert!(lines(tag, "event").iter().any(|e| e.contains(&crashed)));
    running.shutdown();
    running.wait().await;
}

#[actix_rt::test]
async fn an_error_returned_by_a_handler_is_a_crash() {
    crashes_between_one_and_two("error-crash", ["one", "fail", "two"], "told to fail").await;
}

#[actix_rt::test]
async fn a_crash_from_an_async_continuation_is_a_crash() {
    // `two` may be handled before the continuation runs, by the same
    // incarnation: the crash comes after it.
    crashes_between_one_and_two("async-crash", ["one", "fail-later", "two"], "gave up later").await;
}

#[actix_rt::test]
async fn exceeding_the_restart_limit_fails_the_node() {
    let tag = "escalate-node";
    let t = topology(&format!(
        r#"
        [actors.stage]
        kind = "test.stage"
        max_restarts = 2
        within = "10s"
        {FAST_BACKOFF}
        params = {{ tag = "{tag}", fail_create = 100 }}
        "#
    ));
    let mut node = Node::all(t, registry()).with_seed(1);
    node.subscribe(EventLog { tag: tag.into() }.start().recipient());
    let exit = match node.start().await {
        Ok(running) => running.wait().await,
        Err(e) => panic!("start: {e}"),
    };
    match exit {
        NodeExit::Failed(reason) => assert!(
            reason.contains("more than 2 restarts of `stage` within 10s"),
            "{reason}"
        ),
        other => panic!("expected failure, got {other:?}"),
    }
    assert_eq!(exit_code_of_failed(), 1);
    let crashes = lines(tag, "event")
        .into_iter()
        .filter(|e| e.starts_with("event stage: crashed: build failed"))
        .count();
    assert_eq!(crashes, 3, "first start plus two restarts");
    assert!(lines(tag, "event")
        .iter()
        .any(|e| e.contains("escalated to node")));
}

fn exit_code_of_failed() -> i32 {
    NodeExit::Failed(String::new()).code()
}

#[actix_rt::test]
async fn one_for_all_restarts_the_siblings_too() {
    let tag = "one-for-all";
    let t = topology(&format!(
        r#"
        [groups.pair]
        strategy = "one-for-all"
        {FAST_BACKOFF}
        [actors.a]
        kind = "test.stage"
        group = "pair"
        {FAST_BACKOFF}
        params = {{ tag = "{tag}", panic_on = 7 }}
        [actors.b]
        kind = "test.stage"
        group = "pair"
        {FAST_BACKOFF}
        params = {{ tag = "{tag}" }}
        [actors.c]
        kind = "test.stage"
        {FAST_BACKOFF}
        params = {{ tag = "{tag}" }}
        "#
    ));
    let mut node = Node::all(t, registry()).with_seed(1);
    node.subscribe(EventLog { tag: tag.into() }.start().recipient());
    let input = node
        .inject::<Num>("a.in", WireConfig::default())
        .expect("inject");
    let running = node.start().await.expect("start");
    input.output().send_async(Num(7)).await;
    let restarted = |name: &str| {
        let needle = format!("{name}: started (incarnation 2)");
        lines(tag, "event").iter().any(|e| e.contains(&needle))
    };
    assert!(
        eventually(Duration::from_secs(2), || restarted("a") && restarted("b")).await,
        "{:?}",
        journal(tag)
    );
    assert!(!restarted("c"), "c is outside the group");
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

#[actix_rt::test]
async fn a_ref_send_while_restarting_waits_for_the_next_incarnation() {
    let tag = "ref-waits";
    let t = topology(&format!(
        r#"
        [actors.stage]
        kind = "test.stage"
        backoff = {{ min = "300ms", max = "300ms", jitter = 0.0 }}
        params = {{ tag = "{tag}", panic_on = 1 }}
        "#
    ));
    let mut node = Node::all(t, registry()).with_seed(1);
    let input = node
        .inject::<Num>("stage.in", WireConfig::default())
        .expect("inject");
    let running = node.start().await.expect("start");
    let stage = running.actor::<Stage>("stage").expect("typed address");
    input.output().send_async(Num(1)).await; // crash; restart after 300 ms
    assert!(
        eventually(Duration::from_secs(2), || !stage.is_running()).await,
        "the incarnation ended"
    );
    // Sent between incarnations: answered by the next one, not refused.
    assert_eq!(
        stage
            .send(WhoAreYou)
            .await
            .expect("answered after the restart"),
        2
    );
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}
