//! The actor kinds: thin wrappers that feed wired messages and timers into
//! the state machines and send what they return.
//!
//! | kind | inputs | outputs |
//! |---|---|---|
//! | `paxos.acceptor` | `in`: [`ToAcceptor`] | `out`: [`FromAcceptor`] |
//! | `paxos.proposer` | `in`: [`FromAcceptor`], `propose`: [`Propose`] | `out`: [`ToAcceptor`], `decided`: [`Decided`] |
//! | `paxos.learner` | `in`: [`FromAcceptor`], `announce`: [`Decided`] | `out`: [`Decided`] (in slot order) |
//!
//! Outputs fan out over wires, so "send to every acceptor" is one wire from
//! `proposer.out` to every `acceptor.in`, and replies reach every proposer and
//! learner the same way; each proposer ignores replies to other ballots.

use std::time::{Duration, Instant};

use actix::prelude::*;
use rolecall_runtime::kind::{Console, Crash, CreateError, Io, ParamCheck, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::Deserialize;

use super::acceptor::Acceptor as AcceptorMachine;
use super::alarm::{default_announce, default_timeout, since, Alarm};
use super::learner::Learner as LearnerMachine;
use super::message::{Decided, FromAcceptor, Propose, ToAcceptor};
use super::proposer::{Action, Config, Proposer as ProposerMachine};
use super::retry::{Millis, RandomBackoff, Strategy};
use super::storage::{AnyStorage, FileStorage, MemStorage};

// ---------------------------------------------------------------- acceptor

/// Parameters of `paxos.acceptor`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptorParams {
    /// Acceptor id (≥ 1, unique among the acceptors).
    pub id: u32,
    /// Path of the fsync'd log. Without it the state is in memory: fast, but a
    /// restarted acceptor forgets its promises, and Paxos loses its safety
    /// guarantee if that happens to a quorum.
    #[serde(default)]
    pub path: Option<String>,
}

/// The acceptor kind: persists before replying; replies to a batch of
/// messages share one fsync.
#[derive(Debug)]
pub struct AcceptorRole {
    machine: AcceptorMachine<AnyStorage>,
    out: Output<FromAcceptor>,
    inbox: Vec<ToAcceptor>,
    replies: Vec<FromAcceptor>,
    crash: Crash,
}

/// Asks the acceptor to persist and answer what it has collected.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Flush;

impl Actor for AcceptorRole {
    type Context = Context<Self>;
}

impl Handler<ToAcceptor> for AcceptorRole {
    type Result = ();
    fn handle(&mut self, msg: ToAcceptor, ctx: &mut Context<Self>) {
        if self.inbox.is_empty() {
            ctx.notify(Flush);
        }
        self.inbox.push(msg);
    }
}

impl Handler<Flush> for AcceptorRole {
    type Result = ();
    fn handle(&mut self, _: Flush, ctx: &mut Context<Self>) {
        let batch = std::mem::take(&mut self.inbox);
        if let Err(e) = self.machine.handle_batch(batch, &mut self.replies) {
            // Memory may now be ahead of the disk: crash on purpose, so the
            // supervisor restarts this acceptor and it recovers from the log.
            // Nothing of the batch was answered.
            let reason = format!("acceptor storage failed, crashing to recover: {e}");
            return self.crash.now(ctx, reason);
        }
        for r in self.replies.drain(..) {
            self.out.send(r, ctx);
        }
    }
}

impl Role for AcceptorRole {
    type Params = AcceptorParams;
    const ABOUT: &'static str =
        "Paxos acceptor: promises and accepts, persisting (`path`: fsync'd log) before replying";
    const REACTIVE: bool = true;
    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<ToAcceptor>("in")
            .output::<FromAcceptor>("out");
    }
    fn build(p: &AcceptorParams, io: &mut Io) -> Result<Self, CreateError> {
        let storage = match &p.path {
            Some(path) => AnyStorage::File(FileStorage::open(path)?),
            None => AnyStorage::Mem(MemStorage::new()),
        };
        let machine = AcceptorMachine::recover(p.id, storage)?;
        tracing::info!(
            actor = io.actor_name(),
            promised = %machine.promised(),
            durable = p.path.is_some(),
            "acceptor recovered"
        );
        Ok(AcceptorRole {
            machine,
            out: io.output("out")?,
            inbox: Vec::new(),
            replies: Vec::new(),
            crash: io.crash(),
        })
    }
}

