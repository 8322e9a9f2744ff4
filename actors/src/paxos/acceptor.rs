//! [`Acceptor`]: the I/O-free acceptor state machine over a [`Storage`].
//!
//! One promise covers every slot (Multi-Paxos style; single-decree uses slot 0
//! only). A prepare strictly above the promised ballot is granted, and an
//! accept at or above it; anything else is refused with a `Nack` naming the
//! promise. (Refusing a second prepare of the promised ballot is what keeps a
//! proposer that restarted without memory from reusing a ballot.) Every change is
//! appended to the storage, and [`Acceptor::handle_batch`] returns its replies
//! only after the storage said the changes are durable.

use std::collections::BTreeMap;

use super::ballot::Ballot;
use super::message::{AcceptorId, FromAcceptor, ToAcceptor, Value};
use super::storage::{Record, Storage, StorageError};

/// The acceptor role.
#[derive(Debug, Clone)]
pub struct Acceptor<S> {
    id: AcceptorId,
    storage: S,
    promised: Ballot,
    accepted: BTreeMap<u64, (Ballot, Value)>,
    pending: Vec<Record>,
}

impl<S: Storage> Acceptor<S> {
    /// An acceptor `id` whose state is read back from `storage`.
    pub fn recover(id: AcceptorId, mut storage: S) -> Result<Self, StorageError> {
        let state = storage.load()?;
        Ok(Acceptor {
            id,
            storage,
            promised: state.promised,
            accepted: state.accepted,
            pending: Vec::new(),
        })
    }

    /// This acceptor's id.
    pub fn id(&self) -> AcceptorId {
        self.id
    }

    /// The highest ballot promised.
    pub fn promised(&self) -> Ballot {
        self.promised
    }

    /// What was accepted at `slot`, if anything.
    pub fn accepted(&self, slot: u64) -> Option<&(Ballot, Value)> {
        self.accepted.get(&slot)
    }

    /// The storage (for statistics and tests).
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Handles one message; the reply is returned once durable.
    pub fn handle(&mut self, msg: ToAcceptor) -> Result<FromAcceptor, StorageError> {
        let mut out = Vec::with_capacity(1);
        self.handle_batch(std::iter::once(msg), &mut out)?;
        Ok(out.remove(0))
    }

    /// Handles a batch: one reply per message pushed to `out`, after one
    /// durable append of all the batch's changes. On error nothing is pushed.
    pub fn handle_batch(
        &mut self,
        msgs: impl IntoIterator<Item = ToAcceptor>,
        out: &mut Vec<FromAcceptor>,
    ) -> Result<(), StorageError> {
        let start = out.len();
        for msg in msgs {
            let reply = self.step(msg);
            out.push(reply);
        }
        let pending = std::mem::take(&mut self.pending);
        if let Err(e) = self.storage.append(&pending) {
            out.truncate(start);
            // Memory may be ahead of the disk now: the caller must crash and recover.
            return Err(e);
        }
        self.pending = pending;
        self.pending.clear();
        Ok(())
    }

    fn nack(&self, ballot: Ballot) -> FromAcceptor {
        FromAcceptor::Nack {
            acceptor: self.id,
            ballot,
            promised: self.promised,
        }
    }

