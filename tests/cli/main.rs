//! End-to-end tests of the `rolecall` binary: examples, `check`, `kinds`,
//! signals, and two `rolecall node` processes wired together.

mod bench; // issue 18
mod check;
mod containers;
mod dht;
mod endpoints;
mod examples;
mod experiment;
mod experiment_apps; // issue 16
mod metrics;
mod model;
mod multicast;
mod netns;
mod nodes;
mod paxos;
mod pubsub;
mod pubsub_dht;
mod pubsub_history; // issue 15 (PA4)
mod pubsub_interop;
mod pubsub_strangers;
mod pubsub_zk; // issue 15
mod run_trace; // issue 19
mod servers_absent; // issue 12, item 7
mod support;
mod wires;
mod zk; // issue 4
mod zmq;
