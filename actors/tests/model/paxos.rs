//! Single-decree and Multi-Paxos under the checker. Configurations are
//! small enough for an unoptimised test build; `rolecall bench model`
//! exhausts the 3-acceptor, 2-proposer one.

use rolecall_actors::model::{self as checker, Budget, Event};
use rolecall_actors::paxos::model::{self, Bug, Setup};
use rolecall_actors::paxos::multi::Leader;
use rolecall_actors::paxos::sim::Violation;
use rolecall_actors::paxos::{FixedBackoff, Proposer};
use rolecall_runtime::trace::Kind;

#[test]
fn one_proposer_three_acceptors_is_safe_and_live_under_faults() {
    let setup = Setup {
        proposers: 1,
        budget: Budget {
            drops: 1,
            restarts: 1,
            ..Budget::default()
        },
        ..Setup::default()
    };
    let o = model::single_decree(&setup, Proposer::new).bfs(2_000_000);
    println!(
        "single-decree 1x3, a drop and a restart: {} states",
        o.states
    );
    assert!(o.violation.is_none(), "{:?}", o.violation);
    assert!(o.complete);
    assert!(o.states > 1_000, "{} states", o.states);

    // Liveness under fairness: without drops, every run that delivers its
    // messages ends with the learner knowing the value.
    let live = Setup {
        proposers: 1,
        liveness: true,
        budget: Budget {
            restarts: 1,
            duplicates: 1,
            ..Budget::default()
        },
        ..Setup::default()
    };
    let o = model::single_decree(&live, Proposer::new).bfs(2_000_000);
    assert!(o.violation.is_none() && o.complete, "{:?}", o.violation);
    // One drop is masked (three acceptors, a quorum of two); with two and
    // no timer to retry, a run can end with nothing learned.
    let lossy = Setup {
        proposers: 1,
        liveness: true,
        budget: Budget {
            drops: 2,
            ..Budget::default()
        },
        ..Setup::default()
    };
    let o = model::single_decree(&lossy, Proposer::new).bfs(2_000_000);
    let v = o
        .violation
        .expect("two dropped messages without a retry stop progress");
    assert_eq!(v.property, "every learner learns");
}

#[test]
fn two_proposers_three_acceptors_are_safe_to_a_bound() {
    let setup = Setup {
        learners: 0,
        budget: Budget::default(),
        ..Setup::default()
    };
    let o = model::single_decree(&setup, Proposer::new).dfs(9, true, 5_000_000);
    println!("single-decree 2x3 to depth 9: {} states", o.states);
    assert!(o.violation.is_none(), "{:?}", o.violation);
    assert!(o.complete && o.depth == 9);
}

#[test]
fn multi_paxos_two_slots_is_safe_to_a_bound() {
    let setup = Setup {
        proposers: 1,
        commands: 2,
        learners: 0,
        budget: Budget {
            restarts: 1,
            ..Budget::default()
        },
        ..Setup::default()
    };
    let o = model::multi_paxos(&setup, Leader::new).dfs(9, true, 5_000_000);
    println!(
        "multi-paxos 1 leader, 2 slots, to depth 9: {} states",
        o.states
    );
    assert!(o.violation.is_none(), "{:?}", o.violation);
    assert!(o.complete && o.depth == 9);
}

#[test]
fn a_student_retry_strategy_is_checked_the_same_way() {
    let setup = Setup {
        proposers: 1,
        learners: 0,
        budget: Budget {
            drops: 1,
            timers: 1,
            ..Budget::default()
        },
        ..Setup::default()
    };
    let o =
        model::single_decree(&setup, |c| Proposer::with_retry(c, FixedBackoff(7))).bfs(2_000_000);
    assert!(o.violation.is_none() && o.complete, "{:?}", o.violation);
}

#[test]
fn a_quorum_of_one_is_found_with_a_shortest_counterexample_that_replays() {
    let setup = Setup {
        learners: 0,
        budget: Budget::default(),
        bug: Some(Bug::QuorumOfOne),
        ..Setup::default()
    };
    let m = model::single_decree(&setup, Proposer::new);
    let cx = m.bfs(2_000_000).violation.expect("found");
    assert_eq!(cx.property, "agreement");
    // Two proposers each need prepare, promise, accept, accepted.
    assert_eq!(cx.path.len(), 8, "{:#?}", cx.path);
    // Minimal: nothing violates within 7 steps.
    let shorter = m.dfs(7, true, 5_000_000);
    assert!(shorter.violation.is_none() && shorter.complete);
    replays_in_the_simulators_checker(&m, &cx.path);

    let events = checker::record(&m, &cx.path).unwrap();
    let sends = events.iter().filter(|e| e.kind == Kind::Send).count();
    let receives: Vec<_> = events.iter().filter(|e| e.kind == Kind::Receive).collect();
    assert_eq!(receives.len(), 8);
    assert!(sends >= 8);
    for r in receives {
        let id = r.msg.as_deref().unwrap();
        let send = events
            .iter()
            .find(|e| e.kind == Kind::Send && e.msg.as_deref() == Some(id))
            .unwrap();
        assert!(send.lamport < r.lamport, "happens-before: {send:?} {r:?}");
        assert!(r.vc.get(&send.actor).copied().unwrap_or(0) >= send.vc[&send.actor]);
    }
}

#[test]
fn an_acceptor_that_forgets_its_promise_is_found() {
    let setup = Setup {
        proposers: 2,
        acceptors: 1,
        learners: 0,
        budget: Budget {
            restarts: 1,
            ..Budget::default()
        },
        bug: Some(Bug::Amnesia),
        ..Setup::default()
    };
    let m = model::single_decree(&setup, Proposer::new);
    let cx = m.bfs(2_000_000).violation.expect("found");
    assert_eq!(cx.property, "agreement");
    // Proposer 1 decides (4 steps), the acceptor restarts empty, proposer 2 decides (4).
    assert_eq!(cx.path.len(), 9, "{:#?}", cx.path);
    assert!(cx.path.iter().any(|e| matches!(e, Event::Restart(_))));
    assert!(m.dfs(8, true, 5_000_000).violation.is_none());
    replays_in_the_simulators_checker(&m, &cx.path);
    // Without the bug the same configuration is safe.
    let fixed = Setup { bug: None, ..setup };
    let o = model::single_decree(&fixed, Proposer::new).bfs(2_000_000);
    assert!(o.violation.is_none() && o.complete);
}

/// The path replays against the state machines, and the simulator's own
/// safety checker finds the same disagreement at its end, not before.
fn replays_in_the_simulators_checker<R>(
    m: &checker::Model<model::Node<R>>,
    path: &[Event<model::Msg>],
) where
    R: rolecall_actors::paxos::Retry + Clone,
{
    let states = m.replay(path).unwrap();
    let last = model::report(states.last().unwrap()).check(0);
    assert!(
        matches!(last, Err(Violation::Disagreement { slot: 0, .. })),
        "{last:?}"
    );
    let before = model::report(&states[states.len() - 2]).check(0);
    assert!(before.is_ok(), "{before:?}");
}
