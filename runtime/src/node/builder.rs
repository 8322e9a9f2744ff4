//! [`Node`]: builds wires, hops and the supervisor from a topology, then starts.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use actix::{Actor, Recipient};
use tokio::sync::oneshot;

use super::endpoints::{Injector, Tap};
use super::running::Running;
use super::supervisor::{Child, Supervisor, SupervisorParts};
use crate::kind::message_type::MessageOps;
use crate::kind::{Direction, Payload, Registry};
use crate::remote::{
    stable_hash, HopCurve, HopIdentity, RemoteEndpoint, RemoteError, RemoteLink, Zap,
};
use crate::supervision::{Event, MemberId, Tree};
use crate::topology::{start_order, PortRef, Topology};
use crate::wire::erased::AnyWire;
use crate::wire::{Queue, WireConfig};

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
        error: String,
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
    seed: u64,
    subscribers: Vec<Recipient<Event>>,
    injections: Vec<Extra>,
    taps: Vec<Extra>,
    zmq: zmq::Context,
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
            seed: rand::random(),
            subscribers: Vec::new(),
            injections: Vec::new(),
            taps: Vec::new(),
            zmq: zmq::Context::new(),
        }
    }

    /// The seed of the backoff jitter (random by default), for replayable runs.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
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
        let local = |actor: &str| {
            topology
                .actor(actor)
                .is_some_and(|a| hosted.contains(a.node.as_str()))
        };

        // Wires by (actor, port) at each end.
        let mut incoming: Incoming = HashMap::new();
        let mut outgoing: Outgoing = HashMap::new();
        let mut hops: Vec<Hop> = Vec::new();
        // The node's ZAP handler, started with its first receiving CURVE hop.
        let mut zap: Option<Arc<Zap>> = None;
        let mut stats: Vec<(String, Arc<dyn AnyWire>)> = Vec::new();

        let fault_start = std::time::Instant::now();
        for wire in &topology.wires {
            let from_local = local(&wire.from.actor);
            let ops = self.ops_of(&wire.from)?;
            for dest in &wire.to {
                let to_local = local(&dest.port.actor);
                if !from_local && !to_local {
                    continue;
                }
                let queue = ops.new_wire(wire.config);
                let label = format!("{} -> {}", wire.from, dest.port);
                if from_local {
                    super::faults::attach(
                        &topology,
                        wire,
                        dest,
                        &label,
                        self.seed,
                        fault_start,
                        &queue,
                    );
                }
                stats.push((label.clone(), Arc::clone(&queue)));
                if from_local {
                    outgoing
                        .entry(wire.from.actor.clone())
                        .or_default()
                        .entry(wire.from.port.clone())
                        .or_default()
                        .push(Arc::clone(&queue));
                }
                if to_local {
                    incoming
                        .entry(dest.port.actor.clone())
                        .or_default()
                        .push((dest.port.port.clone(), Arc::clone(&queue)));
                }
                if from_local == to_local {
                    continue;
                }
                let Some(route) = &dest.remote else {
                    return Err(BuildError::Port {
                        port: dest.port.to_string(),
                        problem: "crosses nodes but has no route".into(),
                    });
                };
                // Started once the producers are registered on their wires
                // (below), so a sender never sees a wire with no producer yet.
                let producer_node = topology
                    .actor(&wire.from.actor)
                    .map(|a| a.node.clone())
                    .unwrap_or_default();
                let consumer_node = topology
                    .actor(&dest.port.actor)
                    .map(|a| a.node.as_str())
                    .unwrap_or_default();
                let keys = |node: &str| topology.node(node).and_then(|n| n.curve.clone());
                // Encrypted when the receiving node has keys (the loader
                // checked that the producer's node has some too).
                let curve = match (keys(&producer_node), keys(consumer_node)) {
                    (Some(p), Some(c)) if from_local => Some(HopCurve {
                        own_public: p.public_key,
                        own_secret: p.secret_key,
                        peer_public: c.public_key,
                        zap: None,
                    }),
                    (Some(p), Some(c)) => Some(HopCurve {
                        own_public: c.public_key,
                        own_secret: c.secret_key,
                        peer_public: p.public_key,
                        zap: Some(match &zap {
                            Some(z) => Arc::clone(z),
                            None => {
                                let z =
                                    Zap::start(&self.zmq).map_err(|source| BuildError::Remote {
                                        wire: label.clone(),
                                        source,
                                    })?;
                                zap = Some(Arc::clone(&z));
                                z
                            }
                        }),
                    }),
                    _ => None,
                };
                let identity = HopIdentity {
                    topology: topology.name.clone(),
                    wiring: stable_hash(&[
                        &label,
                        ops.type_name(),
                        &wire.codec,
                        wire.delivery.as_str(),
                    ]),
                    producer_node,
                    delivery: wire.delivery,
                    max_message_size: wire.max_message_size.min(i64::MAX as u64) as i64,
                    curve,
                };
                hops.push(Hop {
                    identity,
                    queue: Arc::clone(&queue),
                    ops: Arc::clone(&ops),
                    codec: wire.codec.clone(),
                    address: if from_local {
                        route.connect.clone()
                    } else {
                        route.bind.clone()
                    },
                    sender: from_local,
                    label: label.clone(),
                });
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

        // Supervision tree: groups (parents first), then actors.
        let mut tree = Tree::new(self.seed);
        let mut groups: HashMap<&str, MemberId> = HashMap::new();
        let hosted_groups: Vec<_> = topology
            .groups
            .iter()
            .filter(|g| hosted.contains(g.node.as_str()))
            .collect();
        while groups.len() < hosted_groups.len() {
            let before = groups.len();
            for g in &hosted_groups {
                if groups.contains_key(g.name.as_str()) {
                    continue;
                }
                let parent = match &g.parent {
                    None => None,
                    Some(p) => match groups.get(p.as_str()) {
                        Some(id) => Some(*id),
                        None => continue,
                    },
                };
                groups.insert(&g.name, tree.add_group(&g.name, parent, g.policy));
            }
            if groups.len() == before {
                break; // a parent cycle; the loader rejects these
            }
        }

        let mut children = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut refs: HashMap<String, (TypeId, Arc<dyn Any + Send + Sync>)> = HashMap::new();
        for spec in topology
            .actors
            .iter()
            .filter(|a| hosted.contains(a.node.as_str()))
        {
            let kind = self
                .registry
                .dyn_kind(&spec.kind)
                .ok_or_else(|| BuildError::UnknownKind(spec.kind.clone()))?;
            let factory = kind
                .factory(&spec.params)
                .map_err(|error| BuildError::Params {
                    actor: spec.name.clone(),
                    error,
                })?;
            let parent = spec.group.as_deref().and_then(|g| groups.get(g).copied());
            let member = tree.add_actor(&spec.name, parent, spec.policy);
            let out_wires = outgoing.remove(&spec.name).unwrap_or_default();
            let by_port: HashMap<&str, Vec<Arc<dyn AnyWire>>> = out_wires
                .iter()
                .map(|(p, w)| (p.as_str(), w.clone()))
                .collect();
            let outputs = factory.outputs(&by_port);
            let input_ports = factory.input_ports();
            let inputs = incoming
                .remove(&spec.name)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(port, wire)| {
                    input_ports.iter().find(|p| **p == port).map(|p| (*p, wire))
                })
                .collect();
            let all_out: Vec<Arc<dyn AnyWire>> = out_wires.into_values().flatten().collect();
            refs.insert(spec.name.clone(), (kind.actor_type(), factory.reference()));
            index.insert(&spec.name, children.len());
            children.push(Child::new(
                spec.name.clone(),
                member,
                factory,
                inputs,
                outputs,
                all_out,
            ));
        }

        let mut links: Vec<RemoteLink> = Vec::new();
        for hop in hops {
            let endpoint = RemoteEndpoint {
                context: self.zmq.clone(),
                address: hop.address,
                hwm: HOP_HWM,
                label: hop.label.clone(),
            };
            let codecs = self.registry.codecs();
            let link = if hop.sender {
                hop.ops
                    .spawn_sender(&hop.queue, &hop.codec, codecs, endpoint, hop.identity)
            } else {
                hop.ops
                    .spawn_receiver(&hop.queue, &hop.codec, codecs, endpoint, hop.identity)
            };
            links.push(link.map_err(|source| BuildError::Remote {
                wire: hop.label,
                source,
            })?);
        }

        let mut order = Vec::new();
        for node in &self.hosted {
            for name in start_order(&topology, node) {
                if let Some(&i) = index.get(name.as_str()) {
                    order.push(i);
                }
            }
        }
        // Anything the order missed still starts, in file order.
        for i in 0..children.len() {
            if !order.contains(&i) {
                order.push(i);
            }
        }

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
            subscribers: self.subscribers,
            started_tx,
            exit_tx,
        })
        .start();
        let crash_to = supervisor.clone();
        super::faults::schedule_crashes(&topology, &hosted, fault_start, move |actor| {
            crash_to.do_send(super::supervisor::InjectCrash(actor))
        });
        let handle = crate::kind::NodeHandle::new(label, &supervisor);
        started_rx.await.map_err(|_| BuildError::Aborted)?;
        Ok(Running::new(handle, refs, exit_rx, stats))
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
