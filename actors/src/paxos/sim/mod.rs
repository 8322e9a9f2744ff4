//! A deterministic, seeded simulation of Paxos roles on a faulty network, and
//! the safety checker built on it.
//!
//! The roles are the real I/O-free state machines ([`Acceptor`] over a
//! [`MemStorage`] that survives crashes like a disk, [`Learner`], and any
//! proposer-like [`Driver`]); the network is a priority queue of timed events.
//! A [`Faults`] schedule delays (and so reorders), drops, duplicates,
//! partitions and crashes/restarts acceptors until `faults.until`; after that
//! the network is reliable. [`Report::check`] then asserts safety (no two
//! learners, and no proposer, ever disagree on a slot; learners never see a
//! conflicting quorum; a decided value was proposed) and liveness (everything
//! is learned by every learner within `bound` ms after the faults stop; for
//! Multi-Paxos: a gap-free log holding every submitted command).
//! Everything random comes from the run's seed, so a failing seed replays
//! exactly.

mod faults;
pub mod scenario;
mod trace;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub use faults::{Crash, Faults, Partition};
use trace::Trace;

use super::acceptor::Acceptor;
use super::learner::Learner;
use super::message::{Decided, FromAcceptor, ToAcceptor, Value};
use super::multi::Leader;
use super::proposer::{Action, Proposer};
use super::retry::{Millis, Retry};
use super::storage::MemStorage;

/// A node of the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeId {
    /// A proposer (or leader) by index.
    Proposer(usize),
    /// An acceptor by index (its protocol id is index + 1).
    Acceptor(usize),
    /// A learner by index.
    Learner(usize),
}

