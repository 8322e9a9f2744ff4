//! Command-line interface: argument parsing and one module per subcommand.

//! The commands that load and run topologies (`run`, `node`, `check`,
//! `kinds`, `image`, `docker`, `compose`, `k8s`) are the library's
//! [`rolecall::app`], which a program of its own kinds offers too; the
//! course's tools and the benchmarks are here.

mod dht;
mod experiment;
mod model;
mod paxos_check;
mod pubsub;
mod pubsub_dht;
mod pubsub_zk;
mod report;
mod trace;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use rolecall::app::init_logging;

/// Build distributed systems from supervised, topology-wired actors.
#[derive(Debug, Parser)]
#[command(name = "rolecall", version, about)]
struct Cli {
    /// Log filter (tracing's env-filter syntax), e.g. `info`, `rolecall_runtime=debug`.
    #[arg(long, global = true, default_value = "info", env = "ROLECALL_LOG")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    App(rolecall::app::Command),
    /// Write a CURVE key pair: DIR/NAME.key (secret) and DIR/NAME.pub (public).
    Keygen {
        /// Name of the key files.
        name: String,
        /// Directory to write them in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Kademlia DHT tools: `node`, `put`, `get`, `id`.
    Dht {
        #[command(subcommand)]
        command: dht::DhtCommand,
    },
    /// Experiments on emulated hosts: `run`, `script` (Mininet), `pingall`.
    Experiment {
        #[command(subcommand)]
        command: experiment::ExperimentCommand,
    },
    /// The course's publish/subscribe apps: `discovery`, `publisher`, `subscriber`, `broker`.
    Pubsub {
        #[command(subcommand)]
        command: pubsub::PubsubCommand,
    },
    /// Percentile table (p50/p90/p99/p99.9/max per series) and plots of a results file or a server query.
    Report(report::ReportArgs),
    /// Model-check roles: every interleaving of deliveries, drops, duplicates, timers and restarts.
    Model(model::ModelArgs),
    /// Draw trace files (merged into one run) as an HTML page or an SVG picture.
    Trace(trace::TraceArgs),
    /// Sweep seeded fault schedules of the Paxos simulator across all cores and check
    /// every run (safety, then liveness); or replay one seed with its event trace.
    PaxosCheck(paxos_check::Args),
    /// Run a benchmark suite; with --json the last line is one JSON object with `ratio`.
    Bench {
        /// Suite: `actor`, `zmq`, `zk`, `metrics`, `dht`, `paxos`, `pubsub` or `model`; `all`
        /// or a list (`actor,zmq`) runs each in its own process and ends with a summary line.
        suite: String,
        /// Print machine-readable JSON.
        #[arg(long)]
        json: bool,
        /// Messages per measured run (`actor`, `zmq`, `metrics`, `paxos`; lookups per round for `pubsub`).
        #[arg(long)]
        messages: Option<u64>,
    },
}

/// Parses arguments, runs the command, returns the exit status.
pub(crate) fn main() -> i32 {
    let cli = Cli::parse();
    match &cli.command {
        // The course's `-l` level, unless --log or ROLECALL_LOG says otherwise.
        Command::Pubsub { command }
            if std::env::var_os("ROLECALL_LOG").is_none() && cli.log == "info" =>
        {
            init_logging(command.log_filter())
        }
        _ => init_logging(&cli.log),
    }
    match cli.command {
        Command::App(command) => rolecall::app::execute(command, &rolecall::default_registry),
        Command::Report(args) => report::report(args),
        Command::Model(args) => model::model(args),
        Command::Trace(args) => trace::trace(args),
        Command::PaxosCheck(args) => paxos_check::main(args),
        Command::Keygen { name, dir } => {
            match rolecall::actors::zmq::curve::generate(&dir, &name) {
                Ok(files) => {
                    println!("secret key: {}", files.secret.display());
                    println!("public key: {}", files.public.display());
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    1
                }
            }
        }
        Command::Dht { command } => dht::main(command),
        Command::Experiment { command } => experiment::main(command),
        Command::Pubsub { command } => pubsub::main(command),
        Command::Bench {
            suite,
            json,
            messages,
        } => crate::bench::run_suite(&suite, json, messages),
    }
}
