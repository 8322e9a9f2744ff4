//! [`Io`]: what a role receives when it is created: its output ports, its
//! node and the node's ZeroMQ context.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use super::console::Console;
use super::crash::Crash;
use super::handle::NodeHandle;
use super::spawn::Stopping;
use crate::remote::ZmqContext;
use crate::wire::erased::AnyWire;
use crate::wire::{Output, Queue};

/// Output ports and node services handed to [`Role::build`](super::Role::build).
#[derive(Debug)]
pub struct Io {
    actor: String,
    incarnation: Incarnation,
    outputs: HashMap<&'static str, Arc<dyn Any + Send + Sync>>,
    direct: Vec<(&'static str, Arc<dyn AnyWire>)>,
    node: NodeHandle,
    zmq: ZmqContext,
}

/// What belongs to one incarnation: which one it is, its stop, its crash.
#[derive(Debug)]
pub(crate) struct Incarnation {
    /// 1 the first, then one more per restart.
    pub(crate) number: u64,
    pub(crate) stopping: Stopping,
    pub(crate) crash: Crash,
}

/// Asking for an output port that is not declared, or with the wrong type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The kind declares no output port of this name.
    #[error("actor `{actor}` has no output port `{port}`: declare it in `Role::ports`")]
    NoSuchPort {
        /// Actor name.
        actor: String,
        /// Port asked for.
        port: String,
    },
    /// The port carries another message type.
    #[error("output port `{actor}.{port}` does not carry `{asked}`")]
    WrongType {
        /// Actor name.
        actor: String,
        /// Port asked for.
        port: String,
        /// Type asked for.
        asked: &'static str,
    },
}

impl Io {
    pub(crate) fn new(
        actor: String,
        incarnation: Incarnation,
        outputs: HashMap<&'static str, Arc<dyn Any + Send + Sync>>,
        direct: Vec<(&'static str, Arc<dyn AnyWire>)>,
        node: NodeHandle,
        zmq: ZmqContext,
    ) -> Self {
        Io {
            actor,
            incarnation,
            outputs,
            direct,
            node,
            zmq,
        }
    }

    /// Which start of the actor this is: 1 the first, then one more each
    /// time its supervisor restarts it (a restarted incarnation can tell
    /// that an earlier one ran: e.g. a ZooKeeper kind whose server was
    /// reachable before keeps trying to reach it again).
    pub fn incarnation(&self) -> u64 {
        self.incarnation.number
    }

    /// Resolves when this incarnation is asked to stop. An actor waiting in
    /// `ctx.wait` handles nothing else, its stop included, so such a wait
    /// that may last (a server that is not there) races this to end at once.
    pub fn stopping(&self) -> Stopping {
        self.incarnation.stopping.clone()
    }

    /// A handle that ends this incarnation as failed from asynchronous code
    /// (see [`Crash`]).
    pub fn crash(&self) -> Crash {
        self.incarnation.crash.clone()
    }

    /// The wires into a port declared with
    /// [`Ports::direct_input`](super::Ports::direct_input), one queue per wire,
    /// for the role to drain itself.
    pub fn direct_input<T: Send + 'static>(&self, port: &str) -> Vec<Queue<T>> {
        self.direct
            .iter()
            .filter(|(p, _)| *p == port)
            .filter_map(|(_, w)| w.as_any().downcast_ref::<Queue<T>>().cloned())
            .collect()
    }

    /// The actor's name in the topology.
    pub fn actor_name(&self) -> &str {
        &self.actor
    }

    /// Where this actor reports the lines a user reads (its node's
    /// [`Console`], stdout unless the embedding program chose another),
    /// bound to the actor's name. Roles use it instead of `println!`.
    pub fn console(&self) -> Console {
        self.node.console().for_actor(&self.actor)
    }

    /// The node this actor runs on: request shutdown, subscribe to events.
    pub fn node(&self) -> &NodeHandle {
        &self.node
    }

    /// The node's ZeroMQ context, the one its cross-node hops use: a role
    /// that opens sockets opens them here, so that `inproc://` reaches the
    /// node's other sockets and its CURVE servers share the node's ZAP
    /// handler ([`ZmqContext::zap`]).
    pub fn zmq(&self) -> &ZmqContext {
        &self.zmq
    }

    /// The sending handle of output port `port`.
    pub fn output<T: Send + 'static>(&self, port: &str) -> Result<Output<T>, PortError> {
        let any = self
            .outputs
            .get(port)
            .ok_or_else(|| PortError::NoSuchPort {
                actor: self.actor.clone(),
                port: port.to_owned(),
            })?;
        any.downcast_ref::<Output<T>>()
            .cloned()
            .ok_or_else(|| PortError::WrongType {
                actor: self.actor.clone(),
                port: port.to_owned(),
                asked: std::any::type_name::<T>(),
            })
    }
}
