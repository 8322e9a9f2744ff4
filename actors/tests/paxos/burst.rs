//! `paxos.leader` as an actor: proposals that reach it together share a
//! slot. A client sends one command, waits for it to be decided (the leader
//! is elected by then), then sends a burst of single-command proposals in
//! one handler; the learner's decisions say how many slots the burst took.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix::prelude::*;
use rolecall_actors::paxos::{Decided, Propose};
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::topology::{load_str, Overrides};
use rolecall_runtime::wire::Output;
use rolecall_runtime::{Node, NodeExit};
use serde::Deserialize;

/// Single-command proposals in the burst.
const BURST: usize = 40;

/// Slots that held commands of the burst (written when all are decided).
static BURST_SLOTS: AtomicUsize = AtomicUsize::new(0);

struct BurstClient {
    out: Output<Propose>,
    burst_sent: bool,
    decided: usize,
    slots: usize,
}

#[derive(Deserialize)]
struct NoParams {}

impl Actor for BurstClient {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.out.send(
            Propose {
                commands: vec!["warm".into()],
            },
            ctx,
        );
    }
}

impl Handler<Decided> for BurstClient {
    type Result = ();
    fn handle(&mut self, d: Decided, ctx: &mut Context<Self>) {
        if d.value.iter().any(|c| c == "warm") && !self.burst_sent {
            self.burst_sent = true;
            for i in 0..BURST {
                self.out.send(
                    Propose {
                        commands: vec![format!("c{i}")],
                    },
                    ctx,
                );
            }
            return;
        }
        let burst = d.value.iter().filter(|c| c.starts_with('c')).count();
        if burst > 0 {
            self.decided += burst;
            self.slots += 1;
        }
        if self.decided == BURST {
            BURST_SLOTS.store(self.slots, Ordering::SeqCst);
            ctx.stop();
        }
    }
}

impl Role for BurstClient {
    type Params = NoParams;
    fn ports(p: &mut Ports<Self>) {
        p.input::<Decided>("decided").output::<Propose>("out");
    }
    fn build(_: &NoParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(BurstClient {
            out: io.output("out")?,
            burst_sent: false,
            decided: 0,
            slots: 0,
        })
    }
}

const TOPOLOGY: &str = r#"
[topology]
name = "burst"
finish_when = ["client"]

[actors.client]
kind = "test.burst-client"
[actors.leader]
kind = "paxos.leader"
params = { id = 1, acceptors = 3, batch = 256, window = 16, announce_ms = 0 }
[actors.learner]
kind = "paxos.learner"
params = { acceptors = 3 }
[actors.a1]
kind = "paxos.acceptor"
params = { id = 1 }
[actors.a2]
kind = "paxos.acceptor"
params = { id = 2 }
[actors.a3]
kind = "paxos.acceptor"
params = { id = 3 }

[[wires]]
from = "client.out"
to = "leader.propose"
[[wires]]
from = "leader.out"
to = ["a1.in", "a2.in", "a3.in"]
[[wires]]
from = "a1.out"
to = ["leader.in", "learner.in"]
[[wires]]
from = "a2.out"
to = ["leader.in", "learner.in"]
[[wires]]
from = "a3.out"
to = ["leader.in", "learner.in"]
[[wires]]
from = "learner.out"
to = "client.decided"
"#;

#[actix_rt::test]
async fn a_burst_of_proposals_to_an_elected_leader_is_decided_in_one_slot() {
    let mut registry = crate::registry();
    registry
        .register::<BurstClient>("test.burst-client")
        .expect("the client registers");
    let topology = load_str(TOPOLOGY, "burst.toml", &registry, &Overrides::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let running = Node::all(topology, registry)
        .with_seed(3)
        .start()
        .await
        .expect("the node starts");
    let exit = actix_rt::time::timeout(Duration::from_secs(20), running.wait())
        .await
        .expect("the node ends within 20 s");
    assert_eq!(exit, NodeExit::Completed);
    // Submitted one by one (before 2026-12-07), the burst took a slot per
    // proposal until the window of 16 was full and the rest one more: 16
    // or 17 slots.
    assert_eq!(
        BURST_SLOTS.load(Ordering::SeqCst),
        1,
        "the burst's {BURST} proposals should share one slot"
    );
}
