//! [`Faults`]: a seeded random fault schedule for the simulator — message
//! delay range (which reorders), drop and duplicate probabilities, partition
//! windows and acceptor crash-restart windows, all ending at `until`.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::NodeId;
use crate::paxos::retry::Millis;

/// A time window `[start, end)` during which `isolated` nodes can neither send
/// to nor receive from the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Start.
    pub start: Millis,
    /// End.
    pub end: Millis,
    /// The cut-off side.
    pub isolated: Vec<NodeId>,
}

/// Acceptor `acceptor` is down during `[at, restart)`: it loses its memory and
/// everything sent to it; at `restart` it recovers from its storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// The acceptor's index.
    pub acceptor: usize,
    /// When it crashes.
    pub at: Millis,
    /// When it restarts.
    pub restart: Millis,
}

/// A fault schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Message delay range in ms while faults are on (reorders messages).
    pub delay: (Millis, Millis),
    /// Probability that a message is dropped.
    pub drop: f64,
    /// Probability that a message is delivered twice.
    pub duplicate: f64,
    /// Partition windows.
    pub partitions: Vec<Partition>,
    /// Acceptor crash-restart windows.
    pub crashes: Vec<Crash>,
    /// Faults stop here: afterwards delays are 1–5 ms and nothing is lost.
    pub until: Millis,
    /// Proposers restarted at these instants (index, time): a fresh
    /// incarnation without memory (see [`Sim::restart_proposers_with`](super::Sim::restart_proposers_with)).
    pub proposer_restarts: Vec<(usize, Millis)>,
    /// Crashed acceptors restart with empty storage, as in-memory acceptors
    /// of a real process would: Paxos is not safe then (the checker shows it).
    pub amnesia: bool,
}

impl Faults {
    /// No faults at all.
    pub fn none() -> Self {
        Faults {
            delay: (1, 5),
            drop: 0.0,
            duplicate: 0.0,
            partitions: Vec::new(),
            crashes: Vec::new(),
            until: 0,
            proposer_restarts: Vec::new(),
            amnesia: false,
        }
    }

    /// A random schedule from `seed` for `proposers` and `acceptors`.
    pub fn random(seed: u64, proposers: usize, acceptors: usize) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
        let until = rng.random_range(200..2_000);
        let max_delay = rng.random_range(1..80);
        let mut partitions = Vec::new();
        for _ in 0..rng.random_range(0..4) {
            let start = rng.random_range(0..until);
            let end = rng.random_range(start..=until);
            let mut isolated = Vec::new();
            for p in 0..proposers {
                if rng.random_bool(0.3) {
                    isolated.push(NodeId::Proposer(p));
                }
            }
            for a in 0..acceptors {
                if rng.random_bool(0.4) {
                    isolated.push(NodeId::Acceptor(a));
                }
            }
            partitions.push(Partition {
                start,
                end,
                isolated,
            });
        }
        let mut crashes = Vec::new();
        for _ in 0..rng.random_range(0..4) {
            let at = rng.random_range(0..until);
            crashes.push(Crash {
                acceptor: rng.random_range(0..acceptors),
                at,
                restart: rng.random_range(at..=until),
            });
        }
        let proposer_restarts = (0..rng.random_range(0..3))
            .map(|_| (rng.random_range(0..proposers), rng.random_range(0..until)))
            .collect();
        Faults {
            proposer_restarts,
            delay: (rng.random_range(0..=max_delay), max_delay),
            drop: rng.random_range(0.0..0.4),
            duplicate: rng.random_range(0.0..0.3),
            partitions,
            crashes,
            until,
            amnesia: false,
        }
    }

    /// True if `a` and `b` are on different sides of a partition at `now`.
    pub fn cut(&self, a: NodeId, b: NodeId, now: Millis) -> bool {
        self.partitions.iter().any(|p| {
            now >= p.start && now < p.end && p.isolated.contains(&a) != p.isolated.contains(&b)
        })
    }
}
