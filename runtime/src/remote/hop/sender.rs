//! The sending end of a hop as an I/O-free state machine: what to send next,
//! what the receiver's answers mean. The thread around it
//! ([`super::send_loop`]) only moves bytes and reads the clock.
//!
//! Sequence numbers start at 1 per sender incarnation. Every DATA frame (and
//! the END frame) stays in the window until the receiver acknowledges it as
//! handled; the window holds at most the wire's capacity, so a receiver that
//! does not keep up stops the sender and, through the wire, the producer.
//! Nothing is sent before the receiver has welcomed the sender's hello, so a
//! receiver that starts later loses nothing.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::frame::{self, Hello, ToSender};
use super::Delivery;

/// A hello not answered within this is said again.
pub(crate) const HELLO_RETRY: Duration = Duration::from_millis(500);
/// With frames unacknowledged, this long without a word from the receiver
/// means the connection may have lost frames: hello again, then resend.
pub(crate) const SILENCE: Duration = Duration::from_millis(1500);

/// Most messages in one BATCH frame.
pub(crate) const BATCH_MESSAGES: usize = 1024;
/// Most bytes of one BATCH frame (lowered to the wire's `max_message_size`).
pub(crate) const BATCH_BYTES: usize = 64 * 1024;

/// What to put on the socket next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Out {
    Hello,
    /// The window's frame with this sequence number (DATA or END).
    Frame(u64),
    /// The window's DATA frames `first..first + count` as one BATCH frame
    /// (`count` ≥ 2).
    Batch {
        first: u64,
        count: u32,
    },
}

impl Out {
    /// The sequence numbers `out` carries (none for a hello).
    fn range(self) -> Option<(u64, u64)> {
        match self {
            Out::Hello => None,
            Out::Frame(seq) => Some((seq, seq)),
            Out::Batch { first, count } => Some((
                first,
                (first + u64::from(count)).saturating_sub(1).max(first),
            )),
        }
    }

    /// How many messages (or END) `out` carries.
    pub(crate) fn messages(self) -> u64 {
        self.range().map_or(0, |(a, b)| b - a + 1)
    }
}

/// What an answer from the receiver meant, for the thread to log.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Heard {
    Nothing,
    /// First welcome of this receiver.
    Welcomed {
        receiver: u64,
    },
    /// The receiver restarted: its new incarnation and how many unacknowledged
    /// messages are sent again (the old one may have handled some of them).
    ReceiverRestarted {
        receiver: u64,
        resent: u64,
    },
    Refused(String),
    /// The receiver answered this many hellos in a row with WHO: it does
    /// not understand them (a build of another protocol version).
    HelloNotUnderstood {
        answers: u64,
    },
    /// The receiving node stopped for good: the unacknowledged messages were
    /// dropped (the sender is done).
    Gone {
        dropped: u64,
    },
    Bad(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a welcome; the hello was last sent then.
    Greeting(Option<Instant>),
    Ready,
}

/// Counters the sender keeps (the thread publishes them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SenderCounts {
    /// Messages sent again (after a receiver restart, a reconnect, or a gap).
    pub resent: u64,
    /// Times the receiver came back with a new incarnation.
    pub receiver_restarts: u64,
    /// Times the connection went silent with frames unacknowledged.
    pub silences: u64,
}

pub(crate) struct Sender {
    hello: Hello,
    delivery: Delivery,
    capacity: usize,
    /// Unacknowledged frames in sequence order (at-most-once: unsent only,
    /// and the END frame until it is acknowledged).
    window: VecDeque<(u64, Vec<u8>)>,
    next_seq: u64,
    /// Next sequence number to put on the socket.
    cursor: u64,
    /// Highest sequence number the receiver handled (all below too).
    acked: u64,
    /// Highest sequence number put on the socket at least once.
    highest_sent: u64,
    end: Option<u64>,
    phase: Phase,
    receiver: Option<u64>,
    last_heard: Instant,
    counts: SenderCounts,
    /// Buffers of acknowledged frames, reused for new ones.
    spare: Vec<Vec<u8>>,
    /// The receiving node said it stopped for good.
    gone: bool,
    /// Most messages and bytes in one BATCH frame.
    batch_messages: usize,
    batch_bytes: usize,
    /// The bytes of the last hello or BATCH asked for.
    scratch: Vec<u8>,
    /// WHO answers to hellos since the last welcome.
    whos_to_hello: u64,
}

