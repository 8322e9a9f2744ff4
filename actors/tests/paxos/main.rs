//! Paxos tests: the state machines under the seeded simulator (safety checker),
//! durable storage, and the actor kinds over wires.

mod burst;
mod console;
mod durable;
mod multi;
mod safety;

/// Every kind of the crate, registered.
fn registry() -> rolecall_runtime::Registry {
    let mut r = rolecall_runtime::Registry::new();
    rolecall_actors::register_all(&mut r).expect("kinds register");
    r
}