// ---------------------------------------------------------------- proposer

/// Parameters of `paxos.proposer` (and of a student's proposer with another
/// [`Strategy`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposerParams<P> {
    /// Proposer id (≥ 1, unique among proposers): the low part of its ballots.
    pub id: u32,
    /// Number of acceptors (a quorum is a majority).
    pub acceptors: usize,
    /// A value to propose at start (otherwise wait for `propose`).
    #[serde(default)]
    pub value: Option<String>,
    /// Milliseconds before the proposal starts (default 0).
    #[serde(default)]
    pub start_ms: Millis,
    /// Milliseconds a phase waits for a quorum (default 100).
    #[serde(default = "default_timeout")]
    pub timeout_ms: Millis,
    /// Re-announce period of a decision (default 200).
    #[serde(default = "default_announce")]
    pub announce_ms: Millis,
    /// Seed of the retry randomness (default 0; mixed with `id`).
    #[serde(default)]
    pub seed: u64,
    /// The retry strategy's parameters.
    #[serde(default)]
    pub retry: P,
}

/// The single-decree proposer kind, generic over its retry [`Strategy`]
/// (`paxos.proposer` is `ProposerRole<RandomBackoff>`).
#[derive(Debug)]
pub struct ProposerRole<S: Strategy = RandomBackoff> {
    name: String,
    machine: ProposerMachine<S>,
    start: Instant,
    first: Option<(Millis, String)>,
    out: Output<ToAcceptor>,
    decided: Output<Decided>,
    reported: bool,
    alarm: Alarm,
    console: Console,
}

impl<S: Strategy> ProposerRole<S> {
    fn act(&mut self, actions: Vec<Action>, ctx: &mut Context<Self>) {
        for a in actions {
            match a {
                Action::Send(m) => {
                    if let ToAcceptor::Prepare { ballot, .. } = &m {
                        tracing::info!(proposer = %self.name, %ballot, "prepare");
                    }
                    self.out.send(m, ctx);
                }
                Action::Decided(d) => {
                    if !self.reported {
                        self.reported = true;
                        self.console.line(format_args!(
                            "proposer {}: decided {:?} with ballot {} after {} attempt(s)",
                            self.name,
                            d.value.join(" "),
                            self.machine.ballot(),
                            self.machine.attempts()
                        ));
                    }
                    self.decided.send(d, ctx);
                }
            }
        }
        self.arm(ctx);
    }

    fn arm(&mut self, ctx: &mut Context<Self>) {
        let next = self.machine.next_timer();
        self.alarm.set(next, self.start, ctx, |act, ctx| {
            let mut out = Vec::new();
            act.machine.tick(since(act.start), &mut out);
            act.act(out, ctx);
        });
    }
}

impl<S: Strategy> AsMut<Alarm> for ProposerRole<S> {
    fn as_mut(&mut self) -> &mut Alarm {
        &mut self.alarm
    }
}

impl<S: Strategy> Actor for ProposerRole<S> {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some((delay, value)) = self.first.take() {
            ctx.run_later(Duration::from_millis(delay), move |act, ctx| {
                let mut out = Vec::new();
                act.machine.propose(vec![value], since(act.start), &mut out);
                act.act(out, ctx);
            });
        }
    }
}

impl<S: Strategy> Handler<FromAcceptor> for ProposerRole<S> {
    type Result = ();
    fn handle(&mut self, msg: FromAcceptor, ctx: &mut Context<Self>) {
        let mut out = Vec::new();
        self.machine.on_message(msg, since(self.start), &mut out);
        self.act(out, ctx);
    }
}

impl<S: Strategy> Handler<Propose> for ProposerRole<S> {
    type Result = ();
    fn handle(&mut self, msg: Propose, ctx: &mut Context<Self>) {
        let mut out = Vec::new();
        self.machine
            .propose(msg.commands, since(self.start), &mut out);
        self.act(out, ctx);
    }
}

