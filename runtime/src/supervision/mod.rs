//! Supervision: restart policies, restart intensity with exponential backoff and
//! jitter, one-for-one and one-for-all groups, escalation, and typed events.
//!
//! The decisions live in [`Tree`], a state machine without I/O or clocks; the
//! node's supervisor actor carries them out and publishes each [`Event`] to
//! every subscriber.

mod event;
mod policy;
mod tree;

pub use event::{Event, EventKind, StopReason};
pub use policy::{ActorPolicy, Backoff, GroupPolicy, Intensity, Restart, Strategy};
pub use tree::{Decision, Directive, Exit, MemberId, Tree};
