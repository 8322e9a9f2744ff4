//! The node's supervisor actor: carries out the supervision [`Tree`]'s
//! decisions, starts actors in order, and runs graceful shutdown.
//!
//! It owns every actor's factory and wires. Incarnations report back with
//! [`Exited`] and [`Ready`] messages tagged with their incarnation number, so a
//! late report from an old incarnation is ignored.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use actix::prelude::*;
use futures::future::AbortHandle;
use tokio::sync::oneshot;

use super::NodeExit;
use crate::kind::handle::{NodeHandle, RequestShutdown, Subscribe};
use crate::kind::spawn::{ActorFactory, Outputs, SpawnArgs, StopSignal};
use crate::kind::Console;
use crate::remote::{RemoteLink, ZmqContext};
use crate::supervision::{Decision, Directive, Event, EventKind, Exit, MemberId, StopReason, Tree};
use crate::trace::Tracer;
use crate::wire::erased::AnyWire;
use crate::wire::AnySender;

/// How long a stopped actor may take before its incarnation is aborted.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// How often shutdown checks whether an actor's inputs have drained.
const DRAIN_POLL: Duration = Duration::from_millis(10);

/// One running incarnation.
struct Incarnation {
    stop: Arc<StopSignal>,
    abort: AbortHandle,
}

/// One actor under supervision.
pub(crate) struct Child {
    pub(crate) name: String,
    pub(crate) member: MemberId,
    pub(crate) factory: Box<dyn ActorFactory>,
    pub(crate) inputs: Vec<(&'static str, Arc<dyn AnyWire>)>,
    pub(crate) outputs: Outputs,
    /// Its registration as a producer on each wire it sends into; dropped
    /// when it is gone for good, which ends those wires.
    outgoing: Vec<AnySender>,
    incarnation: u64,
    running: Option<Incarnation>,
    start_due: bool,
    released: bool,
    /// The running incarnation was aborted by a fault-injection crash.
    injected_crash: bool,
}

impl Child {
    pub(crate) fn new(
        name: String,
        member: MemberId,
        factory: Box<dyn ActorFactory>,
        inputs: Vec<(&'static str, Arc<dyn AnyWire>)>,
        outputs: Outputs,
        outgoing: Vec<Arc<dyn AnyWire>>,
    ) -> Self {
        let outgoing = outgoing.iter().map(AnySender::new).collect();
        Child {
            name,
            member,
            factory,
            inputs,
            outputs,
            outgoing,
            incarnation: 0,
            running: None,
            start_due: false,
            released: false,
            injected_crash: false,
        }
    }

    /// Incarnations started so far (for [`ActorStats`](super::ActorStats)).
    pub(crate) fn incarnations(&self) -> u64 {
        self.incarnation
    }

    /// An incarnation is running now.
    pub(crate) fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Ends this actor's outgoing wires and refuses further input: it is gone for good.
    fn release(&mut self) {
        if std::mem::replace(&mut self.released, true) {
            return;
        }
        self.factory.retire();
        self.outgoing.clear();
        for (_, w) in &self.inputs {
            w.close_consumer();
        }
    }

    fn queued_input(&self) -> usize {
        self.inputs.iter().map(|(_, w)| w.len()).sum()
    }
}

enum Phase {
    /// Starting actors in order; the index is the next position in `order`.
    Starting(usize),
    Running,
    /// Stopping actors in reverse start order.
    ShuttingDown {
        pos: usize,
        deadline: Instant,
    },
    /// Every actor stopped; sending hops get their END acknowledged until
    /// the deadline (polled, so that actors of other nodes sharing this
    /// thread keep running).
    Draining {
        deadline: Instant,
    },
    Done,
}

struct Subscriber {
    recipient: Recipient<Event>,
    missed: u64,
}

/// The supervisor of one node.
pub(crate) struct Supervisor {
    node: Arc<str>,
    tree: Tree,
    children: Vec<Child>,
    by_member: HashMap<MemberId, usize>,
    /// Child indices in start order.
    order: Vec<usize>,
    phase: Phase,
    failure: Option<String>,
    drain_timeout: Duration,
    /// Children whose permanent stop ends the node (empty: all of them).
    finish_when: Vec<usize>,
    links: Vec<RemoteLink>,
    /// The node's ZeroMQ context, handed to every incarnation's `Io`.
    zmq: ZmqContext,
    subscribers: Vec<Subscriber>,
    handle: Option<NodeHandle>,
    started_tx: Option<oneshot::Sender<()>>,
    exit_tx: Option<oneshot::Sender<NodeExit>>,
    /// Records restarts in the run's causal trace.
    tracer: Option<Arc<Tracer>>,
    /// Where the roles report (handed to them through the [`NodeHandle`]).
    console: Console,
}

/// What the node needs to start its supervisor.
pub(crate) struct SupervisorParts {
    pub(crate) node: Arc<str>,
    pub(crate) tree: Tree,
    pub(crate) children: Vec<Child>,
    pub(crate) order: Vec<usize>,
    pub(crate) drain_timeout: Duration,
    pub(crate) finish_when: Vec<usize>,
    pub(crate) links: Vec<RemoteLink>,
    pub(crate) zmq: ZmqContext,
    pub(crate) subscribers: Vec<Recipient<Event>>,
    pub(crate) started_tx: oneshot::Sender<()>,
    pub(crate) exit_tx: oneshot::Sender<NodeExit>,
    pub(crate) tracer: Option<Arc<Tracer>>,
    pub(crate) console: Console,
}

impl Supervisor {
    /// The supervised actors (for [`ActorStats`](super::ActorStats)).
    pub(crate) fn children(&self) -> &[Child] {
        &self.children
    }

