//! `topic.latency`: one-way latency statistics per topic, from the `ts` stamp.
//!
//! When its `points` port is wired (to a `metrics.reporter`), it also sends one
//! [`Point`] per message: measurement `latency` (param `measurement`), tags
//! `topic`, `publisher` (param, default `unknown`) and `subscriber` (the
//! actor's name), fields `us` (one-way latency in µs) and `seq`, stamped with
//! the receive time.
//!
//! Sequence numbers tell what went missing: `gaps` counts the numbers never
//! seen between the lowest and highest seen (duplicates do not fill them, and
//! are counted apart). A PUB socket drops silently at a subscriber's
//! high-water mark, so on PUB/SUB these gaps are the only trace of such
//! losses. With `stop_after`, the stage also ends when no message came for
//! `idle_timeout_ms`, with a WARN naming how many of the expected arrived.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use actix::prelude::*;
use rolecall_codecs::Topic;
use rolecall_runtime::kind::{Console, CreateError, Io, Ports, Role};
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
    /// With `stop_after`: finish anyway when no message came for this many
    /// milliseconds since the last one (the clock starts at the first), with
    /// a WARN naming how many of `stop_after` arrived (default 5000; 0: wait
    /// for ever).
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_ms: u64,
    /// The `publisher` tag of the points sent on `points` (default `unknown`).
    #[serde(default = "default_publisher")]
    pub publisher: String,
    /// The measurement of the points sent on `points` (default `latency`).
    #[serde(default = "default_measurement")]
    pub measurement: String,
}

pub(crate) fn default_idle_timeout() -> u64 {
    5000
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
    /// Messages seen (duplicates included).
    pub count: u64,
    /// Sequence numbers never seen between the lowest and the highest seen.
    pub gaps: u64,
    /// Messages whose sequence number had been seen before.
    #[serde(default)]
    pub duplicates: u64,
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
            if t.duplicates > 0 {
                let _ = writeln!(s, "{:<16} {:>8} duplicates", t.topic, t.duplicates);
            }
        }
        s
    }
}

#[derive(Debug, Default)]
struct Series {
    latencies_us: Vec<f64>,
    seqs: Seqs,
}

/// The distinct sequence numbers seen, as disjoint ranges (compact for the
/// usual nearly contiguous stream).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Seqs {
    /// Range start -> range end, both inclusive.
    ranges: BTreeMap<u32, u32>,
    distinct: u64,
    duplicates: u64,
}

impl Seqs {
    /// Notes `seq`; false if it had been seen before (a duplicate).
    pub(crate) fn insert(&mut self, seq: u32) -> bool {
        let before = self.ranges.range(..=seq).next_back().map(|(&s, &e)| (s, e));
        if let Some((_, end)) = before {
            if end >= seq {
                self.duplicates += 1;
                return false;
            }
        }
        self.distinct += 1;
        let after = seq
            .checked_add(1)
            .and_then(|next| self.ranges.get(&next).map(|&e| (next, e)));
        let start = match before {
            Some((start, end)) if end.checked_add(1) == Some(seq) => start,
            _ => seq,
        };
        let end = match after {
            Some((next, end)) => {
                self.ranges.remove(&next);
                end
            }
            None => seq,
        };
        self.ranges.insert(start, end);
        true
    }

    /// Distinct sequence numbers seen.
    pub(crate) fn distinct(&self) -> u64 {
        self.distinct
    }

    /// Messages that repeated a sequence number.
    pub(crate) fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Numbers never seen between the lowest and the highest seen.
    pub(crate) fn gaps(&self) -> u64 {
        match (self.ranges.first_key_value(), self.ranges.last_key_value()) {
            (Some((&low, _)), Some((_, &high))) => u64::from(high - low) + 1 - self.distinct,
            _ => 0,
        }
    }
}

