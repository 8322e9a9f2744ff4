//! The supervision tree as an I/O-free state machine.
//!
//! [`Tree`] knows every actor and group of a node, their policies and states.
//! The runtime feeds it what happened (an actor exited, a new incarnation
//! started) with the current time, and gets back [`Directive`]s to carry out
//! (stop this actor, start that one after a delay, retire, fail the node) and
//! the [`EventKind`]s to publish. Time and randomness come in from outside, so
//! tests drive it with a fake clock and a fixed seed.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::SeedableRng;

use super::event::{EventKind, StopReason};
use super::policy::{ActorPolicy, Backoff, GroupPolicy, Intensity, Restart, Strategy};

/// Index of a member (actor or group) in a [`Tree`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId(pub usize);

/// How an actor's incarnation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It stopped itself.
    Normal,
    /// It panicked, a handler returned an error, or `build` failed.
    Failed(String),
}

/// What the runtime must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Directive {
    /// Stop this running actor; a `Start` for it follows once it has exited.
    Stop(MemberId),
    /// Start a new incarnation of this actor after `after` (and after its
    /// previous incarnation has ended).
    Start {
        /// The actor.
        actor: MemberId,
        /// Backoff delay.
        after: Duration,
    },
    /// This actor stopped for good: end its outgoing wires.
    Retire(MemberId),
    /// Escalation reached the node.
    FailNode(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not started yet.
    Idle,
    Running,
    /// Asked to stop so that it can be restarted.
    Stopping,
    /// Exited; a start is scheduled.
    AwaitingStart,
    /// Stopped for good.
    Retired,
}

#[derive(Debug)]
enum Role {
    Actor(ActorPolicy),
    Group(GroupPolicy),
}

#[derive(Debug)]
struct Member {
    name: String,
    parent: Option<MemberId>,
    role: Role,
    state: State,
    restarts: VecDeque<Instant>,
}

impl Member {
    fn intensity(&self) -> Intensity {
        match &self.role {
            Role::Actor(p) => p.intensity,
            Role::Group(p) => p.intensity,
        }
    }
    fn backoff(&self) -> Backoff {
        match &self.role {
            Role::Actor(p) => p.backoff,
            Role::Group(p) => p.backoff,
        }
    }
}

/// The outcome of feeding the tree one input.
#[derive(Debug, Default, PartialEq)]
pub struct Decision {
    /// What to do, in order.
    pub directives: Vec<Directive>,
    /// What to publish: (member name, event).
    pub events: Vec<(String, EventKind)>,
}

/// The supervision tree of one node.
#[derive(Debug)]
pub struct Tree {
    members: Vec<Member>,
    rng: SmallRng,
    failed: bool,
}

