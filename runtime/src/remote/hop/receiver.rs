//! The receiving end of a hop as an I/O-free state machine: which frames to
//! deliver, which to drop as duplicates, what to answer, and when to
//! acknowledge. The thread around it ([`super::recv_loop`]) only moves bytes,
//! decodes bodies, pushes into the consumer's wire and reads the clock.
//!
//! One wire has one producer node, so one sender incarnation at a time has
//! a session. A connection is known once it said a valid hello; frames from
//! any other connection are refused (answered with WHO, so that a sender
//! that reconnected says hello again), and a connection that does not say
//! hello within [`STRANGER_AFTER`] is reported as a stranger.
//!
//! Acknowledgements count *handled* messages: the thread records, for each
//! message it pushes, the wire's accepted count after the push; the message
//! is handled once the wire's finished count reaches it (the wire is FIFO).
//! So a receiver killed with messages still in its wire has not acknowledged
//! them, and the sender sends them again to its next incarnation.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::frame::{self, BadFrame, Hello, Messages, ToReceiver};
use super::Delivery;

/// An unknown connection that says no hello within this is a stranger.
pub(crate) const STRANGER_AFTER: Duration = Duration::from_secs(1);
/// Below `ack_every` handled messages, an acknowledgement goes out at most
/// this long after the last one (when something was handled since). Every
/// acknowledgement is a frame that wakes the sending node's I/O and hop
/// threads; at 1 ms a stream of one small batch a millisecond (Paxos's
/// slots) was acknowledged batch by batch, and those wake-ups competed
/// with the messages' own on two cores (docs/performance.md,
/// "acknowledgements at most every 5 ms"). The window is not held back by
/// it: `ack_every` acknowledges a fast stream by count...
pub(crate) const ACK_DELAY: Duration = Duration::from_millis(5);
/// ...and at least this often while a session is open (a keepalive, so that
/// a slow receiver is not taken for a lost connection).
pub(crate) const KEEPALIVE: Duration = Duration::from_millis(250);
/// A WHO to one connection at most this often.
const WHO_EVERY: Duration = Duration::from_millis(100);
/// Unknown connections tracked at once (more are counted, not tracked).
const MAX_UNKNOWN: usize = 1024;

/// What a receiver accepts.
#[derive(Debug, Clone)]
pub(crate) struct Expect {
    pub topology: String,
    pub wiring: u64,
    pub wire: String,
    /// The producer's node.
    pub node: String,
}

/// What to do with a frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action<'a> {
    /// Decode and push each message (one `DATA` or the new part of a
    /// `BATCH`), then [`Receiver::record`] each.
    Deliver(Messages<'a>),
    /// The end of the stream: [`Receiver::record`] it after what was
    /// delivered before it.
    End {
        seq: u64,
    },
    /// Answer the connection the frame came from.
    Reply(Vec<u8>),
    Nothing,
}

/// Something worth a log line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Note {
    /// A hello that does not match this wire: refused.
    Refused { peer: String, reason: String },
    /// Frames from a connection that never said hello.
    Stranger { peer: String, frames: u64 },
    /// The producer's node restarted.
    SenderRestarted { old: u64, new: u64 },
    /// This receiver joined a stream mid-way (it restarted): messages from
    /// `from` on may have been handled by its previous incarnation.
    Resumed { from: u64 },
    /// At-most-once: messages that never arrived.
    Lost { count: u64 },
    /// Every message before END was handled: the stream ended.
    EndOfStream,
}

/// Counters the receiver keeps.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReceiverCounts {
    /// Frames refused from connections that said no (valid) hello.
    pub refused: u64,
    /// Copies of messages already received (alone or in a batch), dropped.
    pub duplicates: u64,
    /// Messages past a gap, dropped until the gap is filled.
    pub out_of_order: u64,
    /// At-most-once: sequence numbers that never arrived.
    pub lost: u64,
    /// New incarnations of the producer's node.
    pub sender_restarts: u64,
}

struct Session {
    incarnation: u64,
    identity: Vec<u8>,
    /// Next sequence number to deliver.
    next: u64,
    /// Delivered, not yet handled: (seq, the wire's accepted count after the push).
    pending: VecDeque<(u64, u64)>,
    handled: u64,
    acked: u64,
    last_ack: Instant,
    ack_due: bool,
    nack_for: u64,
    end: Option<u64>,
}