    pub(crate) fn new(parts: SupervisorParts) -> Self {
        let by_member = parts
            .children
            .iter()
            .enumerate()
            .map(|(i, c)| (c.member, i))
            .collect();
        Supervisor {
            node: parts.node,
            tree: parts.tree,
            children: parts.children,
            by_member,
            order: parts.order,
            phase: Phase::Starting(0),
            failure: None,
            drain_timeout: parts.drain_timeout,
            finish_when: parts.finish_when,
            links: parts.links,
            zmq: parts.zmq,
            subscribers: parts
                .subscribers
                .into_iter()
                .map(|recipient| Subscriber {
                    recipient,
                    missed: 0,
                })
                .collect(),
            handle: None,
            started_tx: Some(parts.started_tx),
            tracer: parts.tracer,
            exit_tx: Some(parts.exit_tx),
            console: parts.console,
        }
    }

    fn publish(&mut self, subject: &str, kind: EventKind) {
        let event = Event {
            node: self.node.to_string(),
            subject: subject.to_owned(),
            at: SystemTime::now(),
            kind,
        };
        match &event.kind {
            EventKind::Started { .. }
            | EventKind::Stopped {
                reason: StopReason::Normal | StopReason::Shutdown,
            } => {
                tracing::debug!(node = %self.node, "{event}")
            }
            EventKind::NodeFailed { .. } => tracing::error!(node = %self.node, "{event}"),
            _ => tracing::warn!(node = %self.node, "{event}"),
        }
        self.subscribers
            .retain_mut(|s| match s.recipient.try_send(event.clone()) {
                Ok(()) => true,
                Err(SendError::Full(_)) => {
                    s.missed += 1;
                    true
                }
                Err(SendError::Closed(_)) => false,
            });
    }