impl Tree {
    /// An empty tree whose backoff jitter is drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        Tree {
            members: Vec::new(),
            rng: SmallRng::seed_from_u64(seed),
            failed: false,
        }
    }

    /// Adds a group under `parent` (`None`: directly under the node).
    pub fn add_group(
        &mut self,
        name: &str,
        parent: Option<MemberId>,
        policy: GroupPolicy,
    ) -> MemberId {
        self.add(name, parent, Role::Group(policy))
    }

    /// Adds an actor under `parent` (`None`: directly under the node).
    pub fn add_actor(
        &mut self,
        name: &str,
        parent: Option<MemberId>,
        policy: ActorPolicy,
    ) -> MemberId {
        self.add(name, parent, Role::Actor(policy))
    }

    fn add(&mut self, name: &str, parent: Option<MemberId>, role: Role) -> MemberId {
        self.members.push(Member {
            name: name.to_owned(),
            parent,
            role,
            state: State::Idle,
            restarts: VecDeque::new(),
        });
        MemberId(self.members.len() - 1)
    }

    /// The member's name.
    pub fn name(&self, id: MemberId) -> &str {
        &self.members[id.0].name
    }

    /// True once escalation reached the node.
    pub fn node_failed(&self) -> bool {
        self.failed
    }

    /// True when the actor is retired (stopped for good).
    pub fn is_retired(&self, id: MemberId) -> bool {
        self.members[id.0].state == State::Retired
    }

    /// True when every actor is retired.
    pub fn all_retired(&self) -> bool {
        self.members
            .iter()
            .filter(|m| matches!(m.role, Role::Actor(_)))
            .all(|m| m.state == State::Retired)
    }

    /// A new incarnation of `actor` is running.
    pub fn started(&mut self, actor: MemberId) {
        let m = &mut self.members[actor.0];
        if m.state != State::Retired {
            m.state = State::Running;
        }
    }

    /// Marks `actor` stopped for good because the node shuts down; returns false
    /// if it was already retired.
    pub fn retire_for_shutdown(&mut self, actor: MemberId) -> bool {
        let m = &mut self.members[actor.0];
        let was = m.state != State::Retired;
        m.state = State::Retired;
        was
    }

    /// An incarnation of `actor` ended.
    pub fn exited(&mut self, actor: MemberId, exit: Exit, now: Instant) -> Decision {
        let mut d = Decision::default();
        let member = &mut self.members[actor.0];
        let policy = match &member.role {
            Role::Actor(p) => *p,
            Role::Group(_) => return d,
        };
        match member.state {
            State::Retired | State::AwaitingStart | State::Idle => return d,
            State::Stopping => {
                // We asked it to stop for a restart: the Start is already issued.
                member.state = State::AwaitingStart;
                return d;
            }
            State::Running => {}
        }
        let name = member.name.clone();
        if let Exit::Failed(reason) = &exit {
            d.events.push((
                name.clone(),
                EventKind::Crashed {
                    reason: reason.clone(),
                },
            ));
        }
        let restart = match (policy.restart, &exit) {
            (Restart::Never, _) | (Restart::OnFailure, Exit::Normal) => false,
            (Restart::OnFailure, Exit::Failed(_)) | (Restart::Always, _) => true,
        };
        if !restart {
            self.members[actor.0].state = State::Retired;
            let reason = match exit {
                Exit::Normal => StopReason::Normal,
                Exit::Failed(r) => StopReason::Failed(r),
            };
            d.events.push((name, EventKind::Stopped { reason }));
            d.directives.push(Directive::Retire(actor));
            return d;
        }
        self.members[actor.0].state = State::AwaitingStart;
        let reason = match exit {
            Exit::Normal => format!("`{name}` stopped"),
            Exit::Failed(r) => format!("`{name}` crashed: {r}"),
        };
        self.restart_member(actor, reason, now, &mut d);
        d
    }

    /// Records one restart of `id` at `now`; returns the attempt number within
    /// the window, or `None` when that exceeds the member's intensity.
    fn record_restart(&mut self, id: MemberId, now: Instant) -> Option<u32> {
        let m = &mut self.members[id.0];
        let intensity = m.intensity();
        while let Some(first) = m.restarts.front() {
            if now.saturating_duration_since(*first) > intensity.within {
                m.restarts.pop_front();
            } else {
                break;
            }
        }
        if m.restarts.len() as u32 >= intensity.max_restarts {
            return None;
        }
        m.restarts.push_back(now);
        Some(m.restarts.len() as u32)
    }

    fn restart_member(&mut self, id: MemberId, reason: String, now: Instant, d: &mut Decision) {
        let Some(attempt) = self.record_restart(id, now) else {
            let m = &self.members[id.0];
            let limit = m.intensity();
            let why = format!(
                "{reason}; more than {} restarts of `{}` within {:?}",
                limit.max_restarts, m.name, limit.within
            );
            return self.escalate(id, why, now, d);
        };
        let after = self.members[id.0].backoff().delay(attempt, &mut self.rng);
        // A one-for-all parent restarts the whole group instead.
        let scope = match self.members[id.0].parent {
            Some(p) if matches!(&self.members[p.0].role, Role::Group(g) if g.strategy == Strategy::OneForAll) => {
                p
            }
            _ => id,
        };
        let leaves = self.leaves(scope);
        for leaf in leaves {
            let m = &mut self.members[leaf.0];
            match m.state {
                State::Retired | State::Idle => continue,
                State::Running => {
                    m.state = State::Stopping;
                    d.directives.push(Directive::Stop(leaf));
                }
                State::Stopping | State::AwaitingStart => {}
            }
            let name = self.members[leaf.0].name.clone();
            d.events
                .push((name, EventKind::Restarting { after, attempt }));
            d.directives.push(Directive::Start { actor: leaf, after });
        }
    }

    fn escalate(&mut self, from: MemberId, reason: String, now: Instant, d: &mut Decision) {
        let parent = self.members[from.0].parent;
        let from_name = self.members[from.0].name.clone();
        match parent {
            None => {
                d.events.push((
                    from_name,
                    EventKind::Escalated {
                        to: "node".into(),
                        reason: reason.clone(),
                    },
                ));
                d.events.push((
                    "node".to_owned(),
                    EventKind::NodeFailed {
                        reason: reason.clone(),
                    },
                ));
                self.failed = true;
                d.directives.push(Directive::FailNode(reason));
            }
            Some(group) => {
                let to = self.members[group.0].name.clone();
                d.events.push((
                    from_name,
                    EventKind::Escalated {
                        to: to.clone(),
                        reason: reason.clone(),
                    },
                ));
                // The group as a whole fails: all its actors restart with it.
                for leaf in self.leaves(group) {
                    let m = &mut self.members[leaf.0];
                    if m.state == State::Running {
                        m.state = State::Stopping;
                        d.directives.push(Directive::Stop(leaf));
                    }
                }
                self.restart_member(group, format!("group `{to}` failed: {reason}"), now, d);
            }
        }
    }

    /// The actors at or below `id`.
    fn leaves(&self, id: MemberId) -> Vec<MemberId> {
        match self.members[id.0].role {
            Role::Actor(_) => vec![id],
            Role::Group(_) => self
                .members
                .iter()
                .enumerate()
                .filter(|(i, m)| {
                    matches!(m.role, Role::Actor(_)) && self.is_below(MemberId(*i), id)
                })
                .map(|(i, _)| MemberId(i))
                .collect(),
        }
    }

    fn is_below(&self, mut id: MemberId, ancestor: MemberId) -> bool {
        while let Some(p) = self.members[id.0].parent {
            if p == ancestor {
                return true;
            }
            id = p;
        }
        false
    }
}
