//! A student's own kind, registered next to the built-in ones and embedded in
//! a program: see README.md in this folder.

use actix::prelude::*;
use rolecall::codecs::Topic;
use rolecall::runtime::kind::{CreateError, Io, Ports, Role};
use rolecall::runtime::topology::{load_file, Overrides};
use rolecall::runtime::{Node, NodeExit, Output, WireConfig};
use serde::Deserialize;

/// Parameters from the topology's `params` table.
#[derive(Deserialize)]
struct Params {
    threshold: f64,
}

/// Sent on `done` when the input has ended.
#[derive(Debug, Clone, Message, serde::Serialize, serde::Deserialize)]
#[rtype(result = "()")]
struct Done;

/// Raises an alarm when a Topic's mean value exceeds the threshold.
struct Threshold {
    threshold: f64,
    alarms: u64,
    done: Output<Done>,
}

impl Actor for Threshold {
    type Context = Context<Self>;
}

impl Handler<Topic> for Threshold {
    type Result = ();
    fn handle(&mut self, t: Topic, _: &mut Context<Self>) {
        let mean = t.data.iter().map(|&v| f64::from(v)).sum::<f64>() / t.data.len().max(1) as f64;
        if mean > self.threshold {
            self.alarms += 1;
            println!(
                "ALARM {} #{}: mean {mean:.1} > {}",
                t.name, t.seq_no, self.threshold
            );
        }
    }
}

/// Asks for the number of alarms so far.
#[derive(Debug, Message)]
#[rtype(result = "u64")]
struct AlarmCount;

impl Handler<AlarmCount> for Threshold {
    type Result = u64;
    fn handle(&mut self, _: AlarmCount, _: &mut Context<Self>) -> u64 {
        self.alarms
    }
}

impl Role for Threshold {
    type Params = Params;
    const ABOUT: &'static str = "raises an alarm when a Topic's mean value exceeds `threshold`";
    fn ports(ports: &mut Ports<Self>) {
        ports.input::<Topic>("in").output::<Done>("done");
    }
    fn build(p: &Params, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Threshold {
            threshold: p.threshold,
            alarms: 0,
            done: io.output("done")?,
        })
    }
    fn end_of_input(&mut self, ctx: &mut Context<Self>) {
        // Say so, and stay up so that the program can still ask us.
        self.done.send(Done, ctx);
    }
}

#[actix_rt::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut registry = rolecall::default_registry();
    registry.register::<Threshold>("student.threshold")?;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/custom_role/topology.toml"
    );
    let topology = load_file(path.as_ref(), &registry, &Overrides::from_env()?)?;
    let mut node = Node::all(topology, registry);
    let mut done = node.tap::<Done>("alarm.done", WireConfig::default())?;
    let running = node.start().await?;
    let alarm = running.actor::<Threshold>("alarm")?;
    // When the sensor's stream has ended, read the count through the typed address.
    done.recv().await;
    let alarms = alarm.send(AlarmCount).await?;
    println!("alarms raised: {alarms}");
    running.shutdown();
    match running.wait().await {
        NodeExit::Completed => Ok(()),
        NodeExit::Failed(reason) => Err(reason.into()),
    }
}
