//! The sender and receiver state machines connected by a simulated
//! connection that dies and comes back (losing whatever was in flight in
//! both directions, as a dead TCP connection does), with a consumer that
//! handles messages at its own pace, driven by proptest. Frames of a dead
//! connection may also still arrive after the new connection's (a ROUTER
//! reads its connections in turn), and the sender's batch bounds vary, so
//! batches are cut anywhere and resent batches overlap what arrived.
//! Whatever the schedule: every message arrives exactly once, in order
//! (at-most-once: never twice, in order), and END is acknowledged.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::frame::{self, Hello};
use super::receiver::{Action, Expect, Receiver};
use super::sender::{Out, Sender};
use super::Delivery;

#[derive(Debug, Clone, Copy)]
enum Step {
    /// The producer offers a message (if the window has room).
    Produce,
    /// The sender puts what it has on the connection.
    Send,
    /// The connection carries one frame each way.
    Carry,
    /// The consumer handles one message.
    Handle,
    /// The connection dies: everything in flight is lost; the next frames
    /// travel on a new connection (a new identity at the receiver).
    Reset,
    /// The connection is replaced, but what the old one carried to the
    /// receiver still arrives (interleaved with the new one's frames).
    Replace,
    /// The oldest frame of the newest connection overtakes the frames of
    /// older connections still in flight (never one of its own).
    Overtake,
    /// Time passes.
    Wait(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Produce),
        4 => Just(Step::Send),
        6 => Just(Step::Carry),
        4 => Just(Step::Handle),
        1 => Just(Step::Reset),
        1 => Just(Step::Replace),
        2 => Just(Step::Overtake),
        2 => (1u16..2000).prop_map(Step::Wait),
    ]
}

struct World {
    now: Instant,
    sender: Sender,
    receiver: Receiver,
    /// Frames to the receiver, with the connection they travel on.
    to_receiver: VecDeque<(u8, Vec<u8>)>,
    /// Frames to the sender, with the connection (identity) they are
    /// addressed to: one for a dead connection is lost, as with a ROUTER.
    to_sender: VecDeque<(u8, Vec<u8>)>,
    connection: u8,
    produced: u64,
    total: u64,
    /// The consumer's wire: (accepted ordinal, message), and its counters.
    wire: VecDeque<u64>,
    accepted: u64,
    finished: u64,
    handled: Vec<u64>,
    /// BATCH frames put on the connection.
    batches: u64,
}

impl World {
    fn new(total: u64, capacity: usize, delivery: Delivery, batch: (usize, usize)) -> Self {
        let now = Instant::now();
        let hello = Hello {
            topology: "t".into(),
            wiring: 1,
            wire: "a.out -> b.in".into(),
            node: "a".into(),
            incarnation: 7,
            first_unacked: 1,
        };
        let expect = Expect {
            topology: "t".into(),
            wiring: 1,
            wire: "a.out -> b.in".into(),
            node: "a".into(),
        };
        World {
            now,
            sender: Sender::new(hello, delivery, capacity, now).limit_batches(batch.0, batch.1),
            receiver: Receiver::new(expect, 99, delivery, capacity),
            to_receiver: VecDeque::new(),
            to_sender: VecDeque::new(),
            connection: 0,
            produced: 0,
            total,
            wire: VecDeque::new(),
            accepted: 0,
            finished: 0,
            handled: Vec::new(),
            batches: 0,
        }
    }

    fn apply(&mut self, step: Step) {
        match step {
            Step::Produce => {
                if self.produced < self.total && self.sender.room() > 0 {
                    let mut f = self.sender.buffer();
                    frame::data_header(self.sender.next_seq(), &mut f);
                    f.extend_from_slice(&self.produced.to_le_bytes());
                    self.sender.push(f);
                    self.produced += 1;
                } else if self.produced == self.total {
                    self.sender.finish();
                }
            }
            Step::Send => {
                self.sender.on_tick(self.now);
                while let Some(out) = self.sender.next_out(self.now) {
                    let bytes = self.sender.bytes(out).to_vec();
                    self.to_receiver.push_back((self.connection, bytes));
                    self.sender.sent(out, self.now);
                    if matches!(out, Out::Batch { .. }) {
                        self.batches += 1;
                    }
                    if matches!(out, Out::Hello) {
                        break;
                    }
                }
            }
            Step::Carry => {
                if let Some((connection, f)) = self.to_receiver.pop_front() {
                    let id = [connection];
                    match self.receiver.on_frame(&id, &f, self.now, || "sim".into()) {
                        Action::Deliver(messages) => {
                            for (seq, body) in messages {
                                let in_body = u64::from_le_bytes(body.try_into().unwrap());
                                assert_eq!(in_body + 1, seq, "the body of {seq}");
                                self.wire.push_back(in_body);
                                self.accepted += 1;
                                self.receiver.record(seq, self.accepted);
                            }
                        }
                        Action::End { seq } => self.receiver.record(seq, 0),
                        Action::Reply(r) => self.to_sender.push_back((id[0], r)),
                        Action::Nothing => {}
                    }
                }
                if let Some((id, ack)) = self.receiver.poll_ack(self.finished, self.now) {
                    self.to_sender.push_back((id[0], ack));
                }
                if let Some((id, f)) = self.to_sender.pop_front() {
                    if id == self.connection {
                        self.sender.on_frame(&f, self.now);
                    }
                }
            }
            Step::Handle => {
                if let Some(m) = self.wire.pop_front() {
                    self.handled.push(m);
                    self.finished += 1;
                }
            }
            Step::Reset => {
                self.to_receiver.clear();
                self.to_sender.clear();
                self.connection = self.connection.wrapping_add(1);
            }
            Step::Replace => {
                // Answers to the old connection are lost when they arrive.
                self.connection = self.connection.wrapping_add(1);
            }
            Step::Overtake => {
                let newest = self.to_receiver.back().map(|f| f.0);
                let at = self.to_receiver.iter().position(|f| Some(f.0) == newest);
                if let Some(f) = at
                    .filter(|&i| i > 0)
                    .and_then(|i| self.to_receiver.remove(i))
                {
                    self.to_receiver.push_front(f);
                }
            }
            Step::Wait(ms) => {
                self.now += Duration::from_millis(u64::from(ms));
                self.receiver.on_tick(self.now);
            }
        }
    }

