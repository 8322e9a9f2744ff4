//! [`Proposer`]: the I/O-free single-decree proposer state machine.
//!
//! `propose` starts phase 1 with ballot `(round, id)`; a quorum of promises
//! moves to phase 2 with the highest-ballot value already accepted (or the
//! proposer's own); a quorum of `Accepted` decides. A `Nack` or a timeout ends
//! the attempt; after a wait chosen by the [`Retry`] strategy the proposer
//! tries again with a round above every round it has seen. Once decided it
//! re-announces the decision every `announce` ms, so learners that missed it
//! (dropped messages, a partition) learn it once the network heals.
//!
//! Time is an input (`now`, in ms); the caller calls [`Proposer::tick`] at
//! [`Proposer::next_timer`].

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::SmallRng;
use rand::SeedableRng;

use super::ballot::Ballot;
use super::message::{AcceptorId, Decided, FromAcceptor, ToAcceptor, Value};
use super::retry::{Millis, RandomBackoff, Retry};

/// A proposer's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Proposer id (≥ 1), the low part of its ballots.
    pub id: u32,
    /// Number of acceptors; a quorum is a majority of them.
    pub acceptors: usize,
    /// How long a phase may wait for a quorum before giving up the attempt.
    pub timeout: Millis,
    /// Period of re-announcing a decision.
    pub announce: Millis,
    /// Seed of the retry randomness.
    pub seed: u64,
    /// This life of the proposer (see [`Ballot`]): a proposer restarted
    /// without memory must get a new one, or it may reuse a ballot.
    pub incarnation: u64,
}

impl Config {
    /// Settings with a 100 ms timeout and 200 ms announce period,
    /// incarnation 0.
    pub fn new(id: u32, acceptors: usize, seed: u64) -> Self {
        Config {
            id,
            acceptors,
            timeout: 100,
            announce: 200,
            seed,
            incarnation: 0,
        }
    }

    /// The majority quorum size.
    pub fn quorum(&self) -> usize {
        self.acceptors / 2 + 1
    }
}

/// What the proposer asks its caller to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send to every acceptor.
    Send(ToAcceptor),
    /// Tell the learners (and the client): the value is chosen.
    Decided(Decided),
}

#[derive(Debug, Clone)]
enum Phase {
    Idle,
    Preparing {
        promises: BTreeMap<AcceptorId, Option<(Ballot, Value)>>,
    },
    Accepting {
        value: Value,
        accepted: BTreeSet<AcceptorId>,
    },
    Waiting,
    Decided(Value),
}

/// The single-decree proposer role, generic over its retry strategy.
#[derive(Debug, Clone)]
pub struct Proposer<R = RandomBackoff> {
    config: Config,
    retry: R,
    rng: SmallRng,
    value: Option<Value>,
    ballot: Ballot,
    highest_round: u64,
    attempts: u32,
    phase: Phase,
    deadline: Option<Millis>,
}

impl Proposer<RandomBackoff> {
    /// A proposer with the default [`RandomBackoff`].
    pub fn new(config: Config) -> Self {
        Self::with_retry(config, RandomBackoff::default())
    }
}

impl<R: Retry> Proposer<R> {
    /// A proposer with its own retry strategy.
    pub fn with_retry(config: Config, retry: R) -> Self {
        Proposer {
            rng: SmallRng::seed_from_u64(config.seed ^ u64::from(config.id).rotate_left(32)),
            config,
            retry,
            value: None,
            ballot: Ballot::ZERO,
            highest_round: 0,
            attempts: 0,
            phase: Phase::Idle,
            deadline: None,
        }
    }

    /// The chosen value, once this proposer knows it.
    pub fn decided(&self) -> Option<&Value> {
        match &self.phase {
            Phase::Decided(v) => Some(v),
            _ => None,
        }
    }