/// A proposer-like role the simulator drives: a single-decree [`Proposer`]
/// with its value, or a Multi-Paxos leader with its client's commands.
pub trait Driver: std::fmt::Debug {
    /// Called once at the proposer's start time.
    fn start(&mut self, now: Millis, out: &mut Vec<Action>);
    /// An acceptor's reply arrived.
    fn on_message(&mut self, msg: FromAcceptor, now: Millis, out: &mut Vec<Action>);
    /// Time passed.
    fn tick(&mut self, now: Millis, out: &mut Vec<Action>);
    /// When `tick` is wanted next.
    fn next_timer(&self) -> Option<Millis>;
    /// The values this driver may get decided (for the validity check).
    fn proposed(&self) -> Vec<Value>;
    /// Slots this driver needs decided before the run counts as live.
    fn slots(&self) -> u64 {
        1
    }
    /// Commands that must all end up in every learner's log (Multi-Paxos).
    fn commands(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A Multi-Paxos [`Leader`] whose client submits `commands` at start.
#[derive(Debug)]
pub struct MultiClient<R: Retry> {
    /// The leader.
    pub leader: Leader<R>,
    /// Its client's commands.
    pub commands: Vec<String>,
}

impl<R: Retry> Driver for MultiClient<R> {
    fn start(&mut self, now: Millis, out: &mut Vec<Action>) {
        // The queue is sized for them in the tests; a refusal would show as a liveness failure.
        let _ = self.leader.submit(self.commands.clone(), now, out);
    }
    fn on_message(&mut self, msg: FromAcceptor, now: Millis, out: &mut Vec<Action>) {
        self.leader.on_message(msg, now, out);
    }
    fn tick(&mut self, now: Millis, out: &mut Vec<Action>) {
        self.leader.tick(now, out);
    }
    fn next_timer(&self) -> Option<Millis> {
        self.leader.next_timer()
    }
    fn proposed(&self) -> Vec<Value> {
        vec![self.commands.clone()]
    }
    fn slots(&self) -> u64 {
        0
    }
    fn commands(&self) -> Vec<String> {
        self.commands.clone()
    }
}

/// A single-decree proposer and the value it proposes.
#[derive(Debug)]
pub struct SingleDecree<R: Retry> {
    /// The proposer.
    pub proposer: Proposer<R>,
    /// Its value.
    pub value: Value,
}

impl<R: Retry> Driver for SingleDecree<R> {
    fn start(&mut self, now: Millis, out: &mut Vec<Action>) {
        self.proposer.propose(self.value.clone(), now, out);
    }
    fn on_message(&mut self, msg: FromAcceptor, now: Millis, out: &mut Vec<Action>) {
        self.proposer.on_message(msg, now, out);
    }
    fn tick(&mut self, now: Millis, out: &mut Vec<Action>) {
        self.proposer.tick(now, out);
    }
    fn next_timer(&self) -> Option<Millis> {
        self.proposer.next_timer()
    }
    fn proposed(&self) -> Vec<Value> {
        vec![self.value.clone()]
    }
}

#[derive(Debug)]
enum Payload {
    ToAcceptor(ToAcceptor),
    FromAcceptor(FromAcceptor),
    Decided(Decided),
}

#[derive(Debug)]
enum Event {
    Start(usize),
    Tick(usize),
    Deliver { to: NodeId, payload: Payload },
    Crash(usize),
    Restart(usize),
    RestartProposer(usize),
}

/// What a run produced.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Per learner: slot → (value, time learned).
    pub learned: Vec<BTreeMap<u64, (Value, Millis)>>,
    /// Decisions proposers reported: (proposer, slot, value).
    pub proposer_decisions: Vec<(usize, u64, Value)>,
    /// Conflicting quorums seen by learners (0 unless safety is broken).
    pub conflicts: u64,
    /// Values proposed.
    pub proposed: Vec<Value>,
    /// Slots that must be learned.
    pub slots: u64,
    /// Commands that must be in every learner's log (Multi-Paxos).
    pub commands: Vec<String>,
    /// When faults stopped.
    pub faults_until: Millis,
    /// Messages sent (before faults).
    pub messages: u64,
    /// Time the run ended.
    pub ended: Millis,
    /// Events around the first safety violation (empty unless the run was
    /// [traced](Sim::traced)): the events before it, a `>>> first violation`
    /// line, the events after it.
    pub trace: Vec<String>,
    /// Index in `trace` of the `>>> first violation` line, if one occurred.
    pub trace_violation: Option<usize>,
}

/// What the checker found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// Two participants learned different values for one slot.
    #[error("seed {seed}: slot {slot} learned as {a:?} and as {b:?}")]
    Disagreement {
        /// Seed of the run.
        seed: u64,
        /// The slot.
        slot: u64,
        /// One value.
        a: Value,
        /// Another value.
        b: Value,
    },
    /// A learner saw a quorum for a different value than it had learned.
    #[error("seed {seed}: learners saw {conflicts} conflicting quorums")]
    Conflict {
        /// Seed of the run.
        seed: u64,
        /// How many.
        conflicts: u64,
    },
    /// A decided value was never proposed.
    #[error("seed {seed}: slot {slot} decided {value:?}, which nobody proposed")]
    Invalid {
        /// Seed of the run.
        seed: u64,
        /// The slot.
        slot: u64,
        /// The value.
        value: Value,
    },
    /// A learner had not learned every slot (single-decree) or every command
    /// in a gap-free log (Multi-Paxos) `bound` ms after faults stopped.
    #[error("seed {seed}: learner {learner} knows {known} of {slots} slots/commands {bound} ms after faults stopped at {until} ms")]
    NotLive {
        /// Seed of the run.
        seed: u64,
        /// The learner.
        learner: usize,
        /// Slots it learned.
        known: usize,
        /// Slots needed.
        slots: u64,
        /// The bound.
        bound: Millis,
        /// When faults stopped.
        until: Millis,
    },
}

impl Report {
    /// Checks safety, then liveness within `bound` ms after faults stopped.
    pub fn check(&self, bound: Millis) -> Result<(), Violation> {
        self.check_safety()?;
        self.check_liveness(bound)
    }

    /// Safety alone: no conflicting quorum, no disagreement, only proposed
    /// values decided.
    pub fn check_safety(&self) -> Result<(), Violation> {
        let seed = self.seed;
        if self.conflicts > 0 {
            return Err(Violation::Conflict {
                seed,
                conflicts: self.conflicts,
            });
        }
        let mut chosen: BTreeMap<u64, &Value> = BTreeMap::new();
        let all = self
            .learned
            .iter()
            .flat_map(|l| l.iter().map(|(s, (v, _))| (*s, v)))
            .chain(self.proposer_decisions.iter().map(|(_, s, v)| (*s, v)));
        for (slot, v) in all {
            match chosen.get(&slot) {
                Some(c) if *c != v => {
                    return Err(Violation::Disagreement {
                        seed,
                        slot,
                        a: (*c).clone(),
                        b: v.clone(),
                    })
                }
                Some(_) => {}
                None => {
                    chosen.insert(slot, v);
                }
            }
        }
        for (slot, v) in &chosen {
            let valid = v
                .iter()
                .all(|c| self.proposed.iter().any(|p| p.contains(c)) || c.is_empty());
            if !valid {
                return Err(Violation::Invalid {
                    seed,
                    slot: *slot,
                    value: (*v).clone(),
                });
            }
        }
        Ok(())
    }

