//! Handles given out by a running node: [`Ref`] (a typed address that survives
//! restarts) and [`NodeHandle`] (shutdown requests, statistics and event
//! subscriptions). The node's supervisor answers the requests defined here;
//! this layer does not know it, only the messages it handles.

use std::sync::Arc;

use actix::dev::ToEnvelope;
use actix::{Actor, Addr, Handler, Message, Recipient};
use tokio::sync::watch;

use super::console::Console;
use super::stats::{ActorStats, GetActorStats, GetHopStats, HopSample};
use crate::supervision::Event;

/// A typed address of a named actor that stays valid across supervised
/// restarts: it always reaches the current incarnation.
///
/// Messages sent through a `Ref` go to the incarnation's actix mailbox. If the
/// actor is between incarnations, [`Ref::send`] waits for the next one and
/// [`Ref::try_send`] hands the message back. A message being handled when the
/// actor crashes is lost (its sender gets [`SendError::Lost`]).
pub struct Ref<A: Actor> {
    current: Arc<watch::Sender<Slot<A>>>,
}

struct Slot<A: Actor> {
    addr: Option<Addr<A>>,
    retired: bool,
}

impl<A: Actor> Clone for Ref<A> {
    fn clone(&self) -> Self {
        Ref {
            current: Arc::clone(&self.current),
        }
    }
}

impl<A: Actor> std::fmt::Debug for Ref<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ref")
            .field("actor", &std::any::type_name::<A>())
            .field("running", &self.is_running())
            .finish()
    }
}

/// A message that could not be delivered through a [`Ref`].
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError<M> {
    /// The actor is between incarnations or stopped for good; here is the message.
    #[error("actor is not running")]
    NotRunning(M),
    /// The incarnation's mailbox is full; here is the message.
    #[error("actor's mailbox is full")]
    Full(M),
    /// The incarnation ended before answering (for example it crashed).
    #[error("actor stopped before answering")]
    Lost,
}

impl<A: Actor> Ref<A> {
    pub(crate) fn new() -> Self {
        let (tx, _rx) = watch::channel(Slot {
            addr: None,
            retired: false,
        });
        Ref {
            current: Arc::new(tx),
        }
    }

    pub(crate) fn set(&self, addr: Option<Addr<A>>) {
        self.current.send_modify(|slot| slot.addr = addr);
    }

    /// Marks the actor stopped for good: waiting senders give up.
    pub(crate) fn retire(&self) {
        self.current.send_modify(|slot| {
            slot.addr = None;
            slot.retired = true;
        });
    }

    /// The current incarnation's actix address, if one is running.
    pub fn current(&self) -> Option<Addr<A>> {
        self.current.borrow().addr.clone().filter(Addr::connected)
    }

    /// True when an incarnation is running.
    pub fn is_running(&self) -> bool {
        self.current().is_some()
    }

    /// Sends without waiting; the message comes back if it cannot be queued.
    pub fn try_send<M>(&self, msg: M) -> Result<(), SendError<M>>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        A: Handler<M>,
        A::Context: ToEnvelope<A, M>,
    {
        match self.current() {
            None => Err(SendError::NotRunning(msg)),
            Some(addr) => addr.try_send(msg).map_err(|e| match e {
                actix::prelude::SendError::Full(m) => SendError::Full(m),
                actix::prelude::SendError::Closed(m) => SendError::NotRunning(m),
            }),
        }
    }

    /// Sends and waits for the answer; waits for the next incarnation if the
    /// actor is restarting. Gives up with `NotRunning` once the node has dropped
    /// the actor for good.
    pub async fn send<M>(&self, msg: M) -> Result<M::Result, SendError<M>>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        A: Handler<M>,
        A::Context: ToEnvelope<A, M>,
    {
        let mut rx = self.current.subscribe();
        loop {
            let (addr, retired) = {
                let slot = rx.borrow_and_update();
                (slot.addr.clone().filter(Addr::connected), slot.retired)
            };
            if let Some(addr) = addr {
                return addr.send(msg).await.map_err(|_| SendError::Lost);
            }
            if retired || rx.changed().await.is_err() {
                return Err(SendError::NotRunning(msg));
            }
        }
    }
}

/// Services of the node an actor runs on.
#[derive(Clone)]
pub struct NodeHandle {
    name: Arc<str>,
    shutdown: Recipient<RequestShutdown>,
    subscribe: Recipient<Subscribe>,
    actor_stats: Recipient<GetActorStats>,
    hop_stats: Recipient<GetHopStats>,
    console: Console,
}

/// Start a graceful shutdown; with a failure, the node exits unsuccessfully.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct RequestShutdown {
    pub(crate) failure: Option<String>,
}

/// Subscribe to supervision events.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Subscribe(pub(crate) Recipient<Event>);

impl std::fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHandle")
            .field("name", &self.name)
            .finish()
    }
}

impl NodeHandle {
    /// The handle of the node named `name` whose requests `node` answers and
    /// whose roles report to `console`.
    pub(crate) fn new<S>(name: Arc<str>, node: &Addr<S>, console: Console) -> Self
    where
        S: Actor
            + Handler<RequestShutdown>
            + Handler<Subscribe>
            + Handler<GetActorStats>
            + Handler<GetHopStats>,
        S::Context: ToEnvelope<S, RequestShutdown>
            + ToEnvelope<S, Subscribe>
            + ToEnvelope<S, GetActorStats>
            + ToEnvelope<S, GetHopStats>,
    {
        NodeHandle {
            name,
            shutdown: node.clone().recipient(),
            subscribe: node.clone().recipient(),
            actor_stats: node.clone().recipient(),
            hop_stats: node.clone().recipient(),
            console,
        }
    }

    /// The node's console, where its roles report (see [`Console`]).
    pub fn console(&self) -> &Console {
        &self.console
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts a graceful shutdown of the node (drain wires, stop actors).
    pub fn shutdown(&self) {
        self.shutdown.do_send(RequestShutdown { failure: None });
    }

    /// Starts a graceful shutdown of the node as failed: it exits
    /// unsuccessfully with `reason` ([`NodeExit::Failed`](crate::node::NodeExit)),
    /// without restarting anyone first. For a condition no restart can fix
    /// (a server that is not there), so the user gets one line saying why.
    pub fn fail(&self, reason: impl Into<String>) {
        self.shutdown.do_send(RequestShutdown {
            failure: Some(reason.into()),
        });
    }

    /// Every actor's counters now: messages handled, backlog, restarts
    /// (empty if the node has ended).
    pub async fn actor_stats(&self) -> Vec<ActorStats> {
        self.actor_stats
            .send(GetActorStats)
            .await
            .unwrap_or_default()
    }

    /// Every cross-node hop's counters now (empty if the node has ended or
    /// has no hops).
    pub async fn hop_stats(&self) -> Vec<HopSample> {
        self.hop_stats.send(GetHopStats).await.unwrap_or_default()
    }

    /// Delivers every later supervision event of this node to `recipient`.
    /// Events are delivered with `try_send`: a subscriber whose mailbox is full
    /// misses events, and the misses are counted in its place.
    pub fn subscribe(&self, recipient: Recipient<Event>) {
        self.subscribe.do_send(Subscribe(recipient));
    }
}
