//! `rolecall bench paxos`: decided commands per second and commit latency of
//! Multi-Paxos (`paxos.leader`, `paxos.acceptor`, `paxos.learner`) on one
//! node, with 3 and 5 in-memory acceptors and with 3 fsync'd acceptors, all in
//! one process; then 3 and 5 in-memory acceptors each in its own process
//! (this binary started again in acceptor-node mode), over ZeroMQ on loopback.
//!
//! A client stamps each command with its send time and sends it to the
//! leader in its own `Propose` message, as fast as the wire takes it; the
//! leader batches (up to 256 commands per slot) and pipelines (16 slots); a
//! sink behind the learner records each command's commit latency.
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
use rolecall_actors::paxos::{Ballot, Decided, FromAcceptor, Propose, ToAcceptor};
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use rolecall_runtime::{Node, NodeExit, Registry};
use serde::{Deserialize, Serialize};

use super::load;

/// One configuration's result.
#[derive(Debug, Serialize)]
pub(super) struct Run {
    acceptors: usize,
    transport: &'static str,
    storage: &'static str,
    commands: u64,
    decided_per_s: f64,
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
    baseline_messages: u64,
    baseline_msgs_per_s: f64,
    /// Commands/s the transport would allow at the 3-acceptor run's messages per command.
    baseline_commands_per_s: f64,
}

/// Set in a child process started by the loopback runs: the acceptor node to run.
const NODE_ENV: &str = "ROLECALL_BENCH_PAXOS_NODE";
/// The topology file of that child.
const TOPOLOGY_ENV: &str = "ROLECALL_BENCH_PAXOS_TOPOLOGY";
/// First TCP port of the loopback runs' nodes (core, then 10 per acceptor).
const LOOPBACK_PORT: u16 = 27600;

static START: Mutex<Option<Instant>> = Mutex::new(None);
static LATENCIES: Mutex<Vec<u64>> = Mutex::new(Vec::new());
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

/// Sends `count` stamped commands, one per `Propose`, in bursts.
struct Client {
    out: Output<Propose>,
    next: u64,
    count: u64,
}

#[derive(Debug, Deserialize)]
struct CountParams {
    count: u64,
}

#[derive(Message)]
#[rtype(result = "()")]
struct Burst;

impl Actor for Client {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.notify(Burst);
    }
}

