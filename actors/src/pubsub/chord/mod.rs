//! The course's PA2 Chord ring: node ids from SHA-256, finger tables, routing
//! a key to the node responsible for it, as an I/O-free state machine.
//!
//! A ring is read from the course's `dht.json` ([`DhtJson`]); every node
//! [`joins`](Node::join) with the full membership and builds its finger table
//! (`finger[i] = successor(id + 2^i)`), its predecessor and a list of
//! successors. [`Node::route`] is one step of a lookup: answer here, the
//! successor is responsible (last hop), or forward to the closest preceding
//! finger. [`Ring::lookup`] walks the steps (what the network does, hop by hop)
//! and counts hops; nodes that are down are routed around, and a key whose
//! responsible node is down is an error naming it.
//!
//! Discovery over the ring: [`Service`] is one node's discovery service
//! (client `DiscoveryReq`s in, operations routed hop by hop to the node
//! responsible for each key, replies out), [`Store`] what a node holds, and
//! [`serve`] the thread that does a node's ZeroMQ I/O.

mod peer;
mod ring;
pub mod serve;
pub mod service;
pub mod sha256;
pub mod store;

pub use ring::{hash, ChordError, DhtEntry, DhtJson, Node, Peer, Ring, Route};
pub use service::{Config, Out, PeerMsg, Service};
pub use store::{Answer, Op, Registrant, Store, REGISTRY_KEY};