    /// Liveness alone: everything learned within `bound` ms after faults stopped.
    pub fn check_liveness(&self, bound: Millis) -> Result<(), Violation> {
        let seed = self.seed;
        let deadline = self.faults_until + bound;
        for (i, l) in self.learned.iter().enumerate() {
            if !self.commands.is_empty() {
                // Multi-Paxos: a gap-free log holding every command.
                let in_time: Vec<&Value> = l
                    .values()
                    .filter(|(_, t)| *t <= deadline)
                    .map(|(v, _)| v)
                    .collect();
                let gap_free = l.keys().enumerate().all(|(k, s)| k as u64 == *s);
                let missing = self
                    .commands
                    .iter()
                    .filter(|c| !in_time.iter().any(|v| v.contains(c)))
                    .count();
                if !gap_free || missing > 0 {
                    return Err(Violation::NotLive {
                        seed,
                        learner: i,
                        known: self.commands.len() - missing,
                        slots: self.commands.len() as u64,
                        bound,
                        until: self.faults_until,
                    });
                }
                continue;
            }
            let known = (0..self.slots)
                .filter(|s| l.get(s).is_some_and(|(_, t)| *t <= deadline))
                .count();
            if (known as u64) < self.slots {
                return Err(Violation::NotLive {
                    seed,
                    learner: i,
                    known,
                    slots: self.slots,
                    bound,
                    until: self.faults_until,
                });
            }
        }
        Ok(())
    }
}

/// A simulated cluster.
#[derive(Debug)]
pub struct Sim {
    seed: u64,
    rng: SmallRng,
    now: Millis,
    seq: u64,
    faults: Faults,
    events: BinaryHeap<Reverse<(Millis, u64, usize)>>,
    slab: BTreeMap<usize, Event>,
    proposers: Vec<Box<dyn Driver>>,
    timers: Vec<Option<Millis>>,
    acceptors: Vec<Option<Acceptor<MemStorage>>>,
    disks: Vec<MemStorage>,
    learners: Vec<Learner>,
    report: Report,
    /// Something was learned since the last completeness check.
    fresh: bool,
    /// Builds a fresh incarnation of proposer `i` (for proposer restarts).
    factory: Option<Factory>,
    /// Event record for the replay tool (off in sweeps: it costs).
    trace: Option<Trace>,
    /// Per proposer: its current life (0 until restarted).
    incarnations: Vec<u64>,
}

/// Builds a fresh incarnation of proposer `i`.
struct Factory(Box<dyn Fn(usize, u64) -> Box<dyn Driver>>);

impl std::fmt::Debug for Factory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Factory")
    }
}

impl Sim {
    /// A cluster of `proposers` (started at random times in the first 50 ms),
    /// `acceptors` acceptors and `learners` learners under `faults`.
    pub fn new(
        seed: u64,
        proposers: Vec<Box<dyn Driver>>,
        acceptors: usize,
        learners: usize,
        faults: Faults,
    ) -> Self {
        let mut sim = Sim {
            seed,
            rng: SmallRng::seed_from_u64(seed),
            now: 0,
            seq: 0,
            events: BinaryHeap::new(),
            slab: BTreeMap::new(),
            timers: vec![None; proposers.len()],
            acceptors: (0..acceptors)
                .map(|i| Acceptor::recover(i as u32 + 1, MemStorage::new()).ok())
                .collect(),
            disks: vec![MemStorage::new(); acceptors],
            learners: (0..learners).map(|_| Learner::new(acceptors)).collect(),
            fresh: true,
            factory: None,
            trace: None,
            incarnations: vec![0; proposers.len()],
            report: Report {
                seed,
                learned: vec![BTreeMap::new(); learners],
                proposed: proposers.iter().flat_map(|p| p.proposed()).collect(),
                slots: proposers.iter().map(|p| p.slots()).max().unwrap_or(0),
                commands: proposers.iter().flat_map(|p| p.commands()).collect(),
                faults_until: faults.until,
                ..Report::default()
            },
            proposers,
            faults,
        };
        for p in 0..sim.proposers.len() {
            let at = sim.rng.random_range(0..50);
            sim.schedule(at, Event::Start(p));
        }
        for c in sim.faults.crashes.clone() {
            sim.schedule(c.at, Event::Crash(c.acceptor));
            sim.schedule(c.restart, Event::Restart(c.acceptor));
        }
        sim
    }

