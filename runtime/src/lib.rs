//! rolecall's actor runtime.
//!
//! Applications are built from **actors** (plain actix actors implementing
//! [`kind::Role`]), registered as named **kinds**, configured and connected by
//! a **topology** file, and kept alive by **supervision**:
//!
//! * [`kind`]: roles, typed ports, the kind registry;
//! * [`wire`]: bounded wires with an explicit overflow policy, and the inlet
//!   that feeds a wire into an actor's `Handler`;
//! * [`topology`]: the TOML topology format, its loader and validation;
//! * [`supervision`]: restart policies, backoff, groups, escalation, events;
//! * [`node`]: building and running a topology node, typed addresses by name;
//! * [`remote`]: cross-node wires over ZeroMQ PUSH/PULL with a codec;
//! * [`fault`]: seeded fault injection on wires and crash schedules;
//! * [`trace`]: the causal trace file format (JSON lines with Lamport and
//!   vector clocks) and the clocks that stamp it.
//!
//! `docs/architecture.md` draws the whole picture; `docs/runtime-semantics.md`
//! states the guarantees (ordering, what survives a restart, what is dropped).

// Library code reports through a role's console (`Io::console`), never to
// stdout or stderr itself: an embedding program decides where lines go.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod fault;
pub mod kind;
pub mod node;
pub mod remote;
pub mod supervision;
pub mod topology;
pub mod trace;
pub mod wire;

pub use kind::{Io, Ports, Registry, Role};
pub use node::{Injector, Tap};
pub use node::{Node, NodeExit, NodeHandle, Ref, Running};
pub use wire::{Output, Policy, WireConfig};
