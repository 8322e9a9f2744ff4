//! [`Leader`]: the I/O-free Multi-Paxos proposer.
//!
//! * **Election**: with commands to place and no leadership, it prepares
//!   ballot `(round, id)` from its first slot not known decided. A quorum of
//!   promises makes it leader; every slot an acceptor reported accepted is
//!   re-proposed with its highest-ballot value, and every gap below the
//!   highest such slot gets a no-op (an empty batch), so the log has no holes.
//! * **Log**: as leader it takes up to `batch` pending commands per slot and
//!   keeps up to `window` slots in flight; a quorum of `Accepted` decides a
//!   slot. Slots in flight longer than `timeout` are sent again.
//! * **Stability**: a leader keeps its leadership until a higher ballot
//!   preempts it. Others with commands do not run against a leader whose
//!   slots they saw accepted in the last two timeouts (its lease); they
//!   wait for it to go quiet.
//! * **Losing it**: a `Nack` with a higher ballot ends the leadership; the
//!   commands of slots still in flight go back to the front of the queue
//!   (they may then be decided twice: commands are delivered at least once,
//!   so they should be idempotent or carry ids). After a random wait it runs
//!   for election again if it still has commands.
//! * **Learners that missed messages**: every `announce` ms it re-announces a
//!   few decided slots, cycling through its log.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::paxos::ballot::Ballot;
use crate::paxos::message::{AcceptorId, Decided, FromAcceptor, ToAcceptor, Value};
use crate::paxos::proposer::Action;
use crate::paxos::retry::{Millis, RandomBackoff, Retry};

/// A leader's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaderConfig {
    /// Proposer id (≥ 1).
    pub id: u32,
    /// Number of acceptors (majority quorum).
    pub acceptors: usize,
    /// Most commands per slot.
    pub batch: usize,
    /// Most slots in flight.
    pub window: usize,
    /// Most commands waiting to be placed; `submit` refuses beyond.
    pub max_pending: usize,
    /// Resend / give-up timeout of a phase.
    pub timeout: Millis,
    /// Re-announce period (0: never).
    pub announce: Millis,
    /// Seed of the retry randomness.
    pub seed: u64,
    /// This life of the leader (see [`Ballot`]): a leader restarted without
    /// memory must get a new one, or it may reuse a ballot.
    pub incarnation: u64,
}

impl LeaderConfig {
    /// Defaults: batch 64, window 16, 100 000 pending, 100 ms timeout,
    /// 200 ms announce, incarnation 0.
    pub fn new(id: u32, acceptors: usize, seed: u64) -> Self {
        LeaderConfig {
            id,
            acceptors,
            batch: 64,
            window: 16,
            max_pending: 100_000,
            timeout: 100,
            announce: 200,
            seed,
            incarnation: 0,
        }
    }

    fn quorum(&self) -> usize {
        self.acceptors / 2 + 1
    }
}

/// `submit` refused: the queue is full. The commands are handed back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("leader queue full ({} commands refused)", .0.len())]
pub struct Full(pub Vec<String>);

#[derive(Debug, Clone)]
struct InFlight {
    value: Value,
    accepted: BTreeSet<AcceptorId>,
    sent: Millis,
}

#[derive(Debug, Clone)]
enum Phase {
    Idle,
    Candidate {
        promises: BTreeMap<AcceptorId, Vec<(u64, Ballot, Value)>>,
        since: Millis,
    },
    Leading,
    Waiting {
        until: Millis,
    },
}

/// The Multi-Paxos leader role.
#[derive(Debug, Clone)]
pub struct Leader<R = RandomBackoff> {
    config: LeaderConfig,
    retry: R,
    rng: SmallRng,
    phase: Phase,
    ballot: Ballot,
    highest_round: u64,
    attempts: u32,
    pending: VecDeque<String>,
    in_flight: BTreeMap<u64, InFlight>,
    next_slot: u64,
    decided: BTreeMap<u64, Value>,
    first_undecided: u64,
    announce_at: Millis,
    announce_cursor: u64,
    /// Last time another leader's slot was seen accepted: it is alive.
    foreign: Option<Millis>,
}

impl Leader<RandomBackoff> {
    /// A leader with the default random backoff.
    pub fn new(config: LeaderConfig) -> Self {
        Self::with_retry(config, RandomBackoff::default())
    }
}

impl<R: Retry> Leader<R> {
    /// A leader with its own retry strategy.
    pub fn with_retry(config: LeaderConfig, retry: R) -> Self {
        Leader {
            rng: SmallRng::seed_from_u64(config.seed ^ u64::from(config.id).rotate_left(32)),
            config,
            retry,
            phase: Phase::Idle,
            ballot: Ballot::ZERO,
            highest_round: 0,
            attempts: 0,
            pending: VecDeque::new(),
            in_flight: BTreeMap::new(),
            next_slot: 0,
            decided: BTreeMap::new(),
            first_undecided: 0,
            announce_at: 0,
            announce_cursor: 0,
            foreign: None,
        }
    }

