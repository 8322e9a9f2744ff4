//! Topologies: the TOML file format, its loader and validation.
//!
//! * [`model`]: the validated topology (nodes, groups, actors, wires, routes);
//! * `load`: parse, apply [`Overrides`], read every table with positions,
//!   validate against a kind [`Registry`](crate::kind::Registry), build the model;
//! * `read`: typed, position-reporting getters over spanned TOML;
//! * `source`: byte spans to `file:line:column`, [`Diagnostic`], [`LoadError`];
//! * `overrides`: `--set` and `ROLECALL_SET*` assignments;
//! * `duration`: `"250ms"`-style durations;
//! * `order`: [`start_order`]; [`graph`]: text and Graphviz output.
//!
//! The format is documented in `docs/topology.md`. Loading never panics: every
//! problem becomes a diagnostic naming the file, line and column.

mod duration;
pub mod graph;
mod load;
pub mod model;
mod order;
mod overrides;
mod read;
mod source;

pub use load::{load_file, load_str};
pub use model::{
    ActorSpec, Destination, GroupSpec, NodeSpec, PortRef, RemoteRoute, Topology, TraceSpec,
    WireSpec,
};
pub use order::start_order;
pub use overrides::{OverrideError, Overrides, ENV_PREFIX};
pub use source::{Diagnostic, LoadError};
