//! [`Node`]: builds wires, hops and the supervisor from a topology, then starts.

use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use actix::{Actor, Recipient};
use tokio::sync::oneshot;

use super::endpoints::{Injector, Tap};
use super::running::Running;
use super::supervisor::{Supervisor, SupervisorParts};
use crate::kind::message_type::MessageOps;
use crate::kind::{Console, Direction, Payload, Registry};
use crate::remote::{HopIdentity, RemoteError, ZmqContext};
use crate::supervision::Event;
use crate::topology::{PortRef, Topology};
use crate::trace::Tracer;
use crate::wire::erased::AnyWire;
use crate::wire::{Queue, WireConfig};

mod hops;
mod members;
mod wiring;

use members::{supervision_tree, Members};
use wiring::Wiring;

/// Incoming wires of each actor: (input port, wire).
type Incoming = HashMap<String, Vec<(String, Arc<dyn AnyWire>)>>;
/// Outgoing wires of each actor, by output port.
type Outgoing = HashMap<String, HashMap<String, Vec<Arc<dyn AnyWire>>>>;

/// A cross-node hop to start once the node's actors are registered.
struct Hop {
    queue: Arc<dyn AnyWire>,
    ops: Arc<dyn MessageOps>,
    codec: String,
    address: String,
    sender: bool,
    label: String,
    identity: HopIdentity,
}

/// ZeroMQ high-water mark of cross-node hops, in messages.
const HOP_HWM: i32 = 1000;

/// Building or starting a node failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The topology has no node of that name.
    #[error("topology `{topology}` has no node `{node}` (nodes: {known})")]
    UnknownNode {
        /// Topology name.
        topology: String,
        /// Requested node.
        node: String,
        /// Nodes it has.
        known: String,
    },
    /// A kind named in the topology is not in the registry.
    #[error("kind `{0}` is not registered")]
    UnknownKind(String),
    /// No such `actor.port`, or the port has another direction or message type.
    #[error("`{port}`: {problem}")]
    Port {
        /// The port reference.
        port: String,
        /// What is wrong.
        problem: String,
    },
    /// Parameters did not deserialize.
    #[error("parameters of actor `{actor}`: {error}")]
    Params {
        /// Actor name.
        actor: String,
        /// Deserialization error.
        error: toml::de::Error,
    },
    /// A cross-node hop could not be set up.
    #[error("wire {wire}: {source}")]
    Remote {
        /// `from -> to`.
        wire: String,
        /// What failed.
        source: RemoteError,
    },
    /// The supervisor stopped before the node started (for example every
    /// actor failed at once and supervision gave up).
    #[error("node stopped while starting")]
    Aborted,
}

struct Extra {
    port: PortRef,
    wire: Arc<dyn AnyWire>,
}

/// A node ready to start: which topology nodes this process hosts, plus
/// subscribers, injectors and taps added before the start.
pub struct Node {
    topology: Arc<Topology>,
    registry: Registry,
    hosted: Vec<String>,
    console: Console,
    seed: u64,
    subscribers: Vec<Recipient<Event>>,
    injections: Vec<Extra>,
    taps: Vec<Extra>,
    zmq: ZmqContext,
    tracer: Option<Arc<Tracer>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("topology", &self.topology.name)
            .field("hosted", &self.hosted)
            .finish()
    }
}

