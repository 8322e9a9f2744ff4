//! The seeded scenarios every safety check runs: one function per kind of
//! run, shared by the tests, the replay tool and the long sweep
//! (`rolecall paxos-check`), so a seed means the same run everywhere.
//!
//! A seed fixes everything: the number of proposers (`1 + seed % 3`), of
//! acceptors (3 for even seeds, 5 for odd ones), the [`Faults`] schedule
//! (`Faults::random(seed, proposers, acceptors)`) with its proposer
//! restarts, and the drivers (same ids, values or commands for a restarted
//! incarnation as for the first one).

use super::{Driver, Faults, MultiClient, Report, Sim, SingleDecree};
use crate::paxos::multi::{Leader, LeaderConfig};
use crate::paxos::proposer::{Config, Proposer};
use crate::paxos::retry::{Millis, RandomBackoff, Retry};

/// Liveness bound of single-decree runs: every learner knows the value this
/// many simulated ms after the faults stop.
pub const SINGLE_BOUND: Millis = 3_000;

/// Liveness bound of Multi-Paxos runs: every learner holds a gap-free log
/// with every command this many simulated ms after the faults stop.
pub const MULTI_BOUND: Millis = 5_000;

/// Learners in every scenario.
const LEARNERS: usize = 3;

/// Commands each Multi-Paxos leader's client submits.
const COMMANDS: usize = 12;

/// The shape a seed gives a run: `(proposers, acceptors)`.
pub fn shape(seed: u64) -> (usize, usize) {
    let proposers = 1 + (seed % 3) as usize;
    let acceptors = if seed % 2 == 0 { 3 } else { 5 };
    (proposers, acceptors)
}

/// The Rust call that rebuilds a seed's fault schedule, for messages.
pub fn replay_call(seed: u64) -> String {
    let (n, acceptors) = shape(seed);
    format!("Faults::random({seed}, {n}, {acceptors})")
}

/// Single-decree proposer `i` (id `i + 1`, proposes `value-of-p{id}`) in
/// its life `incarnation`, with the retry strategy `retry` builds.
pub fn single_decree_proposer<R: Retry>(
    seed: u64,
    i: usize,
    acceptors: usize,
    incarnation: u64,
    retry: &dyn Fn() -> R,
) -> Box<dyn Driver> {
    let id = i as u32 + 1;
    let mut config = Config::new(id, acceptors, seed);
    config.incarnation = incarnation;
    Box::new(SingleDecree {
        proposer: Proposer::with_retry(config, retry()),
        value: vec![format!("value-of-p{id}")],
    })
}

/// `n` single-decree proposers in their first life.
pub fn single_decree_proposers<R: Retry>(
    seed: u64,
    n: usize,
    acceptors: usize,
    retry: &dyn Fn() -> R,
) -> Vec<Box<dyn Driver>> {
    (0..n)
        .map(|i| single_decree_proposer(seed, i, acceptors, 0, retry))
        .collect()
}

/// Multi-Paxos leader `i` (id `i + 1`, batch 3, window 4) in its life
/// `incarnation`, with a client that submits `commands` commands
/// `set k{c} p{id}-{c}`.
pub fn multi_leader(
    seed: u64,
    i: usize,
    acceptors: usize,
    incarnation: u64,
    commands: usize,
) -> Box<dyn Driver> {
    let id = i as u32 + 1;
    let mut config = LeaderConfig::new(id, acceptors, seed);
    config.batch = 3;
    config.window = 4;
    config.incarnation = incarnation;
    Box::new(MultiClient {
        leader: Leader::new(config),
        commands: (0..commands)
            .map(|c| format!("set k{c} p{id}-{c}"))
            .collect(),
    })
}

/// `n` Multi-Paxos leaders in their first life.
pub fn multi_leaders(
    seed: u64,
    n: usize,
    acceptors: usize,
    commands: usize,
) -> Vec<Box<dyn Driver>> {
    (0..n)
        .map(|i| multi_leader(seed, i, acceptors, 0, commands))
        .collect()
}

/// The single-decree simulation of `seed` with the default random backoff.
pub fn single_decree(seed: u64) -> Sim {
    single_decree_with(seed, RandomBackoff::default)
}

/// The single-decree simulation of `seed` with proposers using the retry
/// strategy `retry` builds (how a student's proposer goes through the same
/// schedules): proposer restarts included.
pub fn single_decree_with<R: Retry, F: Fn() -> R + Clone + 'static>(seed: u64, retry: F) -> Sim {
    let (n, acceptors) = shape(seed);
    let faults = Faults::random(seed, n, acceptors);
    let proposers = single_decree_proposers(seed, n, acceptors, &retry);
    Sim::new(seed, proposers, acceptors, LEARNERS, faults).restart_proposers_with(
        move |i, incarnation| single_decree_proposer(seed, i, acceptors, incarnation, &retry),
    )
}

/// The Multi-Paxos simulation of `seed`: proposer restarts included.
pub fn multi_paxos(seed: u64) -> Sim {
    let (n, acceptors) = shape(seed);
    let faults = Faults::random(seed, n, acceptors);
    let leaders = multi_leaders(seed, n, acceptors, COMMANDS);
    Sim::new(seed, leaders, acceptors, LEARNERS, faults).restart_proposers_with(
        move |i, incarnation| multi_leader(seed, i, acceptors, incarnation, COMMANDS),
    )
}

/// Runs a single-decree simulation to its end (the sim stops once every
/// learner learned after the faults stopped).
pub fn run_single_decree(sim: Sim) -> Report {
    sim.run(Millis::MAX / 2)
}

/// Runs a Multi-Paxos simulation until everything is learned or the
/// liveness bound passed.
pub fn run_multi_paxos(sim: Sim) -> Report {
    let limit = sim.faults_until() + MULTI_BOUND + 1;
    sim.run(limit)
}
