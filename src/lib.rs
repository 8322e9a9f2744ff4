//! rolecall: build distributed systems from supervised, topology-wired actors.
//!
//! This crate is the facade: it re-exports the runtime ([`runtime`]), the actor
//! kinds ([`actors`]) and the codecs ([`codecs`]), and offers
//! [`default_registry`] with every built-in kind registered. The `rolecall`
//! binary (see `rolecall --help`) is built on it.
//!
//! Embedding in 30 lines — register your own kind, load a topology, start it
//! inside your actix system, and talk to an actor through its typed address:
//!
//! ```
//! use actix::prelude::*;
//! use rolecall::codecs::Topic;
//! use rolecall::runtime::kind::{CreateError, Io, Ports, Role};
//! use rolecall::runtime::topology::{load_str, Overrides};
//! use rolecall::runtime::{Node, NodeExit};
//!
//! #[derive(Default)]
//! struct Counter { seen: u64 }
//! impl Actor for Counter { type Context = Context<Self>; }
//! impl Handler<Topic> for Counter {
//!     type Result = ();
//!     fn handle(&mut self, _: Topic, _: &mut Context<Self>) { self.seen += 1; }
//! }
//! #[derive(Message)]
//! #[rtype(result = "u64")]
//! struct HowMany;
//! impl Handler<HowMany> for Counter {
//!     type Result = u64;
//!     fn handle(&mut self, _: HowMany, _: &mut Context<Self>) -> u64 { self.seen }
//! }
//! impl Role for Counter {
//!     type Params = toml::Table;
//!     fn ports(p: &mut Ports<Self>) { p.input::<Topic>("in"); }
//!     fn build(_: &toml::Table, _: &mut Io) -> Result<Self, CreateError> { Ok(Counter::default()) }
//!     fn end_of_input(&mut self, _: &mut Context<Self>) {} // stay up to be asked
//! }
//!
//! # #[cfg(not(feature = "stage"))] fn main() {} // `topic.source` is a stage
//! # #[cfg(feature = "stage")]
//! #[actix_rt::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let mut registry = rolecall::default_registry();
//!     registry.register::<Counter>("app.counter")?;
//!     let text = r#"
//!         [actors.source]
//!         kind = "topic.source"
//!         params = { count = 20, interval_ms = 0 }
//!         [actors.counter]
//!         kind = "app.counter"
//!         [[wires]]
//!         from = "source.out"
//!         to = "counter.in"
//!     "#;
//!     let topology = load_str(text, "inline", &registry, &Overrides::new())?;
//!     let running = Node::all(topology, registry).start().await?;
//!     let counter = running.actor::<Counter>("counter")?; // typed, survives restarts
//!     while counter.send(HowMany).await.map_err(|e| e.to_string())? < 20 {
//!         actix_rt::time::sleep(std::time::Duration::from_millis(5)).await;
//!     }
//!     running.shutdown();
//!     assert_eq!(running.wait().await, NodeExit::Completed);
//!     Ok(())
//! }
//! ```

pub use rolecall_actors as actors;
pub use rolecall_codecs as codecs;
pub use rolecall_runtime as runtime;

pub mod app;
pub mod deploy;
#[cfg(feature = "metrics")]
pub mod experiment;
#[cfg(feature = "model")]
pub mod model;
#[cfg(feature = "paxos")]
pub mod paxos_check;
#[cfg(feature = "metrics")]
pub mod report;
pub mod trace;

/// A kind registry with every kind of [`actors`] registered: the kinds of
/// the concerns whose features are on (all of them by default; see the
/// crate's features).
pub fn default_registry() -> runtime::Registry {
    let mut registry = runtime::Registry::new();
    if let Err(e) = actors::register_all(&mut registry) {
        // Built-in names are fixed and distinct; this is a programming error.
        tracing::error!(error = %e, "registering built-in kinds failed");
    }
    registry
}

#[cfg(test)]
mod tests {
    /// `default_registry` holds a concern's kinds exactly when its feature
    /// is on (run with `--no-default-features --features zmq` too).
    #[test]
    fn the_default_registry_holds_the_kinds_of_the_features_that_are_on() {
        let registry = super::default_registry();
        let concerns = [
            (cfg!(feature = "zmq"), "zmq.proxy"),
            (cfg!(feature = "stage"), "topic.source"),
            (cfg!(feature = "zk"), "zk.session"),
            (cfg!(feature = "metrics"), "metrics.reporter"),
            (cfg!(feature = "dht"), "dht.node"),
            (cfg!(feature = "paxos"), "paxos.learner"),
            (cfg!(feature = "pubsub"), "pubsub.broker"),
        ];
        for (on, kind) in concerns {
            assert_eq!(registry.kind(kind).is_some(), on, "{kind}");
        }
        if !cfg!(feature = "stage") && cfg!(feature = "zmq") {
            let names = registry.names();
            assert!(names.iter().all(|n| n.starts_with("zmq.")), "{names:?}");
        }
    }
}