/// WHO answers to hellos in a row that mean the receiver cannot read them.
const NOT_UNDERSTOOD: u64 = 3;

/// Most spare buffers kept...
const SPARE: usize = 256;
/// ...each at most this large (a large message's buffer is freed).
const SPARE_BYTES: usize = 64 * 1024;

impl Sender {
    pub(crate) fn new(hello: Hello, delivery: Delivery, capacity: usize, now: Instant) -> Self {
        Sender {
            hello,
            delivery,
            capacity: capacity.max(1),
            window: VecDeque::new(),
            next_seq: 1,
            cursor: 1,
            acked: 0,
            highest_sent: 0,
            end: None,
            phase: Phase::Greeting(None),
            receiver: None,
            last_heard: now,
            counts: SenderCounts::default(),
            spare: Vec::new(),
            gone: false,
            batch_messages: BATCH_MESSAGES,
            batch_bytes: BATCH_BYTES,
            scratch: Vec::new(),
            whos_to_hello: 0,
        }
    }

    /// Bounds BATCH frames to `messages` messages and `bytes` bytes (the
    /// receiver's `max_message_size`); below the defaults only. 1 message:
    /// no batches.
    pub(crate) fn limit_batches(mut self, messages: usize, bytes: usize) -> Self {
        self.batch_messages = self.batch_messages.min(messages.max(1));
        self.batch_bytes = self.batch_bytes.min(bytes);
        self
    }

    /// How many more messages the window takes now.
    pub(crate) fn room(&self) -> usize {
        if self.end.is_some() || self.gone {
            return 0;
        }
        self.capacity.saturating_sub(self.window.len())
    }

    /// The sequence number the next [`Sender::push`] gets.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// An empty buffer for the next frame (reused from acknowledged ones).
    pub(crate) fn buffer(&mut self) -> Vec<u8> {
        self.spare.pop().unwrap_or_else(|| Vec::with_capacity(64))
    }

    /// Adds an encoded DATA frame (made with [`frame::data_header`] and
    /// [`Sender::next_seq`]).
    pub(crate) fn push(&mut self, frame: Vec<u8>) {
        self.window.push_back((self.next_seq, frame));
        self.next_seq += 1;
    }

    /// The producers are gone: END follows the last message.
    pub(crate) fn finish(&mut self) {
        if self.end.is_none() {
            let seq = self.next_seq;
            self.window.push_back((seq, frame::end(seq)));
            self.next_seq += 1;
            self.end = Some(seq);
        }
    }

    /// Whether END was acknowledged (everything was handled), or the
    /// receiving node stopped for good.
    pub(crate) fn done(&self) -> bool {
        self.gone || self.end.is_some_and(|e| self.acked >= e)
    }

    /// Whether the receiving node stopped for good.
    #[cfg(test)]
    pub(crate) fn is_gone(&self) -> bool {
        self.gone
    }

    /// Messages (and END) not yet acknowledged as handled.
    pub(crate) fn unacknowledged(&self) -> u64 {
        if self.gone {
            return 0;
        }
        (self.next_seq - 1).saturating_sub(self.acked)
    }

    pub(crate) fn counts(&self) -> SenderCounts {
        self.counts
    }

