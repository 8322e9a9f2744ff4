//! An actor that sends more than its wire holds in one handler and then
//! stops: what waits in the port's backlog still reaches the consumer, sent
//! one by one or in batches (`Output::send_batch`), in order.

use std::collections::VecDeque;

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::topology::{load_str, Overrides};
use rolecall_runtime::wire::{Output, WireConfig};
use rolecall_runtime::{Node, NodeExit, Policy, Registry};
use serde::Deserialize;

use crate::common::Num;

#[derive(Debug, Deserialize)]
struct FloodParams {
    count: u64,
    /// Send in batches of this many (alternating with single sends).
    #[serde(default)]
    batch: usize,
}

/// Sends `count` messages from its `started` and stops at once.
struct Flood {
    count: u64,
    batch: usize,
    out: Output<Num>,
}

impl Actor for Flood {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        let mut i = 0;
        let mut batch = VecDeque::new();
        while i < self.count {
            if self.batch > 0 && i % 2 == 0 {
                let end = (i + self.batch as u64).min(self.count);
                batch.extend((i..end).map(Num));
                self.out.send_batch(&mut batch, ctx);
                assert!(batch.is_empty(), "send_batch takes the whole batch");
                i = end;
            } else {
                self.out.send(Num(i), ctx);
                i += 1;
            }
        }
        ctx.stop();
    }
}

impl Role for Flood {
    type Params = FloodParams;
    fn ports(p: &mut Ports<Self>) {
        p.output::<Num>("out");
    }
    fn build(p: &FloodParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Flood {
            count: p.count,
            batch: p.batch,
            out: io.output("out")?,
        })
    }
}

async fn flood(params: &str) -> Vec<u64> {
    let mut registry = Registry::new();
    registry.register::<Flood>("test.flood").unwrap();
    let topology = load_str(
        &format!("[actors.flood]\nkind = \"test.flood\"\nparams = {{ {params} }}\n"),
        "t.toml",
        &registry,
        &Overrides::new(),
    )
    .unwrap();
    let mut node = Node::all(topology, registry);
    let tap = node
        .tap::<Num>("flood.out", WireConfig::new(4, Policy::Block))
        .unwrap();
    let running = node.start().await.unwrap();
    let got: Vec<u64> = tap.collect().await.into_iter().map(|n| n.0).collect();
    assert_eq!(running.wait().await, NodeExit::Completed);
    got
}

#[actix_rt::test]
async fn a_backlog_left_by_an_actor_that_stops_is_still_delivered() {
    assert_eq!(flood("count = 1000").await, (0..1000).collect::<Vec<_>>());
}

#[actix_rt::test]
async fn batches_larger_than_the_wire_keep_their_order_behind_single_sends() {
    assert_eq!(
        flood("count = 1000, batch = 64").await,
        (0..1000).collect::<Vec<_>>()
    );
}
