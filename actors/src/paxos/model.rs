//! The Paxos roles under the model checker ([`crate::model`]): the real
//! [`Proposer`], [`Leader`], [`Acceptor`] and [`Learner`] state machines
//! wrapped in one [`Node`] enum that implements [`Role`], wired as in
//! `examples/paxos_single` (proposers to every acceptor; acceptors tell
//! every learner their `Accepted`; a proposer that decided tells every
//! learner), and the properties to check: agreement and validity, for
//! single-decree and Multi-Paxos. One reduction: an acceptor answers only the
//! proposer that asked (in the topology every proposer gets every answer, and
//! ignores those for ballots not its own).
//!
//! Time: a proposer's clock only moves when its timer fires (to the deadline
//! it asked for); the checker lets the timer fire at any point of a run, so
//! every timing is covered. Acceptors keep their storage across a restart
//! ([`MemStorage`] standing for a disk), unless the [`Bug::Amnesia`] seed is on.

use std::collections::BTreeMap;
use std::hash::Hasher;

use super::acceptor::Acceptor;
use super::learner::Learner;
use super::message::{Decided, FromAcceptor, ToAcceptor, Value};
use super::multi::{Leader, LeaderConfig};
use super::proposer::{Action, Config, Proposer};
use super::retry::{Millis, Retry};
use super::sim::Report;
use super::storage::MemStorage;
use crate::model::{hash_debug, Budget, Model, Outbox, Property, Role, State};

/// A message between Paxos roles.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Msg {
    /// Proposer to acceptor.
    ToAcceptor(ToAcceptor),
    /// Acceptor to proposer or learner.
    FromAcceptor(FromAcceptor),
    /// Proposer to learner.
    Decided(Decided),
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::ToAcceptor(m) => m.fmt(f),
            Msg::FromAcceptor(m) => m.fmt(f),
            Msg::Decided(m) => m.fmt(f),
        }
    }
}

/// A bug seeded on purpose, to see the checker find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// Proposers take one acceptor out of three for a quorum.
    QuorumOfOne,
    /// A restarted acceptor forgets its promises and accepted values.
    Amnesia,
}

/// The configuration to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// Proposers (single-decree) or leaders (Multi-Paxos).
    pub proposers: usize,
    /// Acceptors.
    pub acceptors: usize,
    /// Learners.
    pub learners: usize,
    /// Commands each leader submits (Multi-Paxos; one slot each).
    pub commands: usize,
    /// Faults and timer firings allowed.
    pub budget: Budget,
    /// A seeded bug, if any.
    pub bug: Option<Bug>,
    /// Also check liveness: every learner has learned (every slot) in every
    /// state where nothing is left to happen.
    pub liveness: bool,
}

impl Default for Setup {
    /// 2 proposers, 3 acceptors, 1 learner, 1 command per leader; one drop,
    /// one duplicate, one acceptor restart and two timer firings.
    fn default() -> Self {
        Setup {
            proposers: 2,
            acceptors: 3,
            learners: 1,
            commands: 1,
            budget: Budget {
                drops: 1,
                duplicates: 1,
                restarts: 1,
                timers: 2,
            },
            bug: None,
            liveness: false,
        }
    }
}

/// Who is where: proposers first, then acceptors, then learners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    proposers: usize,
    acceptors: usize,
    learners: usize,
}

impl Layout {
    fn acceptors(self) -> std::ops::Range<usize> {
        self.proposers..self.proposers + self.acceptors
    }
    fn learners(self) -> std::ops::Range<usize> {
        let start = self.proposers + self.acceptors;
        start..start + self.learners
    }
    fn send_all(self, action: Action, out: &mut Outbox<Msg>) {
        match action {
            Action::Send(m) => {
                out.extend(self.acceptors().map(|a| (a, Msg::ToAcceptor(m.clone()))))
            }
            Action::Decided(d) => out.extend(self.learners().map(|l| (l, Msg::Decided(d.clone())))),
        }
    }
}

