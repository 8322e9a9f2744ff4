//! rolecall: build distributed systems from supervised, topology-wired actors.
//!
//! This crate is the facade: it re-exports the runtime ([`runtime`]), the actor
//! kinds ([`actors`]) and the codecs ([`codecs`]), and offers
//! [`default_registry`] with every built-in kind registered. The `rolecall`
//! binary (see `rolecall --help`) is built on it.
//!
//! Embedding in 30 lines — load a topology, add your own kind, start it inside
//! your actix system, and talk to an actor by name:
//!
//! ```no_run
//! use rolecall::runtime::topology::{load_str, Overrides};
//! use rolecall::runtime::{Node, NodeExit};
//!
//! #[actix_rt::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let registry = rolecall::default_registry();
//!     let text = r#"
//!         [actors.source]
//!         kind = "topic.source"
//!         params = { count = 20, interval_ms = 1 }
//!         [actors.stats]
//!         kind = "topic.latency"
//!         [[wires]]
//!         from = "source.out"
//!         to = "stats.in"
//!     "#;
//!     let topology = load_str(text, "inline", &registry, &Overrides::new())?;
//!     let running = Node::all(topology, registry).start().await?;
//!     assert_eq!(running.wait().await, NodeExit::Completed);
//!     Ok(())
//! }
//! ```

pub use rolecall_actors as actors;
pub use rolecall_codecs as codecs;
pub use rolecall_runtime as runtime;

pub mod bench;

/// A kind registry with every kind of [`actors`] registered.
pub fn default_registry() -> runtime::Registry {
    let mut registry = runtime::Registry::new();
    if let Err(e) = actors::register_all(&mut registry) {
        // Built-in names are fixed and distinct; this is a programming error.
        tracing::error!(error = %e, "registering built-in kinds failed");
    }
    registry
}
