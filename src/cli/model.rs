//! `rolecall model`: model-check the Paxos roles (single-decree or
//! Multi-Paxos) in a small configuration.

use std::path::PathBuf;

use rolecall::actors::model::Budget;
use rolecall::actors::paxos::model::{self, Bug, Setup};
use rolecall::actors::paxos::multi::Leader;
use rolecall::actors::paxos::Proposer;
use rolecall::model::{check, Options, Search};

/// The system to check.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum System {
    /// Single-decree Paxos (`paxos.proposer`, `paxos.acceptor`, `paxos.learner`).
    Paxos,
    /// Multi-Paxos (`paxos.leader`, one command per slot).
    MultiPaxos,
}

/// A bug to seed, to see the checker find it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum SeededBug {
    /// Proposers take one acceptor for a quorum.
    QuorumOfOne,
    /// A restarted acceptor forgets its promises and accepted values.
    Amnesia,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ModelArgs {
    /// What to check.
    system: System,
    /// Proposers (or leaders), 1 to 3.
    #[arg(long, default_value_t = 2)]
    proposers: usize,
    /// Acceptors, 1 to 5.
    #[arg(long, default_value_t = 3)]
    acceptors: usize,
    /// Learners, 0 to 2.
    #[arg(long, default_value_t = 1)]
    learners: usize,
    /// Commands per leader (Multi-Paxos), 1 to 2.
    #[arg(long, default_value_t = 1)]
    commands: usize,
    /// Messages that may be dropped.
    #[arg(long, default_value_t = 0)]
    drops: u32,
    /// Messages that may be duplicated.
    #[arg(long, default_value_t = 0)]
    duplicates: u32,
    /// Acceptor crash-restarts.
    #[arg(long, default_value_t = 0)]
    restarts: u32,
    /// Timer firings (timeouts, retries, re-announcements).
    #[arg(long, default_value_t = 0)]
    timers: u32,
    /// Seed a bug.
    #[arg(long)]
    bug: Option<SeededBug>,
    /// Also check that every learner learns, in every state where nothing is left to happen.
    #[arg(long)]
    liveness: bool,
    /// Depth-first to this many steps instead of breadth-first.
    #[arg(long, value_name = "STEPS")]
    dfs: Option<u32>,
    /// With --dfs: walk every path (no state hashing).
    #[arg(long)]
    no_hashing: bool,
    /// Stop after this many states.
    #[arg(long, default_value_t = 20_000_000)]
    max_states: u64,
    /// Write a counterexample as a trace file (JSON lines).
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Write a counterexample's picture as an HTML page.
    #[arg(long)]
    html: Option<PathBuf>,
}

fn bounded(name: &str, value: usize, lo: usize, hi: usize) -> Result<(), String> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(format!("--{name} {value}: must be {lo} to {hi}"))
    }
}

pub(crate) fn model(args: ModelArgs) -> i32 {
    let checks = [
        bounded("proposers", args.proposers, 1, 3),
        bounded("acceptors", args.acceptors, 1, 5),
        bounded("learners", args.learners, 0, 2),
        bounded("commands", args.commands, 1, 2),
    ];
    if let Some(Err(e)) = checks.into_iter().find(Result::is_err) {
        eprintln!("error: {e}");
        return 2;
    }
    if args.no_hashing && args.dfs.is_none() {
        eprintln!("error: --no-hashing needs --dfs (breadth-first search always hashes states)");
        return 2;
    }
    let setup = Setup {
        proposers: args.proposers,
        acceptors: args.acceptors,
        learners: args.learners,
        commands: args.commands,
        budget: Budget {
            drops: args.drops,
            duplicates: args.duplicates,
            restarts: args.restarts,
            timers: args.timers,
        },
        bug: args.bug.map(|b| match b {
            SeededBug::QuorumOfOne => Bug::QuorumOfOne,
            SeededBug::Amnesia => Bug::Amnesia,
        }),
        liveness: args.liveness,
    };
    let options = Options {
        search: match args.dfs {
            None => Search::Bfs,
            Some(depth) => Search::Dfs {
                depth,
                hashing: !args.no_hashing,
            },
        },
        max_states: args.max_states,
        trace: args.trace,
        html: args.html,
    };
    let b = setup.budget;
    println!(
        "model: {} proposer(s), {} acceptor(s), {} learner(s); budget: {} drop(s), {} duplicate(s), {} restart(s), {} timer firing(s)",
        setup.proposers, setup.acceptors, setup.learners, b.drops, b.duplicates, b.restarts, b.timers
    );
    match args.system {
        System::Paxos => check(&model::single_decree(&setup, Proposer::new), &options),
        System::MultiPaxos => check(&model::multi_paxos(&setup, Leader::new), &options),
    }
}