    fn apply(&mut self, decision: Decision, ctx: &mut Context<Self>) {
        for (subject, kind) in decision.events {
            self.publish(&subject, kind);
        }
        for directive in decision.directives {
            match directive {
                Directive::Stop(member) => {
                    if let Some(&idx) = self.by_member.get(&member) {
                        self.stop_child(idx, ctx);
                    }
                }
                Directive::Start { actor, after } => {
                    if let Some(&idx) = self.by_member.get(&actor) {
                        ctx.run_later(after, move |act, ctx| act.start_due(idx, ctx));
                    }
                }
                Directive::Retire(member) => {
                    if let Some(&idx) = self.by_member.get(&member) {
                        self.children[idx].release();
                    }
                }
                Directive::FailNode(reason) => self.begin_shutdown(Some(reason), ctx),
            }
        }
        if matches!(self.phase, Phase::Running) && self.finished() {
            tracing::info!(node = %self.node, "the actors the node waits for have stopped; node finishes");
            self.begin_shutdown(None, ctx);
        }
    }

    /// True when the actors this node waits for (`finish_when`, or all of
    /// them) have stopped for good.
    fn finished(&self) -> bool {
        if self.finish_when.is_empty() {
            return self.tree.all_retired();
        }
        self.finish_when
            .iter()
            .all(|&i| self.tree.is_retired(self.children[i].member))
    }

    fn start_due(&mut self, idx: usize, ctx: &mut Context<Self>) {
        if matches!(
            self.phase,
            Phase::ShuttingDown { .. } | Phase::Draining { .. } | Phase::Done
        ) {
            return;
        }
        let child = &mut self.children[idx];
        if child.running.is_some() {
            child.start_due = true;
        } else {
            self.spawn_child(idx, ctx);
        }
    }

    fn spawn_child(&mut self, idx: usize, ctx: &mut Context<Self>) {
        let Some(node) = self.handle.clone() else {
            return;
        };
        let me = ctx.address();
        let child = &mut self.children[idx];
        child.start_due = false;
        child.incarnation += 1;
        let incarnation = child.incarnation;
        if incarnation > 1 {
            if let Some(t) = &self.tracer {
                t.restart(&child.name, incarnation);
            }
        }
        let stop = Arc::new(StopSignal::default());
        let ready_to = me.clone();
        let exit_to = me;
        self.tree.started(child.member);
        let abort = child.factory.spawn(SpawnArgs {
            actor: child.name.clone(),
            incarnation,
            inputs: child.inputs.clone(),
            outputs: child.outputs.clone(),
            node,
            zmq: self.zmq.clone(),
            stop: Arc::clone(&stop),
            on_ready: Box::new(move || {
                ready_to.do_send(Ready {
                    child: idx,
                    incarnation,
                })
            }),
            on_exit: Box::new(move |exit| {
                exit_to.do_send(Exited {
                    child: idx,
                    incarnation,
                    exit,
                })
            }),
        });
        child.running = Some(Incarnation { stop, abort });
        let name = child.name.clone();
        self.publish(&name, EventKind::Started { incarnation });
    }

    fn stop_child(&mut self, idx: usize, ctx: &mut Context<Self>) {
        let child = &self.children[idx];
        if let Some(inc) = &child.running {
            inc.stop.raise();
            let incarnation = child.incarnation;
            ctx.run_later(STOP_GRACE, move |act, _| {
                let child = &act.children[idx];
                if child.incarnation == incarnation {
                    if let Some(inc) = &child.running {
                        tracing::warn!(actor = %child.name, "did not stop within {STOP_GRACE:?}; aborted");
                        inc.abort.abort();
                    }
                }
            });
        }
    }

    fn start_next(&mut self, ctx: &mut Context<Self>) {
        while let Phase::Starting(pos) = self.phase {
            let Some(&idx) = self.order.get(pos) else {
                self.phase = Phase::Running;
                if let Some(tx) = self.started_tx.take() {
                    let _ = tx.send(());
                }
                tracing::info!(node = %self.node, actors = self.children.len(), "node started");
                if self.finished() {
                    self.begin_shutdown(None, ctx);
                }
                return;
            };
            let child = &self.children[idx];
            if self.tree.is_retired(child.member) {
                self.phase = Phase::Starting(pos + 1);
                continue;
            }
            if child.running.is_none() && child.incarnation == 0 {
                self.spawn_child(idx, ctx);
            }
            return;
        }
    }

