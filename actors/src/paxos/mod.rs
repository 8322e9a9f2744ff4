//! Paxos roles (proposer, acceptor, learner; single-decree and Multi-Paxos),
//! durable acceptors, and a seeded simulator that checks safety.
//!
//! The protocol lives in I/O-free state machines that take messages and time
//! and return messages: [`Acceptor`] (over a [`Storage`]: [`MemStorage`] or the
//! fsync'd [`FileStorage`]), [`Proposer`] (single-decree, with a pluggable
//! [`Retry`] strategy), [`Learner`]. [`sim`] runs them on a simulated network
//! with delays, drops, duplicates, partitions and crash-restarts from one seed,
//! and checks that no two learners ever learn different values. The actor
//! kinds wrap the same state machines; see `docs/paxos.md`. [`model`] puts
//! them under the model checker (`docs/checking.md`).

mod acceptor;
mod alarm;
mod ballot;
pub mod kv;
mod learner;
mod message;
pub mod model;
pub mod multi;
mod proposer;
pub mod retry;
pub mod role;
pub mod sim;
pub mod storage;

pub use acceptor::Acceptor;
pub use ballot::Ballot;
pub use learner::Learner;
pub use message::{AcceptedEntry, AcceptorId, Decided, FromAcceptor, Propose, ToAcceptor, Value};
pub use proposer::{Action, Config, Proposer};
pub use retry::{FixedBackoff, Millis, RandomBackoff, Retry, Strategy};
pub use storage::{FileStorage, MemStorage, Storage, StorageError};

use rolecall_runtime::kind::{RegisterError, Registry};

/// Registers `paxos.acceptor`, `paxos.proposer`, `paxos.learner`,
/// `paxos.leader`, `paxos.kv` and `paxos.kv-client`.
pub fn register(registry: &mut Registry) -> Result<(), RegisterError> {
    registry
        .register::<role::AcceptorRole>("paxos.acceptor")?
        .register::<role::ProposerRole>("paxos.proposer")?
        .register::<role::LearnerRole>("paxos.learner")?
        .register::<kv::Leader>("paxos.leader")?
        .register::<kv::Kv>("paxos.kv")?
        .register::<kv::Client>("paxos.kv-client")?;
    Ok(())
}
