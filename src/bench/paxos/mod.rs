//! `rolecall bench paxos`: decided commands per second and commit latency of
//! Multi-Paxos (`paxos.leader`, `paxos.acceptor`, `paxos.learner`) on one
//! node, with 3 and 5 in-memory acceptors and with 3 fsync'd acceptors, all in
//! one process; then 3 and 5 in-memory acceptors each in its own process
//! (this binary started again in node mode), over ZeroMQ on loopback; then
//! every role group in its own process (3 acceptors, the leader, and the
//! client with the learner and the sink), as fast as it goes and then paced
//! at 10 %, 50 % and 90 % of that rate (`latency_curve`).
//!
//! A client stamps each command with its send time and sends it to the
//! leader in its own `Propose` message, as fast as the wire takes it (or at a
//! fixed rate); the leader batches (up to 256 commands per slot) and
//! pipelines (16 slots); a sink behind the learner records each command's
//! commit latency. A paced client sends one command, waits 500 ms (the
//! nodes connect, the leader is elected) and then paces the rest; commands
//! sent before the first decision are left out of the percentiles and
//! counted (`warmup_excluded`).
//!
//! Baseline: the transport's ceiling. The same number of messages the 3-acceptor
//! run put on its wires (counted from the wire statistics) is pushed through
//! the same shape of wires with the same message types — a source into 3
//! relays, each relay's replies into 2 sinks — by actors with no protocol
//! logic. `ratio` = decided commands/s with 3 acceptors ÷ (commands/s the
//! transport would allow: the baseline's messages/s scaled by the Paxos run's
//! messages per command).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use actix::prelude::*;
use rolecall_actors::paxos::{Decided, Propose};
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use rolecall_runtime::{Node, NodeExit, Registry};
use serde::{Deserialize, Serialize};

use super::load;

mod baseline;
mod curve;

use curve::{curve, rate_while_offering, Capacity, CurvePoint};

/// Where the roles of a run live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Every role on one node in this process.
    InProcess,
    /// Each acceptor a node in a process of its own (this binary started
    /// again); client, leader, learner and sink on a node here.
    AcceptorProcesses,
    /// Each acceptor and the leader a node in a process of its own; the
    /// client with the learner and the sink (so that send and commit times
    /// come from one clock) on a node here.
    Processes,
}

impl Layout {
    fn transport(self) -> &'static str {
        match self {
            Layout::InProcess => "in-process",
            Layout::AcceptorProcesses => "zeromq-loopback",
            Layout::Processes => "zeromq-processes",
        }
    }

    /// The node the roles of this process run on, and the nodes run as
    /// child processes.
    fn nodes(self, acceptors: usize) -> (&'static str, Vec<String>) {
        let mut children: Vec<String> = (1..=acceptors).map(|a| format!("a{a}")).collect();
        match self {
            Layout::InProcess => ("", Vec::new()),
            Layout::AcceptorProcesses => ("core", children),
            Layout::Processes => {
                children.push("leader".to_owned());
                ("core", children)
            }
        }
    }
}

/// One configuration's result.
#[derive(Debug, Serialize)]
pub(super) struct Run {
    acceptors: usize,
    transport: &'static str,
    storage: &'static str,
    commands: u64,
    /// Commands over the whole run, start of the nodes included.
    decided_per_s: f64,
    /// Decisions per second from the first decision to the last (without
    /// the nodes' start: connecting, electing the leader).
    steady_decided_per_s: f64,
    p50_latency_ms: f64,
    p99_latency_ms: f64,
    /// Messages on all wires during the run.
    messages: u64,
}

/// The JSON report.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    suite: &'static str,
    /// Decided commands/s (3 in-memory acceptors) ÷ the transport's ceiling
    /// for the same messages per command.
    ratio: f64,
    runs: Vec<Run>,
    /// Every role group in its own process (3 acceptors, the leader, the
    /// client with learner and sink): p50/p99 commit latency with the client
    /// paced at 10 %, 50 % and 90 % of that layout's maximum rate.
    latency_curve: Vec<CurvePoint>,
    /// That maximum rate, measured with the client paced above it.
    capacity: Capacity,
    baseline_messages: u64,
    baseline_msgs_per_s: f64,
    /// Commands/s the transport would allow at the 3-acceptor run's messages per command.
    baseline_commands_per_s: f64,
}

