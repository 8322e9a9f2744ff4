//! Command-line interface: argument parsing and one module per subcommand.

mod check;
mod containers;
mod dht;
mod experiment;
mod health;
mod image;
mod k8s;
mod kinds;
mod model;
mod paxos_check;
mod pubsub;
mod pubsub_dht;
mod pubsub_zk;
mod report;
mod run;
mod trace;

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
        #[command(flatten)]
        trace: run::TraceArgs,
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
        /// Serve `GET /healthz` on this address (e.g. `0.0.0.0:8558`) for
        /// container probes: 503 while starting, then 200.
        #[arg(long, value_name = "ADDR")]
        health: Option<String>,
        #[command(flatten)]
        trace: run::TraceArgs,
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
    /// Build a Docker image of this binary (or --binary) from local files.
    Image(image::ImageArgs),
    /// Run a topology as one Docker container per node: `up`, `down`, `logs`.
    Docker {
        #[command(subcommand)]
        command: containers::DockerCommand,
    },
    /// Write the compose file equivalent to `rolecall docker up`.
    Compose(containers::ComposeArgs),
    /// Write Kubernetes manifests for a topology.
    K8s(k8s::K8sArgs),
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
        /// Suite: `actor`, `zmq`, `zk`, `metrics`, `dht`, `paxos`, `pubsub` or `model`.
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
        Command::Run {
            topology,
            seed,
            trace,
        } => run::run(&topology, None, seed, None, &trace),
        Command::Node {
            topology,
            node,
            seed,
            health,
            trace,
        } => run::run(&topology, Some(&node), seed, health.as_deref(), &trace),
        Command::Image(args) => image::image(args),
        Command::Docker { command } => containers::docker(command),
        Command::Compose(args) => containers::compose(args),
        Command::K8s(args) => k8s::k8s(args),
        Command::Check { topology, format } => check::check(&topology, format),
        Command::Kinds => kinds::kinds(),
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

/// The user's assignments as text, as the loader applies them: environment
/// `ROLECALL_SET*` variables (by name), then `--set`.
fn assignments(args: &TopologyArgs) -> Vec<String> {
    let prefix = rolecall::runtime::topology::ENV_PREFIX;
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k == prefix || k.starts_with(&format!("{prefix}_")))
        .collect();
    vars.sort();
    vars.into_iter()
        .map(|(_, v)| v)
        .chain(args.set.iter().cloned())
        .collect()
}

/// Writes `text` to `path`, or standard output without one.
fn write_output(path: Option<&std::path::Path>, text: &str) -> i32 {
    match path {
        None => {
            print!("{text}");
            0
        }
        Some(p) => match std::fs::write(p, text) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {}: {e}", p.display());
                1
            }
        },
    }
}
