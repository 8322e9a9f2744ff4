//! End-to-end tests of the `rolecall` binary: examples, `check`, `kinds`,
//! signals, and two `rolecall node` processes wired together.

mod check;
mod dht;
mod examples;
mod metrics;
mod multicast;
mod netns;
mod nodes;
mod paxos;
mod support;
mod zk; // issue 4
mod zmq;
