//! Command-line interface: argument parsing and one module per subcommand.

mod check;
mod dht;
mod kinds;
mod paxos_check;
mod report;
mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use rolecall::runtime::topology::{self, LoadError, Overrides, Topology};

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

#[derive(Debug, clap::Args)]
struct TopologyArgs {
    /// The topology file.
    topology: PathBuf,
    /// Override a value: `NODE.ACTOR.PARAM=VALUE` or `NODE.FIELD=VALUE` (repeatable).
    /// Environment variables `ROLECALL_SET` and `ROLECALL_SET_*` hold more, applied first.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every node of a topology in this process (the embedded default).
    Run {
        #[command(flatten)]
        topology: TopologyArgs,
        /// Seed of all randomness (backoff jitter); printed at start.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Run one node of a topology in this process; wires to other nodes cross over ZeroMQ.
    Node {
        #[command(flatten)]
        topology: TopologyArgs,
        /// The node to run.
        #[arg(long)]
        node: String,
        /// Seed of all randomness (backoff jitter); printed at start.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Validate a topology and print its wiring graph.
    Check {
        #[command(flatten)]
        topology: TopologyArgs,
        /// `text` or `dot` (Graphviz).
        #[arg(long, default_value = "text")]
        format: check::Format,
    },
    /// List the registered kinds with their parameters and ports.
    Kinds,
    /// Write a CURVE key pair: DIR/NAME.key (secret) and DIR/NAME.pub (public).
    Keygen {
        /// Name of the key files.
        name: String,
        /// Directory to write them in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Kademlia DHT tools: `node`, `put`, `get`, `id` (issue 7).
    Dht {
        #[command(subcommand)]
        command: dht::DhtCommand,
    },
    /// Percentile table (p50/p90/p99/p99.9/max per series) and plots of a results file or a server query.
    Report(report::ReportArgs),
    /// Sweep seeded fault schedules of the Paxos simulator across all cores and check
    /// every run (safety, then liveness); or replay one seed with its event trace.
    PaxosCheck(paxos_check::Args),
    /// Run a benchmark suite; with --json the last line is one JSON object with `ratio`.
    Bench {
        /// Suite: `actor`, `zmq`, `zk`, `metrics`, `dht` or `paxos`.
        suite: String,
        /// Print machine-readable JSON.
        #[arg(long)]
        json: bool,
        /// Messages per measured run (`actor`, `zmq`, `metrics`, `paxos`).
        #[arg(long)]
        messages: Option<u64>,
    },
}

/// Parses arguments, runs the command, returns the exit status.
pub(crate) fn main() -> i32 {
    let cli = Cli::parse();
    init_logging(&cli.log);
    match cli.command {
        Command::Run { topology, seed } => run::run(&topology, None, seed),
        Command::Node {
            topology,
            node,
            seed,
        } => run::run(&topology, Some(&node), seed),
        Command::Check { topology, format } => check::check(&topology, format),
        Command::Kinds => kinds::kinds(),
        Command::Report(args) => report::report(args),
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
        Command::Bench {
            suite,
            json,
            messages,
        } => rolecall::bench::run_suite(&suite, json, messages),
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Loads the topology with environment and command-line overrides; prints
/// every diagnostic and returns `Err(exit status)` on failure.
fn load(args: &TopologyArgs, registry: &rolecall::runtime::Registry) -> Result<Topology, i32> {
    let mut overrides = match Overrides::from_env() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(2);
        }
    };
    let mut cli = Overrides::new();
    for s in &args.set {
        if let Err(e) = cli.set(s) {
            eprintln!("error: {e}");
            return Err(2);
        }
    }
    overrides.extend(cli);
    topology::load_file(&args.topology, registry, &overrides).map_err(|e: LoadError| {
        eprintln!("{e}");
        2
    })
}
