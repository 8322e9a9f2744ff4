//! Step one of [`Node::start`]: a queue for every wire with a hosted end,
//! fault plans on the producer side, and the cross-node hops to start later
//! (their identity and CURVE keys).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::{BuildError, Hop, Incoming, Node, Outgoing};
use crate::kind::message_type::MessageOps;
use crate::remote::{stable_hash, HopCurve, HopIdentity};
use crate::topology::{Destination, RemoteRoute, WireSpec};
use crate::wire::erased::AnyWire;

/// The wires of the hosted actors, by actor and port at each end.
pub(super) struct Wiring {
    pub(super) incoming: Incoming,
    pub(super) outgoing: Outgoing,
    /// Cross-node hops, started once the producers are registered on their
    /// wires, so a sender never sees a wire with no producer yet.
    pub(super) hops: Vec<Hop>,
    /// Every wire by label (`from -> to`), for statistics.
    pub(super) stats: Vec<(String, Arc<dyn AnyWire>)>,
}

impl Node {
    pub(super) fn wires(
        &self,
        hosted: &HashSet<&str>,
        fault_start: Instant,
    ) -> Result<Wiring, BuildError> {
        let topology = &self.topology;
        let local = |actor: &str| {
            topology
                .actor(actor)
                .is_some_and(|a| hosted.contains(a.node.as_str()))
        };
        let mut wiring = Wiring {
            incoming: HashMap::new(),
            outgoing: HashMap::new(),
            hops: Vec::new(),
            stats: Vec::new(),
        };
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
                    super::super::faults::attach(
                        topology,
                        wire,
                        dest,
                        &label,
                        self.seed,
                        fault_start,
                        &queue,
                    );
                    wiring
                        .outgoing
                        .entry(wire.from.actor.clone())
                        .or_default()
                        .entry(wire.from.port.clone())
                        .or_default()
                        .push(Arc::clone(&queue));
                }
                // Traced at both ends: a wire to or from another node carries
                // its stamps in stamped hop frames.
                if let Some(tracer) = &self.tracer {
                    ops.trace_wire(&queue, tracer, &wire.from.actor, &dest.port.actor);
                }
                wiring.stats.push((label.clone(), Arc::clone(&queue)));
                if to_local {
                    wiring
                        .incoming
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
                let ends = HopEnds {
                    wire,
                    dest,
                    route,
                    sender: from_local,
                };
                let hop = self.hop(ends, label, queue, &ops)?;
                wiring.hops.push(hop);
            }
        }
        Ok(wiring)
    }

    /// The hop of `ends.wire -> ends.dest` as this node sees it: its
    /// identity (checked by the other end's hello) and its keys.
    fn hop(
        &self,
        ends: HopEnds<'_>,
        label: String,
        queue: Arc<dyn AnyWire>,
        ops: &Arc<dyn MessageOps>,
    ) -> Result<Hop, BuildError> {
        let topology = &self.topology;
        let HopEnds {
            wire,
            dest,
            route,
            sender,
        } = ends;
        let node_of = |actor: &str| {
            topology
                .actor(actor)
                .map(|a| a.node.clone())
                .unwrap_or_default()
        };
        let producer_node = node_of(&wire.from.actor);
        let consumer_node = node_of(&dest.port.actor);
        let keys = |node: &str| topology.node(node).and_then(|n| n.curve.clone());
        // Encrypted when the receiving node has keys (the loader checked
        // that the producer's node has some too).
        let curve = match (keys(&producer_node), keys(&consumer_node)) {
            (Some(p), Some(c)) if sender => Some(HopCurve {
                own_public: p.public_key,
                own_secret: p.secret_key,
                peer_public: c.public_key,
                zap: None,
            }),
            (Some(p), Some(c)) => Some(HopCurve {
                own_public: c.public_key,
                own_secret: c.secret_key,
                peer_public: p.public_key,
                // The node's one ZAP handler (its CURVE endpoints use it too).
                zap: Some(self.zmq.zap().map_err(|source| BuildError::Remote {
                    wire: label.clone(),
                    source,
                })?),
            }),
            _ => None,
        };
        let identity = HopIdentity {
            topology: topology.name.clone(),
            wiring: stable_hash(&[&label, ops.type_name(), &wire.codec, wire.delivery.as_str()]),
            producer_node,
            delivery: wire.delivery,
            max_message_size: wire.max_message_size.min(i64::MAX as u64) as i64,
            curve,
        };
        Ok(Hop {
            identity,
            queue,
            ops: Arc::clone(ops),
            codec: wire.codec.clone(),
            address: if sender {
                route.connect.clone()
            } else {
                route.bind.clone()
            },
            sender,
            label,
        })
    }
}

/// One cross-node destination of a wire, and which end this node is.
struct HopEnds<'t> {
    wire: &'t WireSpec,
    dest: &'t Destination,
    route: &'t RemoteRoute,
    sender: bool,
}