    fn begin_shutdown(&mut self, failure: Option<String>, ctx: &mut Context<Self>) {
        if failure.is_some() && self.failure.is_none() {
            self.failure = failure;
        }
        if matches!(
            self.phase,
            Phase::ShuttingDown { .. } | Phase::Draining { .. } | Phase::Done
        ) {
            return;
        }
        if let Some(tx) = self.started_tx.take() {
            let _ = tx.send(());
        }
        tracing::info!(node = %self.node, drain = ?self.drain_timeout, "shutting down");
        self.phase = Phase::ShuttingDown {
            pos: 0,
            deadline: Instant::now() + self.drain_timeout,
        };
        self.shutdown_step(ctx);
    }

    /// Stops actors in reverse start order (producers before their consumers),
    /// letting each one's input wires drain first, until the drain deadline.
    fn shutdown_step(&mut self, ctx: &mut Context<Self>) {
        let Phase::ShuttingDown { pos, deadline } = self.phase else {
            return;
        };
        let mut pos = pos;
        while let Some(&idx) = self.order.iter().rev().nth(pos) {
            let child = &mut self.children[idx];
            if child.running.is_none() {
                let newly = self.tree.retire_for_shutdown(child.member);
                child.start_due = false;
                child.release();
                if newly {
                    let name = child.name.clone();
                    self.publish(
                        &name,
                        EventKind::Stopped {
                            reason: StopReason::Shutdown,
                        },
                    );
                }
                pos += 1;
                continue;
            }
            self.phase = Phase::ShuttingDown { pos, deadline };
            if child.queued_input() > 0 && Instant::now() < deadline {
                ctx.run_later(DRAIN_POLL, |act, ctx| act.shutdown_step(ctx));
                return;
            }
            let newly = self.tree.retire_for_shutdown(child.member);
            child.start_due = false;
            if newly {
                self.stop_child(idx, ctx);
            }
            // Continues when this child's `Exited` arrives.
            return;
        }
        self.finish(ctx);
    }

    /// The node's cross-node hops (until it finishes).
    pub(crate) fn links(&self) -> &[RemoteLink] {
        &self.links
    }

    fn finish(&mut self, ctx: &mut Context<Self>) {
        let deadline = match self.phase {
            Phase::ShuttingDown { deadline, .. } => {
                deadline.max(Instant::now() + Duration::from_millis(200))
            }
            _ => Instant::now(),
        };
        self.phase = Phase::Draining { deadline };
        self.drain_links(ctx);
    }

