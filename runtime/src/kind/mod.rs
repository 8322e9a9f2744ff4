//! Actor kinds: roles, their typed ports, and the registry of kind names.
//!
//! A kind is a Rust type implementing [`Role`] (an actix actor plus how to build
//! it from parameters and which ports it has), registered under a name in a
//! [`Registry`]. Topology files refer to kinds by that name.

pub(crate) mod check;
mod console;
mod crash;
pub(crate) mod handle;
mod io;
pub(crate) mod message_type;
mod ports;
mod registry;
mod role;
pub(crate) mod spawn;
pub(crate) mod stats;

pub use crate::wire::Outcome;
pub use check::ParamCheck;
pub use console::{Capture, CapturedLine, Console, Line, Silent, Sink, Stdout};
pub use crash::Crash;
pub use handle::{NodeHandle, Ref, SendError};
pub use io::{Io, PortError};
pub use message_type::Payload;
pub use ports::{Direction, Ports};
pub use registry::{KindInfo, PortInfo, RegisterError, Registry};
pub use spawn::Stopping;

pub use role::{CreateError, Role};
pub use stats::{ActorStats, HopSample};
