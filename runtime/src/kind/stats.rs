//! What a [`NodeHandle`](super::NodeHandle) can ask the node for: a snapshot
//! of every actor's counters ([`ActorStats`]: messages handled, backlog,
//! restarts — read from the wires' counters and the supervisor's incarnation
//! numbers, at no cost to the actors) and of every cross-node hop's
//! ([`HopSample`]).

use actix::Message;
use serde::{Deserialize, Serialize};

/// A snapshot of one actor's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorStats {
    /// The actor's name.
    pub actor: String,
    /// Messages handled so far, over all its input wires and incarnations.
    pub handled: u64,
    /// Messages waiting on its input wires now (queued plus taken, not yet handled).
    pub backlog: u64,
    /// Messages its input wires dropped (policy or consumer gone).
    pub dropped: u64,
    /// Messages the fault layer (`[[faults]]`) dropped on their way to its
    /// input wires (drops, partitions, delayed copies lost).
    #[serde(default)]
    pub fault_dropped: u64,
    /// Messages the fault layer duplicated on their way to its input wires.
    #[serde(default)]
    pub fault_duplicated: u64,
    /// Supervised restarts so far (incarnations after the first).
    pub restarts: u64,
    /// An incarnation is running now.
    pub running: bool,
    /// It was started at least once.
    pub started: bool,
}

/// Asks the supervisor for every actor's [`ActorStats`].
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Vec<ActorStats>")]
pub(crate) struct GetActorStats;

/// A snapshot of one cross-node hop's counters (the delivery contract's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HopSample {
    /// The wire, `from.port -> to.port`.
    pub hop: String,
    /// Whether this node is the sending end.
    pub sender: bool,
    /// Messages sent (sender, resends included) or pushed into the wire (receiver).
    pub messages: u64,
    /// Sender: frames sent again.
    pub resent: u64,
    /// Sender: messages not yet acknowledged as handled.
    pub unacknowledged: u64,
    /// Restarts of the other end seen (receiver restarts at the sender,
    /// sender restarts at the receiver).
    pub restarts: u64,
    /// Receiver: frames refused from connections without a valid hello.
    pub refused: u64,
    /// Receiver: copies of frames already received, dropped.
    pub duplicates: u64,
    /// Receiver, at-most-once: messages that never arrived.
    pub lost: u64,
    /// Frames that could not be encoded or decoded.
    pub bad_frames: u64,
}

/// Asks the supervisor for every hop's [`HopSample`].
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Vec<HopSample>")]
pub(crate) struct GetHopStats;