/// A Paxos role under the checker.
#[derive(Debug, Clone)]
pub enum Node<R: Retry + Clone> {
    /// A single-decree proposer, its value and its clock.
    Proposer {
        /// The state machine.
        proposer: Proposer<R>,
        /// The value it proposes at start.
        value: Value,
        /// Its clock: the last deadline its timer fired at.
        clock: Millis,
        /// Where the others are.
        layout: Layout,
    },
    /// A Multi-Paxos leader, its client's commands and its clock.
    Leader {
        /// The state machine.
        leader: Leader<R>,
        /// Commands submitted at start.
        commands: Vec<String>,
        /// Its clock.
        clock: Millis,
        /// Where the others are.
        layout: Layout,
    },
    /// An acceptor over in-memory storage that survives restarts (a disk).
    Acceptor {
        /// The state machine.
        acceptor: Acceptor<MemStorage>,
        /// Seeded bug: a restart loses the storage.
        amnesia: bool,
        /// Where the others are.
        layout: Layout,
    },
    /// A learner.
    Learner {
        /// The state machine.
        learner: Learner,
    },
}

impl<R: Retry + Clone> Role for Node<R> {
    type Msg = Msg;

    fn hash_state(&self, h: &mut dyn Hasher) {
        hash_debug(self, h);
    }

    fn start(&mut self, out: &mut Outbox<Msg>) {
        let mut actions = Vec::new();
        match self {
            Node::Proposer {
                proposer,
                value,
                clock,
                layout,
            } => {
                proposer.propose(value.clone(), *clock, &mut actions);
                actions.into_iter().for_each(|a| layout.send_all(a, out));
            }
            Node::Leader {
                leader,
                commands,
                clock,
                layout,
            } => {
                // The queue is sized for the commands; a refusal would show as nothing decided.
                let _ = leader.submit(commands.clone(), *clock, &mut actions);
                actions.into_iter().for_each(|a| layout.send_all(a, out));
            }
            Node::Acceptor { .. } | Node::Learner { .. } => {}
        }
    }

    fn on_message(&mut self, from: usize, msg: Msg, out: &mut Outbox<Msg>) {
        let mut actions = Vec::new();
        match (self, msg) {
            (
                Node::Proposer {
                    proposer,
                    clock,
                    layout,
                    ..
                },
                Msg::FromAcceptor(m),
            ) => {
                proposer.on_message(m, *clock, &mut actions);
                actions.into_iter().for_each(|a| layout.send_all(a, out));
            }
            (
                Node::Leader {
                    leader,
                    clock,
                    layout,
                    ..
                },
                Msg::FromAcceptor(m),
            ) => {
                leader.on_message(m, *clock, &mut actions);
                actions.into_iter().for_each(|a| layout.send_all(a, out));
            }
            (
                Node::Acceptor {
                    acceptor, layout, ..
                },
                Msg::ToAcceptor(m),
            ) => {
                let Ok(reply) = acceptor.handle(m) else {
                    return; // MemStorage never fails
                };
                if matches!(reply, FromAcceptor::Accepted { .. }) {
                    out.extend(
                        layout
                            .learners()
                            .map(|l| (l, Msg::FromAcceptor(reply.clone()))),
                    );
                }
                // The answer goes to the proposer that asked: the others
                // ignore answers to ballots that are not theirs.
                out.push((from, Msg::FromAcceptor(reply)));
            }
            (Node::Learner { learner }, Msg::FromAcceptor(m)) => {
                learner.on_message(m);
            }
            (Node::Learner { learner }, Msg::Decided(d)) => {
                learner.on_decided(d);
            }
            _ => {}
        }
    }

    fn timer_armed(&self) -> bool {
        match self {
            Node::Proposer { proposer, .. } => proposer.next_timer().is_some(),
            Node::Leader { leader, .. } => leader.next_timer().is_some(),
            _ => false,
        }
    }

    fn on_timer(&mut self, out: &mut Outbox<Msg>) {
        let mut actions = Vec::new();
        match self {
            Node::Proposer {
                proposer,
                clock,
                layout,
                ..
            } => {
                *clock = proposer.next_timer().unwrap_or(*clock).max(*clock);
                proposer.tick(*clock, &mut actions);
                actions.into_iter().for_each(|a| layout.send_all(a, out));
            }
            Node::Leader {
                leader,
                clock,
                layout,
                ..
            } => {
                *clock = leader.next_timer().unwrap_or(*clock).max(*clock);
                leader.tick(*clock, &mut actions);
                actions.into_iter().for_each(|a| layout.send_all(a, out));
            }
            _ => {}
        }
    }

    fn restartable(&self) -> bool {
        matches!(self, Node::Acceptor { .. })
    }

