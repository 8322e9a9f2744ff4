//! The messages of the protocol, as they travel on wires (serde, so they cross
//! nodes with the `binary` or `json` codec).
//!
//! Every message names its `slot`: single-decree Paxos uses slot 0, Multi-Paxos
//! one slot per log entry. A value is a batch of commands (single-decree
//! proposes a batch of one).

use actix::Message;
use serde::{Deserialize, Serialize};

use super::ballot::Ballot;

/// A value a slot can be decided on: a batch of commands.
pub type Value = Vec<String>;

/// An acceptor's identity (≥ 1).
pub type AcceptorId = u32;

/// One accepted entry reported in a promise: (slot, ballot it was accepted at, value).
pub type AcceptedEntry = (u64, Ballot, Value);

/// From proposers to acceptors.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub enum ToAcceptor {
    /// Phase 1a: promise to ignore ballots below `ballot` for slots ≥ `from_slot`.
    Prepare {
        /// The proposer's ballot.
        ballot: Ballot,
        /// First slot the promise covers (0 for single-decree).
        from_slot: u64,
    },
    /// Phase 2a: accept `value` for `slot` at `ballot`.
    Accept {
        /// The proposer's ballot.
        ballot: Ballot,
        /// The slot.
        slot: u64,
        /// The proposed value.
        value: Value,
    },
}

/// From acceptors to proposers and learners.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub enum FromAcceptor {
    /// Phase 1b: promised `ballot`; here is what I accepted at slots ≥ `from_slot`.
    Promise {
        /// The acceptor.
        acceptor: AcceptorId,
        /// The ballot promised.
        ballot: Ballot,
        /// The prepare's first slot.
        from_slot: u64,
        /// Entries accepted at slots ≥ `from_slot`, by slot.
        accepted: Vec<AcceptedEntry>,
    },
    /// Phase 2b: accepted `value` for `slot` at `ballot`.
    Accepted {
        /// The acceptor.
        acceptor: AcceptorId,
        /// The ballot.
        ballot: Ballot,
        /// The slot.
        slot: u64,
        /// The value.
        value: Value,
    },
    /// Refused `ballot`: a higher one (`promised`) was promised.
    Nack {
        /// The acceptor.
        acceptor: AcceptorId,
        /// The refused ballot.
        ballot: Ballot,
        /// What the acceptor has promised instead.
        promised: Ballot,
    },
}

impl FromAcceptor {
    /// The ballot the message answers.
    pub fn ballot(&self) -> Ballot {
        match self {
            FromAcceptor::Promise { ballot, .. }
            | FromAcceptor::Accepted { ballot, .. }
            | FromAcceptor::Nack { ballot, .. } => *ballot,
        }
    }
}

/// A slot's value is chosen: sent by proposers that saw a quorum accept, and by
/// learners that counted a quorum of `Accepted`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct Decided {
    /// The slot.
    pub slot: u64,
    /// The chosen value.
    pub value: Value,
}

/// A client's request to a proposer or leader: get these commands decided.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct Propose {
    /// Commands to decide (single-decree: the value; Multi-Paxos: appended to the log).
    pub commands: Vec<String>,
}
