//! Kademlia DHT node actor on libp2p-kad (put/get records, providers, bootstrap).
//!
//! This module is the fixed home of these kinds in the crate layout; its kinds
//! are added by the issue that builds them. Until then it registers nothing.
