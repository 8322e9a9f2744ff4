//! DHT node actors on real libp2p swarms over loopback TCP: rings in one
//! process, killed nodes, unreachable bootstrap peers, bad records.

mod faults;
mod ring;
mod support;
