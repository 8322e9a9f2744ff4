//! Running a topology: the node builder, the running node and its handles.
//!
//! A [`Node`] takes a validated [`Topology`](crate::topology::Topology), a kind
//! [`Registry`](crate::kind::Registry) and the topology nodes this process
//! hosts. [`Node::start`] (inside an actix system) builds every wire, starts
//! the cross-node hops, creates the supervisor and starts the actors in
//! dependency order; it returns a [`Running`] node with typed addresses of its
//! actors by name.

mod builder;
mod endpoints;
mod faults;
mod running;
mod stats;
mod supervisor;

pub use crate::kind::{ActorStats, HopSample};
pub use crate::kind::{NodeHandle, Ref, SendError};
pub use builder::{BuildError, Node};
pub use endpoints::{Injector, Tap};
pub use running::{LookupError, Running};

/// How a node ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeExit {
    /// Every actor stopped, or a shutdown was requested and completed.
    Completed,
    /// Supervision escalated to the node: an actor kept failing.
    Failed(String),
}

impl NodeExit {
    /// The process exit status for this outcome: 0 or 1.
    pub fn code(&self) -> i32 {
        match self {
            NodeExit::Completed => 0,
            NodeExit::Failed(_) => 1,
        }
    }
}