    /// The current ballot.
    pub fn ballot(&self) -> Ballot {
        self.ballot
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When [`Proposer::tick`] should be called next.
    pub fn next_timer(&self) -> Option<Millis> {
        self.deadline
    }

    /// Starts proposing `value` (ignored once a proposal is under way).
    pub fn propose(&mut self, value: Value, now: Millis, out: &mut Vec<Action>) {
        if self.value.is_some() {
            return;
        }
        self.value = Some(value);
        self.start(now, out);
    }

    fn start(&mut self, now: Millis, out: &mut Vec<Action>) {
        self.attempts += 1;
        self.highest_round += 1;
        self.ballot = Ballot::new(self.highest_round, self.config.id)
            .with_incarnation(self.config.incarnation);
        self.phase = Phase::Preparing {
            promises: BTreeMap::new(),
        };
        self.deadline = Some(now + self.config.timeout);
        out.push(Action::Send(ToAcceptor::Prepare {
            ballot: self.ballot,
            from_slot: 0,
        }));
    }

    fn back_off(&mut self, now: Millis) {
        let wait = self.retry.backoff(self.attempts, &mut self.rng);
        self.phase = Phase::Waiting;
        self.deadline = Some(now + wait);
    }

    /// Handles a reply from an acceptor.
    pub fn on_message(&mut self, msg: FromAcceptor, now: Millis, out: &mut Vec<Action>) {
        let ballot = msg.ballot();
        if let FromAcceptor::Nack { promised, .. } = &msg {
            self.highest_round = self.highest_round.max(promised.round);
            if *promised == self.ballot {
                return; // a duplicate of our own prepare: we hold that promise
            }
        }
        if ballot != self.ballot {
            return; // an answer to an older attempt
        }
        let quorum = self.config.quorum();
        match (msg, &mut self.phase) {
            (FromAcceptor::Nack { .. }, Phase::Preparing { .. } | Phase::Accepting { .. }) => {
                self.back_off(now);
            }
            (
                FromAcceptor::Promise {
                    acceptor, accepted, ..
                },
                Phase::Preparing { promises },
            ) => {
                let highest = accepted
                    .into_iter()
                    .filter(|(slot, _, _)| *slot == 0)
                    .map(|(_, b, v)| (b, v))
                    .max_by_key(|(b, _)| *b);
                promises.insert(acceptor, highest);
                if promises.len() >= quorum {
                    let value = promises
                        .values()
                        .flatten()
                        .max_by_key(|(b, _)| *b)
                        .map(|(_, v)| v.clone())
                        .or_else(|| self.value.clone())
                        .unwrap_or_default();
                    self.phase = Phase::Accepting {
                        value: value.clone(),
                        accepted: BTreeSet::new(),
                    };
                    self.deadline = Some(now + self.config.timeout);
                    out.push(Action::Send(ToAcceptor::Accept {
                        ballot: self.ballot,
                        slot: 0,
                        value,
                    }));
                }
            }
            (FromAcceptor::Accepted { acceptor, .. }, Phase::Accepting { value, accepted }) => {
                accepted.insert(acceptor);
                if accepted.len() >= quorum {
                    let value = std::mem::take(value);
                    out.push(Action::Decided(Decided {
                        slot: 0,
                        value: value.clone(),
                    }));
                    self.phase = Phase::Decided(value);
                    self.deadline = Some(now + self.config.announce);
                }
            }
            _ => {}
        }
    }

    /// Advances time: a phase past its timeout gives up the attempt, a wait
    /// that is over starts the next attempt, a decision is re-announced.
    pub fn tick(&mut self, now: Millis, out: &mut Vec<Action>) {
        if self.deadline.is_none_or(|d| now < d) {
            return;
        }
        match &self.phase {
            Phase::Idle => self.deadline = None,
            Phase::Preparing { .. } | Phase::Accepting { .. } => self.back_off(now),
            Phase::Waiting => self.start(now, out),
            Phase::Decided(v) => {
                out.push(Action::Decided(Decided {
                    slot: 0,
                    value: v.clone(),
                }));
                self.deadline = Some(now + self.config.announce);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promise(acceptor: u32, ballot: Ballot, accepted: Option<(u64, &str)>) -> FromAcceptor {
        FromAcceptor::Promise {
            acceptor,
            ballot,
            from_slot: 0,
            accepted: accepted
                .map(|(r, v)| vec![(0, Ballot::new(r, 9), vec![v.to_string()])])
                .unwrap_or_default(),
        }
    }

    #[test]
    fn adopts_the_highest_accepted_value_then_decides_at_a_quorum() {
        let mut p = Proposer::new(Config::new(1, 3, 0));
        let mut out = Vec::new();
        p.propose(vec!["mine".into()], 0, &mut out);
        let b = p.ballot();
        assert_eq!(
            out,
            vec![Action::Send(ToAcceptor::Prepare {
                ballot: b,
                from_slot: 0
            })]
        );
        out.clear();
        p.on_message(promise(1, b, Some((0, "old"))), 1, &mut out);
        p.on_message(promise(2, b, None), 1, &mut out);
        let value = vec!["old".to_string()];
        assert_eq!(
            out,
            vec![Action::Send(ToAcceptor::Accept {
                ballot: b,
                slot: 0,
                value: value.clone()
            })]
        );
        out.clear();
        for a in [1, 3] {
            let m = FromAcceptor::Accepted {
                acceptor: a,
                ballot: b,
                slot: 0,
                value: value.clone(),
            };
            p.on_message(m, 2, &mut out);
        }
        assert_eq!(
            out,
            vec![Action::Decided(Decided {
                slot: 0,
                value: value.clone()
            })]
        );
        assert_eq!(p.decided(), Some(&value));
    }

    #[test]
    fn a_nack_makes_it_retry_above_the_promised_round() {
        let mut p = Proposer::with_retry(Config::new(1, 3, 0), super::super::FixedBackoff(10));
        let mut out = Vec::new();
        p.propose(vec!["v".into()], 0, &mut out);
        let b = p.ballot();
        let nack = FromAcceptor::Nack {
            acceptor: 2,
            ballot: b,
            promised: Ballot::new(7, 2),
        };
        p.on_message(nack, 5, &mut out);
        assert_eq!(p.next_timer(), Some(15));
        out.clear();
        p.tick(15, &mut out);
        assert_eq!(p.ballot(), Ballot::new(8, 1));
        assert_eq!(p.attempts(), 2);
    }
}
