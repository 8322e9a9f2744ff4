//! [`FaultPlan`]: decides, message by message, what a faulty wire does.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::spec::{Delay, WireFault};
use crate::wire::Verdict;

/// Counts of what a plan decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultStats {
    /// Messages decided on.
    pub messages: u64,
    /// Dropped (including by partitions).
    pub dropped: u64,
    /// Delivered twice.
    pub duplicated: u64,
    /// Delayed by more than zero.
    pub delayed: u64,
}

/// The I/O-free fault state machine of one wire: time in, verdict out.
#[derive(Debug)]
pub struct FaultPlan {
    faults: Vec<WireFault>,
    rng: SmallRng,
    stats: FaultStats,
}

impl FaultPlan {
    /// A plan applying `faults` in order, with randomness from `seed`.
    pub fn new(faults: Vec<WireFault>, seed: u64) -> Self {
        FaultPlan {
            faults,
            rng: SmallRng::seed_from_u64(seed),
            stats: FaultStats::default(),
        }
    }

    /// What the plan did so far.
    pub fn stats(&self) -> FaultStats {
        self.stats
    }

    fn sample(rng: &mut SmallRng, d: &Option<Delay>) -> Duration {
        match d {
            None => Duration::ZERO,
            Some(Delay::Fixed(d)) => *d,
            Some(Delay::Uniform { min, max }) => {
                if max <= min {
                    *min
                } else {
                    rng.random_range(*min..=*max)
                }
            }
            Some(Delay::Exponential { mean, max }) => {
                let u: f64 = rng.random_range(f64::EPSILON..1.0);
                mean.mul_f64(-u.ln()).min(*max)
            }
        }
    }

    /// The verdict for a message sent `at` after node start.
    pub fn decide(&mut self, at: Duration) -> Verdict {
        self.stats.messages += 1;
        let mut first = Duration::ZERO;
        let mut second: Option<Duration> = None;
        for f in &self.faults {
            let cut = f.partitions.iter().any(|w| w.contains(at));
            // Draw every number even when cut, so one message's fate does not
            // shift the random stream of the messages after it.
            let dropped = self.rng.random_bool(f.drop.clamp(0.0, 1.0));
            let dup = self.rng.random_bool(f.duplicate.clamp(0.0, 1.0));
            let d1 = Self::sample(&mut self.rng, &f.delay);
            let d2 = Self::sample(&mut self.rng, &f.delay);
            if cut || dropped {
                self.stats.dropped += 1;
                return Verdict::Drop;
            }
            first += d1;
            if let Some(s) = second.as_mut() {
                *s += d2;
            } else if dup {
                second = Some(first - d1 + d2);
            }
        }
        if first > Duration::ZERO {
            self.stats.delayed += 1;
        }
        match second {
            Some(s) => {
                self.stats.duplicated += 1;
                Verdict::Duplicate(first, s)
            }
            None => Verdict::Deliver(first),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Window;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_same_seed_gives_the_same_verdicts() {
        let f = WireFault {
            delay: Some(Delay::Uniform {
                min: ms(1),
                max: ms(50),
            }),
            drop: 0.2,
            duplicate: 0.1,
            partitions: vec![],
        };
        let run = |seed| {
            let mut p = FaultPlan::new(vec![f.clone()], seed);
            (0..200).map(|i| p.decide(ms(i))).collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
        let v = run(9);
        assert!(v.contains(&Verdict::Drop));
        assert!(v.iter().any(|v| matches!(v, Verdict::Duplicate(..))));
        assert!(v.iter().all(|v| match v {
            Verdict::Deliver(d) => *d >= ms(1) && *d <= ms(50),
            _ => true,
        }));
    }

    #[test]
    fn a_partition_drops_everything_inside_its_window_only() {
        let f = WireFault {
            partitions: vec![Window {
                from: ms(100),
                until: ms(200),
            }],
            ..WireFault::default()
        };
        let mut p = FaultPlan::new(vec![f], 1);
        assert_eq!(p.decide(ms(99)), Verdict::Deliver(Duration::ZERO));
        assert_eq!(p.decide(ms(100)), Verdict::Drop);
        assert_eq!(p.decide(ms(199)), Verdict::Drop);
        assert_eq!(p.decide(ms(200)), Verdict::Deliver(Duration::ZERO));
        assert_eq!(p.stats().dropped, 2);
    }

    #[test]
    fn exponential_delays_stay_under_their_cap() {
        let f = WireFault {
            delay: Some(Delay::Exponential {
                mean: ms(10),
                max: ms(30),
            }),
            ..WireFault::default()
        };
        let mut p = FaultPlan::new(vec![f], 3);
        for i in 0..500 {
            match p.decide(ms(i)) {
                Verdict::Deliver(d) => assert!(d <= ms(30)),
                v => panic!("{v:?}"),
            }
        }
    }
}