    /// Enables the schedule's proposer restarts: `factory(i, incarnation)`
    /// builds a fresh, memoryless incarnation of proposer `i` (same id, same
    /// value or commands), started at the restart instant. `incarnation`
    /// counts the lives of proposer `i` (its first life is 0); it stands for
    /// the fresh identity a real restarted process draws (see `Ballot`).
    pub fn restart_proposers_with(
        mut self,
        factory: impl Fn(usize, u64) -> Box<dyn Driver> + 'static,
    ) -> Self {
        for (p, at) in self.faults.proposer_restarts.clone() {
            if p < self.proposers.len() {
                self.schedule(at, Event::RestartProposer(p));
            }
        }
        self.factory = Some(Factory(Box::new(factory)));
        self
    }

    /// Records the events of the run: the last `before` ones before the
    /// first safety violation, and `after` ones after it, in
    /// [`Report::trace`]. Slower; for replaying one seed.
    pub fn traced(mut self, before: usize, after: usize) -> Self {
        self.trace = Some(Trace::new(before, after));
        self
    }

    /// When the faults of this run stop.
    pub fn faults_until(&self) -> Millis {
        self.faults.until
    }

    /// The number of acceptors.
    pub fn acceptors(&self) -> usize {
        self.acceptors.len()
    }