struct Unknown {
    first: Instant,
    frames: u64,
    last_who: Option<Instant>,
    peer: String,
}

pub(crate) struct Receiver {
    expect: Expect,
    incarnation: u64,
    delivery: Delivery,
    ack_every: u64,
    session: Option<Session>,
    /// Connections that said a valid hello, with the incarnation they spoke for.
    known: HashMap<Vec<u8>, u64>,
    unknown: HashMap<Vec<u8>, Unknown>,
    ended: bool,
    /// The sender said `BYE`: it has END's acknowledgement.
    farewell: bool,
    notes: Vec<Note>,
    counts: ReceiverCounts,
}

impl Receiver {
    pub(crate) fn new(
        expect: Expect,
        incarnation: u64,
        delivery: Delivery,
        capacity: usize,
    ) -> Self {
        Receiver {
            expect,
            incarnation,
            delivery,
            ack_every: (capacity as u64 / 4).max(1),
            session: None,
            known: HashMap::new(),
            unknown: HashMap::new(),
            ended: false,
            farewell: false,
            notes: Vec::new(),
            counts: ReceiverCounts::default(),
        }
    }

    pub(crate) fn counts(&self) -> ReceiverCounts {
        self.counts
    }

    /// Notes since the last call.
    pub(crate) fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    /// Whether `identity` said a valid hello for the current session.
    pub(crate) fn knows(&self, identity: &[u8]) -> bool {
        self.known
            .get(identity)
            .is_some_and(|inc| self.session.as_ref().is_some_and(|s| s.incarnation == *inc))
    }

    /// Whether messages were delivered that are not yet handled.
    pub(crate) fn waiting_for_handling(&self) -> bool {
        self.session.as_ref().is_some_and(|s| !s.pending.is_empty())
    }

    /// Whether the wire, having finished `finished` messages, has handled
    /// some that wait for their acknowledgement.
    pub(crate) fn handled_since(&self, finished: u64) -> bool {
        self.session
            .as_ref()
            .and_then(|s| s.pending.front())
            .is_some_and(|(_, ord)| *ord <= finished)
    }

