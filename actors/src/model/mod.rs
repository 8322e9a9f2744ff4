//! A model checker for roles: every interleaving of message deliveries,
//! drops, duplicates, timer firings and restarts of a small configuration of
//! I/O-free roles, with invariants checked after each step.
//!
//! A role opts in by implementing [`Role`] over its existing state machine:
//! how to hash its state, what it does with a message and with its timer, and
//! (for roles with durable state) what a restart keeps. A [`Model`] is a set
//! of such roles (an enum when they differ), the messages they send at start,
//! the [`Budget`] of faults and timer firings that keeps the space finite, and
//! the invariants. [`Model::bfs`] explores breadth-first with state hashing
//! (so a counterexample is one of minimal length), [`Model::dfs`] depth-first
//! to a bound (with or without state hashing). A counterexample replays with
//! [`Model::replay`] and becomes a trace file with [`record`].
//!
//! The network is a multiset of messages in flight: any one may be delivered
//! next (so every reordering is explored), dropped or duplicated while the
//! budget allows. Time is not modelled beyond "a timer may fire whenever it
//! is armed", which covers every timing of the real roles.

mod record;
mod search;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};

pub use record::record;
pub use search::{Counterexample, Outcome, ReplayError};

/// Where a role's outputs go: `(destination actor index, message)`.
pub type Outbox<M> = Vec<(usize, M)>;

/// A role the checker can drive: an I/O-free state machine with a state hash.
pub trait Role: Clone + Debug {
    /// The messages between roles.
    type Msg: Clone + Debug + Hash + Ord;

    /// Feeds the state into `h`: equal states must hash equally. Derive
    /// `Hash` and call `self.hash(h)`, or use [`hash_debug`].
    fn hash_state(&self, h: &mut dyn Hasher);

    /// Called once when the model starts (a proposer proposes here).
    fn start(&mut self, _out: &mut Outbox<Self::Msg>) {}

    /// Handles message `msg` from actor `from`.
    fn on_message(&mut self, from: usize, msg: Self::Msg, out: &mut Outbox<Self::Msg>);

    /// True when the role's timer is armed (it may fire at any moment).
    fn timer_armed(&self) -> bool {
        false
    }

    /// The timer fired.
    fn on_timer(&mut self, _out: &mut Outbox<Self::Msg>) {}

    /// True if the role may crash and restart (it has durable state).
    fn restartable(&self) -> bool {
        false
    }

    /// Crash and restart: keep only the durable state.
    fn restart(&mut self) {}
}

/// Hashes `value`'s `Debug` text: a state hash for state machines that do
/// not derive `Hash` (the text of maps and sets is in a fixed order).
pub fn hash_debug(value: &impl Debug, h: &mut dyn Hasher) {
    struct Feed<'a>(&'a mut dyn Hasher);
    impl std::fmt::Write for Feed<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }
    let _ = std::fmt::write(&mut Feed(h), format_args!("{value:?}"));
}

/// How many faults and timer firings a run may contain (all shared by every
/// actor): what makes the explored space finite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Budget {
    /// Messages that may be dropped.
    pub drops: u32,
    /// Messages that may be duplicated.
    pub duplicates: u32,
    /// Restarts of restartable roles.
    pub restarts: u32,
    /// Timer firings.
    pub timers: u32,
}

/// A message in flight.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Envelope<M> {
    /// The sender's index.
    pub from: usize,
    /// The receiver's index.
    pub to: usize,
    /// The message.
    pub msg: M,
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<M> {
    /// The message is delivered to its receiver and handled.
    Deliver(Envelope<M>),
    /// The message is lost.
    Drop(Envelope<M>),
    /// The message is delivered twice (one more copy is in flight).
    Duplicate(Envelope<M>),
    /// The actor's timer fires.
    Timer(usize),
    /// The actor crashes and restarts from its durable state.
    Restart(usize),
}

/// A check of the roles' states: `Err` says what is wrong.
type Check<R> = Box<dyn Fn(&[R]) -> Result<(), String> + Send + Sync>;

/// A named property of a state: `Err` says what is wrong.
pub struct Property<R> {
    name: String,
    check: Check<R>,
}

