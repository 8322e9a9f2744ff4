//! Pairs of raw and rolecall rounds: rates, their ratios, peak memory and
//! the processor time per message of each side.

use serde::Serialize;

use super::PAIRS;
use crate::bench::all::peak_rss_mib;
use crate::bench::{median, paired_ratio};

/// Raw vs rolecall throughput over [`PAIRS`] pairs of rounds.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Paired {
    /// Median of the raw rounds' rates (messages/s).
    raw_msgs_per_s: f64,
    /// Median of the rolecall rounds' rates.
    rolecall_msgs_per_s: f64,
    /// Median over pairs of the geometric mean of each pair's two ratios.
    pub(super) ratio: f64,
    pair_ratios: Vec<f64>,
    /// rolecall ÷ raw of each round (raw first in even rounds).
    round_ratios: Vec<f64>,
    /// Fewest messages any raw round received (all of them).
    raw_received: u64,
    /// Fewest messages any rolecall round received.
    rolecall_received: u64,
    /// Highest peak resident memory of a rolecall round.
    rolecall_peak_rss_mib: f64,
    /// Processor time of the whole process (every thread, libzmq's I/O
    /// thread and the kernel's work for it included) per message received,
    /// over all raw rounds and over all rolecall rounds. With both cores
    /// busy, throughput follows it. `None` (null) when a side used less
    /// than [`CPU_MIN_S`] in all (the kernel counts in 10 ms ticks); the
    /// rolecall side includes starting and stopping its topology.
    raw_cpu_ns_per_msg: Option<f64>,
    rolecall_cpu_ns_per_msg: Option<f64>,
    /// `rolecall_cpu_ns_per_msg` ÷ `raw_cpu_ns_per_msg`.
    cpu_ratio: Option<f64>,
}

/// Least processor time a side must use for its time per message to be
/// reported (ten of the kernel's ticks).
const CPU_MIN_S: f64 = 0.1;

/// Processor time this process has used (user and system, every thread
/// that ran, in the kernel's 10 ms ticks), in seconds.
fn process_cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // After the command's closing parenthesis: state is field 3, utime 14,
    // stime 15 (man 5 proc).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => 0.0,
    }
}

/// Runs `round`, adding the processor time it took to `cpu` and the
/// messages it received to `messages`.
fn timed_cpu(
    cpu: &mut f64,
    messages: &mut u64,
    round: impl FnOnce() -> Result<(f64, u64), String>,
) -> Result<(f64, u64), String> {
    let before = process_cpu_s();
    let result = round()?;
    *cpu += process_cpu_s() - before;
    *messages += result.1;
    Ok(result)
}

fn ns_per(cpu_s: f64, messages: u64) -> Option<f64> {
    (cpu_s >= CPU_MIN_S && messages > 0).then(|| cpu_s * 1e9 / messages as f64)
}

/// Runs `raw` and `rolecall` (each given a fresh port) in [`PAIRS`] pairs of
/// rounds, one of each order per pair.
pub(super) fn paired(
    port: &mut u16,
    mut raw: impl FnMut(u16) -> Result<(f64, u64), String>,
    mut rolecall: impl FnMut(u16) -> Result<(f64, u64), String>,
) -> Result<Paired, String> {
    let (mut raws, mut ours, mut rounds) = (Vec::new(), Vec::new(), Vec::new());
    let (mut raw_received, mut rolecall_received, mut peak) = (u64::MAX, u64::MAX, 0.0f64);
    let (mut raw_cpu, mut raw_total, mut ours_cpu, mut ours_total) = (0.0, 0, 0.0, 0);
    for round in 0..2 * PAIRS {
        let mut ours_round = |port: u16| -> Result<(f64, u64), String> {
            reset_peak_rss();
            let r = timed_cpu(&mut ours_cpu, &mut ours_total, || rolecall(port))?;
            peak = peak.max(peak_rss_mib().unwrap_or(0.0));
            Ok(r)
        };
        let mut raw_round = |port: u16| timed_cpu(&mut raw_cpu, &mut raw_total, || raw(port));
        *port += 2;
        let ((raw_rate, raw_n), (ours_rate, ours_n)) = if round % 2 == 0 {
            let r = raw_round(*port)?;
            (r, ours_round(*port + 1)?)
        } else {
            let o = ours_round(*port + 1)?;
            (raw_round(*port)?, o)
        };
        raw_received = raw_received.min(raw_n);
        rolecall_received = rolecall_received.min(ours_n);
        rounds.push(if raw_rate > 0.0 {
            ours_rate / raw_rate
        } else {
            0.0
        });
        raws.push(raw_rate);
        ours.push(ours_rate);
    }
    let (ratio, pair_ratios) = paired_ratio(&rounds);
    let (raw_cpu_ns_per_msg, rolecall_cpu_ns_per_msg) =
        (ns_per(raw_cpu, raw_total), ns_per(ours_cpu, ours_total));
    Ok(Paired {
        raw_cpu_ns_per_msg,
        rolecall_cpu_ns_per_msg,
        cpu_ratio: rolecall_cpu_ns_per_msg
            .zip(raw_cpu_ns_per_msg)
            .map(|(o, r)| o / r),
        raw_msgs_per_s: median(&mut raws),
        rolecall_msgs_per_s: median(&mut ours),
        ratio,
        pair_ratios,
        round_ratios: rounds,
        raw_received,
        rolecall_received,
        rolecall_peak_rss_mib: peak,
    })
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