    /// What to send now, if anything.
    pub(crate) fn next_out(&self, now: Instant) -> Option<Out> {
        match self.phase {
            Phase::Greeting(None) => Some(Out::Hello),
            Phase::Greeting(Some(at)) if now.duration_since(at) >= HELLO_RETRY => Some(Out::Hello),
            Phase::Greeting(Some(_)) => None,
            Phase::Ready if self.cursor < self.next_seq => Some(self.batch_from(self.cursor)),
            Phase::Ready => None,
        }
    }

    /// The frame to send from `first` on: the DATA frames ready from there,
    /// as many as a batch takes, or `first` alone (END, a message alone, a
    /// message larger than the batch bound).
    fn batch_from(&self, first: u64) -> Out {
        let start = self.index(first);
        let mut bytes = frame::BATCH_HEADER;
        let mut count = 0usize;
        for (_, f) in self.window.range(start..).take(self.batch_messages) {
            let body = match f.split_first() {
                Some((&frame::DATA, _)) => f.len() - frame::DATA_HEADER,
                _ => break, // END goes alone
            };
            bytes += frame::BATCH_PER_MESSAGE + body;
            if bytes > self.batch_bytes {
                break;
            }
            count += 1;
        }
        match u32::try_from(count) {
            Ok(count) if count >= 2 => Out::Batch { first, count },
            _ => Out::Frame(first),
        }
    }

    /// The bytes of `out` (valid until the next mutation).
    pub(crate) fn bytes(&mut self, out: Out) -> &[u8] {
        match out {
            Out::Hello => {
                let mut h = self.hello.clone();
                h.first_unacked = self.acked + 1;
                self.scratch.clear();
                self.scratch.extend_from_slice(&frame::hello(&h));
                &self.scratch
            }
            Out::Frame(seq) => &self.window[self.index(seq)].1,
            Out::Batch { first, count } => {
                let start = self.index(first);
                let mut b = std::mem::take(&mut self.scratch);
                frame::batch_header(first, count, &mut b);
                for (_, f) in self.window.range(start..start + count as usize) {
                    frame::batch_push(&f[frame::DATA_HEADER..], &mut b);
                }
                self.scratch = b;
                &self.scratch
            }
        }
    }

    /// Where the window holds `seq`.
    fn index(&self, seq: u64) -> usize {
        let first = self.window.front().map_or(seq, |f| f.0);
        (seq - first) as usize
    }

    /// The socket took `out`.
    pub(crate) fn sent(&mut self, out: Out, now: Instant) {
        match out {
            Out::Hello => self.phase = Phase::Greeting(Some(now)),
            Out::Frame(_) | Out::Batch { .. } => {
                let Some((first, last)) = out.range() else {
                    return;
                };
                if self.highest_sent <= self.acked {
                    // Frames outstanding from now on: the silence clock starts.
                    self.last_heard = now;
                }
                if first <= self.highest_sent {
                    self.counts.resent += self.highest_sent.min(last) - first + 1;
                }
                self.highest_sent = self.highest_sent.max(last);
                self.cursor = last + 1;
                if self.delivery == Delivery::AtMostOnce {
                    // Only END waits for its acknowledgement.
                    while self
                        .window
                        .front()
                        .is_some_and(|(s, _)| *s <= last && Some(*s) != self.end)
                    {
                        if let Some((_, buf)) = self.window.pop_front() {
                            self.recycle(buf);
                        }
                    }
                }
            }
        }
    }