impl<R> Debug for Property<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Property({})", self.name)
    }
}

impl<R> Property<R> {
    /// A property called `name`.
    pub fn new(
        name: &str,
        check: impl Fn(&[R]) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Property {
            name: name.to_string(),
            check: Box::new(check),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A global state: the roles, the messages in flight, the budget left.
#[derive(Debug, Clone)]
pub struct State<R: Role> {
    /// The roles, by index.
    pub actors: Vec<R>,
    /// Messages in flight, with their number of copies.
    pub net: BTreeMap<Envelope<R::Msg>, u32>,
    /// What is left of the budget.
    pub left: Budget,
    /// Each role's state hash (recomputed only for the role a step touched).
    hashes: Vec<u128>,
}

fn role_hash<R: Role>(role: &R) -> u128 {
    let mut h = Twin::default();
    role.hash_state(&mut h);
    h.value()
}

impl<R: Role> State<R> {
    /// A 128-bit fingerprint (two independent 64-bit hashes).
    pub(crate) fn fingerprint(&self) -> u128 {
        let mut h = Twin::default();
        self.hashes.hash(&mut h);
        self.net.hash(&mut h);
        self.left.hash(&mut h);
        h.value()
    }

    /// Every event enabled here, in a fixed order.
    pub fn events(&self, out: &mut Vec<Event<R::Msg>>) {
        for env in self.net.keys() {
            out.push(Event::Deliver(env.clone()));
            if self.left.drops > 0 {
                out.push(Event::Drop(env.clone()));
            }
            if self.left.duplicates > 0 {
                out.push(Event::Duplicate(env.clone()));
            }
        }
        for (i, a) in self.actors.iter().enumerate() {
            if self.left.timers > 0 && a.timer_armed() {
                out.push(Event::Timer(i));
            }
            if self.left.restarts > 0 && a.restartable() {
                out.push(Event::Restart(i));
            }
        }
    }

    fn take(&mut self, env: &Envelope<R::Msg>) -> bool {
        match self.net.get_mut(env) {
            None => false,
            Some(n) if *n > 1 => {
                *n -= 1;
                true
            }
            Some(_) => {
                self.net.remove(env);
                true
            }
        }
    }

    fn send(&mut self, from: usize, out: Outbox<R::Msg>, sent: &mut Vec<Envelope<R::Msg>>) {
        for (to, msg) in out {
            let env = Envelope { from, to, msg };
            sent.push(env.clone());
            *self.net.entry(env).or_default() += 1;
        }
    }

    /// Applies `event`; returns the messages it sent, or `None` if the event
    /// is not enabled here.
    pub fn apply(&mut self, event: &Event<R::Msg>) -> Option<Vec<Envelope<R::Msg>>> {
        let mut sent = Vec::new();
        let mut out = Vec::new();
        match event {
            Event::Deliver(env) => {
                if !self.take(env) || env.to >= self.actors.len() {
                    return None;
                }
                self.actors[env.to].on_message(env.from, env.msg.clone(), &mut out);
                self.hashes[env.to] = role_hash(&self.actors[env.to]);
                self.send(env.to, out, &mut sent);
            }
            Event::Drop(env) => {
                if self.left.drops == 0 || !self.take(env) {
                    return None;
                }
                self.left.drops -= 1;
            }
            Event::Duplicate(env) => {
                if self.left.duplicates == 0 || !self.net.contains_key(env) {
                    return None;
                }
                self.left.duplicates -= 1;
                *self.net.entry(env.clone()).or_default() += 1;
            }
            Event::Timer(i) => {
                let a = self.actors.get_mut(*i)?;
                if self.left.timers == 0 || !a.timer_armed() {
                    return None;
                }
                self.left.timers -= 1;
                a.on_timer(&mut out);
                self.hashes[*i] = role_hash(&self.actors[*i]);
                self.send(*i, out, &mut sent);
            }
            Event::Restart(i) => {
                let a = self.actors.get_mut(*i)?;
                if self.left.restarts == 0 || !a.restartable() {
                    return None;
                }
                self.left.restarts -= 1;
                a.restart();
                self.hashes[*i] = role_hash(&self.actors[*i]);
            }
        }
        Some(sent)
    }
}

/// Two SipHash states fed the same bytes under different keys: 128 bits.
struct Twin {
    a: std::collections::hash_map::DefaultHasher,
    b: std::collections::hash_map::DefaultHasher,
}

impl Default for Twin {
    fn default() -> Self {
        let a = std::collections::hash_map::DefaultHasher::new();
        let mut b = std::collections::hash_map::DefaultHasher::new();
        b.write_u64(0x9e37_79b9_7f4a_7c15);
        Twin { a, b }
    }
}

impl Twin {
    fn value(&self) -> u128 {
        (u128::from(self.a.finish()) << 64) | u128::from(self.b.finish())
    }
}

impl Hasher for Twin {
    fn finish(&self) -> u64 {
        self.a.finish()
    }
    fn write(&mut self, bytes: &[u8]) {
        self.a.write(bytes);
        self.b.write(bytes);
    }
}

/// A configuration to check: named roles on named nodes, a budget, properties.
#[derive(Debug)]
pub struct Model<R: Role> {
    names: Vec<(String, String)>,
    init: State<R>,
    invariants: Vec<Property<R>>,
    quiescent: Vec<Property<R>>,
}

impl<R: Role> Model<R> {
    /// A model of `actors` (`(name, node, role)`) under `budget`; each role's
    /// [`Role::start`] runs once to put its first messages in flight.
    pub fn new(actors: Vec<(String, String, R)>, budget: Budget) -> Self {
        let mut names = Vec::with_capacity(actors.len());
        let mut init = State {
            actors: Vec::with_capacity(actors.len()),
            net: BTreeMap::new(),
            left: budget,
            hashes: Vec::new(),
        };
        for (name, node, role) in actors {
            names.push((name, node));
            init.actors.push(role);
        }
        let mut sent = Vec::new();
        for i in 0..init.actors.len() {
            let mut out = Vec::new();
            init.actors[i].start(&mut out);
            init.send(i, out, &mut sent);
        }
        init.hashes = init.actors.iter().map(role_hash).collect();
        Model {
            names,
            init,
            invariants: Vec::new(),
            quiescent: Vec::new(),
        }
    }

    /// Adds an invariant, checked in every state reached.
    pub fn invariant(mut self, p: Property<R>) -> Self {
        self.invariants.push(p);
        self
    }

    /// Adds a liveness property under fairness: it must hold in every state
    /// where nothing is left to deliver and no timer can fire (every run that
    /// delivers its messages and fires its timers ends in such a state).
    pub fn eventually(mut self, p: Property<R>) -> Self {
        self.quiescent.push(p);
        self
    }

    /// The initial state.
    pub fn initial(&self) -> &State<R> {
        &self.init
    }

    /// `(name, node)` of actor `i`.
    pub fn name(&self, i: usize) -> (&str, &str) {
        self.names
            .get(i)
            .map_or(("?", "?"), |(a, n)| (a.as_str(), n.as_str()))
    }

    /// The names of the invariants and liveness properties.
    pub fn properties(&self) -> Vec<&str> {
        self.invariants
            .iter()
            .chain(&self.quiescent)
            .map(Property::name)
            .collect()
    }

    /// The first invariant `state` violates: `(name, why)`.
    pub fn violated(&self, state: &State<R>) -> Option<(String, String)> {
        self.invariants
            .iter()
            .find_map(|p| (p.check)(&state.actors).err().map(|e| (p.name.clone(), e)))
    }

    /// The first liveness property violated if `state` is quiescent.
    fn stuck(&self, state: &State<R>) -> Option<(String, String)> {
        if self.quiescent.is_empty() || !quiescent(state) {
            return None;
        }
        self.quiescent.iter().find_map(|p| {
            (p.check)(&state.actors).err().map(|e| {
                (
                    p.name.clone(),
                    format!("{e} (in a state where nothing is left to happen)"),
                )
            })
        })
    }
}

/// Nothing left to deliver and no timer that may fire.
fn quiescent<R: Role>(state: &State<R>) -> bool {
    state.net.is_empty() && (state.left.timers == 0 || !state.actors.iter().any(Role::timer_armed))
}
