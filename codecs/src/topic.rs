//! The course's `Topic` message as a plain Rust value.

use serde::{Deserialize, Serialize};

/// `MyPubSub.Topic` from `schemas/topic.fbs`: a sequence number, a send
/// timestamp (seconds since the Unix epoch), a topic name and a data vector.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Topic {
    /// Sequence number within its publisher.
    pub seq_no: u32,
    /// Send time, seconds since the Unix epoch.
    pub ts: f64,
    /// Topic name.
    pub name: String,
    /// Payload.
    pub data: Vec<u32>,
}

impl actix::Message for Topic {
    type Result = ();
}