/// Set in a child process started by the loopback runs: the acceptor node to run.
const NODE_ENV: &str = "ROLECALL_BENCH_PAXOS_NODE";
/// The log filter of those children (default `warn`).
const CHILD_LOG_ENV: &str = "ROLECALL_BENCH_CHILD_LOG";
/// The topology file of that child.
const TOPOLOGY_ENV: &str = "ROLECALL_BENCH_PAXOS_TOPOLOGY";
/// First TCP port of the loopback runs' nodes (core, then 10 per acceptor).
const LOOPBACK_PORT: u16 = 27600;

static START: Mutex<Option<Instant>> = Mutex::new(None);
/// (sent, decided) µs of every decided command.
static LATENCIES: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());
static SEEN: AtomicU64 = AtomicU64::new(0);
static SLOTS: AtomicU64 = AtomicU64::new(0);

fn micros() -> u64 {
    START
        .lock()
        .ok()
        .and_then(|s| *s)
        .map_or(0, |s| s.elapsed().as_micros() as u64)
}

// ---- Paxos side -----------------------------------------------------------

/// Sends `count` stamped commands, one per `Propose`: in bursts as fast as
/// the wire takes them, or paced at `rate` commands/s.
struct Client {
    out: Output<Propose>,
    next: u64,
    count: u64,
    rate: u64,
    started: Instant,
}

#[derive(Debug, Deserialize)]
struct CountParams {
    count: u64,
}

#[derive(Debug, Deserialize)]
struct ClientParams {
    count: u64,
    /// Commands/s; 0: as fast as the wire takes them.
    #[serde(default)]
    rate: u64,
}

/// One paced tick of the client.
#[derive(Message)]
#[rtype(result = "()")]
struct Tick;

#[derive(Message)]
#[rtype(result = "()")]
struct Burst;

impl Actor for Client {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.started = Instant::now();
        if self.rate == 0 {
            ctx.notify(Burst);
        } else {
            // Paced: one command first, which makes the leader run for
            // election while the nodes finish connecting; the pace starts
            // after WARMUP, so that the curve measures the protocol.
            self.send_one(ctx);
            ctx.run_later(WARMUP, |act, ctx| {
                act.started = Instant::now();
                ctx.run_interval(std::time::Duration::from_millis(1), |_, ctx| {
                    ctx.notify(Tick)
                });
            });
        }
    }
}

impl Client {
    fn send_one(&mut self, ctx: &mut Context<Self>) {
        let cmd = format!("{} {}", self.next, micros());
        self.out.send(
            Propose {
                commands: vec![cmd],
            },
            ctx,
        );
        self.next += 1;
    }
}

impl Handler<Tick> for Client {
    type Result = ();
    fn handle(&mut self, _: Tick, ctx: &mut Context<Self>) {
        // As many as the rate asks for by now (a late tick catches up).
        let due = 1 + (self.started.elapsed().as_secs_f64() * self.rate as f64) as u64;
        while self.next < due.min(self.count) {
            self.send_one(ctx);
        }
        if self.next >= self.count {
            ctx.stop();
        }
    }
}

impl Handler<Burst> for Client {
    type Result = ();
    fn handle(&mut self, _: Burst, ctx: &mut Context<Self>) {
        let end = (self.next + 256).min(self.count);
        while self.next < end {
            self.send_one(ctx);
            if ctx.waiting() {
                break;
            }
        }
        if self.next < self.count {
            ctx.notify(Burst);
        } else {
            ctx.stop();
        }
    }
}

impl Role for Client {
    type Params = ClientParams;
    fn ports(ports: &mut Ports<Self>) {
        ports.output::<Propose>("out");
    }
    fn build(p: &ClientParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Client {
            out: io.output("out")?,
            next: 0,
            count: p.count,
            rate: p.rate,
            started: Instant::now(),
        })
    }
}

/// Records commit latencies of decided commands; stops after `count`.
struct Sink {
    count: u64,
    seen: u64,
}