    /// An answer from the receiver.
    pub(crate) fn on_frame(&mut self, bytes: &[u8], now: Instant) -> Heard {
        let parsed = match frame::parse_to_sender(bytes) {
            Ok(p) => p,
            Err(e) => return Heard::Bad(e),
        };
        self.last_heard = now;
        match parsed {
            ToSender::Welcome {
                receiver,
                handled,
                received,
            } => {
                self.acknowledge(handled);
                self.whos_to_hello = 0;
                let greeting = matches!(self.phase, Phase::Greeting(_));
                let heard = match self.receiver.replace(receiver) {
                    None => Heard::Welcomed { receiver },
                    Some(old) if old != receiver => {
                        self.counts.receiver_restarts += 1;
                        Heard::ReceiverRestarted {
                            receiver,
                            resent: self.highest_sent.saturating_sub(self.acked),
                        }
                    }
                    Some(_) => Heard::Nothing,
                };
                if greeting {
                    self.phase = Phase::Ready;
                    self.cursor = self.acked.max(received) + 1;
                    // Never before what the window still holds (at-most-once
                    // keeps nothing it sent).
                    self.cursor = self.cursor.max(self.first_held());
                }
                heard
            }
            ToSender::Ack {
                handled,
                received,
                resend,
            } => {
                self.acknowledge(handled);
                if resend && self.phase == Phase::Ready {
                    let from = self.acked.max(received) + 1;
                    self.cursor = self.cursor.min(from.max(self.first_held()));
                }
                Heard::Nothing
            }
            ToSender::Who => match self.phase {
                Phase::Ready => {
                    self.phase = Phase::Greeting(None);
                    Heard::Nothing
                }
                Phase::Greeting(Some(_)) => {
                    // An answer to the hello (or to a frame sent before it).
                    self.whos_to_hello += 1;
                    if self.whos_to_hello >= NOT_UNDERSTOOD {
                        Heard::HelloNotUnderstood {
                            answers: self.whos_to_hello,
                        }
                    } else {
                        Heard::Nothing
                    }
                }
                Phase::Greeting(None) => Heard::Nothing,
            },
            ToSender::Refused(reason) => {
                self.phase = Phase::Greeting(Some(now));
                Heard::Refused(reason)
            }
            ToSender::Gone => {
                // As a local wire whose consumer stopped for good: what it
                // holds is dropped, and counted.
                let dropped = self
                    .window
                    .iter()
                    .filter(|(s, _)| Some(*s) != self.end)
                    .count() as u64;
                self.window.clear();
                self.gone = true;
                Heard::Gone { dropped }
            }
        }
    }

    fn first_held(&self) -> u64 {
        self.window.front().map_or(self.next_seq, |f| f.0)
    }

    fn acknowledge(&mut self, handled: u64) {
        let handled = handled.min(self.next_seq - 1);
        if handled <= self.acked {
            return;
        }
        self.acked = handled;
        while self.window.front().is_some_and(|(s, _)| *s <= handled) {
            if let Some((_, buf)) = self.window.pop_front() {
                self.recycle(buf);
            }
        }
        self.cursor = self.cursor.max(handled + 1);
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.len() < SPARE && buf.capacity() <= SPARE_BYTES {
            self.spare.push(buf);
        }
    }

    /// Time passing: a silent receiver with frames outstanding gets a new hello.
    pub(crate) fn on_tick(&mut self, now: Instant) {
        let waiting = self.highest_sent > self.acked;
        if self.phase == Phase::Ready && waiting && now.duration_since(self.last_heard) >= SILENCE {
            self.counts.silences += 1;
            self.phase = Phase::Greeting(None);
        }
    }

