//! The validated experiment: what [`super::file`] produces from the file and
//! [`super::plan`] turns into processes on hosts.

use std::path::PathBuf;
use std::time::Duration;

use rolecall_runtime::topology::Diagnostic;

use super::shape::Shape;

/// Where a value came from in the experiment file, for later diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pos {
    /// The file.
    pub origin: String,
    /// 1-based line (0: none).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Pos {
    /// A diagnostic at this position.
    pub fn diagnostic(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            origin: self.origin.clone(),
            line: self.line,
            column: self.column,
            message: message.into(),
            help: None,
        }
    }
}

/// The network the hosts are on and how its host links are shaped.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// Its shape.
    pub shape: Shape,
    /// Host link bandwidth in Mbit/s (`tbf`), both directions.
    pub bandwidth: Option<f64>,
    /// Host link delay (`netem`; only where the kernel has it).
    pub delay: Option<Duration>,
    /// Host link loss in percent, each direction (nftables).
    pub loss: Option<f64>,
}

/// How nodes are put on hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Node i on host i mod hosts, in topology order.
    RoundRobin,
    /// Hosts shuffled with the seed, then round-robin.
    Random(u64),
}

/// Placement: explicit node → host pairs, the rest by rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The rule for nodes not named in `nodes`.
    pub rule: Rule,
    /// Node → host, with where each was written.
    pub nodes: Vec<(String, String, Pos)>,
}

/// One variant to compare: a topology file and overrides, or an app set.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Name (unique), used for folders and legends.
    pub name: String,
    /// The topology file (`None`: the variant is an app set, `apps`).
    pub topology: Option<PathBuf>,
    /// The `rolecall` command lines it runs instead of a topology's nodes.
    pub apps: Vec<App>,
    /// `--set` assignments; `{addr:NODE}` stands for the address of NODE's host.
    pub set: Vec<String>,
    /// Value of the swept parameter, if any.
    pub x: Option<f64>,
    /// Samples each run must produce (of the results series).
    pub expect: Option<u64>,
    /// Link events of its runs (its own `events`, or the experiment's).
    pub events: Vec<Event>,
    /// Nodes that serve the others (a broker, ZooKeeper): stopped with
    /// SIGTERM once every other node has ended.
    pub services: Vec<String>,
    /// Where it was written.
    pub pos: Pos,
}

/// An action on a host's link at an instant of every run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// After the nodes started.
    pub at: Duration,
    /// The host.
    pub host: String,
    /// Up (true) or down.
    pub up: bool,
    /// Where it was written.
    pub pos: Pos,
}

/// One app of an app-set variant: a `rolecall` command line (`pubsub
/// subscriber ...`) run on a host from its own folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// Its name (unique in the variant): its folder and `{addr:NAME}`.
    pub name: String,
    /// The host it runs on.
    pub host: String,
    /// As written, before its copies are made: the hosts its copies take in
    /// turn (`hosts`, or just `host`) and how many copies (`count`; `None`:
    /// the app itself, no copies). Empty and `None` in a validated
    /// [`Experiment`]'s variants, whose apps are the copies.
    pub hosts: Vec<String>,
    /// How many copies, when `count` is given.
    pub count: Option<Count>,
    /// Arguments after `rolecall`, with `{addr:NAME}`, `{addr:zookeeper}`,
    /// `{dir}` and `{here}` placeholders.
    pub args: Vec<String>,
    /// The run ends once every app with `wait` has exited (each must exit 0);
    /// the others are stopped then.
    pub wait: bool,
    /// Delay before starting it (after the app before it).
    pub after: Duration,
    /// Where it was written.
    pub pos: Pos,
}

/// How many copies of an app a variant runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// This many.
    Fixed(u32),
    /// The `[sweep]` value of the variant (`count = "{x}"`).
    Swept,
}

/// `[zookeeper]`: the ZooKeeper server the runner configures and starts
/// before every run and stops after it — standalone on one host, or an
/// ensemble with one server on each of several hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zookeeper {
    /// The hosts it runs on: one (standalone) or several (an ensemble, in
    /// server id order: `server.1` on the first).
    pub hosts: Vec<String>,
    /// Its client port (default 2181; a free port with `--local`).
    pub port: u16,
    /// Where it was written.
    pub pos: Pos,
}

/// A program started on a host before the nodes of every run (a ZooKeeper
/// server, a load generator) and stopped after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Its name (a folder, and `{addr:NAME}`).
    pub name: String,
    /// The host it runs on.
    pub host: String,
    /// Program and arguments; `{rolecall}` as the program is this binary,
    /// `{addr:NAME}` the address of a node's or process's host.
    pub command: Vec<String>,
    /// How long to wait after starting it before the nodes start.
    pub wait: Duration,
    /// Where it was written.
    pub pos: Pos,
}

/// A validated experiment file.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// `[experiment] name`, or the file stem.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// The network (`None`: `single,N` with one host per node).
    pub network: Option<Network>,
    /// Placement of nodes on hosts.
    pub placement: Placement,
    /// Runs per variant.
    pub repetitions: u32,
    /// Longest a run may take before its nodes are killed.
    pub timeout: Duration,
    /// Seed given to every node (`--seed`).
    pub seed: u64,
    /// The variants, sweep expanded.
    pub variants: Vec<Variant>,
    /// Name of the swept parameter (x axis), if any.
    pub sweep: Option<String>,
    /// The ZooKeeper server of every run, if any.
    pub zookeeper: Option<Zookeeper>,
    /// Programs started on hosts before the nodes (`[[processes]]`).
    pub processes: Vec<Process>,
    /// Link events of every variant that gives none of its own.
    pub events: Vec<Event>,
    /// Only results series whose name contains this.
    pub series: Option<String>,
    /// Only this numeric field of the results points (e.g. `us`).
    pub field: Option<String>,
}
