//! The safety checker: hundreds of seeded random fault schedules (delay,
//! drop, duplicate, reorder, partition, acceptor crash-restart, competing
//! proposers); no two learners may ever learn different values, and every run
//! must decide within a bound after the faults stop.

use rolecall_actors::paxos::sim::scenario::{self, SINGLE_BOUND as BOUND};
use rolecall_actors::paxos::sim::{Driver, Faults, Sim, Violation};
use rolecall_actors::paxos::{FixedBackoff, RandomBackoff};

#[test]
fn no_fault_run_decides_quickly() {
    let report = Sim::new(1, proposers_for(1, 2, 3), 3, 3, Faults::none()).run(u64::MAX / 2);
    report.check(BOUND).unwrap();
    assert!(report.ended < 1_000, "took {} ms", report.ended);
}

#[test]
fn two_hundred_and_fifty_random_fault_schedules_are_safe_and_live() {
    let mut worst = 0;
    for seed in 0..250u64 {
        let report = scenario::run_single_decree(scenario::single_decree(seed));
        report
            .check(BOUND)
            .unwrap_or_else(|v| panic!("{v}\nreplay: {}", scenario::replay_call(seed)));
        worst = worst.max(report.ended.saturating_sub(report.faults_until));
    }
    println!("worst time to decide after faults stopped: {worst} ms");
}

#[test]
fn the_same_seed_replays_the_same_run() {
    let a = Sim::new(7, proposers_for(7, 3, 5), 5, 2, Faults::random(7, 3, 5)).run(1 << 40);
    let b = Sim::new(7, proposers_for(7, 3, 5), 5, 2, Faults::random(7, 3, 5)).run(1 << 40);
    assert_eq!(a.learned, b.learned);
    assert_eq!(a.messages, b.messages);
    assert_eq!(a.ended, b.ended);
}

fn proposers_for(seed: u64, n: usize, acceptors: usize) -> Vec<Box<dyn Driver>> {
    scenario::single_decree_proposers(seed, n, acceptors, &RandomBackoff::default)
}

#[test]
fn the_checker_catches_a_broken_acceptor_quorum() {
    // Proposers that believe there is 1 acceptor (quorum 1) among 3 decide on
    // their own: with competing proposers and delays the checker must see
    // disagreement on some seed.
    let mut caught = 0;
    for seed in 0..50u64 {
        let ps = scenario::single_decree_proposers(seed, 3, 1, &|| FixedBackoff(5));
        let mut faults = Faults::none();
        faults.delay = (1, 40);
        faults.until = 500;
        let report = Sim::new(seed, ps, 3, 2, faults).run(10_000);
        if let Err(Violation::Disagreement { .. } | Violation::Conflict { .. }) =
            report.check(BOUND)
        {
            caught += 1;
        }
    }
    assert!(
        caught > 0,
        "a quorum of 1 out of 3 never produced a disagreement"
    );
}

/// The scenario where durability matters: proposer 1 gets "A" chosen by
/// acceptors 1 and 2 while acceptor 3 is cut off; acceptor 2 crashes and
/// restarts; then proposer 2, which cannot reach acceptor 1, runs with
/// acceptors 2 and 3.
fn forgetful_scenario(amnesia: bool) -> Faults {
    use rolecall_actors::paxos::sim::{Crash, NodeId, Partition};
    let mut f = Faults::none();
    f.until = 5_000;
    f.amnesia = amnesia;
    f.partitions = vec![
        Partition {
            start: 0,
            end: 300,
            isolated: vec![NodeId::Proposer(1)],
        },
        Partition {
            start: 0,
            end: 300,
            isolated: vec![NodeId::Acceptor(2)],
        },
        Partition {
            start: 300,
            end: 5_000,
            isolated: vec![NodeId::Acceptor(0)],
        },
    ];
    f.crashes = vec![Crash {
        acceptor: 1,
        at: 150,
        restart: 200,
    }];
    f
}

#[test]
fn a_durable_acceptor_that_restarts_keeps_the_decision() {
    let report = Sim::new(3, proposers_for(3, 2, 3), 3, 2, forgetful_scenario(false)).run(20_000);
    report.check(BOUND).unwrap();
}

#[test]
fn an_acceptor_that_forgets_on_restart_breaks_agreement_and_the_checker_says_so() {
    let report = Sim::new(3, proposers_for(3, 2, 3), 3, 2, forgetful_scenario(true)).run(20_000);
    match report.check(BOUND) {
        Err(Violation::Disagreement { .. } | Violation::Conflict { .. }) => {}
        other => panic!("expected a safety violation, got {other:?}: {report:?}"),
    }
}