impl<S: Strategy> Role for ProposerRole<S> {
    type Params = ProposerParams<S::Params>;
    const ABOUT: &'static str =
        "Paxos single-decree proposer: prepare/accept with timeouts and randomized retries";
    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<FromAcceptor>("in")
            .input::<Propose>("propose")
            .output::<ToAcceptor>("out")
            .output::<Decided>("decided");
    }
    fn check(p: &Self::Params, check: &mut ParamCheck) {
        at_least_one(check, &[("id", p.id as usize), ("acceptors", p.acceptors)]);
    }
    fn build(p: &Self::Params, io: &mut Io) -> Result<Self, CreateError> {
        if p.id == 0 || p.acceptors == 0 {
            return Err("`id` and `acceptors` must be at least 1".into());
        }
        let config = Config {
            id: p.id,
            acceptors: p.acceptors,
            timeout: p.timeout_ms,
            announce: p.announce_ms,
            seed: p.seed,
            // A fresh life on every (re)start: see `Ballot`.
            incarnation: rand::random(),
        };
        Ok(ProposerRole {
            name: io.actor_name().to_owned(),
            machine: ProposerMachine::with_retry(config, S::from_params(&p.retry)),
            start: Instant::now(),
            first: p.value.clone().map(|v| (p.start_ms, v)),
            out: io.output("out")?,
            decided: io.output("decided")?,
            reported: false,
            alarm: Alarm::default(),
            console: io.console(),
        })
    }
}

// ---------------------------------------------------------------- learner

/// Parameters of `paxos.learner`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnerParams {
    /// Number of acceptors (a quorum is a majority).
    pub acceptors: usize,
    /// Stop after learning this many slots (default: never).
    #[serde(default)]
    pub exit_after: Option<u64>,
    /// Print each learned slot (default true).
    #[serde(default = "default_true")]
    pub print: bool,
}

fn default_true() -> bool {
    true
}

/// The learner kind: counts `Accepted` from a quorum (or takes a proposer's
/// announcement) and emits decisions in slot order.
#[derive(Debug)]
pub struct LearnerRole {
    name: String,
    params: LearnerParams,
    machine: LearnerMachine,
    out: Output<Decided>,
    console: Console,
}

impl LearnerRole {
    fn emit(&mut self, ctx: &mut Context<Self>) {
        while let Some((slot, value)) = self.machine.next_in_order() {
            if self.params.print {
                self.console.line(format_args!(
                    "learner {}: slot {slot} = {:?}",
                    self.name,
                    value.join(" ")
                ));
            }
            let d = Decided {
                slot,
                value: value.clone(),
            };
            self.out.send(d, ctx);
        }
        if self
            .params
            .exit_after
            .is_some_and(|n| self.machine.applied() >= n)
        {
            ctx.stop();
        }
    }
}

impl Actor for LearnerRole {
    type Context = Context<Self>;
}

impl Handler<FromAcceptor> for LearnerRole {
    type Result = ();
    fn handle(&mut self, msg: FromAcceptor, ctx: &mut Context<Self>) {
        if self.machine.on_message(msg).is_some() {
            self.emit(ctx);
        }
    }
}

impl Handler<Decided> for LearnerRole {
    type Result = ();
    fn handle(&mut self, msg: Decided, ctx: &mut Context<Self>) {
        if self.machine.on_decided(msg).is_some() {
            self.emit(ctx);
        }
    }
}

impl Role for LearnerRole {
    type Params = LearnerParams;
    const ABOUT: &'static str =
        "Paxos learner: learns a slot once a quorum accepted it; emits decisions in slot order";
    const REACTIVE: bool = true;
    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<FromAcceptor>("in")
            .input::<Decided>("announce")
            .output::<Decided>("out");
    }
    fn check(p: &LearnerParams, check: &mut ParamCheck) {
        at_least_one(check, &[("acceptors", p.acceptors)]);
    }
    fn build(p: &LearnerParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(LearnerRole {
            name: io.actor_name().to_owned(),
            params: p.clone(),
            machine: LearnerMachine::new(p.acceptors),
            out: io.output("out")?,
            console: io.console(),
        })
    }
}

/// Reports each of `counts` (parameter, value) that is zero.
pub(crate) fn at_least_one(check: &mut ParamCheck, counts: &[(&str, usize)]) {
    for (key, value) in counts {
        if *value == 0 {
            check.error(key, "must be at least 1");
        }
    }
}