    fn restart(&mut self) {
        if let Node::Acceptor {
            acceptor, amnesia, ..
        } = self
        {
            let disk = if *amnesia {
                MemStorage::new()
            } else {
                acceptor.storage().clone()
            };
            if let Ok(a) = Acceptor::recover(acceptor.id(), disk) {
                *acceptor = a;
            }
        }
    }
}

/// The values single-decree proposers propose, by index.
pub fn value_of(i: usize) -> Value {
    const NAMES: [&str; 4] = ["apples", "oranges", "pears", "plums"];
    vec![NAMES
        .get(i)
        .map_or_else(|| format!("value{}", i + 1), |s| s.to_string())]
}

fn names<R: Retry + Clone>(setup: &Setup, roles: Vec<Node<R>>) -> Vec<(String, String, Node<R>)> {
    roles
        .into_iter()
        .enumerate()
        .map(|(i, role)| {
            let (name, node) = if i < setup.proposers {
                let kind = match role {
                    Node::Leader { .. } => "leader",
                    _ => "proposer",
                };
                (format!("{kind}{}", i + 1), "proposers")
            } else if i < setup.proposers + setup.acceptors {
                (format!("acceptor{}", i - setup.proposers + 1), "acceptors")
            } else {
                let k = i - setup.proposers - setup.acceptors;
                (format!("learner{}", k + 1), "learners")
            };
            (name, node.to_string(), role)
        })
        .collect()
}

fn others<R: Retry + Clone>(setup: &Setup, layout: Layout) -> Vec<Node<R>> {
    let acceptors = (0..setup.acceptors).filter_map(|i| {
        Some(Node::Acceptor {
            acceptor: Acceptor::recover(i as u32 + 1, MemStorage::new()).ok()?,
            amnesia: setup.bug == Some(Bug::Amnesia),
            layout,
        })
    });
    let learners = (0..setup.learners).map(|_| Node::Learner {
        learner: Learner::new(setup.acceptors),
    });
    acceptors.chain(learners).collect()
}

fn layout(setup: &Setup) -> Layout {
    Layout {
        proposers: setup.proposers,
        acceptors: setup.acceptors,
        learners: setup.learners,
    }
}

/// Single-decree Paxos: `make(config)` builds each proposer (the built-in
/// one is `Proposer::new`; a student passes their own retry strategy).
/// Checks agreement and validity (and liveness if asked).
pub fn single_decree<R: Retry + Clone>(
    setup: &Setup,
    make: impl Fn(Config) -> Proposer<R>,
) -> Model<Node<R>> {
    let layout = layout(setup);
    let quorum_base = match setup.bug {
        Some(Bug::QuorumOfOne) => 1,
        _ => setup.acceptors,
    };
    let mut roles: Vec<Node<R>> = (0..setup.proposers)
        .map(|i| Node::Proposer {
            proposer: make(Config::new(i as u32 + 1, quorum_base, 1)),
            value: value_of(i),
            clock: 0,
            layout,
        })
        .collect();
    roles.extend(others(setup, layout));
    let model = Model::new(names(setup, roles), setup.budget)
        .invariant(Property::new("agreement", agreement::<R>))
        .invariant(Property::new("validity", validity::<R>));
    if setup.liveness {
        return model.eventually(Property::new("every learner learns", learned::<R>(1)));
    }
    model
}

/// Multi-Paxos: `make(config)` builds each leader; leader `i` submits
/// `setup.commands` commands, one per slot. Checks agreement and validity
/// per slot (and liveness if asked: every command learned by every learner).
pub fn multi_paxos<R: Retry + Clone>(
    setup: &Setup,
    make: impl Fn(LeaderConfig) -> Leader<R>,
) -> Model<Node<R>> {
    let layout = layout(setup);
    let mut roles: Vec<Node<R>> = (0..setup.proposers)
        .map(|i| {
            let mut config = LeaderConfig::new(i as u32 + 1, setup.acceptors, 1);
            config.batch = 1;
            config.window = 2;
            config.announce = 0;
            Node::Leader {
                leader: make(config),
                commands: (0..setup.commands)
                    .map(|c| format!("c{}.{}", i + 1, c + 1))
                    .collect(),
                clock: 0,
                layout,
            }
        })
        .collect();
    roles.extend(others(setup, layout));
    let commands = setup.proposers * setup.commands;
    let model = Model::new(names(setup, roles), setup.budget)
        .invariant(Property::new("agreement", agreement::<R>))
        .invariant(Property::new("validity", validity::<R>));
    if setup.liveness {
        return model.eventually(Property::new(
            "every learner learns every command",
            learned::<R>(commands),
        ));
    }
    model
}

