//! Discovery on the libp2p Kademlia DHT (`dht.node`): [`Frontend`] answers
//! the course's `DiscoveryReq`s from records in the DHT (see its module for
//! the records and their consistency), and `pubsub.kad_discovery` is the
//! kind around it, wired to a `zmq.rep` and a `dht.node`.

pub mod frontend;
pub mod kind;

pub use frontend::{registry_key, topic_key, Config, Frontend, Out, Registry};
