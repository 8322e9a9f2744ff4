//! `rolecall bench model`: the model checker on single-decree Paxos with 3
//! acceptors and 2 proposers (no learner, no faults): the time to exhaust
//! every reachable state breadth-first with state hashing, and states per
//! second; against a naive baseline in the same run, depth-first without
//! state hashing, which walks every path. Both searches cover the same
//! states within `DEPTH` steps; `ratio` = the naive search's time ÷ the
//! hashing search's time for that job (above 1: hashing pays).

use rolecall_actors::model::Budget;
use rolecall_actors::paxos::model::{self, Setup};
use rolecall_actors::paxos::Proposer;
use serde::Serialize;

/// Steps of the bounded comparison (the naive search is exponential in it).
const DEPTH: u32 = 8;

/// A search's numbers.
#[derive(Debug, Serialize)]
pub(super) struct Search {
    /// States reached (distinct with hashing; every visit without).
    states: u64,
    transitions: u64,
    depth: u32,
    seconds: f64,
    states_per_s: f64,
    complete: bool,
}

/// The JSON report.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    suite: &'static str,
    /// Naive seconds ÷ hashing seconds, both to `bounded_depth` steps.
    ratio: f64,
    /// Full breadth-first exhaustion with state hashing.
    exhaust: Search,
    bounded_depth: u32,
    /// Depth-first to the bound, with state hashing.
    hashing: Search,
    /// Depth-first to the bound, every path (the baseline).
    naive: Search,
}

fn numbers<M>(o: &rolecall_actors::model::Outcome<M>) -> Search {
    let seconds = o.elapsed.as_secs_f64();
    Search {
        states: o.states,
        transitions: o.transitions,
        depth: o.depth,
        seconds,
        states_per_s: o.states as f64 / seconds.max(1e-9),
        complete: o.complete,
    }
}

pub(super) fn run() -> Result<Report, String> {
    let setup = Setup {
        learners: 0,
        budget: Budget::default(),
        ..Setup::default()
    };
    let m = model::single_decree(&setup, Proposer::new);
    let exhaust = m.bfs(50_000_000);
    if let Some(v) = &exhaust.violation {
        return Err(format!(
            "unexpected violation of {}: {}",
            v.property, v.problem
        ));
    }
    let hashing = m.dfs(DEPTH, true, u64::MAX);
    let naive = m.dfs(DEPTH, false, u64::MAX);
    let ratio = naive.elapsed.as_secs_f64() / hashing.elapsed.as_secs_f64().max(1e-9);
    Ok(Report {
        suite: "model",
        ratio,
        exhaust: numbers(&exhaust),
        bounded_depth: DEPTH,
        hashing: numbers(&hashing),
        naive: numbers(&naive),
    })
}
