//! `topic.source`: publishes the course's Topic messages at a steady rate.

use std::time::Duration;

use actix::prelude::*;
use rolecall_codecs::Topic;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::Deserialize;

use super::unix_now;

/// Parameters of `topic.source`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Topic name put in every message.
    #[serde(default = "default_topic")]
    pub topic: String,
    /// How many messages to publish before stopping (0: never stop).
    #[serde(default = "default_count")]
    pub count: u32,
    /// Milliseconds between messages (0: as fast as the wire takes them).
    #[serde(default = "default_interval")]
    pub interval_ms: u64,
    /// Length of the `data` vector.
    #[serde(default = "default_values")]
    pub values: usize,
    /// Milliseconds to wait before the first message (lets subscribers connect).
    #[serde(default)]
    pub delay_ms: u64,
}

fn default_topic() -> String {
    "weather".into()
}
fn default_count() -> u32 {
    100
}
fn default_interval() -> u64 {
    10
}
fn default_values() -> usize {
    8
}

/// Publishes `count` Topic messages on `out`, then stops (ending the wire).
#[derive(Debug)]
pub struct TopicSource {
    params: Params,
    out: Output<Topic>,
    next: u32,
}

impl TopicSource {
    fn publish(&mut self, ctx: &mut Context<Self>) {
        if self.params.count != 0 && self.next >= self.params.count {
            ctx.stop();
            return;
        }
        let seq = self.next;
        self.next = self.next.wrapping_add(1);
        let data = (0..self.params.values as u32)
            .map(|i| seq.wrapping_mul(31).wrapping_add(i))
            .collect();
        let msg = Topic {
            seq_no: seq,
            ts: unix_now(),
            name: self.params.topic.clone(),
            data,
        };
        self.out.send(msg, ctx);
    }
}

impl Actor for TopicSource {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let every = Duration::from_millis(self.params.interval_ms.max(1));
        let fast = self.params.interval_ms == 0;
        ctx.run_later(
            Duration::from_millis(self.params.delay_ms),
            move |_, ctx| {
                if fast {
                    ctx.notify(Tick);
                } else {
                    ctx.run_interval(every, |act, ctx| act.publish(ctx));
                }
            },
        );
    }
}

/// Publish as fast as the wire accepts (interval 0).
#[derive(Message)]
#[rtype(result = "()")]
struct Tick;

impl Handler<Tick> for TopicSource {
    type Result = ();

    fn handle(&mut self, _: Tick, ctx: &mut Context<Self>) {
        for _ in 0..64 {
            self.publish(ctx);
            if ctx.waiting() {
                break;
            }
        }
        ctx.notify(Tick);
    }
}

impl Role for TopicSource {
    type Params = Params;
    const ABOUT: &'static str =
        "publishes `count` Topic messages every `interval_ms`, stamping `ts`, then stops";

    fn ports(ports: &mut Ports<Self>) {
        ports.output::<Topic>("out");
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        Ok(TopicSource {
            params: params.clone(),
            out: io.output("out")?,
            next: 0,
        })
    }
}
