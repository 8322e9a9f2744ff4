//! rolecall's node commands for a program of your own kinds.
//!
//! A program that registers its own kinds gets the commands that load and
//! run topologies — `run`, `node`, `check`, `kinds`, `image`, `docker`,
//! `compose`, `k8s` — with those kinds, from one call in its `main`:
//!
//! ```no_run
//! // In the program's `main`:
//! std::process::exit(rolecall::app::main(|| {
//!     let registry = rolecall::default_registry();
//!     // registry.register::<MyRole>("my.role").expect("a new kind name");
//!     registry
//! }));
//! ```
//!
//! `my-program image` then packs the program itself into an image, and
//! `my-program docker up TOPOLOGY` (or `compose`, `k8s`) runs one container
//! per node with it: the containers run `my-program node …`, so topologies
//! that use the program's kinds deploy like any other (docs/deploying.md).
//! The `rolecall` command is this plus the course's tools and benchmarks.

mod check;
mod containers;
mod health;
mod image;
mod k8s;
mod kinds;
mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::runtime::topology::{self, LoadError, Overrides, Topology};
use crate::runtime::Registry;

pub use check::Format;
pub use containers::{ComposeArgs, DeployArgs, DockerCommand};
pub use image::ImageArgs;
pub use k8s::K8sArgs;
pub use run::{terminate_endpoints, TraceArgs};

/// The program's kinds: called wherever a command needs a registry.
pub type Kinds<'a> = &'a dyn Fn() -> Registry;

/// A topology file and the overrides given for it.
#[derive(Debug, clap::Args)]
pub struct TopologyArgs {
    /// The topology file.
    pub topology: PathBuf,
    /// Override a value: `NODE.ACTOR.PARAM=VALUE` or `NODE.FIELD=VALUE` (repeatable).
    /// Environment variables `ROLECALL_SET` and `ROLECALL_SET_*` hold more, applied first.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
}

/// The commands that load and run topologies. (The fields are documented
/// by their own types and by the help texts clap prints.)
#[allow(missing_docs)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every node of a topology in this process (the embedded default).
    Run {
        #[command(flatten)]
        topology: TopologyArgs,
        /// Seed of all randomness (backoff jitter); printed at start.
        #[arg(long)]
        seed: Option<u64>,
        #[command(flatten)]
        trace: TraceArgs,
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
        trace: TraceArgs,
    },
    /// Validate a topology and print its wiring graph.
    Check {
        #[command(flatten)]
        topology: TopologyArgs,
        /// `text` or `dot` (Graphviz).
        #[arg(long, default_value = "text")]
        format: Format,
    },
    /// List the registered kinds with their parameters and ports.
    Kinds,
    /// Build a Docker image of this binary (or --binary) from local files.
    Image(ImageArgs),
    /// Run a topology as one Docker container per node: `up`, `down`, `logs`.
    Docker {
        #[command(subcommand)]
        command: DockerCommand,
    },
    /// Write the compose file equivalent to `docker up`.
    Compose(ComposeArgs),
    /// Write Kubernetes manifests for a topology.
    K8s(K8sArgs),
}

/// A program's command line: the [`Command`]s and the log filter.
#[derive(Debug, Parser)]
#[command(version, about = "Run topologies of this program's kinds (rolecall)")]
struct Program {
    /// Log filter (tracing's env-filter syntax), e.g. `info`, `rolecall_runtime=debug`.
    #[arg(long, global = true, default_value = "info", env = "ROLECALL_LOG")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

/// Parses the program's arguments, runs the command with the kinds
/// `registry` makes, and returns the exit status.
pub fn main(registry: impl Fn() -> Registry) -> i32 {
    let program = Program::parse();
    init_logging(&program.log);
    execute(program.command, &registry)
}

/// Runs `command` with the program's kinds; returns the exit status.
pub fn execute(command: Command, kinds: Kinds<'_>) -> i32 {
    match command {
        Command::Run {
            topology,
            seed,
            trace,
        } => run::run(kinds, &topology, None, seed, None, &trace),
        Command::Node {
            topology,
            node,
            seed,
            health,
            trace,
        } => run::run(
            kinds,
            &topology,
            Some(&node),
            seed,
            health.as_deref(),
            &trace,
        ),
        Command::Check { topology, format } => check::check(kinds, &topology, format),
        Command::Kinds => kinds::kinds(kinds),
        Command::Image(args) => image::image(args),
        Command::Docker { command } => containers::docker(kinds, command),
        Command::Compose(args) => containers::compose(kinds, args),
        Command::K8s(args) => k8s::k8s(kinds, args),
    }
}

/// Logs to standard error through `filter` (tracing's env-filter syntax).
pub fn init_logging(filter: &str) {
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
pub fn load(args: &TopologyArgs, registry: &Registry) -> Result<Topology, i32> {
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
    let prefix = crate::runtime::topology::ENV_PREFIX;
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
pub fn write_output(path: Option<&std::path::Path>, text: &str) -> i32 {
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

/// This program's name as image names use it (`rolecall` for rolecall).
fn program_label() -> String {
    let name = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .unwrap_or_else(|| "rolecall".into());
    crate::deploy::plan::label(&name)
}