    /// True while this leader holds a quorum's promise.
    pub fn is_leading(&self) -> bool {
        matches!(self.phase, Phase::Leading)
    }

    /// The current ballot.
    pub fn ballot(&self) -> Ballot {
        self.ballot
    }

    /// Slots this leader knows decided.
    pub fn decided(&self) -> &BTreeMap<u64, Value> {
        &self.decided
    }

    /// Commands waiting plus slots in flight.
    pub fn backlog(&self) -> (usize, usize) {
        (self.pending.len(), self.in_flight.len())
    }

    /// Queues commands; if not leading, runs for election; while leading,
    /// starts slots for them at once ([`Leader::enqueue`], then
    /// [`Leader::flush`]).
    pub fn submit(
        &mut self,
        commands: Vec<String>,
        now: Millis,
        out: &mut Vec<Action>,
    ) -> Result<(), Full> {
        self.enqueue(commands, now, out)?;
        self.flush(now, out);
        Ok(())
    }

    /// Queues commands without starting slots for them; if not leading,
    /// runs for election. A caller that takes several submissions at once
    /// (an actor handling what its wire holds) enqueues each and then
    /// flushes once, so that they share slots: submitted one by one, a burst
    /// takes a slot per submission until the window is full and the rest
    /// waits for a slot to be decided.
    pub fn enqueue(
        &mut self,
        commands: Vec<String>,
        now: Millis,
        out: &mut Vec<Action>,
    ) -> Result<(), Full> {
        if self.pending.len() + commands.len() > self.config.max_pending {
            return Err(Full(commands));
        }
        self.pending.extend(commands);
        if matches!(self.phase, Phase::Idle) {
            match self.lease_end(now) {
                Some(until) => self.phase = Phase::Waiting { until },
                None => self.campaign(now, out),
            }
        }
        Ok(())
    }

    /// Starts slots for queued commands while the window has room (only
    /// while leading; otherwise they wait for the election).
    pub fn flush(&mut self, now: Millis, out: &mut Vec<Action>) {
        if self.is_leading() {
            self.fill(now, out);
        }
    }

    /// While another leader was seen working within two timeouts, its lease
    /// runs: the end of the wait (with jitter) so as not to depose it.
    fn lease_end(&mut self, now: Millis) -> Option<Millis> {
        let lease = 2 * self.config.timeout;
        let seen = self.foreign?;
        (now < seen + lease).then(|| seen + lease + self.retry.backoff(1, &mut self.rng))
    }

    fn campaign(&mut self, now: Millis, out: &mut Vec<Action>) {
        self.attempts += 1;
        self.highest_round += 1;
        self.ballot = Ballot::new(self.highest_round, self.config.id)
            .with_incarnation(self.config.incarnation);
        self.phase = Phase::Candidate {
            promises: BTreeMap::new(),
            since: now,
        };
        out.push(Action::Send(ToAcceptor::Prepare {
            ballot: self.ballot,
            from_slot: self.first_undecided,
        }));
    }

    fn step_down(&mut self, now: Millis) {
        // Commands of undecided slots go back to the front, in slot order.
        let inflight = std::mem::take(&mut self.in_flight);
        for (_, f) in inflight.into_iter().rev() {
            for c in f.value.into_iter().rev() {
                self.pending.push_front(c);
            }
        }
        let wait = self.retry.backoff(self.attempts, &mut self.rng);
        self.phase = Phase::Waiting { until: now + wait };
    }

    /// Sends new slots while the window has room.
    fn fill(&mut self, now: Millis, out: &mut Vec<Action>) {
        while self.in_flight.len() < self.config.window && !self.pending.is_empty() {
            let n = self.pending.len().min(self.config.batch.max(1));
            let value: Value = self.pending.drain(..n).collect();
            let slot = self.next_slot;
            self.next_slot += 1;
            self.propose(slot, value, now, out);
        }
    }

    fn propose(&mut self, slot: u64, value: Value, now: Millis, out: &mut Vec<Action>) {
        out.push(Action::Send(ToAcceptor::Accept {
            ballot: self.ballot,
            slot,
            value: value.clone(),
        }));
        self.in_flight.insert(
            slot,
            InFlight {
                value,
                accepted: BTreeSet::new(),
                sent: now,
            },
        );
    }

    fn learn(&mut self, slot: u64, value: Value, out: &mut Vec<Action>) {
        if self.decided.contains_key(&slot) {
            return;
        }
        out.push(Action::Decided(Decided {
            slot,
            value: value.clone(),
        }));
        self.decided.insert(slot, value);
        while self.decided.contains_key(&self.first_undecided) {
            self.first_undecided += 1;
        }
    }

