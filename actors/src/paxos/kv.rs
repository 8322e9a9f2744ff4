//! A replicated key-value store on Multi-Paxos: `paxos.leader` (the
//! [`Leader`](super::multi::Leader) as an actor), `paxos.kv` (applies the
//! decided log in order) and `paxos.kv-client` (sends commands).
//!
//! Commands are text, `ID set KEY VALUE` or `ID del KEY`. The log delivers a
//! command at least once (a deposed leader's commands may be decided again),
//! so the store applies each `ID` once.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use actix::prelude::*;
use rolecall_runtime::kind::{Console, CreateError, Io, ParamCheck, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::Deserialize;

use super::alarm::{default_announce, default_timeout, since, Alarm};
use super::message::{Decided, FromAcceptor, Propose, ToAcceptor};
use super::multi::{Leader as LeaderMachine, LeaderConfig};
use super::proposer::Action;
use super::retry::Millis;

/// Parameters of `paxos.leader`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaderParams {
    /// Proposer id (≥ 1).
    pub id: u32,
    /// Number of acceptors.
    pub acceptors: usize,
    /// Most commands per slot (default 64).
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Most slots in flight (default 16).
    #[serde(default = "default_window")]
    pub window: usize,
    /// Resend / election timeout in ms (default 100).
    #[serde(default = "default_timeout")]
    pub timeout_ms: Millis,
    /// Re-announce period in ms (default 200; 0: never).
    #[serde(default = "default_announce")]
    pub announce_ms: Millis,
    /// Seed of the retry randomness (default 0, mixed with `id`).
    #[serde(default)]
    pub seed: u64,
}

fn default_batch() -> usize {
    64
}
fn default_window() -> usize {
    16
}

/// The Multi-Paxos leader kind.
#[derive(Debug)]
pub struct Leader {
    machine: LeaderMachine,
    start: Instant,
    out: Output<ToAcceptor>,
    decided: Output<Decided>,
    alarm: Alarm,
    refused: u64,
    /// A [`FlushProposals`] is on its way: commands proposed since are
    /// queued in the machine, their slots not yet started.
    flush_queued: bool,
}

/// Starts slots for the commands proposed since the last flush. Sent to
/// itself by the first `Propose` after a flush, it runs once the wire's
/// inlet has handled what the wire held: a burst of proposals shares slots
/// instead of taking one each.
#[derive(Message)]
#[rtype(result = "()")]
struct FlushProposals;

impl Leader {
    fn act(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        for a in actions {
            match a {
                Action::Send(m) => {
                    self.out.send(m, ctx);
                }
                Action::Decided(d) => {
                    self.decided.send(d, ctx);
                }
            }
        }
        let next = self.machine.next_timer();
        self.alarm.set(next, self.start, ctx, |act, ctx| {
            let mut out = Vec::new();
            act.machine.tick(since(act.start), &mut out);
            act.act(out, ctx);
        });
    }
}

impl AsMut<Alarm> for Leader {
    fn as_mut(&mut self) -> &mut Alarm {
        &mut self.alarm
    }
}

impl Actor for Leader {
    type Context = Context<Self>;
}

impl Handler<FromAcceptor> for Leader {
    type Result = ();
    fn handle(&mut self, msg: FromAcceptor, ctx: &mut Context<Self>) {
        let mut out = Vec::new();
        self.machine.on_message(msg, since(self.start), &mut out);
        self.act(out, ctx);
    }
}

impl Handler<Propose> for Leader {
    type Result = ();
    fn handle(&mut self, msg: Propose, ctx: &mut Context<Self>) {
        let mut out = Vec::new();
        if let Err(full) = self
            .machine
            .enqueue(msg.commands, since(self.start), &mut out)
        {
            self.refused += full.0.len() as u64;
            tracing::warn!(refused = self.refused, "{full}");
        }
        if !self.flush_queued {
            self.flush_queued = true;
            ctx.notify(FlushProposals);
        }
        self.act(out, ctx);
    }
}

impl Handler<FlushProposals> for Leader {
    type Result = ();
    fn handle(&mut self, _: FlushProposals, ctx: &mut Context<Self>) {
        self.flush_queued = false;
        let mut out = Vec::new();
        self.machine.flush(since(self.start), &mut out);
        self.act(out, ctx);
    }
}

impl Role for Leader {
    type Params = LeaderParams;
    const ABOUT: &'static str =
        "Multi-Paxos leader: one phase 1 per leadership, batched and pipelined log, no-op gap filling";
    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<FromAcceptor>("in")
            .input::<Propose>("propose")
            .output::<ToAcceptor>("out")
            .output::<Decided>("decided");
    }
    fn check(p: &LeaderParams, check: &mut ParamCheck) {
        let counts = [
            ("id", p.id as usize),
            ("acceptors", p.acceptors),
            ("batch", p.batch),
            ("window", p.window),
        ];
        super::role::at_least_one(check, &counts);
    }
    fn build(p: &LeaderParams, io: &mut Io) -> Result<Self, CreateError> {
        if p.id == 0 || p.acceptors == 0 || p.batch == 0 || p.window == 0 {
            return Err("`id`, `acceptors`, `batch` and `window` must be at least 1".into());
        }
        let mut config = LeaderConfig::new(p.id, p.acceptors, p.seed);
        config.batch = p.batch;
        config.window = p.window;
        config.timeout = p.timeout_ms;
        config.announce = p.announce_ms;
        // A fresh life on every (re)start: see `Ballot`.
        config.incarnation = rand::random();
        Ok(Leader {
            machine: LeaderMachine::new(config),
            start: Instant::now(),
            out: io.output("out")?,
            decided: io.output("decided")?,
            alarm: Alarm::default(),
            refused: 0,
            flush_queued: false,
        })
    }
}

