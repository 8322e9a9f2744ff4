//! An actor that sends more than its wire holds in one handler and then
//! stops: what waits in the port's backlog still reaches the consumer.

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
}

/// Sends `count` messages from its `started` and stops at once.
struct Flood {
    count: u64,
    out: Output<Num>,
}

impl Actor for Flood {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        for i in 0..self.count {
            self.out.send(Num(i), ctx);
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
            out: io.output("out")?,
        })
    }
}

#[actix_rt::test]
async fn a_backlog_left_by_an_actor_that_stops_is_still_delivered() {
    let mut registry = Registry::new();
    registry.register::<Flood>("test.flood").unwrap();
    let topology = load_str(
        "[actors.flood]\nkind = \"test.flood\"\nparams = { count = 1000 }\n",
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
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
    assert_eq!(running.wait().await, NodeExit::Completed);
}
