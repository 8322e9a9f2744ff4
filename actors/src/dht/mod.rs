//! Kademlia DHT node actor on libp2p (kad, identify; tcp, noise, yamux).
//!
//! | kind | ports | what it does |
//! |---|---|---|
//! | `dht.node` | in `requests`: [`Request`]; out `responses`: [`Response`], `events`: [`Event`] | a DHT node in server mode speaking `/ipfs/kad/1.0.0` |
//! | `dht.text-bridge` | in/out: `Frames`; out `requests`, in `responses`, `events` | answers `put KEY VALUE` / `get KEY` text (e.g. from `zmq.rep`) from the DHT ([`bridge`]) |
//!
//! * [`config`]: parameters (identity from a seed or key file, listen
//!   address, bootstrap peers, replication and quorum, record TTL and
//!   republication, maximum record size, re-bootstrap interval) and
//!   `validate()`;
//! * [`message`]: typed requests, their answers and one error enum per
//!   operation;
//! * [`swarm`]: the libp2p behaviour and swarm;
//! * `driver`: the task owning the swarm on the actor's arbiter, fed by a
//!   bounded command channel, queries matched back to requests by `QueryId`;
//! * `refresh`: while the routing table is short of `replication` peers,
//!   bootstrap lookups again with growing pauses (joins at the same moment
//!   can otherwise leave a node knowing too few peers for minutes);
//! * [`Node`]: the actor;
//! * [`bridge`]: a text-protocol stage between a ZeroMQ endpoint and a node.
//!
//! `docs/dht.md` tells the whole story.

pub mod bridge;
pub mod config;
mod driver;
pub mod message;
mod node;
mod refresh;
pub mod swarm;

/// The libp2p crate this module is built on (for code that drives swarms
/// of [`swarm::Behaviour`] itself, such as the benchmark's baseline).
pub use libp2p;

pub use config::{
    new_key_file_contents, seeded_keypair, seeded_peer_id, Config, ConfigError, Identity, Params,
    Peer,
};
pub use message::*;
pub use node::Node;

use rolecall_runtime::kind::{RegisterError, Registry};

/// Registers `dht.node`.
pub fn register(registry: &mut Registry) -> Result<(), RegisterError> {
    registry
        .register::<Node>("dht.node")?
        .register::<bridge::TextBridge>("dht.text-bridge")?;
    Ok(())
}