    /// Handles an acceptor's reply.
    pub fn on_message(&mut self, msg: FromAcceptor, now: Millis, out: &mut Vec<Action>) {
        let ballot = msg.ballot();
        if let FromAcceptor::Nack { promised, .. } = &msg {
            self.highest_round = self.highest_round.max(promised.round);
            if *promised == self.ballot {
                return; // a duplicate of our own prepare: we hold that promise
            }
        }
        self.highest_round = self.highest_round.max(ballot.round);
        if ballot != self.ballot {
            if matches!(msg, FromAcceptor::Accepted { .. }) && ballot > self.ballot {
                self.foreign = Some(now);
            }
            return;
        }
        let quorum = self.config.quorum();
        match msg {
            FromAcceptor::Nack { .. } => {
                if matches!(self.phase, Phase::Candidate { .. } | Phase::Leading) {
                    self.step_down(now);
                }
            }
            FromAcceptor::Promise {
                acceptor, accepted, ..
            } => {
                let Phase::Candidate { promises, .. } = &mut self.phase else {
                    return;
                };
                promises.insert(acceptor, accepted);
                if promises.len() >= quorum {
                    let promises = std::mem::take(promises);
                    self.elected(promises, now, out);
                }
            }
            FromAcceptor::Accepted { acceptor, slot, .. } => {
                let Some(f) = self.in_flight.get_mut(&slot) else {
                    return;
                };
                f.accepted.insert(acceptor);
                if f.accepted.len() >= quorum {
                    if let Some(f) = self.in_flight.remove(&slot) {
                        self.learn(slot, f.value, out);
                    }
                    if self.is_leading() {
                        self.fill(now, out);
                    }
                }
            }
        }
    }

    fn elected(
        &mut self,
        promises: BTreeMap<AcceptorId, Vec<(u64, Ballot, Value)>>,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        self.phase = Phase::Leading;
        self.attempts = 0;
        // Highest-ballot accepted value per slot, from the quorum.
        let mut found: BTreeMap<u64, (Ballot, Value)> = BTreeMap::new();
        for (slot, b, v) in promises.into_values().flatten() {
            if found.get(&slot).is_none_or(|(fb, _)| *fb < b) {
                found.insert(slot, (b, v));
            }
        }
        let top = found
            .keys()
            .next_back()
            .map_or(self.first_undecided, |s| s + 1);
        let mut requeue = Vec::new();
        for (_, f) in std::mem::take(&mut self.in_flight) {
            requeue.extend(f.value);
        }
        for (i, c) in requeue.into_iter().enumerate() {
            self.pending.insert(i, c);
        }
        for slot in self.first_undecided..top {
            if self.decided.contains_key(&slot) {
                continue;
            }
            // A slot nobody in the quorum accepted may not have been chosen:
            // fill it with a no-op so the log has no gap.
            let value = found.remove(&slot).map(|(_, v)| v).unwrap_or_default();
            self.propose(slot, value, now, out);
        }
        // Slots from `top` on were accepted by nobody in the quorum, so none
        // is chosen: new commands go there (also over slots this leader used
        // in an earlier term and gave up).
        self.next_slot = top;
        self.fill(now, out);
    }

    /// Advances time: timeouts, retries, re-announcements.
    pub fn tick(&mut self, now: Millis, out: &mut Vec<Action>) {
        match self.phase {
            Phase::Candidate { since, .. } if now >= since + self.config.timeout => {
                self.step_down(now);
            }
            Phase::Waiting { until } if now >= until => {
                if self.pending.is_empty() {
                    self.phase = Phase::Idle;
                } else if let Some(until) = self.lease_end(now) {
                    self.phase = Phase::Waiting { until };
                } else {
                    self.campaign(now, out);
                }
            }
            Phase::Leading => {
                let timeout = self.config.timeout;
                let ballot = self.ballot;
                for (slot, f) in self.in_flight.iter_mut() {
                    if now >= f.sent + timeout {
                        f.sent = now;
                        out.push(Action::Send(ToAcceptor::Accept {
                            ballot,
                            slot: *slot,
                            value: f.value.clone(),
                        }));
                    }
                }
            }
            _ => {}
        }
        if self.config.announce > 0 && now >= self.announce_at {
            self.announce_at = now + self.config.announce;
            let from = self.announce_cursor;
            let mut sent = 0;
            for (slot, v) in self.decided.range(from..).take(32) {
                out.push(Action::Decided(Decided {
                    slot: *slot,
                    value: v.clone(),
                }));
                self.announce_cursor = slot + 1;
                sent += 1;
            }
            if sent < 32 {
                self.announce_cursor = 0;
            }
        }
    }

