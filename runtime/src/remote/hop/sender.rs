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
    pub(crate) fn receiver_gone(&self) -> bool {
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
                if let (Some(tag), Some((_, f))) = (b.first_mut(), self.window.get(start)) {
                    *tag = frame::batch_tag(f.first().copied().unwrap_or(frame::DATA));
                }
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
#[path = "sender_tests.rs"]
mod tests;