impl Node {
    /// Hosts topology node `node` in this process; wires to other nodes cross
    /// over ZeroMQ.
    pub fn new(topology: Topology, registry: Registry, node: &str) -> Result<Self, BuildError> {
        if topology.node(node).is_none() {
            return Err(BuildError::UnknownNode {
                topology: topology.name.clone(),
                node: node.to_owned(),
                known: topology
                    .nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(Self::hosting(topology, registry, vec![node.to_owned()]))
    }

    /// Hosts every node of the topology in this process (the embedded default):
    /// every wire is local.
    pub fn all(topology: Topology, registry: Registry) -> Self {
        let hosted = topology.nodes.iter().map(|n| n.name.clone()).collect();
        Self::hosting(topology, registry, hosted)
    }

    fn hosting(topology: Topology, registry: Registry, hosted: Vec<String>) -> Self {
        Node {
            topology: Arc::new(topology),
            registry,
            hosted,
            console: Console::stdout(),
            seed: rand::random(),
            subscribers: Vec::new(),
            injections: Vec::new(),
            taps: Vec::new(),
            zmq: ZmqContext::new(),
            tracer: None,
        }
    }

    /// The seed of the backoff jitter (random by default), for replayable runs.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Records a causal trace of the run with `tracer`: every wire between
    /// two hosted actors stamps its messages (see [`crate::trace::Tracer`]).
    pub fn with_trace(mut self, tracer: Arc<Tracer>) -> Self {
        self.tracer = Some(tracer);
        self
    }

    /// Runs the node in `context` instead of a context of its own, for
    /// example to share one between nodes hosted in the same process (then
    /// `inproc://` reaches from one's endpoints to the other's, and one ZAP
    /// handler serves both).
    pub fn with_zmq(mut self, context: ZmqContext) -> Self {
        self.zmq = context;
        self
    }

    /// The node's ZeroMQ context: its hops and every role it builds
    /// ([`Io::zmq`](crate::kind::Io::zmq)) use it. Terminate it
    /// ([`ZmqContext::terminate`]) once the node has ended, so that what
    /// closed sockets still deliver within their linger gets out before the
    /// process exits.
    pub fn zmq(&self) -> &ZmqContext {
        &self.zmq
    }

    /// Where the roles report the lines a user reads ([`Io::console`]):
    /// the process's stdout by default; a [`Capture`](crate::kind::Capture)
    /// to read them, [`Console::silent`] to drop them, or any
    /// [`Sink`](crate::kind::Sink).
    ///
    /// [`Io::console`]: crate::kind::Io::console
    pub fn with_console(mut self, console: Console) -> Self {
        self.console = console;
        self
    }

    /// The seed in use.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Delivers every supervision event, from the very first start on.
    pub fn subscribe(&mut self, recipient: Recipient<Event>) -> &mut Self {
        self.subscribers.push(recipient);
        self
    }

    fn port_ops(
        &self,
        port: &str,
        direction: Direction,
    ) -> Result<(PortRef, Arc<dyn MessageOps>, &'static str), BuildError> {
        let err = |problem: String| BuildError::Port {
            port: port.to_owned(),
            problem,
        };
        let (actor, name) = port
            .split_once('.')
            .ok_or_else(|| err("expected `actor.port`".into()))?;
        let spec = self
            .topology
            .actor(actor)
            .ok_or_else(|| err(format!("no actor `{actor}`")))?;
        if !self.hosted.contains(&spec.node) {
            return Err(err(format!(
                "actor `{actor}` runs on node `{}`, not here",
                spec.node
            )));
        }
        let kind = self
            .registry
            .kind(&spec.kind)
            .ok_or_else(|| BuildError::UnknownKind(spec.kind.clone()))?;
        let info = kind
            .port(name)
            .filter(|p| p.direction == direction)
            .ok_or_else(|| {
                err(format!(
                    "kind `{}` has no {direction} port `{name}`",
                    spec.kind
                ))
            })?;
        Ok((
            PortRef {
                actor: actor.to_owned(),
                port: name.to_owned(),
            },
            Arc::clone(&info.ops),
            info.name,
        ))
    }

    fn check_type<T: 'static>(port: &str, ops: &Arc<dyn MessageOps>) -> Result<(), BuildError> {
        if ops.message_type_id() == TypeId::of::<T>() {
            Ok(())
        } else {
            Err(BuildError::Port {
                port: port.to_owned(),
                problem: format!(
                    "carries `{}`, not `{}`",
                    ops.type_name(),
                    std::any::type_name::<T>()
                ),
            })
        }
    }

    /// Adds a wire from this program into input port `actor.port`.
    pub fn inject<T: Payload>(
        &mut self,
        port: &str,
        config: WireConfig,
    ) -> Result<Injector<T>, BuildError> {
        let (port_ref, ops, name) = self.port_ops(port, Direction::Input)?;
        Self::check_type::<T>(port, &ops)?;
        let queue = Queue::<T>::new(config.capacity(), config.policy());
        self.injections.push(Extra {
            port: port_ref,
            wire: Arc::new(queue.clone()),
        });
        Ok(Injector::new(name, queue))
    }

    /// Adds a wire from output port `actor.port` to this program.
    pub fn tap<T: Payload>(
        &mut self,
        port: &str,
        config: WireConfig,
    ) -> Result<Tap<T>, BuildError> {
        let (port_ref, ops, _) = self.port_ops(port, Direction::Output)?;
        Self::check_type::<T>(port, &ops)?;
        let queue = Queue::<T>::new(config.capacity(), config.policy());
        self.taps.push(Extra {
            port: port_ref,
            wire: Arc::new(queue.clone()),
        });
        Ok(Tap::new(queue))
    }

    /// Builds everything and starts the actors in order. Must run inside an
    /// actix system; the supervisor lives on the current arbiter.
    pub async fn start(self) -> Result<Running, BuildError> {
        let topology = Arc::clone(&self.topology);
        let hosted: HashSet<&str> = self.hosted.iter().map(String::as_str).collect();
        let fault_start = std::time::Instant::now();
        let Wiring {
            mut incoming,
            mut outgoing,
            hops,
            stats,
        } = self.wires(&hosted, fault_start)?;
        self.add_injections_and_taps(&mut incoming, &mut outgoing);
        let (mut tree, groups) = supervision_tree(&topology, &hosted, self.seed);
        let Members {
            children,
            index,
            refs,
        } = self.children(&hosted, &mut tree, &groups, incoming, outgoing)?;
        let links = self.start_hops(hops)?;
        let order = self.start_order(&index, children.len());

        let label: Arc<str> = if self.hosted.len() == 1 {
            Arc::from(self.hosted[0].as_str())
        } else {
            Arc::from(topology.name.as_str())
        };
        let (started_tx, started_rx) = oneshot::channel();
        let (exit_tx, exit_rx) = oneshot::channel();
        let supervisor = Supervisor::new(SupervisorParts {
            node: Arc::clone(&label),
            tree,
            children,
            order,
            drain_timeout: topology.drain_timeout,
            finish_when: topology
                .finish_when
                .iter()
                .filter_map(|name| index.get(name.as_str()).copied())
                .collect(),
            links,
            zmq: self.zmq.clone(),
            subscribers: self.subscribers,
            tracer: self.tracer.clone(),
            console: self.console.clone(),
            started_tx,
            exit_tx,
        })
        .start();
        let crash_to = supervisor.clone();
        super::faults::schedule_crashes(&topology, &hosted, fault_start, move |actor| {
            crash_to.do_send(super::supervisor::InjectCrash(actor))
        });
        let handle = crate::kind::NodeHandle::new(label, &supervisor, self.console.clone());
        started_rx.await.map_err(|_| BuildError::Aborted)?;
        Ok(Running::new(handle, refs, exit_rx, stats))
    }

    /// Injectors feed input ports and taps read output ports from outside.
    /// With a tracer, their messages are traced too, on the lane
    /// [`crate::trace::PROGRAM`].
    fn add_injections_and_taps(&self, incoming: &mut Incoming, outgoing: &mut Outgoing) {
        if let Some(tracer) = &self.tracer {
            let traced = |extra: &Extra, from: &str, to: &str| {
                if let Ok(ops) = self.ops_of(&extra.port) {
                    ops.trace_wire(&extra.wire, tracer, from, to);
                }
            };
            for extra in &self.injections {
                traced(extra, crate::trace::PROGRAM, &extra.port.actor);
            }
            for extra in &self.taps {
                traced(extra, &extra.port.actor, crate::trace::PROGRAM);
            }
        }
        for extra in &self.injections {
            incoming
                .entry(extra.port.actor.clone())
                .or_default()
                .push((extra.port.port.clone(), Arc::clone(&extra.wire)));
        }
        for extra in &self.taps {
            outgoing
                .entry(extra.port.actor.clone())
                .or_default()
                .entry(extra.port.port.clone())
                .or_default()
                .push(Arc::clone(&extra.wire));
        }
    }

    fn ops_of(&self, port: &PortRef) -> Result<Arc<dyn MessageOps>, BuildError> {
        let spec = self
            .topology
            .actor(&port.actor)
            .ok_or_else(|| BuildError::Port {
                port: port.to_string(),
                problem: "no such actor".into(),
            })?;
        let kind = self
            .registry
            .kind(&spec.kind)
            .ok_or_else(|| BuildError::UnknownKind(spec.kind.clone()))?;
        kind.port(&port.port)
            .map(|p| Arc::clone(&p.ops))
            .ok_or_else(|| BuildError::Port {
                port: port.to_string(),
                problem: format!("kind `{}` has no such port", spec.kind),
            })
    }
}