impl Actor for Sink {
    type Context = Context<Self>;
}

impl Handler<Decided> for Sink {
    type Result = ();
    fn handle(&mut self, d: Decided, ctx: &mut Context<Self>) {
        let now = micros();
        SLOTS.fetch_add(1, Ordering::Relaxed);
        let mut lat = LATENCIES.lock().unwrap_or_else(|e| e.into_inner());
        for c in &d.value {
            if let Some(sent) = c
                .split_whitespace()
                .nth(1)
                .and_then(|t| t.parse::<u64>().ok())
            {
                lat.push((sent, now));
            }
            self.seen += 1;
        }
        if self.seen >= self.count {
            SEEN.store(self.seen, Ordering::Relaxed);
            ctx.stop();
        }
    }
}

impl Role for Sink {
    type Params = CountParams;
    fn ports(ports: &mut Ports<Self>) {
        ports.input::<Decided>("in");
    }
    fn build(p: &CountParams, _: &mut Io) -> Result<Self, CreateError> {
        Ok(Sink {
            count: p.count,
            seen: 0,
        })
    }
}

fn paxos_topology(
    acceptors: usize,
    count: u64,
    dir: Option<&std::path::Path>,
    layout: Layout,
    rate: u64,
) -> String {
    // Outside one process, the client, learner and sink are on `core`, each
    // acceptor on its own node, the leader on `core` or its own.
    let place = |node: &str| {
        if layout == Layout::InProcess {
            String::new()
        } else {
            format!("node = \"{node}\"\n")
        }
    };
    let mut t = String::new();
    if layout != Layout::InProcess {
        t.push_str(&format!("[nodes.core]\nbase_port = {LOOPBACK_PORT}\n"));
        for a in 1..=acceptors {
            t.push_str(&format!(
                "[nodes.a{a}]\nbase_port = {}\n",
                LOOPBACK_PORT + 10 * a as u16
            ));
        }
    }
    if layout == Layout::Processes {
        t.push_str(&format!(
            "[nodes.leader]\nbase_port = {}\n",
            LOOPBACK_PORT + 100
        ));
    }
    let core = place("core");
    let leader = if layout == Layout::Processes {
        place("leader")
    } else {
        core.clone()
    };
    t.push_str(&format!(
        "[topology]\nfinish_when = [\"sink\"]\n\
         [actors.client]\nkind = \"bench.paxos-client\"\n{core}params = {{ count = {count}, rate = {rate} }}\n\
         [actors.leader]\nkind = \"paxos.leader\"\n{leader}\
         params = {{ id = 1, acceptors = {acceptors}, batch = 256, window = 16, timeout_ms = 1000, announce_ms = 0 }}\n\
         [actors.learner]\nkind = \"paxos.learner\"\n{core}params = {{ acceptors = {acceptors}, print = false }}\n\
         [actors.sink]\nkind = \"bench.paxos-sink\"\n{core}params = {{ count = {count} }}\n\
         [[wires]]\nfrom = \"client.out\"\nto = \"leader.propose\"\n\
         [[wires]]\nfrom = \"learner.out\"\nto = \"sink.in\"\n"
    ));
    let mut to = Vec::new();
    for a in 1..=acceptors {
        let path = dir.map_or(String::new(), |d| {
            format!(", path = \"{}\"", d.join(format!("a{a}.log")).display())
        });
        let node = place(&format!("a{a}"));
        t.push_str(&format!(
            "[actors.a{a}]\nkind = \"paxos.acceptor\"\n{node}params = {{ id = {a}{path} }}\n\
             [[wires]]\nfrom = \"a{a}.out\"\nto = [\"leader.in\", \"learner.in\"]\n"
        ));
        to.push(format!("\"a{a}.in\""));
    }
    t.push_str(&format!(
        "[[wires]]\nfrom = \"leader.out\"\nto = [{}]\n",
        to.join(", ")
    ));
    t
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// What one run measured.
struct Measured {
    run: Run,
    /// Commands sent before the first decision.
    warmup: u64,
    /// Decisions per second while the client was still sending (see
    /// [`rate_while_offering`]).
    offering_per_s: f64,
}

async fn paxos_run(
    acceptors: usize,
    count: u64,
    dir: Option<&std::path::Path>,
    layout: Layout,
    rate: u64,
    registry: Registry,
) -> Result<Measured, String> {
    let text = paxos_topology(acceptors, count, dir, layout, rate);
    let topology = load(&text, &registry)?;
    let (here, child_nodes) = layout.nodes(acceptors);
    let mut children = Vec::new();
    let path = std::env::temp_dir().join(format!(
        "rolecall-bench-paxos-{}-{acceptors}.toml",
        std::process::id()
    ));
    if !child_nodes.is_empty() {
        // Each of those nodes in its own process: this binary, in node mode.
        std::fs::write(&path, &text).map_err(|e| e.to_string())?;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        for node in &child_nodes {
            let child = std::process::Command::new(&exe)
                .args(["bench", "paxos"])
                .env(NODE_ENV, node)
                .env(TOPOLOGY_ENV, &path)
                .env(
                    "ROLECALL_LOG",
                    std::env::var(CHILD_LOG_ENV).unwrap_or_else(|_| "warn".into()),
                )
                .stdout(std::process::Stdio::null())
                .spawn()
                .map_err(|e| format!("starting node {node}: {e}"))?;
            children.push(child);
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    LATENCIES.lock().map_err(|e| e.to_string())?.clear();
    SEEN.store(0, Ordering::Relaxed);
    SLOTS.store(0, Ordering::Relaxed);
    *START.lock().map_err(|e| e.to_string())? = Some(Instant::now());
    let start = Instant::now();
    let node = if here.is_empty() {
        Node::all(topology, registry)
    } else {
        Node::new(topology, registry, here).map_err(|e| e.to_string())?
    };
    let running = node.with_seed(1).start().await.map_err(|e| e.to_string())?;
    let exit = running.wait().await;
    let elapsed = start.elapsed().as_secs_f64();
    // The end of this node's wires reaches acceptor nodes whose leader ran
    // here, and they exit; a leader node of its own waits for the
    // acceptors' wires and they for its own, so what is left after a
    // second is killed (the measurement is over).
    let deadline = Instant::now() + std::time::Duration::from_secs(1);
    for mut c in children {
        while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let _ = c.kill();
        let _ = c.wait();
    }
    if !child_nodes.is_empty() {
        let _ = std::fs::remove_file(&path);
    }
    if let NodeExit::Failed(reason) = exit {
        return Err(reason);
    }
    let seen = SEEN.load(Ordering::Relaxed);
    let slots = SLOTS.load(Ordering::Relaxed);
    if seen < count {
        return Err(format!("only {seen} of {count} commands decided"));
    }
    let pairs = std::mem::take(&mut *LATENCIES.lock().map_err(|e| e.to_string())?);
    // Paced: commands sent before the first decision waited for the roles to
    // connect and elect a leader, not for the protocol: left out. (As fast
    // as it goes, every command is sent before; latency there is queueing.)
    let first = pairs.iter().map(|(_, d)| *d).min().unwrap_or(0);
    let last = pairs.iter().map(|(_, d)| *d).max().unwrap_or(0);
    let mut lat: Vec<u64> = pairs
        .iter()
        .filter(|(sent, _)| rate == 0 || *sent >= first)
        .map(|(sent, decided)| decided.saturating_sub(*sent))
        .collect();
    let warmup = (pairs.len() - lat.len()) as u64;
    // Decisions per second once the first one arrived: the rate without
    // the start of the nodes.
    let after_first = pairs.iter().filter(|(_, d)| *d > first).count();
    // Decisions come a slot (up to 256 commands) at a time and 16 slots at
    // once: with few slots the span says nothing, and the whole run's rate
    // stands in.
    let steady = if slots >= MIN_STEADY_SLOTS && last > first {
        after_first as f64 / ((last - first) as f64 / 1e6)
    } else {
        count as f64 / elapsed
    };
    lat.sort_unstable();
    let offering_per_s = rate_while_offering(&pairs).unwrap_or(steady);
    Ok(Measured {
        warmup,
        offering_per_s,
        run: Run {
            acceptors,
            transport: layout.transport(),
            storage: if dir.is_some() { "fsync" } else { "memory" },
            commands: count,
            decided_per_s: count as f64 / elapsed,
            steady_decided_per_s: steady,
            p50_latency_ms: percentile(&lat, 0.50),
            p99_latency_ms: percentile(&lat, 0.99),
            // client → leader, per slot: Accept to each acceptor, each reply to
            // the leader and the learner, the slot to the sink; plus phase 1.
            messages: count + slots * (3 * acceptors as u64 + 1) + 3 * acceptors as u64,
        },
    })
}

fn registry() -> Result<Registry, String> {
    let mut r = rolecall::default_registry();
    r.register::<Client>("bench.paxos-client")
        .and_then(|r| r.register::<Sink>("bench.paxos-sink"))
        .and_then(baseline::register)
        .map_err(|e| e.to_string())?;
    Ok(r)
}

/// Runs the suite: `commands` per in-process in-memory run (the fsync run a
/// tenth, the ZeroMQ loopback runs a quarter).
pub(super) fn run(commands: u64) -> Result<Report, String> {
    if let Ok(node) = std::env::var(NODE_ENV) {
        return child_node(&node);
    }
    let system = System::new();
    system.block_on(async {
        let dir = tempfile_dir()?;
        let mut runs = Vec::new();
        let fsync_commands = (commands / 10).max(1000);
        let loop_commands = (commands / 4).max(1000);
        for (acceptors, count, storage, layout) in [
            (3, commands, None, Layout::InProcess),
            (5, commands, None, Layout::InProcess),
            (3, fsync_commands, Some(dir.as_path()), Layout::InProcess),
            (3, loop_commands, None, Layout::AcceptorProcesses),
            (5, loop_commands, None, Layout::AcceptorProcesses),
            (3, loop_commands, None, Layout::Processes),
        ] {
            let m = paxos_run(acceptors, count, storage, layout, 0, registry()?).await?;
            runs.push(m.run);
        }
        let _ = std::fs::remove_dir_all(&dir);
        let (capacity, latency_curve) = curve(&runs[5], commands).await?;
        let three = &runs[0];
        // The same number of messages as the 3-acceptor run, 9 per batch.
        let slots = (three.messages / 9).max(1);
        let batch = ((three.commands / slots).max(1)) as usize;
        let msgs_per_s = baseline::run(slots, batch, registry()?).await?;
        let per_command = three.messages as f64 / three.commands as f64;
        let ceiling = msgs_per_s / per_command;
        Ok(Report {
            suite: "paxos",
            ratio: three.decided_per_s / ceiling,
            baseline_messages: slots * 9,
            baseline_msgs_per_s: msgs_per_s,
            baseline_commands_per_s: ceiling,
            runs,
            capacity,
            latency_curve,
        })
    })
}

/// Fewest decided slots for a rate measured from the first decision to the
/// last (`steady_decided_per_s`).
const MIN_STEADY_SLOTS: u64 = 32;

/// A paced client's wait between its first command and the rest.
const WARMUP: std::time::Duration = std::time::Duration::from_millis(500);

/// A fresh directory for the fsync'd acceptors' logs.
fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("rolecall-bench-paxos-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Child mode of the multi-process runs: run one node (an acceptor, the
/// leader) of the topology in `TOPOLOGY_ENV`, then report nothing.
fn child_node(node: &str) -> Result<Report, String> {
    let path = std::env::var(TOPOLOGY_ENV).map_err(|_| format!("{TOPOLOGY_ENV} is not set"))?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    System::new().block_on(async {
        let registry = registry()?;
        let topology = load(&text, &registry)?;
        let running = Node::new(topology, registry, node)
            .map_err(|e| e.to_string())?
            .start()
            .await
            .map_err(|e| e.to_string())?;
        match running.wait().await {
            NodeExit::Completed => Ok(Report {
                suite: "paxos-node",
                ratio: 0.0,
                runs: Vec::new(),
                baseline_messages: 0,
                baseline_msgs_per_s: 0.0,
                baseline_commands_per_s: 0.0,
                latency_curve: Vec::new(),
                capacity: Capacity::default(),
            }),
            NodeExit::Failed(reason) => Err(reason),
        }
    })
}
