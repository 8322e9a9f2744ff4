//! Wires: bounded, policy-driven channels from an output port to an input port.
//!
//! actix mailboxes grow without bound under `do_send`; a wire never does. Each
//! wire is a [`Queue`] of fixed capacity with an explicit overflow [`Policy`]
//! (block, drop-newest, drop-oldest) whose drops are counted in [`WireStats`].
//! Producers hold an [`Output`]; the consumer's context runs an inlet that calls
//! the actor's `Handler` for each message. Wires are owned by the runtime, not by
//! actor incarnations, so they outlive supervised restarts.

pub(crate) mod erased;
mod gate;
pub(crate) mod inlet;
mod outcome;
mod output;
mod policy;
mod port_ref;
mod queue;
mod sender;
mod traced;

pub use gate::{Gate, Verdict};
pub use outcome::Outcome;
pub use output::{Output, Sent};
pub use policy::{Delivery, Policy, UnknownPolicy, WireConfig, WireStats};
pub use port_ref::PortRef;
pub use queue::{Popped, PushError, Pushed, Queue};
pub(crate) use sender::AnySender;
pub use sender::Sender;
pub use traced::WireTrace;