    /// The fault schedule.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    fn schedule(&mut self, at: Millis, e: Event) {
        self.seq += 1;
        let id = self.seq as usize;
        self.slab.insert(id, e);
        self.events.push(Reverse((at, self.seq, id)));
    }

    fn send(&mut self, from: NodeId, to: NodeId, payload: Payload) {
        self.report.messages += 1;
        let now = self.now;
        if now >= self.faults.until {
            let d = self.rng.random_range(1..=5);
            self.schedule(now + d, Event::Deliver { to, payload });
            return;
        }
        if self.faults.cut(from, to, now) || self.rng.random_bool(self.faults.drop) {
            return;
        }
        let (lo, hi) = self.faults.delay;
        let copies = if self.rng.random_bool(self.faults.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let d = self.rng.random_range(lo..=hi.max(lo));
            let payload = match &payload {
                Payload::ToAcceptor(m) => Payload::ToAcceptor(m.clone()),
                Payload::FromAcceptor(m) => Payload::FromAcceptor(m.clone()),
                Payload::Decided(m) => Payload::Decided(m.clone()),
            };
            self.schedule(now + d, Event::Deliver { to, payload });
        }
    }

    fn proposer_actions(&mut self, p: usize, actions: Vec<Action>) {
        let from = NodeId::Proposer(p);
        for a in actions {
            match a {
                Action::Send(m) => {
                    for i in 0..self.acceptors.len() {
                        self.send(from, NodeId::Acceptor(i), Payload::ToAcceptor(m.clone()));
                    }
                }
                Action::Decided(d) => {
                    if !self
                        .report
                        .proposer_decisions
                        .iter()
                        .any(|(q, s, _)| *q == p && *s == d.slot)
                    {
                        self.report
                            .proposer_decisions
                            .push((p, d.slot, d.value.clone()));
                    }
                    for l in 0..self.learners.len() {
                        self.send(from, NodeId::Learner(l), Payload::Decided(d.clone()));
                    }
                }
            }
        }
        let next = self.proposers[p].next_timer();
        if next.is_some() && next != self.timers[p] {
            self.timers[p] = next;
            let at = next.unwrap_or(self.now).max(self.now);
            self.schedule(at, Event::Tick(p));
        }
    }

    fn learned(&mut self, l: usize, d: Option<Decided>) {
        if let Some(d) = d {
            self.fresh = true;
            self.report.learned[l].insert(d.slot, (d.value, self.now));
        }
    }

    fn step(&mut self, e: Event) {
        let mut out = Vec::new();
        match e {
            Event::Start(p) => {
                self.proposers[p].start(self.now, &mut out);
                self.proposer_actions(p, out);
            }
            Event::RestartProposer(p) => {
                if let Some(f) = &self.factory {
                    self.incarnations[p] += 1;
                    self.proposers[p] = (f.0)(p, self.incarnations[p]);
                    self.timers[p] = None;
                    self.proposers[p].start(self.now, &mut out);
                    self.proposer_actions(p, out);
                }
            }
            Event::Tick(p) => {
                if self.timers[p].is_some_and(|t| t <= self.now) {
                    self.timers[p] = None;
                }
                self.proposers[p].tick(self.now, &mut out);
                self.proposer_actions(p, out);
            }
            Event::Crash(a) => {
                if let Some(acc) = self.acceptors[a].take() {
                    self.disks[a] = acc.storage().clone();
                }
            }
            Event::Restart(a) => {
                if self.acceptors[a].is_none() {
                    let disk = if self.faults.amnesia {
                        MemStorage::new()
                    } else {
                        self.disks[a].clone()
                    };
                    self.acceptors[a] = Acceptor::recover(a as u32 + 1, disk).ok();
                }
            }
            Event::Deliver { to, payload } => match (to, payload) {
                (NodeId::Acceptor(a), Payload::ToAcceptor(m)) => {
                    let Some(acc) = self.acceptors[a].as_mut() else {
                        return; // crashed: lost
                    };
                    let Ok(reply) = acc.handle(m) else { return };
                    let from = NodeId::Acceptor(a);
                    if matches!(reply, FromAcceptor::Accepted { .. }) {
                        for l in 0..self.learners.len() {
                            self.send(
                                from,
                                NodeId::Learner(l),
                                Payload::FromAcceptor(reply.clone()),
                            );
                        }
                    }
                    for p in 0..self.proposers.len() {
                        self.send(
                            from,
                            NodeId::Proposer(p),
                            Payload::FromAcceptor(reply.clone()),
                        );
                    }
                }
                (NodeId::Proposer(p), Payload::FromAcceptor(m)) => {
                    self.proposers[p].on_message(m, self.now, &mut out);
                    self.proposer_actions(p, out);
                }
                (NodeId::Learner(l), Payload::FromAcceptor(m)) => {
                    let d = self.learners[l].on_message(m);
                    self.learned(l, d);
                }
                (NodeId::Learner(l), Payload::Decided(d)) => {
                    let d = self.learners[l].on_decided(d);
                    self.learned(l, d);
                }
                _ => {}
            },
        }
    }

    fn all_learned(&self) -> bool {
        if !self.report.commands.is_empty() {
            return self.report.learned.iter().all(|l| {
                l.keys().enumerate().all(|(k, s)| k as u64 == *s)
                    && self
                        .report
                        .commands
                        .iter()
                        .all(|c| l.values().any(|(v, _)| v.contains(c)))
            });
        }
        let slots = self.report.slots;
        self.report
            .learned
            .iter()
            .all(|l| (0..slots).all(|s| l.contains_key(&s)))
    }

    /// With a trace: marks the first event after which safety is broken.
    fn watch(&mut self) {
        if self.trace.as_ref().is_none_or(|t| t.violated()) {
            return;
        }
        self.report.conflicts = self.learners.iter().map(Learner::conflicts).sum();
        if let Err(v) = self.report.check_safety() {
            if let Some(t) = self.trace.as_mut() {
                t.mark(v.to_string());
            }
        }
    }

    /// Runs until every learner learned every slot after the faults stopped,
    /// or until `limit` ms; returns the report to check.
    pub fn run(mut self, limit: Millis) -> Report {
        while let Some(Reverse((at, _, id))) = self.events.pop() {
            if at > limit {
                break;
            }
            self.now = at;
            if let Some(e) = self.slab.remove(&id) {
                if let Some(t) = self.trace.as_mut().filter(|t| t.recording()) {
                    t.push(format!("{at:>6} ms  {}", trace::describe(&e)));
                }
                self.step(e);
                self.watch();
            }
            if self.now >= self.faults.until
                && std::mem::take(&mut self.fresh)
                && self.all_learned()
            {
                break;
            }
        }
        self.report.ended = self.now;
        self.report.conflicts = self.learners.iter().map(Learner::conflicts).sum();
        self.report.seed = self.seed;
        if let Some(t) = self.trace.take() {
            (self.report.trace, self.report.trace_violation) = t.into_parts();
        }
        self.report
    }
}