impl Handler<Burst> for Client {
    type Result = ();
    fn handle(&mut self, _: Burst, ctx: &mut Context<Self>) {
        let end = (self.next + 256).min(self.count);
        while self.next < end {
            let cmd = format!("{} {}", self.next, micros());
            self.out.send(
                Propose {
                    commands: vec![cmd],
                },
                ctx,
            );
            self.next += 1;
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
    type Params = CountParams;
    fn ports(ports: &mut Ports<Self>) {
        ports.output::<Propose>("out");
    }
    fn build(p: &CountParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Client {
            out: io.output("out")?,
            next: 0,
            count: p.count,
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
                lat.push(now.saturating_sub(sent));
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
    loopback: bool,
) -> String {
    // With `loopback`, each acceptor is its own node (a child process).
    let place = |node: &str| {
        if loopback {
            format!("node = \"{node}\"\n")
        } else {
            String::new()
        }
    };
    let mut t = String::new();
    if loopback {
        t.push_str(&format!("[nodes.core]\nbase_port = {LOOPBACK_PORT}\n"));
        for a in 1..=acceptors {
            t.push_str(&format!(
                "[nodes.a{a}]\nbase_port = {}\n",
                LOOPBACK_PORT + 10 * a as u16
            ));
        }
    }
    let core = place("core");
    t.push_str(&format!(
        "[topology]\nfinish_when = [\"sink\"]\n\
         [actors.client]\nkind = \"bench.paxos-client\"\n{core}params = {{ count = {count} }}\n\
         [actors.leader]\nkind = \"paxos.leader\"\n{core}\
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

async fn paxos_run(
    acceptors: usize,
    count: u64,
    dir: Option<&std::path::Path>,
    loopback: bool,
    registry: Registry,
) -> Result<Run, String> {
    let text = paxos_topology(acceptors, count, dir, loopback);
    let topology = load(&text, &registry)?;
    let mut children = Vec::new();
    let path = std::env::temp_dir().join(format!(
        "rolecall-bench-paxos-{}-{acceptors}.toml",
        std::process::id()
    ));
    if loopback {
        // Each acceptor in its own process: this binary, in acceptor-node mode.
        std::fs::write(&path, &text).map_err(|e| e.to_string())?;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        for a in 1..=acceptors {
            let child = std::process::Command::new(&exe)
                .args(["bench", "paxos"])
                .env(NODE_ENV, format!("a{a}"))
                .env(TOPOLOGY_ENV, &path)
                .env("ROLECALL_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .spawn()
                .map_err(|e| format!("starting acceptor node a{a}: {e}"))?;
            children.push(child);
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    LATENCIES.lock().map_err(|e| e.to_string())?.clear();
    SEEN.store(0, Ordering::Relaxed);
    SLOTS.store(0, Ordering::Relaxed);
    *START.lock().map_err(|e| e.to_string())? = Some(Instant::now());
    let start = Instant::now();
    let node = if loopback {
        Node::new(topology, registry, "core").map_err(|e| e.to_string())?
    } else {
        Node::all(topology, registry)
    };
    let running = node.with_seed(1).start().await.map_err(|e| e.to_string())?;
    let exit = running.wait().await;
    let elapsed = start.elapsed().as_secs_f64();
    for mut c in children {
        // The end of the core's wires reaches the acceptors, which then exit.
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let _ = c.kill();
        let _ = c.wait();
    }
    if loopback {
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
    let mut lat = std::mem::take(&mut *LATENCIES.lock().map_err(|e| e.to_string())?);
    lat.sort_unstable();
    Ok(Run {
        acceptors,
        transport: if loopback {
            "zeromq-loopback"
        } else {
            "in-process"
        },
        storage: if dir.is_some() { "fsync" } else { "memory" },
        commands: count,
        decided_per_s: count as f64 / elapsed,
        p50_latency_ms: percentile(&lat, 0.50),
        p99_latency_ms: percentile(&lat, 0.99),
        // client → leader, per slot: Accept to each acceptor, each reply to
        // the leader and the learner, the slot to the sink; plus phase 1.
        messages: count + slots * (3 * acceptors as u64 + 1) + 3 * acceptors as u64,
    })
}

// ---- baseline: the same wires, no protocol --------------------------------

/// Sends `count` Accept messages (batches of `batch` commands) to the relays.
struct Source {
    out: Output<ToAcceptor>,
    next: u64,
    count: u64,
    value: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct SourceParams {
    count: u64,
    batch: usize,
}

impl Actor for Source {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.notify(Burst);
    }
}

impl Handler<Burst> for Source {
    type Result = ();
    fn handle(&mut self, _: Burst, ctx: &mut Context<Self>) {
        let end = (self.next + 256).min(self.count);
        while self.next < end {
            let m = ToAcceptor::Accept {
                ballot: Ballot::new(1, 1),
                slot: self.next,
                value: self.value.clone(),
            };
            self.out.send(m, ctx);
            self.next += 1;
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

impl Role for Source {
    type Params = SourceParams;
    fn ports(ports: &mut Ports<Self>) {
        ports.output::<ToAcceptor>("out");
    }
    fn build(p: &SourceParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Source {
            out: io.output("out")?,
            next: 0,
            count: p.count,
            value: (0..p.batch).map(|i| format!("{i} 123456")).collect(),
        })
    }
}

/// Answers every message, with no state and no checks.
struct Relay {
    out: Output<FromAcceptor>,
}

impl Actor for Relay {
    type Context = Context<Self>;
}

impl Handler<ToAcceptor> for Relay {
    type Result = ();
    fn handle(&mut self, m: ToAcceptor, ctx: &mut Context<Self>) {
        if let ToAcceptor::Accept {
            ballot,
            slot,
            value,
        } = m
        {
            self.out.send(
                FromAcceptor::Accepted {
                    acceptor: 1,
                    ballot,
                    slot,
                    value,
                },
                ctx,
            );
        }
    }
}

impl Role for Relay {
    type Params = toml::Table;
    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<ToAcceptor>("in")
            .output::<FromAcceptor>("out");
    }
    fn build(_: &toml::Table, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Relay {
            out: io.output("out")?,
        })
    }
}

/// Counts replies.
struct Count;

impl Actor for Count {
    type Context = Context<Self>;
}

impl Handler<FromAcceptor> for Count {
    type Result = ();
    fn handle(&mut self, _: FromAcceptor, _: &mut Context<Self>) {
        SEEN.fetch_add(1, Ordering::Relaxed);
    }
}

impl Role for Count {
    type Params = toml::Table;
    fn ports(ports: &mut Ports<Self>) {
        ports.input::<FromAcceptor>("in");
    }
    fn build(_: &toml::Table, _: &mut Io) -> Result<Self, CreateError> {
        Ok(Count)
    }
}

/// Pushes `slots` batches through source → 3 relays → 2 counters:
/// `slots · (3 + 6)` messages. Returns messages/s.
async fn baseline(slots: u64, batch: usize, registry: Registry) -> Result<f64, String> {
    let text = format!(
        "[actors.source]\nkind = \"bench.paxos-source\"\nparams = {{ count = {slots}, batch = {batch} }}\n\
         [actors.r1]\nkind = \"bench.paxos-relay\"\n[actors.r2]\nkind = \"bench.paxos-relay\"\n\
         [actors.r3]\nkind = \"bench.paxos-relay\"\n\
         [actors.c1]\nkind = \"bench.paxos-count\"\n[actors.c2]\nkind = \"bench.paxos-count\"\n\
         [[wires]]\nfrom = \"source.out\"\nto = [\"r1.in\", \"r2.in\", \"r3.in\"]\n\
         [[wires]]\nfrom = \"r1.out\"\nto = [\"c1.in\", \"c2.in\"]\n\
         [[wires]]\nfrom = \"r2.out\"\nto = [\"c1.in\", \"c2.in\"]\n\
         [[wires]]\nfrom = \"r3.out\"\nto = [\"c1.in\", \"c2.in\"]\n"
    );
    let topology = load(&text, &registry)?;
    SEEN.store(0, Ordering::Relaxed);
    let start = Instant::now();
    super::run_loaded(topology, registry).await?;
    let elapsed = start.elapsed().as_secs_f64();
    let seen = SEEN.load(Ordering::Relaxed);
    if seen != slots * 6 {
        return Err(format!("baseline: {seen} of {} replies arrived", slots * 6));
    }
    Ok((slots * 9) as f64 / elapsed)
}

fn registry() -> Result<Registry, String> {
    let mut r = rolecall::default_registry();
    r.register::<Client>("bench.paxos-client")
        .and_then(|r| r.register::<Sink>("bench.paxos-sink"))
        .and_then(|r| r.register::<Source>("bench.paxos-source"))
        .and_then(|r| r.register::<Relay>("bench.paxos-relay"))
        .and_then(|r| r.register::<Count>("bench.paxos-count"))
        .map_err(|e| e.to_string())?;
    Ok(r)
}

/// Runs the suite: `commands` per in-process in-memory run (the fsync run a
/// tenth, the ZeroMQ loopback runs a quarter).
pub(super) fn run(commands: u64) -> Result<Report, String> {
    if let Ok(node) = std::env::var(NODE_ENV) {
        return acceptor_node(&node);
    }
    let system = System::new();
    system.block_on(async {
        let dir = tempfile_dir()?;
        let mut runs = Vec::new();
        runs.push(paxos_run(3, commands, None, false, registry()?).await?);
        runs.push(paxos_run(5, commands, None, false, registry()?).await?);
        let fsync_commands = (commands / 10).max(1000);
        runs.push(paxos_run(3, fsync_commands, Some(&dir), false, registry()?).await?);
        let loop_commands = (commands / 4).max(1000);
        runs.push(paxos_run(3, loop_commands, None, true, registry()?).await?);
        runs.push(paxos_run(5, loop_commands, None, true, registry()?).await?);
        let _ = std::fs::remove_dir_all(&dir);
        let three = &runs[0];
        // The same number of messages as the 3-acceptor run, 9 per batch.
        let slots = (three.messages / 9).max(1);
        let batch = ((three.commands / slots).max(1)) as usize;
        let msgs_per_s = baseline(slots, batch, registry()?).await?;
        let per_command = three.messages as f64 / three.commands as f64;
        let ceiling = msgs_per_s / per_command;
        Ok(Report {
            suite: "paxos",
            ratio: three.decided_per_s / ceiling,
            baseline_messages: slots * 9,
            baseline_msgs_per_s: msgs_per_s,
            baseline_commands_per_s: ceiling,
            runs,
        })
    })
}

/// A fresh directory for the fsync'd acceptors' logs.
fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("rolecall-bench-paxos-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Child mode of the loopback runs: run one acceptor node of the topology in
/// `TOPOLOGY_ENV`, then report nothing.
fn acceptor_node(node: &str) -> Result<Report, String> {
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
                suite: "paxos-acceptor-node",
                ratio: 0.0,
                runs: Vec::new(),
                baseline_messages: 0,
                baseline_msgs_per_s: 0.0,
                baseline_commands_per_s: 0.0,
            }),
            NodeExit::Failed(reason) => Err(reason),
        }
    })
}
