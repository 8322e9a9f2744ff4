//! `topic.latency`: one-way latency statistics per topic, from the `ts` stamp.
//!
//! When its `points` port is wired (to a `metrics.reporter`), it also sends one
//! [`Point`] per message: measurement `latency` (param `measurement`), tags
//! `topic`, `publisher` (param, default `unknown`) and `subscriber` (the
//! actor's name), fields `us` (one-way latency in µs) and `seq`, stamped with
//! the receive time.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use actix::prelude::*;
use rolecall_codecs::Topic;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::{Deserialize, Serialize};

use super::unix_now;
use crate::metrics::Point;

/// Parameters of `topic.latency`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Print the table at end of input (default true).
    #[serde(default = "yes")]
    pub print: bool,
    /// Finish (print, send the summary, stop) after this many messages, for
    /// inputs that never end, such as a SUB socket (0: at end of input).
    #[serde(default)]
    pub stop_after: u64,
    /// The `publisher` tag of the points sent on `points` (default `unknown`).
    #[serde(default = "default_publisher")]
    pub publisher: String,
    /// The measurement of the points sent on `points` (default `latency`).
    #[serde(default = "default_measurement")]
    pub measurement: String,
}

fn default_publisher() -> String {
    "unknown".into()
}

fn default_measurement() -> String {
    "latency".into()
}

fn yes() -> bool {
    true
}

/// Latency figures of one topic, in microseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicLatency {
    /// Topic name.
    pub topic: String,
    /// Messages seen.
    pub count: u64,
    /// Sequence numbers missing between the first and last seen.
    pub gaps: u64,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Largest.
    pub max_us: f64,
}

/// The summary sent on `summary` when the input ends.
#[derive(Debug, Clone, PartialEq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct LatencySummary {
    /// One entry per topic, by name.
    pub topics: Vec<TopicLatency>,
}

impl LatencySummary {
    /// A printable table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<16} {:>8} {:>6} {:>10} {:>10} {:>10} {:>10}",
            "topic", "count", "gaps", "p50 us", "p90 us", "p99 us", "max us"
        );
        for t in &self.topics {
            let _ = writeln!(
                s,
                "{:<16} {:>8} {:>6} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
                t.topic, t.count, t.gaps, t.p50_us, t.p90_us, t.p99_us, t.max_us
            );
        }
        s
    }
}

#[derive(Debug, Default)]
struct Series {
    latencies_us: Vec<f64>,
    first: Option<u32>,
    last: u32,
}

/// Collects latencies; at end of input prints and sends a [`LatencySummary`].
#[derive(Debug)]
pub struct LatencyStats {
    print: bool,
    stop_after: u64,
    seen: u64,
    series: BTreeMap<String, Series>,
    out: Output<LatencySummary>,
    points: Output<Point>,
    subscriber: String,
    publisher: String,
    measurement: String,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl LatencyStats {
    fn summary(&mut self) -> LatencySummary {
        let topics = self
            .series
            .iter_mut()
            .map(|(name, s)| {
                s.latencies_us.sort_by(f64::total_cmp);
                let l = &s.latencies_us;
                let span = s
                    .first
                    .map(|f| u64::from(s.last.wrapping_sub(f)) + 1)
                    .unwrap_or(0);
                TopicLatency {
                    topic: name.clone(),
                    count: l.len() as u64,
                    gaps: span.saturating_sub(l.len() as u64),
                    p50_us: percentile(l, 50.0),
                    p90_us: percentile(l, 90.0),
                    p99_us: percentile(l, 99.0),
                    max_us: l.last().copied().unwrap_or(0.0),
                }
            })
            .collect();
        LatencySummary { topics }
    }
}

impl Actor for LatencyStats {
    type Context = Context<Self>;
}

impl Handler<Topic> for LatencyStats {
    type Result = ();

    fn handle(&mut self, msg: Topic, ctx: &mut Context<Self>) {
        let now = unix_now();
        let latency_us = ((now - msg.ts) * 1e6).max(0.0);
        if self.points.is_connected() {
            let point = Point::new(self.measurement.as_str(), (now * 1e9) as i64)
                .tag("topic", msg.name.as_str())
                .tag("publisher", self.publisher.as_str())
                .tag("subscriber", self.subscriber.as_str())
                .field("us", latency_us)
                .field("seq", msg.seq_no);
            self.points.send(point, ctx);
        }
        let s = self.series.entry(msg.name).or_default();
        s.first.get_or_insert(msg.seq_no);
        s.last = s.last.max(msg.seq_no);
        s.latencies_us.push(latency_us);
        self.seen += 1;
        if self.seen == self.stop_after {
            self.end_of_input(ctx);
        }
    }
}

impl Role for LatencyStats {
    type Params = Params;
    const ABOUT: &'static str =
        "one-way latency per topic from `ts`; prints a table and sends a summary at end of input; one Point per message on `points`";

    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<Topic>("in")
            .output::<LatencySummary>("summary")
            .output::<Point>("points");
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        Ok(LatencyStats {
            print: params.print,
            stop_after: params.stop_after,
            seen: 0,
            series: BTreeMap::new(),
            out: io.output("summary")?,
            points: io.output("points")?,
            subscriber: io.actor_name().to_owned(),
            publisher: params.publisher.clone(),
            measurement: params.measurement.clone(),
        })
    }

    fn end_of_input(&mut self, ctx: &mut Context<Self>) {
        let summary = self.summary();
        if self.print {
            println!("{}", summary.table());
        }
        self.out.send(summary, ctx);
        ctx.stop();
    }
}