    fn step(&mut self, msg: ToAcceptor) -> FromAcceptor {
        match msg {
            ToAcceptor::Prepare { ballot, from_slot } => {
                // Strictly above: a proposer restarted without memory may
                // prepare a ballot it already used; refusing it makes it move
                // to a fresh round instead of reusing one for another value.
                if ballot <= self.promised {
                    return self.nack(ballot);
                }
                self.promised = ballot;
                self.pending.push(Record::Promise(ballot));
                FromAcceptor::Promise {
                    acceptor: self.id,
                    ballot,
                    from_slot,
                    accepted: self
                        .accepted
                        .range(from_slot..)
                        .map(|(s, (b, v))| (*s, *b, v.clone()))
                        .collect(),
                }
            }
            ToAcceptor::Accept {
                ballot,
                slot,
                value,
            } => {
                if ballot < self.promised {
                    return self.nack(ballot);
                }
                self.promised = ballot;
                let same = self
                    .accepted
                    .get(&slot)
                    .is_some_and(|(b, v)| *b == ballot && *v == value);
                if !same {
                    self.accepted.insert(slot, (ballot, value.clone()));
                    self.pending.push(Record::Accept {
                        slot,
                        ballot,
                        value: value.clone(),
                    });
                }
                FromAcceptor::Accepted {
                    acceptor: self.id,
                    ballot,
                    slot,
                    value,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paxos::MemStorage;

    fn b(round: u64, p: u32) -> Ballot {
        Ballot::new(round, p)
    }

    #[test]
    fn promises_and_refuses_lower_ballots() {
        let mut a = Acceptor::recover(1, MemStorage::new()).unwrap();
        let r = a
            .handle(ToAcceptor::Prepare {
                ballot: b(2, 1),
                from_slot: 0,
            })
            .unwrap();
        assert!(matches!(r, FromAcceptor::Promise { .. }));
        let r = a
            .handle(ToAcceptor::Accept {
                ballot: b(1, 2),
                slot: 0,
                value: vec!["v".into()],
            })
            .unwrap();
        assert_eq!(
            r,
            FromAcceptor::Nack {
                acceptor: 1,
                ballot: b(1, 2),
                promised: b(2, 1)
            }
        );
        let r = a
            .handle(ToAcceptor::Prepare {
                ballot: b(1, 9),
                from_slot: 0,
            })
            .unwrap();
        assert!(matches!(r, FromAcceptor::Nack { .. }));
    }

    #[test]
    fn a_promise_reports_what_was_accepted() {
        let mut a = Acceptor::recover(1, MemStorage::new()).unwrap();
        a.handle(ToAcceptor::Accept {
            ballot: b(1, 1),
            slot: 0,
            value: vec!["v".into()],
        })
        .unwrap();
        let r = a
            .handle(ToAcceptor::Prepare {
                ballot: b(2, 2),
                from_slot: 0,
            })
            .unwrap();
        let FromAcceptor::Promise { accepted, .. } = r else {
            panic!("{r:?}")
        };
        assert_eq!(accepted, vec![(0, b(1, 1), vec!["v".to_string()])]);
    }

    #[test]
    fn a_prepare_of_the_promised_ballot_is_refused() {
        let mut a = Acceptor::recover(1, MemStorage::new()).unwrap();
        a.handle(ToAcceptor::Prepare {
            ballot: b(1, 1),
            from_slot: 0,
        })
        .unwrap();
        let r = a
            .handle(ToAcceptor::Prepare {
                ballot: b(1, 1),
                from_slot: 0,
            })
            .unwrap();
        assert_eq!(
            r,
            FromAcceptor::Nack {
                acceptor: 1,
                ballot: b(1, 1),
                promised: b(1, 1)
            }
        );
        let r = a
            .handle(ToAcceptor::Accept {
                ballot: b(1, 1),
                slot: 0,
                value: vec!["v".into()],
            })
            .unwrap();
        assert!(matches!(r, FromAcceptor::Accepted { .. }));
    }

    #[test]
    fn recovery_keeps_promises() {
        let mut a = Acceptor::recover(1, MemStorage::new()).unwrap();
        a.handle(ToAcceptor::Prepare {
            ballot: b(5, 1),
            from_slot: 0,
        })
        .unwrap();
        let storage = a.storage().clone();
        let mut a = Acceptor::recover(1, storage).unwrap();
        assert_eq!(a.promised(), b(5, 1));
        let r = a
            .handle(ToAcceptor::Prepare {
                ballot: b(4, 2),
                from_slot: 0,
            })
            .unwrap();
        assert!(matches!(r, FromAcceptor::Nack { .. }));
    }
}
