//! A student's proposer: the built-in single-decree proposer with another
//! retry strategy, registered as its own kind (`student.proposer`) and used
//! for one proposer of the paxos_single scenario. See README.md in this folder
//! and docs/writing-a-role.md.
//!
//! `cargo run --example paxos_student_proposer -- --model` instead
//! model-checks the student's proposer (docs/checking.md) with three
//! acceptors: every interleaving of deliveries, a drop, an acceptor restart
//! and a timer firing.

use rand::rngs::SmallRng;
use rolecall::actors::paxos::role::Proposer;
use rolecall::actors::paxos::{Millis, Retry, Strategy};
use rolecall::runtime::topology::{load_file, Overrides};
use rolecall::runtime::{Node, NodeExit};
use serde::Deserialize;

/// Waits `step · attempt` ms: linear, deterministic backoff.
#[derive(Debug, Clone)]
struct LinearBackoff {
    step: Millis,
    /// Print each retry (not under the model checker, which tries millions).
    verbose: bool,
}

impl Retry for LinearBackoff {
    fn backoff(&mut self, attempt: u32, _rng: &mut SmallRng) -> Millis {
        let wait = self.step * Millis::from(attempt);
        if self.verbose {
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
            verbose: true,
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
            verbose: false,
        };
        rolecall::actors::paxos::Proposer::with_retry(config, retry)
    };
    let options = rolecall::model::Options {
        trace: Some("student-counterexample.jsonl".into()),
        ..Default::default()
    };
    rolecall::model::check(&single_decree(&setup, student), &options)
}

#[actix_rt::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--model") {
        std::process::exit(model_check());
    }
    let mut registry = rolecall::default_registry();
    registry.register::<Proposer<LinearBackoff>>("student.proposer")?;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/paxos_single/student.toml"
    );
    let topology = load_file(path.as_ref(), &registry, &Overrides::from_env()?)?;
    let running = Node::all(topology, registry).start().await?;
    // The typed lookup succeeds only if proposer2 runs the student's type.
    running.actor::<Proposer<LinearBackoff>>("proposer2")?;
    println!("proposer2 runs student.proposer (linear backoff)");
    match running.wait().await {
        NodeExit::Completed => Ok(()),
        NodeExit::Failed(reason) => Err(reason.into()),
    }
}
