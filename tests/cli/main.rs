//! End-to-end tests of the `rolecall` binary: examples, `check`, `kinds`,
//! signals, and two `rolecall node` processes wired together.

mod check;
mod dht;
mod examples;
mod metrics;
mod model;
mod multicast;
mod nodes;
mod paxos;
mod support;
mod zk; // issue 4
mod zmq;
