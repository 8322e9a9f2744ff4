//! Typed supervision events: what the supervisor did and why.

use std::time::{Duration, SystemTime};

/// Why an actor stopped for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// It stopped itself and its policy does not restart it.
    Normal,
    /// It crashed and its policy is `never`.
    Failed(String),
    /// The node is shutting down.
    Shutdown,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A new incarnation started (1 for the first start).
    Started {
        /// Incarnation number.
        incarnation: u64,
    },
    /// The actor crashed: a handler panicked or returned an error, or `build` failed.
    Crashed {
        /// The panic message or error.
        reason: String,
    },
    /// The actor will be started again after `after`.
    Restarting {
        /// Backoff delay.
        after: Duration,
        /// Restart number within the current window.
        attempt: u32,
    },
    /// Restart limits were exceeded; the failure goes up to `to`.
    Escalated {
        /// The group the failure escalates to (`node` for the node itself).
        to: String,
        /// What exceeded which limit.
        reason: String,
    },
    /// The actor stopped for good.
    Stopped {
        /// Why.
        reason: StopReason,
    },
    /// Escalation reached the node: it shuts down and exits with failure.
    NodeFailed {
        /// The escalated reason.
        reason: String,
    },
}

/// One supervision event about an actor (or a group, for escalations).
#[derive(Debug, Clone, PartialEq, actix::Message)]
#[rtype(result = "()")]
pub struct Event {
    /// Node name.
    pub node: String,
    /// Actor or group name.
    pub subject: String,
    /// When it happened.
    pub at: SystemTime,
    /// What happened.
    pub kind: EventKind,
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.subject;
        match &self.kind {
            EventKind::Started { incarnation } => {
                write!(f, "{s}: started (incarnation {incarnation})")
            }
            EventKind::Crashed { reason } => write!(f, "{s}: crashed: {reason}"),
            EventKind::Restarting { after, attempt } => {
                write!(f, "{s}: restarting in {after:?} (attempt {attempt})")
            }
            EventKind::Escalated { to, reason } => write!(f, "{s}: escalated to {to}: {reason}"),
            EventKind::Stopped { reason } => write!(f, "{s}: stopped ({reason:?})"),
            EventKind::NodeFailed { reason } => write!(f, "{s}: node failed: {reason}"),
        }
    }
}