    /// A frame from connection `identity`; `peer` names its address for logs.
    pub(crate) fn on_frame<'a>(
        &mut self,
        identity: &[u8],
        bytes: &'a [u8],
        now: Instant,
        peer: impl FnOnce() -> String,
    ) -> Action<'a> {
        let parsed = match frame::parse_to_receiver(bytes) {
            Ok(ToReceiver::Hello(h)) => return self.on_hello(identity, h, now, peer),
            Err(e @ BadFrame::Version { .. }) => return self.refuse_hello(identity, e, peer),
            other => other,
        };
        let known = self
            .known
            .get(identity)
            .copied()
            .filter(|inc| self.session.as_ref().is_some_and(|s| s.incarnation == *inc));
        let (Some(_), Ok(frame)) = (known, parsed) else {
            return self.refuse(identity, now, peer);
        };
        let Some(s) = self.session.as_mut() else {
            return Action::Nothing;
        };
        s.identity = identity.to_vec();
        let (first, last, messages) = match frame {
            ToReceiver::Messages(m) => (m.first_seq(), m.last_seq(), Some(m)),
            ToReceiver::End { seq } => (seq, seq, None),
            ToReceiver::Bye => {
                self.farewell = self.ended;
                return Action::Nothing;
            }
            ToReceiver::Hello(_) => unreachable!("handled above"),
        };
        if last < s.next {
            // A copy of what arrived already (all of a resent batch).
            self.counts.duplicates += last - first + 1;
            s.ack_due = true;
            return Action::Nothing;
        }
        if first > s.next {
            match self.delivery {
                Delivery::AtLeastOnce => {
                    // Frames lost with a connection: ask for them again, once.
                    self.counts.out_of_order += last - first + 1;
                    if s.nack_for != s.next {
                        s.nack_for = s.next;
                        s.last_ack = now;
                        return Action::Reply(frame::ack(s.handled, s.next - 1, true));
                    }
                    return Action::Nothing;
                }
                Delivery::AtMostOnce => {
                    let lost = first - s.next;
                    self.counts.lost += lost;
                    self.notes.push(Note::Lost { count: lost });
                    s.next = first;
                }
            }
        }
        if first < s.next {
            // A batch sent again that overlaps what arrived: the rest is new.
            self.counts.duplicates += s.next - first;
            s.ack_due = true;
        }
        let next = s.next;
        s.next = last + 1;
        match messages {
            Some(mut m) => {
                m.skip_to(next);
                Action::Deliver(m)
            }
            None => {
                // Recorded in turn: handled once everything before it is.
                s.end = Some(last);
                Action::End { seq: last }
            }
        }
    }

    /// A hello of another protocol version: refused with the reason (it
    /// comes from another build).
    fn refuse_hello(
        &mut self,
        identity: &[u8],
        why: BadFrame,
        peer: impl FnOnce() -> String,
    ) -> Action<'static> {
        let reason = why.to_string();
        self.counts.refused += 1;
        self.unknown.remove(identity);
        self.notes.push(Note::Refused {
            peer: peer(),
            reason: reason.clone(),
        });
        Action::Reply(frame::refused(&reason))
    }

    fn on_hello(
        &mut self,
        identity: &[u8],
        h: Hello,
        now: Instant,
        peer: impl FnOnce() -> String,
    ) -> Action<'static> {
        let e = &self.expect;
        let mismatch = if h.topology != e.topology {
            Some(format!(
                "topology `{}`, expected `{}`",
                h.topology, e.topology
            ))
        } else if h.wire != e.wire {
            Some(format!("wire `{}`, expected `{}`", h.wire, e.wire))
        } else if h.node != e.node {
            Some(format!("node `{}`, expected `{}`", h.node, e.node))
        } else if h.wiring != e.wiring {
            Some(format!(
                "the wire is defined differently there (wiring hash {:016x}, here {:016x}): \
                 are both nodes running the same topology file?",
                h.wiring, e.wiring
            ))
        } else {
            None
        };
        if let Some(reason) = mismatch {
            self.counts.refused += 1;
            self.unknown.remove(identity);
            self.notes.push(Note::Refused {
                peer: peer(),
                reason: reason.clone(),
            });
            return Action::Reply(frame::refused(&reason));
        }
        self.unknown.remove(identity);
        if self.known.len() >= 64 {
            let current = self.session.as_ref().map(|s| s.incarnation);
            self.known.retain(|_, inc| Some(*inc) == current);
        }
        self.known.insert(identity.to_vec(), h.incarnation);
        let fresh = |first: u64| Session {
            incarnation: h.incarnation,
            identity: identity.to_vec(),
            next: first,
            pending: VecDeque::new(),
            handled: first - 1,
            acked: first - 1,
            last_ack: now,
            ack_due: false,
            nack_for: 0,
            end: None,
        };
        let first = h.first_unacked.max(1);
        match &mut self.session {
            Some(s) if s.incarnation == h.incarnation => {
                // The same sender on a new connection.
                s.identity = identity.to_vec();
            }
            Some(s) => {
                self.counts.sender_restarts += 1;
                self.notes.push(Note::SenderRestarted {
                    old: s.incarnation,
                    new: h.incarnation,
                });
                // What the old incarnation delivered stays in the wire.
                *s = fresh(first);
            }
            None => {
                if first > 1 {
                    self.notes.push(Note::Resumed { from: first });
                }
                self.session = Some(fresh(first));
            }
        }
        let s = self.session.as_mut().expect("session set above");
        s.last_ack = now;
        s.acked = s.handled;
        Action::Reply(frame::welcome(self.incarnation, s.handled, s.next - 1))
    }

    fn refuse(
        &mut self,
        identity: &[u8],
        now: Instant,
        peer: impl FnOnce() -> String,
    ) -> Action<'static> {
        self.counts.refused += 1;
        if !self.unknown.contains_key(identity) && self.unknown.len() >= MAX_UNKNOWN {
            return Action::Nothing;
        }
        let u = self
            .unknown
            .entry(identity.to_vec())
            .or_insert_with(|| Unknown {
                first: now,
                frames: 0,
                last_who: None,
                peer: peer(),
            });
        u.frames += 1;
        if u.last_who
            .is_none_or(|t| now.duration_since(t) >= WHO_EVERY)
        {
            u.last_who = Some(now);
            return Action::Reply(frame::who());
        }
        Action::Nothing
    }

    /// A delivered message went into the wire, which had accepted `ordinal`
    /// messages in all just after (0: nothing to wait for, e.g. a frame that
    /// did not decode).
    pub(crate) fn record(&mut self, seq: u64, ordinal: u64) {
        if let Some(s) = &mut self.session {
            match s.pending.back_mut() {
                // Handled no earlier than the one before it (the wire is
                // FIFO): one entry for both, so a batch is one entry.
                Some(back) if ordinal <= back.1 => back.0 = back.0.max(seq),
                _ => s.pending.push_back((seq, ordinal)),
            }
        }
    }

    /// The wire has finished (handled or discarded) `finished` messages in
    /// all: an acknowledgement to send, if one is due, with the connection
    /// to send it on.
    pub(crate) fn poll_ack(&mut self, finished: u64, now: Instant) -> Option<(Vec<u8>, Vec<u8>)> {
        let s = self.session.as_mut()?;
        while s.pending.front().is_some_and(|(_, ord)| *ord <= finished) {
            let (seq, _) = s.pending.pop_front().expect("front checked");
            s.handled = s.handled.max(seq);
            if s.end.is_some_and(|end| s.handled >= end) && !self.ended {
                self.ended = true;
                s.ack_due = true;
                self.notes.push(Note::EndOfStream);
            }
        }
        let since = now.duration_since(s.last_ack);
        let due = s.ack_due
            || s.handled >= s.acked + self.ack_every
            || (s.handled > s.acked && since >= ACK_DELAY)
            || since >= KEEPALIVE;
        if !due {
            return None;
        }
        s.ack_due = false;
        s.acked = s.handled;
        s.last_ack = now;
        Some((s.identity.clone(), frame::ack(s.handled, s.next - 1, false)))
    }

    /// Whether the stream ended and the sender has not said `BYE` yet: a
    /// stopping receiver then keeps its connection a while and repeats the
    /// last acknowledgement ([`Receiver::repeat_final_ack`]), since closing
    /// right after sending can lose it on the way.
    pub(crate) fn awaiting_bye(&self) -> bool {
        self.ended && !self.farewell && self.session.is_some()
    }

    /// The last acknowledgement again (cumulative, so harmless twice), for
    /// a sender that may not have it.
    pub(crate) fn repeat_final_ack(&mut self, now: Instant) -> Option<(Vec<u8>, Vec<u8>)> {
        let s = self.session.as_mut()?;
        s.last_ack = now;
        Some((s.identity.clone(), frame::ack(s.handled, s.next - 1, false)))
    }

    /// Whether an acknowledgement is due at once (one could not be sent).
    pub(crate) fn ack_due(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.ack_due)
    }

    /// The acknowledgement [`Receiver::poll_ack`] gave could not be sent:
    /// one is due again at the next poll.
    pub(crate) fn ack_not_sent(&mut self) {
        if let Some(s) = &mut self.session {
            s.ack_due = true;
        }
    }

    /// Time passing: connections that never said hello are reported.
    pub(crate) fn on_tick(&mut self, now: Instant) {
        let notes = &mut self.notes;
        self.unknown.retain(|_, u| {
            if now.duration_since(u.first) < STRANGER_AFTER {
                return true;
            }
            notes.push(Note::Stranger {
                peer: std::mem::take(&mut u.peer),
                frames: u.frames,
            });
            false
        });
    }

    /// The connection to tell that this node stopped for good, unless the
    /// stream already ended.
    pub(crate) fn gone(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        if self.ended {
            return None;
        }
        self.session
            .as_ref()
            .map(|s| (s.identity.clone(), frame::gone()))
    }

    /// The hop is closing: connections that never said hello are reported now.
    pub(crate) fn close(&mut self) {
        for (_, u) in self.unknown.drain() {
            self.notes.push(Note::Stranger {
                peer: u.peer,
                frames: u.frames,
            });
        }
    }

    /// How long the thread may sleep before an acknowledgement or a tick is due.
    pub(crate) fn sleep_for(&self, now: Instant) -> Duration {
        let Some(s) = &self.session else {
            return Duration::from_millis(100);
        };
        if s.ack_due {
            return Duration::ZERO;
        }
        if s.handled > s.acked {
            // Due ACK_DELAY after the last one, not ACK_DELAY from now.
            return ACK_DELAY.saturating_sub(now.duration_since(s.last_ack));
        }
        KEEPALIVE
            .saturating_sub(now.duration_since(s.last_ack))
            .min(Duration::from_millis(100))
    }
}

#[cfg(test)]
#[path = "receiver_tests.rs"]
mod tests;
