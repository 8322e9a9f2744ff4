//! [`RuntimeStats`] (`metrics.runtime`): the node's per-actor statistics as
//! [`Point`]s, every `interval_ms`.
//!
//! One point per actor and sample: measurement `actor` (param `measurement`),
//! tags `node` and `actor`, fields `handled` (messages handled so far),
//! `handled_per_s` (since the previous sample), `backlog` (messages waiting on
//! its input wires), `dropped` (by its input wires' overflow policy),
//! `fault_dropped` and `fault_duplicated` (by `[[faults]]` injection on its
//! input wires) and `restarts`. The
//! figures come from the runtime's wire counters and supervisor
//! ([`NodeHandle::actor_stats`]), so the measured actors do nothing extra.
//!
//! One point per cross-node hop of the node and sample: measurement `hop`
//! (param `hop_measurement`), tags `node`, `hop` and `end` (`sender` or
//! `receiver`), fields `messages`, `resent`, `unacknowledged`, `restarts`,
//! `refused`, `duplicates`, `lost` and `bad_frames` (the delivery contract's
//! counts, docs/runtime-semantics.md "Cross-node wires").
//!
//! With `until = ["a", "b"]` it takes a last sample and stops once all of
//! those actors have stopped for good, which ends its `points` wire (and so,
//! once its other producers end too, the reporter's input). Without `until`
//! it runs until the node shuts down.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::node::{ActorStats, HopSample};
use rolecall_runtime::wire::Output;
use rolecall_runtime::NodeHandle;
use serde::Deserialize;

use super::point::{now_ns, Point};

/// Parameters of `metrics.runtime`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Milliseconds between samples (default 1000).
    #[serde(default = "default_interval")]
    pub interval_ms: u64,
    /// Measurement name (default `actor`).
    #[serde(default = "default_measurement")]
    pub measurement: String,
    /// Measurement name of the hop points (default `hop`).
    #[serde(default = "default_hop_measurement")]
    pub hop_measurement: String,
    /// Stop after a last sample once these actors have all stopped for good.
    #[serde(default)]
    pub until: Vec<String>,
}

fn default_interval() -> u64 {
    1000
}
fn default_measurement() -> String {
    "actor".into()
}
fn default_hop_measurement() -> String {
    "hop".into()
}

/// Samples the node's per-actor statistics (see the module doc).
#[derive(Debug)]
pub struct RuntimeStats {
    params: Params,
    node: NodeHandle,
    me: String,
    out: Output<Point>,
    previous: HashMap<String, u64>,
    previous_at: Option<Instant>,
    sampling: bool,
}

impl RuntimeStats {
    fn sample(&mut self, ctx: &mut Context<Self>) {
        if self.sampling {
            return;
        }
        self.sampling = true;
        let node = self.node.clone();
        ctx.spawn(
            async move { (node.actor_stats().await, node.hop_stats().await) }
                .into_actor(self)
                .map(|(stats, hops), act, ctx| {
                    act.sampling = false;
                    act.emit_hops(&hops, ctx);
                    act.emit(&stats, ctx);
                }),
        );
    }

    fn emit_hops(&mut self, hops: &[HopSample], ctx: &mut Context<Self>) {
        let time_ns = now_ns();
        for h in hops {
            let point = Point::new(self.params.hop_measurement.as_str(), time_ns)
                .tag("node", self.node.name())
                .tag("hop", h.hop.as_str())
                .tag("end", if h.sender { "sender" } else { "receiver" })
                .field("messages", clamp(h.messages))
                .field("resent", clamp(h.resent))
                .field("unacknowledged", clamp(h.unacknowledged))
                .field("restarts", clamp(h.restarts))
                .field("refused", clamp(h.refused))
                .field("duplicates", clamp(h.duplicates))
                .field("lost", clamp(h.lost))
                .field("bad_frames", clamp(h.bad_frames));
            self.out.send(point, ctx);
        }
    }

    fn emit(&mut self, stats: &[ActorStats], ctx: &mut Context<Self>) {
        let now = Instant::now();
        let elapsed = self
            .previous_at
            .map(|t| now.duration_since(t).as_secs_f64())
            .unwrap_or(0.0);
        let time_ns = now_ns();
        for s in stats.iter().filter(|s| s.actor != self.me) {
            let before = self.previous.insert(s.actor.clone(), s.handled);
            let rate = match before {
                Some(b) if elapsed > 0.0 => s.handled.saturating_sub(b) as f64 / elapsed,
                _ => 0.0,
            };
            let point = Point::new(self.params.measurement.as_str(), time_ns)
                .tag("node", self.node.name())
                .tag("actor", s.actor.as_str())
                .field("handled", clamp(s.handled))
                .field("handled_per_s", rate)
                .field("backlog", clamp(s.backlog))
                .field("dropped", clamp(s.dropped))
                .field("fault_dropped", clamp(s.fault_dropped))
                .field("fault_duplicated", clamp(s.fault_duplicated))
                .field("restarts", clamp(s.restarts));
            self.out.send(point, ctx);
        }
        self.previous_at = Some(now);
        let done = !self.params.until.is_empty()
            && self.params.until.iter().all(|name| {
                stats
                    .iter()
                    .any(|s| &s.actor == name && s.started && !s.running)
            });
        if done {
            ctx.stop();
        }
    }
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Actor for RuntimeStats {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let every = Duration::from_millis(self.params.interval_ms.max(1));
        ctx.run_interval(every, |act, ctx| act.sample(ctx));
    }
}

impl Role for RuntimeStats {
    type Params = Params;
    const ABOUT: &'static str =
        "per-actor runtime statistics (handled, handled/s, backlog, dropped, fault_dropped, fault_duplicated, restarts) and per-hop delivery counts (measurement `hop`) as Points every `interval_ms`";

    fn ports(ports: &mut Ports<Self>) {
        ports.output::<Point>("points");
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        Ok(RuntimeStats {
            params: params.clone(),
            node: io.node().clone(),
            me: io.actor_name().to_owned(),
            out: io.output("points")?,
            previous: HashMap::new(),
            previous_at: None,
            sampling: false,
        })
    }
}
