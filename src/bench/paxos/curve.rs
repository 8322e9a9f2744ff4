//! The latency curve of `bench paxos`: the multi-process layout's maximum
//! rate, measured with a client paced above it, and commit latency at
//! 10 %, 50 % and 90 % of that rate.

use serde::Serialize;

use super::{paxos_run, registry, Layout, Run};

/// The maximum rate of the multi-process layout: the decided rate while a
/// client paced above it was still sending.
#[derive(Debug, Default, Serialize)]
pub(super) struct Capacity {
    /// Commands/s the client offered (more than is sustained).
    offered_per_s: f64,
    /// Decisions/s while it was offering: the curve's 100 %.
    decided_per_s: f64,
    commands: u64,
    /// Commit latency at that overload (queueing), in the probe whose
    /// rate is the median.
    p50_latency_ms: f64,
    /// Each probe's decided rate while offering; `decided_per_s` is their
    /// median.
    probes_decided_per_s: Vec<f64>,
}

/// Commit latency at a fraction of the measured maximum rate.
#[derive(Debug, Serialize)]
pub(super) struct CurvePoint {
    /// The fraction of the maximum rate offered.
    load: f64,
    /// Commands/s the client offered (paced).
    offered_per_s: f64,
    /// Decisions/s while the client was sending.
    decided_per_s: f64,
    commands: u64,
    p50_latency_ms: f64,
    p99_latency_ms: f64,
    /// Commands sent before the first decision (the roles were still
    /// connecting and electing): not in the percentiles.
    warmup_excluded: u64,
}

/// A paced run's decisions per second from its first paced command (the
/// one after the warm-up command) to its last, counting the decisions in
/// that window: what the roles sustain while the client works beside them.
/// (Once the client stops, a backlog drains faster, and a queue filled
/// before the first decision drains in full batches: neither is a rate
/// anyone can offer.) `None` with fewer than two commands.
pub(super) fn rate_while_offering(pairs: &[(u64, u64)]) -> Option<f64> {
    let warmup = pairs.iter().map(|(s, _)| *s).min()?;
    let start = pairs
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| *s > warmup)
        .min()?;
    let end = pairs.iter().map(|(s, _)| *s).max()?;
    if end <= start {
        return None;
    }
    let decided = pairs
        .iter()
        .filter(|(_, d)| *d > start && *d <= end)
        .count();
    Some(decided as f64 / ((end - start) as f64 / 1e6))
}

/// How long each paced run of the latency curve offers commands.
const PACED_SECONDS: f64 = 2.0;
/// Probes of the maximum rate; their median is the curve's 100 % (one
/// probe on a noisy machine can read 30 % high, and its 90 % is then an
/// overload).
const PROBES: usize = 3;

/// Every role group in its own process: first [`PROBES`] times the client
/// paced at the saturated run's first-to-last-decision rate (more than the
/// roles sustain with the client beside them; kept within 2–4 times its
/// whole-run rate), whose median rate while offering is the maximum
/// ([`Capacity`]); then paced at 10 %, 50 % and 90 % of that maximum. Each
/// run offers for [`PACED_SECONDS`] (at most `commands` commands, at least
/// 200).
pub(super) async fn curve(
    saturated: &Run,
    commands: u64,
) -> Result<(Capacity, Vec<CurvePoint>), String> {
    let paced = |rate: u64| ((rate as f64 * PACED_SECONDS) as u64).clamp(200, commands.max(200));
    // Above what is sustained, but not so far that the client's commands
    // all go out in a few milliseconds (decisions come in bursts, so the
    // first-to-last rate can be anything).
    let whole = saturated.decided_per_s;
    let offered = (saturated
        .steady_decided_per_s
        .clamp(2.0 * whole, 4.0 * whole) as u64)
        .max(1);
    let mut probes = Vec::with_capacity(PROBES);
    for _ in 0..PROBES {
        let probe = paxos_run(
            3,
            paced(offered),
            None,
            Layout::Processes,
            offered,
            registry()?,
        )
        .await?;
        // Never above what was offered (an under-loaded probe measures the offer).
        probes.push((
            probe.offering_per_s.min(offered as f64),
            probe.run.p50_latency_ms,
        ));
    }
    let mut sorted = probes.clone();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (max, p50) = sorted[sorted.len() / 2];
    let capacity = Capacity {
        offered_per_s: offered as f64,
        decided_per_s: max,
        commands: paced(offered),
        p50_latency_ms: p50,
        probes_decided_per_s: probes.iter().map(|p| p.0).collect(),
    };
    let mut points = Vec::new();
    for load in [0.1, 0.5, 0.9] {
        let rate = ((max * load) as u64).max(1);
        let count = paced(rate);
        let m = paxos_run(3, count, None, Layout::Processes, rate, registry()?).await?;
        points.push(CurvePoint {
            load,
            offered_per_s: rate as f64,
            decided_per_s: m.offering_per_s,
            commands: count,
            p50_latency_ms: m.run.p50_latency_ms,
            p99_latency_ms: m.run.p99_latency_ms,
            warmup_excluded: m.warmup,
        });
    }
    Ok((capacity, points))
}

#[cfg(test)]
mod tests {
    use super::rate_while_offering;

    #[test]
    fn the_rate_while_offering_leaves_out_the_warmup_and_the_drain() {
        // The warm-up command at 0, decided at 300 ms; then one command per
        // millisecond from 500 ms to 1,499 ms, each decided 2 ms later.
        let mut pairs = vec![(0, 300_000)];
        pairs.extend((0..1000u64).map(|i| (500_000 + i * 1000, 502_000 + i * 1000)));
        let rate = rate_while_offering(&pairs).expect("a rate");
        // 998 decisions in (500 ms, 1,499 ms]: about the 1,000/s offered.
        assert!((rate - 998.0 / 0.999).abs() < 1e-6, "{rate}");
        // Overloaded: decisions only every 2 ms while offering, then a
        // quick drain after the client stopped: the drain is not counted.
        let mut slow = vec![(0, 300_000)];
        slow.extend((0..1000u64).map(|i| {
            let sent = 500_000 + i * 1000;
            let decided = if i < 500 {
                502_000 + i * 2000
            } else {
                1_600_000 + i
            };
            (sent, decided)
        }));
        let rate = rate_while_offering(&slow).expect("a rate");
        assert!((400.0..=600.0).contains(&rate), "{rate}");
        assert_eq!(rate_while_offering(&[(0, 10)]), None);
    }
}
