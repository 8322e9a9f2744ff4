//! rolecall's actor kinds.
//!
//! Every concern of a distributed application is an actor kind here, registered
//! by name with [`register_all`]:
//!
//! * [`stage`]: general-purpose stages — a Topic publisher, codec stages that
//!   turn messages into frames and back, latency statistics;
//! * [`zmq`], [`zk`], [`dht`], [`paxos`], [`metrics`]: the homes of the ZeroMQ
//!   endpoints, ZooKeeper recipes, Kademlia DHT node, Paxos roles and metrics
//!   reporter (each filled by its own issue; see their module docs);
//! * [`model`]: a model checker for roles written as I/O-free state machines.

pub mod dht;
pub mod metrics;
pub mod model;
pub mod paxos;
pub mod pubsub;
pub mod stage;
pub mod zk;
pub mod zmq;

use rolecall_runtime::kind::{RegisterError, Registry};

/// Registers every kind of this crate.
pub fn register_all(registry: &mut Registry) -> Result<(), RegisterError> {
    stage::register(registry)?;
    zk::register(registry)?; // issue 4
    metrics::register(registry)?;
    paxos::register(registry)?;
    pubsub::register(registry)?;
    dht::register(registry)?;
    zmq::register(registry)
}
