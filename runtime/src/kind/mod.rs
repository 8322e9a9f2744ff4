//! Actor kinds: roles, their typed ports, and the registry of kind names.
//!
//! A kind is a Rust type implementing [`Role`] (an actix actor plus how to build
//! it from parameters and which ports it has), registered under a name in a
//! [`Registry`]. Topology files refer to kinds by that name.

mod io;
pub(crate) mod message_type;
mod outcome;
mod ports;
mod registry;
mod role;

pub use io::{Io, PortError};
pub use message_type::Payload;
pub use outcome::Outcome;
pub use ports::{Direction, Ports};
pub use registry::{KindInfo, PortInfo, RegisterError, Registry};

pub use role::{CreateError, Role};
