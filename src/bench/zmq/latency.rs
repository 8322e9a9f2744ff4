//! Latency figures of `rolecall bench zmq`: rounds of raw and rolecall
//! samples (in µs), their percentiles over every round and the median of
//! the rounds' p50 ratios, so that one noisy stretch of the machine does
//! not decide the figure.

use serde::Serialize;

use crate::bench::median;

/// Raw vs rolecall latencies over several rounds, raw and rolecall
/// alternating.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Latencies {
    /// Rounds of each side.
    pub(super) rounds: usize,
    /// Over every sample of every round.
    pub(super) raw_p50_us: f64,
    pub(super) raw_p99_us: f64,
    pub(super) rolecall_p50_us: f64,
    pub(super) rolecall_p99_us: f64,
    /// Each round's rolecall p50 ÷ raw p50.
    pub(super) round_p50_ratios: Vec<f64>,
    /// The median of `round_p50_ratios` (lower is better).
    pub(super) p50_ratio: f64,
    /// Fewest samples any raw round took.
    pub(super) raw_samples: usize,
    /// Fewest samples any rolecall round took.
    pub(super) rolecall_samples: usize,
}

impl Latencies {
    /// The figures of `rounds`, each a raw and a rolecall round's samples.
    pub(super) fn of(rounds: Vec<(Vec<f64>, Vec<f64>)>) -> Latencies {
        let (mut raw, mut ours, mut round_p50_ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut raw_samples, mut rolecall_samples) = (usize::MAX, usize::MAX);
        let count = rounds.len();
        for (mut r, mut o) in rounds {
            r.sort_by(f64::total_cmp);
            o.sort_by(f64::total_cmp);
            raw_samples = raw_samples.min(r.len());
            rolecall_samples = rolecall_samples.min(o.len());
            round_p50_ratios.push(percentile(&o, 50.0) / percentile(&r, 50.0).max(1e-9));
            raw.extend(r);
            ours.extend(o);
        }
        raw.sort_by(f64::total_cmp);
        ours.sort_by(f64::total_cmp);
        Latencies {
            rounds: count,
            raw_p50_us: percentile(&raw, 50.0),
            raw_p99_us: percentile(&raw, 99.0),
            rolecall_p50_us: percentile(&ours, 50.0),
            rolecall_p99_us: percentile(&ours, 99.0),
            p50_ratio: median(&mut round_p50_ratios.clone()),
            round_p50_ratios,
            raw_samples: if count == 0 { 0 } else { raw_samples },
            rolecall_samples: if count == 0 { 0 } else { rolecall_samples },
        }
    }
}

/// The `p`th percentile of `sorted` (nearest rank); 0 when it is empty.
pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_over_every_round_and_the_median_of_the_rounds_ratios() {
        let l = Latencies::of(vec![
            (vec![10.0, 20.0, 30.0], vec![30.0, 10.0, 20.0]),
            (vec![10.0, 10.0], vec![40.0, 40.0, 40.0]),
            (vec![5.0, 5.0, 5.0], vec![5.0, 5.0, 5.0]),
        ]);
        assert_eq!(l.rounds, 3);
        assert_eq!(l.round_p50_ratios, vec![1.0, 4.0, 1.0]);
        assert_eq!(l.p50_ratio, 1.0);
        assert_eq!((l.raw_samples, l.rolecall_samples), (2, 3));
        // raw: 5 5 5 10 10 10 20 30; rolecall: 5 5 5 10 20 30 40 40 40.
        assert_eq!((l.raw_p50_us, l.raw_p99_us), (10.0, 30.0));
        assert_eq!((l.rolecall_p50_us, l.rolecall_p99_us), (20.0, 40.0));
    }
}
