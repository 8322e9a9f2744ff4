//! Multi-Paxos under the safety checker: competing leaders, each with its own
//! client's commands, batching and pipelining, over random fault schedules.
//! Every learner must hold the same log, without gaps, with every command.

use rolecall_actors::paxos::sim::scenario::{self, multi_leaders, MULTI_BOUND as BOUND};
use rolecall_actors::paxos::sim::{Faults, Sim};

#[test]
fn a_single_leader_without_faults_fills_the_log_in_order() {
    let report = Sim::new(1, multi_leaders(1, 1, 3, 50), 3, 2, Faults::none()).run(1 << 40);
    report.check(BOUND).unwrap();
    let log = &report.learned[0];
    // 50 commands in batches of 3: 17 slots, no no-ops.
    assert_eq!(log.len(), 17);
    let flat: Vec<&String> = log.values().flat_map(|(v, _)| v).collect();
    assert_eq!(flat.len(), 50);
    assert_eq!(flat[0], "set k0 p1-0");
}

#[test]
fn two_hundred_random_fault_schedules_keep_every_log_identical_and_complete() {
    let mut worst = 0;
    for seed in 1000..1200u64 {
        let t = std::time::Instant::now();
        let report = scenario::run_multi_paxos(scenario::multi_paxos(seed));
        if t.elapsed().as_millis() > 200 {
            println!(
                "seed {seed}: {:?}, {} messages",
                t.elapsed(),
                report.messages
            );
        }
        report
            .check(BOUND)
            .unwrap_or_else(|v| panic!("{v}\nreplay: {}", scenario::replay_call(seed)));
        worst = worst.max(report.ended.saturating_sub(report.faults_until));
    }
    println!("worst time to a complete log after faults stopped: {worst} ms");
}

/// A seed where a leader restarted without memory used to take a ballot its
/// previous life had used and count that life's promises as its own: two
/// values at one ballot, learners saw conflicting quorums.
fn restarted_leader_stays_safe(seed: u64) {
    let sim = scenario::multi_paxos(seed);
    assert!(
        !sim.faults().proposer_restarts.is_empty(),
        "seed {seed} restarts a leader"
    );
    let report = scenario::run_multi_paxos(sim);
    report
        .check(BOUND)
        .unwrap_or_else(|v| panic!("{v}\nreplay: {}", scenario::replay_call(seed)));
}

#[test]
fn seed_239963_a_restarted_leader_no_longer_overwrites_a_chosen_slot() {
    restarted_leader_stays_safe(239_963);
}

#[test]
fn seed_429469_a_restarted_leader_no_longer_overwrites_a_chosen_slot() {
    restarted_leader_stays_safe(429_469);
}

/// Replays one seed exactly as the tests and `rolecall paxos-check` run it
/// (same drivers, same proposer restarts), prints its fault schedule, the
/// events around the first safety violation and every learner's log:
/// `SEED=239963 cargo test -p rolecall-actors --test paxos replay_one_seed -- --ignored --nocapture`.
#[test]
#[ignore]
fn replay_one_seed() {
    let seed: u64 = std::env::var("SEED")
        .expect("set SEED=<seed>")
        .parse()
        .expect("SEED is a number");
    let before = std::env::var("BEFORE")
        .map_or(Ok(60), |b| b.parse())
        .expect("BEFORE is a number");
    let sim = scenario::multi_paxos(seed).traced(before, 20);
    println!("{}: {:?}", scenario::replay_call(seed), sim.faults());
    let report = scenario::run_multi_paxos(sim);
    for line in &report.trace {
        println!("{line}");
    }
    for (i, l) in report.learned.iter().enumerate() {
        println!(
            "learner {}: {:?}",
            i + 1,
            l.iter()
                .map(|(s, (v, t))| (*s, v.len(), *t))
                .collect::<Vec<_>>()
        );
    }
    println!("{:?}", report.check(BOUND));
}