    /// How long the thread may sleep before [`Sender::on_tick`] or a hello is due.
    pub(crate) fn sleep_for(&self, now: Instant) -> Duration {
        match self.phase {
            Phase::Greeting(Some(at)) => HELLO_RETRY.saturating_sub(now.duration_since(at)),
            Phase::Greeting(None) => Duration::ZERO,
            Phase::Ready if self.highest_sent > self.acked => {
                SILENCE.saturating_sub(now.duration_since(self.last_heard))
            }
            Phase::Ready => Duration::from_millis(100),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::hop::frame::{ack, welcome, who};

    fn hello() -> Hello {
        Hello {
            topology: "t".into(),
            wiring: 1,
            wire: "a.out -> b.in".into(),
            node: "a".into(),
            incarnation: 9,
            first_unacked: 1,
        }
    }

    fn data(s: &mut Sender, body: &[u8]) {
        let mut f = Vec::new();
        frame::data_header(s.next_seq(), &mut f);
        f.extend_from_slice(body);
        s.push(f);
    }

    /// A welcomed at-least-once sender (window 10) that sent messages 1 to 5.
    fn five_sent() -> (Sender, Instant) {
        let t = Instant::now();
        let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 10, t);
        s.on_frame(&welcome(1, 0, 0), t);
        for _ in 0..5 {
            data(&mut s, b"m");
        }
        flush(&mut s, t);
        (s, t)
    }

    /// Sends everything sendable now; returns what went out.
    fn flush(s: &mut Sender, now: Instant) -> Vec<Out> {
        let mut out = Vec::new();
        while let Some(o) = s.next_out(now) {
            s.sent(o, now);
            out.push(o);
        }
        out
    }

    #[test]
    fn nothing_but_hello_goes_out_before_the_welcome() {
        let t = Instant::now();
        let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 4, t);
        data(&mut s, b"x");
        assert_eq!(flush(&mut s, t), vec![Out::Hello]);
        assert_eq!(flush(&mut s, t + Duration::from_millis(10)), vec![]);
        assert_eq!(flush(&mut s, t + HELLO_RETRY), vec![Out::Hello]);
        s.on_frame(&welcome(77, 0, 0), t + HELLO_RETRY);
        assert_eq!(flush(&mut s, t + HELLO_RETRY), vec![Out::Frame(1)]);
    }

