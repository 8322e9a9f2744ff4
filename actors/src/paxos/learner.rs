//! [`Learner`]: counts `Accepted` messages and learns a slot's value once a
//! quorum of acceptors accepted it at the same ballot (or a proposer announced
//! the decision). Learned slots are handed out in slot order
//! ([`Learner::next_in_order`]), which is how Multi-Paxos applies commands.

use std::collections::{BTreeMap, BTreeSet};

use super::ballot::Ballot;
use super::message::{AcceptorId, Decided, FromAcceptor, Value};

/// The learner role.
#[derive(Debug, Clone, Default)]
pub struct Learner {
    quorum: usize,
    votes: BTreeMap<u64, BTreeMap<Ballot, (Value, BTreeSet<AcceptorId>)>>,
    learned: BTreeMap<u64, Value>,
    applied: u64,
    conflicts: u64,
}

impl Learner {
    /// A learner for `acceptors` acceptors (majority quorum).
    pub fn new(acceptors: usize) -> Self {
        Learner {
            quorum: acceptors / 2 + 1,
            ..Self::default()
        }
    }

    /// Everything learned so far, by slot.
    pub fn learned(&self) -> &BTreeMap<u64, Value> {
        &self.learned
    }

    /// Times a slot was found chosen with a value different from the one
    /// learned: always 0 unless safety is broken.
    pub fn conflicts(&self) -> u64 {
        self.conflicts
    }

    /// Handles an acceptor's message; returns a newly learned decision.
    pub fn on_message(&mut self, msg: FromAcceptor) -> Option<Decided> {
        let FromAcceptor::Accepted {
            acceptor,
            ballot,
            slot,
            value,
        } = msg
        else {
            return None;
        };
        if self.learned.contains_key(&slot) {
            // Late votes for a learned slot: keeping them would grow memory
            // forever (a minority never completes a quorum).
            return None;
        }
        let slot_votes = self.votes.entry(slot).or_default();
        let (v, voters) = slot_votes
            .entry(ballot)
            .or_insert_with(|| (value.clone(), BTreeSet::new()));
        if *v != value {
            // Two values at one ballot: impossible with unique ballots.
            self.conflicts += 1;
            return None;
        }
        voters.insert(acceptor);
        if voters.len() < self.quorum {
            return None;
        }
        let value = v.clone();
        // Keep the votes of decided slots bounded: only the decision is kept.
        self.votes.remove(&slot);
        self.learn(Decided { slot, value })
    }

    /// Handles a decision announced by a proposer; returns it if new.
    pub fn on_decided(&mut self, d: Decided) -> Option<Decided> {
        self.votes.remove(&d.slot);
        self.learn(d)
    }

    fn learn(&mut self, d: Decided) -> Option<Decided> {
        match self.learned.get(&d.slot) {
            Some(known) => {
                if *known != d.value {
                    self.conflicts += 1;
                }
                None
            }
            None => {
                self.learned.insert(d.slot, d.value.clone());
                Some(d)
            }
        }
    }

    /// The next learned slot in order, if the slot after the last one handed
    /// out is learned.
    pub fn next_in_order(&mut self) -> Option<(u64, &Value)> {
        let slot = self.applied;
        let v = self.learned.get(&slot)?;
        self.applied += 1;
        Some((slot, v))
    }

    /// Slots handed out in order so far.
    pub fn applied(&self) -> u64 {
        self.applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(acceptor: u32, round: u64, slot: u64, v: &str) -> FromAcceptor {
        FromAcceptor::Accepted {
            acceptor,
            ballot: Ballot::new(round, 1),
            slot,
            value: vec![v.into()],
        }
    }

    #[test]
    fn learns_at_a_quorum_of_one_ballot_and_hands_slots_out_in_order() {
        let mut l = Learner::new(3);
        assert_eq!(l.on_message(accepted(1, 1, 1, "b")), None);
        assert_eq!(
            l.on_message(accepted(2, 2, 1, "b")),
            None,
            "two ballots are not a quorum"
        );
        assert!(l.on_message(accepted(1, 2, 1, "b")).is_some());
        assert_eq!(l.next_in_order(), None, "slot 0 is missing");
        assert!(l
            .on_decided(Decided {
                slot: 0,
                value: vec!["a".into()]
            })
            .is_some());
        assert_eq!(l.next_in_order().map(|(s, _)| s), Some(0));
        assert_eq!(l.next_in_order().map(|(s, _)| s), Some(1));
        assert_eq!(l.applied(), 2);
        assert_eq!(l.conflicts(), 0);
    }

    #[test]
    fn a_different_decision_for_a_learned_slot_is_a_conflict() {
        let mut l = Learner::new(3);
        l.on_decided(Decided {
            slot: 0,
            value: vec!["a".into()],
        });
        assert_eq!(
            l.on_decided(Decided {
                slot: 0,
                value: vec!["z".into()]
            }),
            None
        );
        assert_eq!(l.conflicts(), 1);
    }
}
