//! [`Gate`]: how a layer above the wires (fault injection) decides what
//! happens to each message sent on a wire, without the wires knowing it.
//!
//! A wire holds at most one gate, set once when the node builds it.
//! [`Output::send`](super::Output::send) asks the gate of each wire for a
//! [`Verdict`] and carries it out: drops and duplicates are counted in the
//! wire's [`WireStats`](super::WireStats), delays run on the sending actor's
//! timers.

use std::time::Duration;

/// What happens to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Lost.
    Drop,
    /// Delivered after this delay (zero: now).
    Deliver(Duration),
    /// Delivered twice, after each delay.
    Duplicate(Duration, Duration),
}

/// Decides, message by message, what a wire does with what is sent on it.
pub trait Gate: Send + Sync + std::fmt::Debug {
    /// The verdict for the next message, now.
    fn decide(&self) -> Verdict;
}