    /// When `tick` is wanted next.
    pub fn next_timer(&self) -> Option<Millis> {
        let phase = match &self.phase {
            Phase::Candidate { since, .. } => Some(since + self.config.timeout),
            Phase::Waiting { until } => Some(*until),
            Phase::Leading => self
                .in_flight
                .values()
                .map(|f| f.sent + self.config.timeout)
                .min(),
            Phase::Idle => None,
        };
        let announce =
            (self.config.announce > 0 && !self.decided.is_empty()).then_some(self.announce_at);
        match (phase, announce) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promise(acceptor: AcceptorId, ballot: Ballot, from_slot: u64) -> FromAcceptor {
        FromAcceptor::Promise {
            acceptor,
            ballot,
            from_slot,
            accepted: Vec::new(),
        }
    }

    /// The leader of ballot `ballot()` after a quorum of empty promises.
    fn elected(commands: &[&str]) -> (Leader, Vec<Action>) {
        let mut leader = Leader::new(LeaderConfig::new(1, 3, 0));
        let mut out = Vec::new();
        let first = commands.iter().map(|c| (*c).to_owned()).collect();
        leader.submit(first, 0, &mut out).unwrap();
        let ballot = leader.ballot();
        for acceptor in 1..=2 {
            leader.on_message(promise(acceptor, ballot, 0), 1, &mut out);
        }
        assert!(leader.is_leading());
        (leader, out)
    }

    fn accepts(out: &[Action]) -> Vec<Value> {
        out.iter()
            .filter_map(|a| match a {
                Action::Send(ToAcceptor::Accept { value, .. }) => Some(value.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn enqueued_commands_share_the_slot_their_flush_starts() {
        let (mut leader, _) = elected(&["warm"]);
        let mut out = Vec::new();
        for i in 0..40 {
            leader.enqueue(vec![format!("c{i}")], 2, &mut out).unwrap();
        }
        assert!(accepts(&out).is_empty(), "enqueue started a slot: {out:?}");
        leader.flush(2, &mut out);
        let slots = accepts(&out);
        assert_eq!(slots.len(), 1, "one slot for the burst: {slots:?}");
        assert_eq!(slots[0].len(), 40);
        assert_eq!(slots[0][0], "c0");
        assert_eq!(slots[0][39], "c39");
    }

    #[test]
    fn submitted_one_by_one_a_burst_takes_a_slot_each_until_the_window_is_full() {
        let (mut leader, _) = elected(&["warm"]);
        let mut out = Vec::new();
        for i in 0..40 {
            leader.submit(vec![format!("c{i}")], 2, &mut out).unwrap();
        }
        // The warm-up slot is still in flight: 15 more fit the window of 16.
        let slots = accepts(&out);
        assert_eq!(slots.len(), 15);
        assert!(slots.iter().all(|v| v.len() == 1));
        assert_eq!(leader.backlog(), (25, 16));
    }

    #[test]
    fn enqueued_commands_wait_for_the_election_and_a_flush_before_it_sends_nothing() {
        let mut leader = Leader::new(LeaderConfig::new(1, 3, 0));
        let mut out = Vec::new();
        leader.enqueue(vec!["a".into()], 0, &mut out).unwrap();
        assert!(
            matches!(out.as_slice(), [Action::Send(ToAcceptor::Prepare { .. })]),
            "an idle leader runs for election: {out:?}"
        );
        out.clear();
        leader.flush(0, &mut out);
        assert!(out.is_empty(), "a candidate sends no slot: {out:?}");
        let ballot = leader.ballot();
        for acceptor in 1..=2 {
            leader.on_message(promise(acceptor, ballot, 0), 1, &mut out);
        }
        assert_eq!(accepts(&out), vec![vec!["a".to_owned()]]);
    }

    #[test]
    fn a_restarted_leader_does_not_count_the_promises_of_its_previous_life() {
        let mut config = LeaderConfig::new(1, 3, 0);
        let mut out = Vec::new();
        let mut first = Leader::new(config);
        first.submit(vec!["a".into()], 0, &mut out).unwrap();
        let old = first.ballot();
        // Restarted without memory: same id, same round, a new life.
        config.incarnation = 1;
        let mut second = Leader::new(config);
        second.submit(vec!["b".into()], 10, &mut out).unwrap();
        assert_eq!(second.ballot().round, old.round);
        assert_ne!(second.ballot(), old);
        // The first life's promises (from another first slot) arrive late.
        for acceptor in 1..=3 {
            second.on_message(promise(acceptor, old, 1), 20, &mut out);
        }
        assert!(
            !second.is_leading(),
            "elected on promises it never asked for"
        );
        let mine = second.ballot();
        for acceptor in 1..=2 {
            second.on_message(promise(acceptor, mine, 0), 30, &mut out);
        }
        assert!(second.is_leading());
    }
}
