//! CI's sweep of the Paxos simulator: as many seeded fault schedules as fit
//! in about a minute of a debug build on two cores, on every core, with the
//! same scenarios and checker as `rolecall paxos-check` and `make
//! check-long` (which run 1,000,000 of each in release mode).

use rolecall::actors::paxos::sim::Report;
use rolecall::paxos_check::{self, Scenario};

/// Single-decree seeds CI runs (about 4,000 schedules per second per core
/// in a debug build).
const SINGLE_DECREE_SEEDS: u64 = 150_000;

/// Multi-Paxos seeds CI runs (about 500 schedules per second per core in a
/// debug build).
const MULTI_PAXOS_SEEDS: u64 = 40_000;

fn sweep<F: Fn(u64) -> Report + Sync>(s: Scenario<F>, seeds: u64) {
    let outcome = s.sweep(0..seeds, paxos_check::threads(0));
    let status = s.print(&outcome);
    assert_eq!(outcome.runs, seeds);
    assert_eq!(status, 0, "{:?}", outcome.violation);
}

#[test]
fn single_decree_schedules_are_safe_and_live() {
    sweep(paxos_check::single_decree(), SINGLE_DECREE_SEEDS);
}

#[test]
fn multi_paxos_schedules_keep_every_log_identical_and_complete() {
    sweep(paxos_check::multi_paxos(), MULTI_PAXOS_SEEDS);
}
