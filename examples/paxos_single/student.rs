//! A student's proposer: the built-in single-decree proposer with another
//! retry strategy, registered as its own kind (`student.proposer`) and used
//! for one proposer of the paxos_single scenario. See README.md in this folder
//! and docs/writing-a-role.md.
//!
//! `cargo run --example paxos_student_proposer -- --model` instead
//! model-checks the student's proposer (docs/checking.md) with three
//! acceptors: every interleaving of deliveries, a drop, an acceptor restart
//! and a timer firing.
//! With `--sweep START..END [--threads N]` it runs the student's proposer
//! through the simulator's long safety check instead (every proposer of each
//! seeded single-decree schedule uses the linear backoff); with
//! `--replay SEED` it replays one seed with its event trace.

use rand::rngs::SmallRng;
use rolecall::actors::paxos::role::ProposerRole;
use rolecall::actors::paxos::sim::scenario;
use rolecall::actors::paxos::{Millis, Retry, Strategy};
use rolecall::paxos_check::{self, Scenario};
use rolecall::runtime::topology::{load_file, Overrides};
use rolecall::runtime::{Node, NodeExit};
use serde::Deserialize;

/// Waits `step · attempt` ms: linear, deterministic backoff.
#[derive(Debug, Clone)]
struct LinearBackoff {
    step: Millis,
    /// Print each retry (not in simulator sweeps).
    print: bool,
}

impl Retry for LinearBackoff {
    fn backoff(&mut self, attempt: u32, _rng: &mut SmallRng) -> Millis {
        let wait = self.step * Millis::from(attempt);
        if self.print {
            println!("student.proposer: retry {attempt} after {wait} ms");
        }
        wait
    }
}

/// The `retry = { step_ms = ... }` table of the topology.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinearParams {
    #[serde(default)]
    step_ms: Millis,
}

impl Strategy for LinearBackoff {
    type Params = LinearParams;
    fn from_params(p: &LinearParams) -> Self {
        LinearBackoff {
            step: p.step_ms.max(1),
            print: true,
        }
    }
}

/// Model-checks single-decree Paxos with the student's proposer and 3
/// acceptors under a drop, a restart and a timer firing.
fn model_check() -> i32 {
    use rolecall::actors::model::Budget;
    use rolecall::actors::paxos::model::{single_decree, Setup};
    let setup = Setup {
        proposers: 1,
        learners: 0,
        budget: Budget {
            drops: 1,
            restarts: 1,
            timers: 1,
            ..Budget::default()
        },
        ..Setup::default()
    };
    let student = |config| {
        let retry = LinearBackoff {
            step: 10,
            print: false,
        };
        rolecall::actors::paxos::Proposer::with_retry(config, retry)
    };
    let options = rolecall::model::Options {
        trace: Some("student-counterexample.jsonl".into()),
        ..Default::default()
    };
    rolecall::model::check(&single_decree(&setup, student), &options)
}

/// The student's proposer as the simulator runs it: the step of student.toml.
fn simulated() -> LinearBackoff {
    LinearBackoff {
        step: 30,
        print: false,
    }
}

/// `--sweep START..END [--threads N]` or `--replay SEED`: the simulator's
/// check of the student's proposer. `None` without those flags.
fn check(args: &[String]) -> Option<i32> {
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| args.get(i + 1).cloned().unwrap_or_default())
    };
    if let Some(seed) = value("--replay") {
        let Ok(seed) = seed.parse::<u64>() else {
            eprintln!("error: --replay `{seed}`: expected a seed number");
            return Some(2);
        };
        return Some(paxos_check::replay(
            "student-proposer",
            seed,
            scenario::single_decree_with(seed, simulated),
            scenario::run_single_decree,
            scenario::SINGLE_BOUND,
        ));
    }
    let seeds = value("--sweep")?;
    let seeds = match paxos_check::parse_seeds(&seeds) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Some(2);
        }
    };
    let threads = match value("--threads").map(|t| t.parse::<usize>()) {
        None => 0,
        Some(Ok(t)) => t,
        Some(Err(_)) => {
            eprintln!("error: --threads: expected a number");
            return Some(2);
        }
    };
    let s = Scenario {
        name: "student-proposer",
        run: |seed| scenario::run_single_decree(scenario::single_decree_with(seed, simulated)),
        bound: scenario::SINGLE_BOUND,
        replay: "cargo run --release --example paxos_student_proposer -- --replay {seed}",
    };
    Some(s.print(&s.sweep(seeds, paxos_check::threads(threads))))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--model") {
        std::process::exit(model_check());
    }
    if let Some(code) = check(&args) {
        std::process::exit(code);
    }
    run()
}

#[actix_rt::main]
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut registry = rolecall::default_registry();
    registry.register::<ProposerRole<LinearBackoff>>("student.proposer")?;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/paxos_single/student.toml"
    );
    let topology = load_file(path.as_ref(), &registry, &Overrides::from_env()?)?;
    let running = Node::all(topology, registry).start().await?;
    // The typed lookup succeeds only if proposer2 runs the student's type.
    running.actor::<ProposerRole<LinearBackoff>>("proposer2")?;
    println!("proposer2 runs student.proposer (linear backoff)");
    match running.wait().await {
        NodeExit::Completed => Ok(()),
        NodeExit::Failed(reason) => Err(reason.into()),
    }
}
