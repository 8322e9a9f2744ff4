//! Paxos tests: the state machines under the seeded simulator (safety checker),
//! durable storage, and the actor kinds over wires.

mod burst;
mod console;
mod durable;
mod multi;
mod safety;
