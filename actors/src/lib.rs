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
//!
//! Each concern is a cargo feature of the same name (all on by default), so a
//! program that embeds only some of them compiles only their dependencies:
//! `zmq`, `zk`, `metrics`, `dht` (needs `zmq`), `paxos` (needs `model`),
//! `model`, `stage` (needs `zmq` and `metrics`) and `pubsub` (needs `zmq`,
//! `metrics` and `dht`). [`register_all`]
//! registers the kinds of the features that are on.

// Library code reports through a role's console (`Io::console`), never to
// stdout or stderr itself: an embedding program decides where lines go.
#![warn(clippy::print_stdout, clippy::print_stderr)]

#[cfg(feature = "dht")]
pub mod dht;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(feature = "model")]
pub mod model;
#[cfg(feature = "paxos")]
pub mod paxos;
#[cfg(feature = "pubsub")]
pub mod pubsub;
#[cfg(feature = "stage")]
pub mod stage;
#[cfg(feature = "zk")]
pub mod zk;
#[cfg(feature = "zmq")]
pub mod zmq;

use rolecall_runtime::kind::{RegisterError, Registry};

/// Registers every kind of this crate's enabled features.
pub fn register_all(registry: &mut Registry) -> Result<(), RegisterError> {
    #[cfg(feature = "stage")]
    stage::register(registry)?;
    #[cfg(feature = "zk")]
    zk::register(registry)?;
    #[cfg(feature = "metrics")]
    metrics::register(registry)?;
    #[cfg(feature = "paxos")]
    paxos::register(registry)?;
    #[cfg(feature = "pubsub")]
    pubsub::register(registry)?;
    #[cfg(feature = "dht")]
    dht::register(registry)?;
    #[cfg(feature = "zmq")]
    zmq::register(registry)?;
    let _ = &registry; // with no feature, nothing to register
    Ok(())
}