    /// No more resets: everything runs until END is acknowledged.
    fn settle(&mut self) -> bool {
        for _ in 0..200_000 {
            if self.sender.done() {
                return true;
            }
            for s in [
                Step::Produce,
                Step::Send,
                Step::Carry,
                Step::Handle,
                Step::Wait(5),
            ] {
                self.apply(s);
            }
        }
        false
    }
}

#[test]
fn a_resent_batch_that_overlaps_what_arrived_delivers_only_the_rest() {
    let mut w = World::new(4, 8, Delivery::AtLeastOnce, (4, 1000));
    for s in [Step::Send, Step::Carry] {
        w.apply(s); // hello, welcome
    }
    for _ in 0..2 {
        w.apply(Step::Produce);
        w.apply(Step::Produce);
        w.apply(Step::Send); // [1, 2], then [3, 4] on the first connection
    }
    // A new connection; the hello overtakes what the old one still carries,
    // so the sender resends 1 to 4 as one batch.
    w.apply(Step::Replace);
    w.apply(Step::Wait(1600));
    w.apply(Step::Send);
    w.apply(Step::Overtake);
    w.apply(Step::Carry);
    w.apply(Step::Send);
    assert_eq!(w.batches, 3);
    // [1, 2] from the old connection, then the resent [1..4], then [3, 4].
    w.apply(Step::Carry);
    w.apply(Step::Overtake);
    w.apply(Step::Carry);
    w.apply(Step::Carry);
    assert_eq!(w.wire, VecDeque::from(vec![0, 1, 2, 3]));
    assert_eq!(w.receiver.counts().duplicates, 4);
    assert!(w.settle(), "END acknowledged");
    assert_eq!(w.handled, vec![0, 1, 2, 3]);
}

/// Batch bounds: up to 8 messages, and 20 to 140 bytes (a message takes 12
/// in a batch, the header 13): from no batches at all to 8 messages.
fn batch_bounds() -> impl Strategy<Value = (usize, usize)> {
    (1usize..9, 20usize..140)
}

#[test]
fn the_simulation_exercises_batches_and_overlapping_resends() {
    let mut w = World::new(40, 8, Delivery::AtLeastOnce, (4, 1000));
    for _ in 0..3 {
        for s in [Step::Produce, Step::Send, Step::Carry, Step::Carry] {
            w.apply(s);
        }
    }
    for _ in 0..6 {
        w.apply(Step::Produce);
    }
    w.apply(Step::Send);
    // The connection is replaced with batches in flight; the sender's hello
    // on the new one arrives first, so it resends what is still on the way.
    w.apply(Step::Replace);
    w.apply(Step::Wait(1600));
    w.apply(Step::Send);
    w.apply(Step::Overtake);
    w.apply(Step::Carry);
    w.apply(Step::Send);
    assert!(w.settle(), "END acknowledged");
    assert_eq!(w.handled, (0..40).collect::<Vec<_>>());
    assert!(w.batches > 0, "no batch was sent");
    assert!(w.receiver.counts().duplicates > 0, "no copy was dropped");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_message_arrives_once_in_order_across_connection_losses(
        total in 0u64..60,
        capacity in 1usize..12,
        batch in batch_bounds(),
        steps in proptest::collection::vec(step(), 0..400),
    ) {
        let mut w = World::new(total, capacity, Delivery::AtLeastOnce, batch);
        for s in steps {
            w.apply(s);
        }
        prop_assert!(w.settle(), "END acknowledged");
        let expected: Vec<u64> = (0..total).collect();
        prop_assert_eq!(&w.handled, &expected);
        prop_assert_eq!(w.sender.unacknowledged(), 0);
    }

    #[test]
    fn at_most_once_delivers_in_order_never_twice_and_counts_what_it_lost(
        total in 0u64..60,
        capacity in 1usize..12,
        batch in batch_bounds(),
        steps in proptest::collection::vec(step(), 0..400),
    ) {
        let mut w = World::new(total, capacity, Delivery::AtMostOnce, batch);
        for s in steps {
            w.apply(s);
        }
        prop_assert!(w.settle(), "END acknowledged");
        prop_assert!(w.handled.windows(2).all(|p| p[0] < p[1]), "in order, once: {:?}", w.handled);
        prop_assert!(w.handled.iter().all(|m| *m < total));
        // Every message is delivered or counted lost, except those lost
        // after the last delivered one (no later frame shows the gap).
        let last = w.handled.last().map_or(0, |m| m + 1);
        prop_assert!(w.receiver.counts().lost >= last - w.handled.len() as u64);
    }
}