/// Collects latencies; at end of input prints and sends a [`LatencySummary`].
#[derive(Debug)]
pub struct LatencyStats {
    print: bool,
    stop_after: u64,
    idle_timeout: Option<Duration>,
    /// When the last message came (`None` before the first).
    last_seen: Option<Instant>,
    seen: u64,
    series: BTreeMap<String, Series>,
    out: Output<LatencySummary>,
    points: Output<Point>,
    subscriber: String,
    publisher: String,
    measurement: String,
    console: Console,
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
                TopicLatency {
                    topic: name.clone(),
                    count: l.len() as u64,
                    gaps: s.seqs.gaps(),
                    duplicates: s.seqs.duplicates(),
                    p50_us: percentile(l, 50.0),
                    p90_us: percentile(l, 90.0),
                    p99_us: percentile(l, 99.0),
                    max_us: l.last().copied().unwrap_or(0.0),
                }
            })
            .collect();
        LatencySummary { topics }
    }

    /// Ends the stage when `stop_after` has not been reached and no message
    /// came for the idle timeout, saying how many arrived.
    fn check_idle(&mut self, ctx: &mut Context<Self>) {
        let (Some(idle), Some(last)) = (self.idle_timeout, self.last_seen) else {
            return;
        };
        if last.elapsed() < idle || self.seen >= self.stop_after {
            return;
        }
        let distinct: u64 = self.series.values().map(|s| s.seqs.distinct()).sum();
        let gaps: u64 = self.series.values().map(|s| s.seqs.gaps()).sum();
        let duplicates: u64 = self.series.values().map(|s| s.seqs.duplicates()).sum();
        tracing::warn!(
            actor = %self.subscriber,
            arrived = distinct,
            expected = self.stop_after,
            missing = self.stop_after.saturating_sub(distinct),
            gaps,
            duplicates,
            "no message for {} ms: ending with {distinct} of {} messages arrived",
            idle.as_millis(),
            self.stop_after,
        );
        self.end_of_input(ctx);
    }
}

impl Actor for LatencyStats {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(idle) = self.idle_timeout {
            let every = (idle / 4).clamp(Duration::from_millis(10), Duration::from_millis(250));
            ctx.run_interval(every, |act, ctx| act.check_idle(ctx));
        }
    }
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
        s.seqs.insert(msg.seq_no);
        s.latencies_us.push(latency_us);
        self.seen += 1;
        self.last_seen = Some(Instant::now());
        if self.seen == self.stop_after {
            self.end_of_input(ctx);
        }
    }
}

impl Role for LatencyStats {
    type Params = Params;
    const ABOUT: &'static str =
        "one-way latency per topic from `ts` (gaps: sequence numbers never seen); prints a table and sends a summary at end of input (or after `stop_after`, or `idle_timeout_ms` without one); one Point per message on `points`";

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
            idle_timeout: (params.stop_after > 0 && params.idle_timeout_ms > 0)
                .then(|| Duration::from_millis(params.idle_timeout_ms)),
            last_seen: None,
            seen: 0,
            series: BTreeMap::new(),
            out: io.output("summary")?,
            points: io.output("points")?,
            subscriber: io.actor_name().to_owned(),
            publisher: params.publisher.clone(),
            measurement: params.measurement.clone(),
            console: io.console(),
        })
    }

    fn end_of_input(&mut self, ctx: &mut Context<Self>) {
        let summary = self.summary();
        if self.print {
            self.console.line(summary.table());
        }
        self.out.send(summary, ctx);
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(order: &[u32]) -> Seqs {
        let mut s = Seqs::default();
        for &q in order {
            s.insert(q);
        }
        s
    }

    #[test]
    fn gaps_count_numbers_never_seen_whatever_the_order() {
        assert_eq!(seqs(&[]).gaps(), 0);
        assert_eq!(seqs(&[0, 1, 2, 3]).gaps(), 0);
        assert_eq!(seqs(&[0, 1, 5, 9]).gaps(), 6);
        // Out of order: the lowest seen counts, not the first seen.
        let s = seqs(&[5, 6, 0, 9, 2]);
        assert_eq!((s.gaps(), s.distinct()), (5, 5));
        // A late message fills its gap, joining two ranges.
        let s = seqs(&[0, 1, 3, 4, 2]);
        assert_eq!((s.gaps(), s.ranges.len()), (0, 1));
        assert_eq!(seqs(&[u32::MAX - 1, u32::MAX]).gaps(), 0);
    }

    #[test]
    fn duplicates_do_not_fill_gaps() {
        // Before: span 4 (0..=3) minus 4 messages = 0 gaps, hiding 2 losses.
        let s = seqs(&[0, 3, 3, 0]);
        assert_eq!((s.gaps(), s.duplicates(), s.distinct()), (2, 2, 2));
        let mut s = Seqs::default();
        assert!(s.insert(7));
        assert!(!s.insert(7));
    }

    #[test]
    fn matches_a_naive_count_on_random_streams() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(12);
        for _ in 0..200 {
            let n = rng.random_range(1..300);
            let order: Vec<u32> = (0..n).map(|_| rng.random_range(0..400)).collect();
            let s = seqs(&order);
            let set: std::collections::BTreeSet<u32> = order.iter().copied().collect();
            let low = *set.first().unwrap_or(&0);
            let high = *set.last().unwrap_or(&0);
            assert_eq!(s.distinct(), set.len() as u64);
            assert_eq!(s.duplicates(), (order.len() - set.len()) as u64);
            assert_eq!(s.gaps(), u64::from(high - low) + 1 - set.len() as u64);
        }
    }
}
