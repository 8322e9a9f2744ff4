//! Where an acceptor keeps its promises and accepted values: the [`Storage`]
//! trait, [`MemStorage`] (in memory) and [`FileStorage`] (fsync'd append-only
//! file).
//!
//! The acceptor calls [`Storage::append`] and replies only after it returned,
//! so with [`FileStorage`] every promise and acceptance a proposer or learner
//! ever saw is on disk. [`MemStorage`] keeps the same state in memory: fast,
//! for experiments and the simulator (where "crash" keeps the memory, standing
//! for a disk); in a real process it is lost with the process, and with it the
//! guarantee that a restarted acceptor keeps its promises.

mod file;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use file::FileStorage;

use super::ballot::Ballot;
use super::message::Value;

/// One durable change of an acceptor's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// Promised `Ballot`: never accept or promise below it.
    Promise(Ballot),
    /// Accepted `value` for `slot` at `ballot` (which is also promised).
    Accept {
        /// The slot.
        slot: u64,
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
    },
}

/// An acceptor's durable state: what [`Storage::load`] reads back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Highest ballot promised.
    pub promised: Ballot,
    /// Per slot, the highest-ballot value accepted.
    pub accepted: BTreeMap<u64, (Ballot, Value)>,
}

impl State {
    /// Applies one record.
    pub fn apply(&mut self, record: &Record) {
        match record {
            Record::Promise(b) => self.promised = self.promised.max(*b),
            Record::Accept {
                slot,
                ballot,
                value,
            } => {
                self.promised = self.promised.max(*ballot);
                let newer = self.accepted.get(slot).is_none_or(|(b, _)| b <= ballot);
                if newer {
                    self.accepted.insert(*slot, (*ballot, value.clone()));
                }
            }
        }
    }
}

/// Reading or writing an acceptor's storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An I/O error on the storage file.
    #[error("acceptor storage `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// A complete record in the middle of the file does not decode (not a torn tail).
    #[error("acceptor storage `{path}`: corrupt record at byte {offset}: {problem}")]
    Corrupt {
        /// The file.
        path: String,
        /// Where the bad record starts.
        offset: u64,
        /// What is wrong.
        problem: String,
    },
}

/// Persistence of an acceptor's state.
pub trait Storage: Send + 'static {
    /// Reads the state back (at start and after a restart).
    fn load(&mut self) -> Result<State, StorageError>;
    /// Makes `records` durable, in order; returns only once they are.
    fn append(&mut self, records: &[Record]) -> Result<(), StorageError>;
}

/// State in memory. Survives nothing in a real process; in the simulator a
/// crashed acceptor keeps its `MemStorage` (standing for a disk).
#[derive(Debug, Clone, Default)]
pub struct MemStorage {
    state: State,
}

impl MemStorage {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Storage for MemStorage {
    fn load(&mut self) -> Result<State, StorageError> {
        Ok(self.state.clone())
    }

    fn append(&mut self, records: &[Record]) -> Result<(), StorageError> {
        for r in records {
            self.state.apply(r);
        }
        Ok(())
    }
}

/// Either kind of storage, chosen by a topology parameter.
#[derive(Debug)]
pub enum AnyStorage {
    /// In memory.
    Mem(MemStorage),
    /// Durable file.
    File(FileStorage),
}

impl Storage for AnyStorage {
    fn load(&mut self) -> Result<State, StorageError> {
        match self {
            AnyStorage::Mem(s) => s.load(),
            AnyStorage::File(s) => s.load(),
        }
    }

    fn append(&mut self, records: &[Record]) -> Result<(), StorageError> {
        match self {
            AnyStorage::Mem(s) => s.append(records),
            AnyStorage::File(s) => s.append(records),
        }
    }
}
