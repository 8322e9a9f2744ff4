//! The roles report through their node's console: an embedding program that
//! gives the node a [`Capture`] reads the learner's and the store's lines
//! instead of finding them on stdout.

use rolecall_runtime::kind::{Capture, Console};
use rolecall_runtime::topology::{load_str, Overrides};
use rolecall_runtime::{Node, NodeExit};

const TOPOLOGY: &str = r#"
[topology]
name = "console"
finish_when = ["learner", "kv"]

[actors.a1]
kind = "paxos.acceptor"
params = { id = 1 }
[actors.a2]
kind = "paxos.acceptor"
params = { id = 2 }
[actors.a3]
kind = "paxos.acceptor"
params = { id = 3 }

[actors.proposer]
kind = "paxos.proposer"
params = { id = 1, acceptors = 3, value = "c1 set colour green", timeout_ms = 100 }

[actors.learner]
kind = "paxos.learner"
params = { acceptors = 3, exit_after = 1 }

[actors.kv]
kind = "paxos.kv"
params = { exit_after = 1 }

[[wires]]
from = "proposer.out"
to = ["a1.in", "a2.in", "a3.in"]
[[wires]]
from = "a1.out"
to = ["proposer.in", "learner.in"]
[[wires]]
from = "a2.out"
to = ["proposer.in", "learner.in"]
[[wires]]
from = "a3.out"
to = ["proposer.in", "learner.in"]
[[wires]]
from = "proposer.decided"
to = "learner.announce"
[[wires]]
from = "learner.out"
to = "kv.in"
"#;

async fn run(console: Console) -> NodeExit {
    let topology = load_str(
        TOPOLOGY,
        "console.toml",
        &crate::registry(),
        &Overrides::new(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let running = Node::all(topology, crate::registry())
        .with_seed(5)
        .with_console(console)
        .start()
        .await
        .expect("the node starts");
    actix_rt::time::timeout(std::time::Duration::from_secs(20), running.wait())
        .await
        .expect("the node ends within 20 s")
}

#[actix_rt::test]
async fn a_captured_console_holds_what_the_learner_and_the_store_report() {
    let capture = Capture::new(100);
    assert_eq!(
        run(Console::new(capture.clone())).await,
        NodeExit::Completed
    );
    assert_eq!(
        capture.lines_of("learner"),
        vec![r#"learner learner: slot 0 = "c1 set colour green""#.to_owned()]
    );
    assert_eq!(
        capture.lines_of("kv"),
        vec![
            "kv: applied 1 commands from 1 slots (0 no-ops, 0 repeated commands skipped)"
                .to_owned(),
            "kv: colour = green".to_owned(),
        ]
    );
    let proposer = capture.lines_of("proposer");
    assert_eq!(proposer.len(), 1, "{proposer:?}");
    assert!(
        proposer[0].starts_with(r#"proposer proposer: decided "c1 set colour green" with ballot"#),
        "{proposer:?}"
    );
    // Every line came from a role of this node, none was dropped.
    assert_eq!(capture.lines().len(), 4);
    assert_eq!(capture.dropped(), 0);
}

#[actix_rt::test]
async fn a_silent_console_changes_nothing_but_the_output() {
    assert_eq!(run(Console::silent()).await, NodeExit::Completed);
}