/// Parameters of `paxos.kv`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvParams {
    /// Stop after applying this many distinct commands (default: never).
    #[serde(default)]
    pub exit_after: Option<u64>,
}

/// The store: applies decided slots in order, each command id once.
#[derive(Debug)]
pub struct Kv {
    params: KvParams,
    data: BTreeMap<String, String>,
    seen: HashSet<String>,
    applied: u64,
    duplicates: u64,
    noops: u64,
    next_slot: u64,
    console: Console,
}

impl Kv {
    /// Applies one command; returns false for a repeated id.
    fn apply(&mut self, command: &str) -> bool {
        let mut w = command.split_whitespace();
        let Some(id) = w.next() else { return false };
        if !self.seen.insert(id.to_owned()) {
            self.duplicates += 1;
            return false;
        }
        match (w.next(), w.next(), w.next()) {
            (Some("set"), Some(k), Some(v)) => {
                self.data.insert(k.to_owned(), v.to_owned());
            }
            (Some("del"), Some(k), None) => {
                self.data.remove(k);
            }
            _ => tracing::warn!(command, "not `ID set KEY VALUE` or `ID del KEY`: ignored"),
        }
        self.applied += 1;
        true
    }
}

impl Actor for Kv {
    type Context = Context<Self>;
}

impl Handler<Decided> for Kv {
    type Result = ();
    fn handle(&mut self, d: Decided, ctx: &mut Context<Self>) {
        if d.slot != self.next_slot {
            tracing::warn!(
                slot = d.slot,
                expected = self.next_slot,
                "slot out of order: ignored"
            );
            return;
        }
        self.next_slot += 1;
        if d.value.is_empty() {
            self.noops += 1;
        }
        for c in &d.value {
            self.apply(c);
        }
        if self.params.exit_after.is_some_and(|n| self.applied >= n) {
            self.console.line(format_args!(
                "kv: applied {} commands from {} slots ({} no-ops, {} repeated commands skipped)",
                self.applied, self.next_slot, self.noops, self.duplicates
            ));
            for (k, v) in &self.data {
                self.console.line(format_args!("kv: {k} = {v}"));
            }
            ctx.stop();
        }
    }
}

impl Role for Kv {
    type Params = KvParams;
    const ABOUT: &'static str =
        "replicated key-value store: applies the decided log in slot order, each command id once";
    fn ports(ports: &mut Ports<Self>) {
        ports.input::<Decided>("in");
    }
    fn build(p: &KvParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Kv {
            params: p.clone(),
            data: BTreeMap::new(),
            seen: HashSet::new(),
            applied: 0,
            duplicates: 0,
            noops: 0,
            next_slot: 0,
            console: io.console(),
        })
    }
}

/// Parameters of `paxos.kv-client`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientParams {
    /// Commands to send (default 100).
    #[serde(default = "default_count")]
    pub count: u64,
    /// Distinct keys written (default 5).
    #[serde(default = "default_keys")]
    pub keys: u64,
    /// Milliseconds between commands (default 1; 0: as fast as the wire takes them).
    #[serde(default = "default_interval")]
    pub interval_ms: u64,
}

fn default_count() -> u64 {
    100
}
fn default_keys() -> u64 {
    5
}
fn default_interval() -> u64 {
    1
}

/// Sends `count` commands `cN set keyK vN`, then stops.
#[derive(Debug)]
pub struct Client {
    params: ClientParams,
    out: Output<Propose>,
    sent: u64,
}

impl Client {
    fn next(&mut self, ctx: &mut Context<Self>) {
        if self.sent >= self.params.count {
            ctx.stop();
            return;
        }
        let i = self.sent;
        self.sent += 1;
        let cmd = format!("c{i} set key{} v{i}", i % self.params.keys.max(1));
        self.out.send(
            Propose {
                commands: vec![cmd],
            },
            ctx,
        );
        ctx.run_later(
            Duration::from_millis(self.params.interval_ms),
            |act, ctx| act.next(ctx),
        );
    }
}

impl Actor for Client {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.next(ctx);
    }
}

impl Role for Client {
    type Params = ClientParams;
    const ABOUT: &'static str = "key-value client: sends `count` set commands, then stops";
    fn ports(ports: &mut Ports<Self>) {
        ports.output::<Propose>("out");
    }
    fn build(p: &ClientParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Client {
            params: p.clone(),
            out: io.output("out")?,
            sent: 0,
        })
    }
}