/// Every decision anyone knows: (who, slot, value).
fn decisions<R: Retry + Clone>(nodes: &[Node<R>]) -> Vec<(usize, u64, &Value)> {
    let mut all = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        match n {
            Node::Proposer { proposer, .. } => {
                all.extend(proposer.decided().map(|v| (i, 0, v)));
            }
            Node::Leader { leader, .. } => {
                all.extend(leader.decided().iter().map(|(s, v)| (i, *s, v)));
            }
            Node::Learner { learner } => {
                all.extend(learner.learned().iter().map(|(s, v)| (i, *s, v)));
            }
            Node::Acceptor { .. } => {}
        }
    }
    all
}

/// No two participants know different values for one slot; no learner saw
/// a conflicting quorum.
fn agreement<R: Retry + Clone>(nodes: &[Node<R>]) -> Result<(), String> {
    let mut chosen: BTreeMap<u64, (usize, &Value)> = BTreeMap::new();
    for (i, slot, v) in decisions(nodes) {
        match chosen.get(&slot) {
            Some((j, c)) if *c != v => {
                return Err(format!(
                    "slot {slot}: actor {j} knows {c:?}, actor {i} knows {v:?}"
                ));
            }
            Some(_) => {}
            None => {
                chosen.insert(slot, (i, v));
            }
        }
    }
    for n in nodes {
        if let Node::Learner { learner } = n {
            if learner.conflicts() > 0 {
                return Err(format!(
                    "a learner saw {} conflicting quorums",
                    learner.conflicts()
                ));
            }
        }
    }
    Ok(())
}

/// Every decided value was proposed (Multi-Paxos: each command was
/// submitted, or the slot is a no-op).
fn validity<R: Retry + Clone>(nodes: &[Node<R>]) -> Result<(), String> {
    let proposed: Vec<&str> = nodes
        .iter()
        .flat_map(|n| match n {
            Node::Proposer { value, .. } => value.iter().map(String::as_str).collect(),
            Node::Leader { commands, .. } => commands.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        })
        .collect();
    for (_, slot, v) in decisions(nodes) {
        let single = nodes.iter().any(|n| matches!(n, Node::Proposer { .. }));
        if single && v.is_empty() {
            return Err(format!("slot {slot} decided an empty value"));
        }
        if let Some(c) = v.iter().find(|c| !proposed.contains(&c.as_str())) {
            return Err(format!("slot {slot} decided {c:?}, which nobody proposed"));
        }
    }
    Ok(())
}

/// Every learner learned at least `count` commands.
fn learned<R: Retry + Clone>(
    count: usize,
) -> impl Fn(&[Node<R>]) -> Result<(), String> + Send + Sync + 'static {
    move |nodes| {
        for (i, n) in nodes.iter().enumerate() {
            if let Node::Learner { learner } = n {
                let known: usize = learner.learned().values().map(Vec::len).sum();
                if known < count {
                    return Err(format!("actor {i} learned {known} of {count} commands"));
                }
            }
        }
        Ok(())
    }
}

/// The simulator's report of a model state: what every learner learned and
/// every proposer decided, and what was proposed; [`Report::check`] then
/// applies the simulator's own safety checker to a counterexample's end.
pub fn report<R: Retry + Clone>(state: &State<Node<R>>) -> Report {
    let mut r = Report::default();
    for (i, n) in state.actors.iter().enumerate() {
        match n {
            Node::Proposer {
                proposer, value, ..
            } => {
                r.proposed.push(value.clone());
                if let Some(v) = proposer.decided() {
                    r.proposer_decisions.push((i, 0, v.clone()));
                }
            }
            Node::Leader {
                leader, commands, ..
            } => {
                r.proposed.push(commands.clone());
                r.proposer_decisions
                    .extend(leader.decided().iter().map(|(s, v)| (i, *s, v.clone())));
            }
            Node::Learner { learner } => {
                r.conflicts += learner.conflicts();
                r.learned.push(
                    learner
                        .learned()
                        .iter()
                        .map(|(s, v)| (*s, (v.clone(), 0)))
                        .collect(),
                );
            }
            Node::Acceptor { .. } => {}
        }
    }
    r
}