    #[test]
    fn the_window_is_bounded_and_freed_by_acknowledgements() {
        let t = Instant::now();
        let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 3, t);
        s.on_frame(&welcome(1, 0, 0), t);
        for _ in 0..3 {
            data(&mut s, b"m");
        }
        assert_eq!(s.room(), 0);
        assert_eq!(flush(&mut s, t), vec![Out::Batch { first: 1, count: 3 }]);
        s.on_frame(&ack(2, 3, false), t);
        assert_eq!(s.room(), 2);
        assert_eq!(s.unacknowledged(), 1);
        s.finish();
        assert_eq!(flush(&mut s, t), vec![Out::Frame(4)]);
        assert!(!s.done());
        s.on_frame(&ack(4, 4, false), t);
        assert!(s.done());
    }

    #[test]
    fn a_restarted_receiver_gets_every_unacknowledged_frame_again() {
        let (mut s, t) = five_sent();
        s.on_frame(&ack(2, 5, false), t);
        // The new receiver does not know this connection.
        s.on_frame(&who(), t);
        assert_eq!(flush(&mut s, t), vec![Out::Hello]);
        let bytes = s.bytes(Out::Hello).to_vec();
        let h = frame::parse_to_receiver(&bytes).unwrap();
        assert!(matches!(h, frame::ToReceiver::Hello(h) if h.first_unacked == 3));
        assert_eq!(
            s.on_frame(&welcome(2, 2, 2), t),
            Heard::ReceiverRestarted {
                receiver: 2,
                resent: 3
            }
        );
        assert_eq!(flush(&mut s, t), vec![Out::Batch { first: 3, count: 3 }]);
        assert_eq!(s.counts().resent, 3);
    }

    #[test]
    fn a_reconnect_resends_only_what_the_receiver_did_not_get() {
        let (mut s, t) = five_sent();
        // Silence: frames may be lost in a dead connection.
        s.on_tick(t + SILENCE);
        assert_eq!(flush(&mut s, t + SILENCE), vec![Out::Hello]);
        // Same receiver: it handled 1 and received up to 3.
        assert_eq!(s.on_frame(&welcome(1, 1, 3), t + SILENCE), Heard::Nothing);
        assert_eq!(
            flush(&mut s, t + SILENCE),
            vec![Out::Batch { first: 4, count: 2 }]
        );
        assert_eq!(s.counts().resent, 2);
        assert_eq!(s.counts().silences, 1);
    }

    #[test]
    fn a_gap_reported_by_the_receiver_is_filled() {
        let (mut s, t) = five_sent();
        s.on_frame(&ack(1, 2, true), t);
        assert_eq!(flush(&mut s, t), vec![Out::Batch { first: 3, count: 3 }]);
    }

    #[test]
    fn a_receiver_gone_for_good_ends_the_sender_with_what_it_held_dropped() {
        let t = Instant::now();
        let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 10, t);
        s.on_frame(&welcome(1, 0, 0), t);
        for _ in 0..4 {
            data(&mut s, b"m");
        }
        flush(&mut s, t);
        s.on_frame(&ack(1, 4, false), t);
        assert_eq!(s.on_frame(&frame::gone(), t), Heard::Gone { dropped: 3 });
        assert!(s.done() && s.is_gone());
        assert_eq!(s.room(), 0);
        assert_eq!(flush(&mut s, t), vec![]);
    }

    #[test]
    fn at_most_once_keeps_nothing_it_has_sent_but_end() {
        let t = Instant::now();
        let mut s = Sender::new(hello(), Delivery::AtMostOnce, 2, t);
        s.on_frame(&welcome(1, 0, 0), t);
        data(&mut s, b"m");
        data(&mut s, b"m");
        flush(&mut s, t);
        assert_eq!(s.room(), 2);
        s.finish();
        flush(&mut s, t);
        assert!(!s.done());
        s.on_tick(t + SILENCE);
        assert_eq!(flush(&mut s, t + SILENCE), vec![Out::Hello]);
        s.on_frame(&welcome(1, 0, 2), t + SILENCE);
        assert_eq!(flush(&mut s, t + SILENCE), vec![Out::Frame(3)]);
        s.on_frame(&ack(3, 3, false), t);
        assert!(s.done());
    }

    /// The messages (sequence number, body) of what went out.
    fn carried(s: &mut Sender, out: Out) -> Vec<(u64, Vec<u8>)> {
        let bytes = s.bytes(out).to_vec();
        match frame::parse_to_receiver(&bytes) {
            Ok(frame::ToReceiver::Messages(m)) => m.map(|(q, b)| (q, b.to_vec())).collect(),
            other => panic!("{out:?} read back as {other:?}"),
        }
    }

    #[test]
    fn what_is_ready_at_once_goes_in_one_batch_and_reads_back() {
        let t = Instant::now();
        let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 10, t);
        s.on_frame(&welcome(1, 0, 0), t);
        data(&mut s, b"one");
        // A single ready message goes out at once, as DATA.
        let out = s.next_out(t).expect("ready");
        assert_eq!(out, Out::Frame(1));
        assert_eq!(carried(&mut s, out), vec![(1, b"one".to_vec())]);
        s.sent(out, t);
        data(&mut s, b"two");
        data(&mut s, b"");
        data(&mut s, b"four");
        let out = s.next_out(t).expect("ready");
        assert_eq!(out, Out::Batch { first: 2, count: 3 });
        assert_eq!(
            carried(&mut s, out),
            vec![(2, b"two".to_vec()), (3, vec![]), (4, b"four".to_vec())]
        );
        s.sent(out, t);
        assert_eq!(s.next_out(t), None);
        // END goes alone, after the batch before it.
        data(&mut s, b"five");
        data(&mut s, b"six");
        s.finish();
        assert_eq!(
            flush(&mut s, t),
            vec![Out::Batch { first: 5, count: 2 }, Out::Frame(7)]
        );
        s.on_frame(&ack(7, 7, false), t);
        assert!(s.done());
    }

    #[test]
    fn a_batch_is_bounded_by_messages_and_bytes() {
        let t = Instant::now();
        // 4 messages, or 13 + 3 * (4 + 10) = 55 bytes, whichever is less.
        let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 20, t).limit_batches(4, 55);
        s.on_frame(&welcome(1, 0, 0), t);
        for _ in 0..9 {
            data(&mut s, &[7; 10]);
        }
        let outs = flush(&mut s, t);
        assert_eq!(
            outs,
            vec![
                Out::Batch { first: 1, count: 3 },
                Out::Batch { first: 4, count: 3 },
                Out::Batch { first: 7, count: 3 }
            ]
        );
        for out in outs {
            assert!(s.bytes(out).len() <= 55);
        }
        // A message over the byte bound goes alone; the small ones around it batch.
        data(&mut s, &[1; 3]);
        data(&mut s, &[2; 200]);
        data(&mut s, &[3; 3]);
        data(&mut s, &[4; 3]);
        assert_eq!(
            flush(&mut s, t),
            vec![
                Out::Frame(10),
                Out::Frame(11),
                Out::Batch {
                    first: 12,
                    count: 2
                }
            ]
        );
        // Count bound: tiny messages, four at most.
        let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 20, t).limit_batches(4, 1 << 20);
        s.on_frame(&welcome(1, 0, 0), t);
        for _ in 0..6 {
            data(&mut s, b"m");
        }
        assert_eq!(
            flush(&mut s, t),
            vec![
                Out::Batch { first: 1, count: 4 },
                Out::Batch { first: 5, count: 2 }
            ]
        );
        // One message per batch: no batches at all.
        let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 20, t).limit_batches(1, 1 << 20);
        s.on_frame(&welcome(1, 0, 0), t);
        data(&mut s, b"m");
        data(&mut s, b"m");
        assert_eq!(flush(&mut s, t), vec![Out::Frame(1), Out::Frame(2)]);
    }

    #[test]
    fn a_resend_after_a_gap_batches_from_the_gap_on() {
        let (mut s, t) = five_sent();
        assert_eq!(s.counts().resent, 0);
        data(&mut s, b"six");
        // The receiver got 1 and 2 (handled 1), then lost the rest.
        s.on_frame(&ack(1, 2, true), t);
        let out = s.next_out(t).expect("ready");
        assert_eq!(out, Out::Batch { first: 3, count: 4 });
        assert_eq!(
            carried(&mut s, out).iter().map(|m| m.0).collect::<Vec<_>>(),
            vec![3, 4, 5, 6]
        );
        s.sent(out, t);
        assert_eq!(s.counts().resent, 3, "6 was new");
    }

    #[test]
    fn at_most_once_batches_and_keeps_nothing_it_sent() {
        let t = Instant::now();
        let mut s = Sender::new(hello(), Delivery::AtMostOnce, 4, t);
        s.on_frame(&welcome(1, 0, 0), t);
        for _ in 0..4 {
            data(&mut s, b"m");
        }
        assert_eq!(s.room(), 0);
        assert_eq!(flush(&mut s, t), vec![Out::Batch { first: 1, count: 4 }]);
        assert_eq!(s.room(), 4);
    }

    #[test]
    fn hellos_answered_only_with_who_are_reported_as_not_understood() {
        let t = Instant::now();
        let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 4, t);
        let mut heard = Vec::new();
        for i in 0..4 {
            let at = t + HELLO_RETRY * i;
            assert_eq!(flush(&mut s, at), vec![Out::Hello]);
            heard.push(s.on_frame(&who(), at));
        }
        assert_eq!(
            heard,
            vec![
                Heard::Nothing,
                Heard::Nothing,
                Heard::HelloNotUnderstood { answers: 3 },
                Heard::HelloNotUnderstood { answers: 4 }
            ]
        );
        // A welcome starts the count again.
        s.on_frame(&welcome(1, 0, 0), t);
        s.on_frame(&who(), t);
        assert_eq!(flush(&mut s, t), vec![Out::Hello]);
        assert_eq!(s.on_frame(&who(), t), Heard::Nothing);
    }
}
