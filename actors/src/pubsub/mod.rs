//! The course's publish/subscribe assignments as rolecall roles: a discovery
//! service, publishers, subscribers and a broker, wire-compatible with the
//! course's starter code (protobuf `DiscoveryReq`/`DiscoveryResp` over REQ/REP,
//! publications as `topic:data` frames over PUB/SUB). See `docs/pubsub.md`.
//!
//! The protocol is in I/O-free state machines: [`Directory`] (the centralized
//! discovery service) and [`Client`] (the lifecycle every client walks);
//! the kinds around them do the sockets.

mod answers;
pub mod catchup;
pub mod chord;
pub mod client;
pub mod config;
pub mod coordination;
pub mod directory;
pub mod driver;
pub mod history;
pub mod history_io;
pub mod kademlia;
pub mod kinds;
pub mod promotion;
pub mod publication;
pub mod ring_node;
pub mod streams;
pub mod topics;

pub use client::{Action, Client, ClientError, Kind, Phase};
pub use directory::{Directory, Dissemination, Expect};
pub use publication::{Publication, Stamp};

use rolecall_runtime::kind::{RegisterError, Registry};

/// Registers `pubsub.discovery`, `pubsub.chord_node`, `pubsub.kad_discovery`, `pubsub.publisher`,
/// `pubsub.subscriber` and `pubsub.broker`.
pub fn register(registry: &mut Registry) -> Result<(), RegisterError> {
    registry
        .register::<kinds::Discovery>("pubsub.discovery")?
        .register::<ring_node::ChordNode>("pubsub.chord_node")?
        .register::<kademlia::kind::KadDiscovery>("pubsub.kad_discovery")?
        .register::<kinds::Member<kinds::Publisher>>("pubsub.publisher")?
        .register::<kinds::Member<kinds::Subscriber>>("pubsub.subscriber")?
        .register::<kinds::Member<kinds::Broker>>("pubsub.broker")?;
    Ok(())
}