    /// Waits (without blocking the thread) until every sending hop has its
    /// END acknowledged or the deadline passed, then closes the hops.
    fn drain_links(&mut self, ctx: &mut Context<Self>) {
        let Phase::Draining { deadline } = self.phase else {
            return;
        };
        if Instant::now() < deadline && self.links.iter().any(|l| !l.is_finished()) {
            ctx.run_later(DRAIN_POLL, |act, ctx| act.drain_links(ctx));
            return;
        }
        self.phase = Phase::Done;
        // Receivers stop at once; asked together, their goodbyes overlap.
        for link in self.links.iter().filter(|l| !l.is_sender()) {
            link.request_stop();
        }
        for link in self.links.drain(..) {
            let label = link.label().to_owned();
            let stats = link.stats();
            tracing::debug!(
                hop = %label,
                messages = stats.messages.load(std::sync::atomic::Ordering::Relaxed),
                bad_frames = stats.bad_frames.load(std::sync::atomic::Ordering::Relaxed),
                "remote wire closed"
            );
            if let Err(unacknowledged) = link.finish(Instant::now()) {
                tracing::warn!(
                    node = %self.node,
                    hop = %label,
                    unacknowledged,
                    "drain_timeout passed before the receiving node acknowledged the end of the stream; these messages may not have arrived"
                );
                if self.failure.is_none() {
                    self.failure = Some(format!(
                        "hop `{label}`: {unacknowledged} messages unacknowledged at drain_timeout"
                    ));
                }
            }
        }
        let missed: u64 = self.subscribers.iter().map(|s| s.missed).sum();
        if missed > 0 {
            tracing::warn!(node = %self.node, missed, "event subscribers missed events (mailbox full)");
        }
        let exit = match self.failure.take() {
            Some(reason) => NodeExit::Failed(reason),
            None => NodeExit::Completed,
        };
        tracing::info!(node = %self.node, ?exit, "node stopped");
        if let Some(tx) = self.exit_tx.take() {
            let _ = tx.send(exit);
        }
        ctx.stop();
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.handle = Some(NodeHandle::new(
            Arc::clone(&self.node),
            &ctx.address(),
            self.console.clone(),
        ));
        self.start_next(ctx);
    }
}

/// An incarnation ended.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Exited {
    child: usize,
    incarnation: u64,
    exit: Exit,
}

impl Handler<Exited> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: Exited, ctx: &mut Context<Self>) {
        let Some(child) = self.children.get_mut(msg.child) else {
            return;
        };
        if child.incarnation != msg.incarnation {
            return;
        }
        child.running = None;
        let mut msg = msg;
        if std::mem::take(&mut child.injected_crash) {
            msg.exit = Exit::Failed("crash injected by [[faults]] crash_at".into());
        }
        if let Phase::ShuttingDown { .. } = self.phase {
            if let Exit::Failed(reason) = &msg.exit {
                tracing::warn!(actor = %child.name, %reason, "crashed while shutting down");
            }
            self.tree.retire_for_shutdown(child.member);
            child.release();
            let name = child.name.clone();
            self.publish(
                &name,
                EventKind::Stopped {
                    reason: StopReason::Shutdown,
                },
            );
            self.shutdown_step(ctx);
            return;
        }
        let due = child.start_due;
        let member = child.member;
        let decision = self.tree.exited(member, msg.exit, Instant::now());
        self.apply(decision, ctx);
        if due && !self.tree.is_retired(member) {
            self.spawn_child(msg.child, ctx);
        }
        if let Phase::Starting(pos) = self.phase {
            if self.order.get(pos) == Some(&msg.child) && self.tree.is_retired(member) {
                self.phase = Phase::Starting(pos + 1);
                self.start_next(ctx);
            }
        }
    }
}

/// An incarnation finished `started` and is handling messages.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Ready {
    child: usize,
    incarnation: u64,
}

impl Handler<Ready> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: Ready, ctx: &mut Context<Self>) {
        if let Phase::Starting(pos) = self.phase {
            let current = self.children.get(msg.child).map(|c| c.incarnation);
            if self.order.get(pos) == Some(&msg.child) && current == Some(msg.incarnation) {
                self.phase = Phase::Starting(pos + 1);
                self.start_next(ctx);
            }
        }
    }
}

impl Handler<RequestShutdown> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: RequestShutdown, ctx: &mut Context<Self>) {
        self.begin_shutdown(msg.failure, ctx);
    }
}

impl Handler<Subscribe> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: Subscribe, _ctx: &mut Context<Self>) {
        self.subscribers.push(Subscriber {
            recipient: msg.0,
            missed: 0,
        });
    }
}

/// Fault injection: crash the named actor's running incarnation now (it is
/// aborted and counts as a failure, so its restart policy applies).
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct InjectCrash(pub(crate) String);

impl Handler<InjectCrash> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: InjectCrash, _ctx: &mut Context<Self>) {
        if let Phase::ShuttingDown { .. } = self.phase {
            return;
        }
        if let Some(child) = self.children.iter_mut().find(|c| c.name == msg.0) {
            if let Some(inc) = &child.running {
                tracing::warn!(actor = %child.name, "fault injection: crashing the actor");
                child.injected_crash = true;
                inc.abort.abort();
            }
        }
    }
}
