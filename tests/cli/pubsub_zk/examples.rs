//! The PA3/PA4 example scripts (`examples/pubsub_zk/pa3.sh`, `pa4.sh`) run
//! as a user runs them, against the test ZooKeeper.

use std::process::Command;

use super::harness::env;
use crate::support::*;

/// Runs `examples/pubsub_zk/SCRIPT` on ports from `port`; its output, which
/// must be a success.
fn run_example(script: &str, port: &str) -> String {
    let _serial = crate::zk::serial();
    let logs = tempfile::tempdir().unwrap();
    let out = run_within(
        Command::new(root().join("examples/pubsub_zk").join(script))
            .env("ROLECALL", root().join("target/debug/rolecall"))
            .env("ROLECALL_ZK", env("ROLECALL_ZK"))
            .env("PORT", port)
            .env("LOGS", logs.path()),
        // Ten processes: slow to start on a loaded machine.
        240,
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    text
}

/// The line of `text` starting with `prefix`.
fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line:\n{text}"))
}

#[test]
fn the_pa3_example_script_survives_both_kills_with_nothing_lost() {
    let text = run_example("pa3.sh", "34600");
    for want in [
        "disc2: discovery PRIMARY: elected, serving at tcp://localhost:34601",
        "b2: broker PRIMARY: elected: replaying",
        "pub1: publisher REGISTER: pub1 again with the new primary discovery tcp://localhost:34601",
        "sub1: subscriber COMPLETED: received 900 [pub1/humidity=300 pub1/weather=300 pub2/weather=300]",
        "sub2: subscriber COMPLETED: received 300 [pub2/light=300]",
        "b3: broker COMPLETED: forwarded 600 publications of group 1",
    ] {
        assert!(text.contains(want), "`{want}` missing:\n{text}");
    }
    for sub in ["sub1", "sub2"] {
        let done = line(&text, &format!("{sub}: subscriber COMPLETED"));
        assert!(done.contains("lost 0,"), "{done}");
    }
}

#[test]
fn the_pa4_example_script_shows_ownership_failover_and_history() {
    let text = run_example("pa4.sh", "34700");
    for want in [
        "sub1: owner of weather: p1 (strength 10)",
        "sub1: owner of weather: p2 (strength 5)",
        "sub2: subscriber HISTORY: p3/humidity: 5 from history, 55 live",
        "sub2: subscriber COMPLETED: received 60 [p3/humidity=60]",
        "sub3: subscriber sub3: history refused: p3 on humidity keeps N=10, asked H=20",
        "sub3: subscriber HISTORY: p4/light: 20 from history, 40 live",
        "sub3: subscriber COMPLETED: received 60 [p4/light=60]",
        "p3: history REFUSED: sub3 asked for the last H=20 publications of humidity; p3 keeps N=10",
        "p4: history: sent 20 of the last 20 publications of light to sub3",
    ] {
        assert!(text.contains(want), "`{want}` missing:\n{text}");
    }
    // sub1: p1's until the kill, then p2's; nothing lost, p2's earlier ones not delivered.
    let sub1 = line(&text, "sub1: subscriber COMPLETED");
    assert!(sub1.contains("received 150 [p1/weather="), "{sub1}");
    assert!(sub1.contains("lost 0,"), "{sub1}");
    assert!(!sub1.contains("not from the owner 0,"), "{sub1}");
}
