//! The frames of a cross-node hop, as bytes. Every frame starts with one tag
//! byte; numbers are little-endian `u64`, strings a `u16` length and UTF-8.
//!
//! Every frame is one ZeroMQ message.
//!
//! Sender → receiver (a DEALER connected to the receiver's ROUTER):
//!
//! | frame   | bytes after the tag |
//! |---------|---------------------|
//! | `HELLO` | version `u8` (= [`VERSION`]), topology, wire, node (strings), wiring hash, incarnation, first unacknowledged sequence number |
//! | `DATA`  | seq, then the encoded message up to the end of the frame |
//! | `BATCH` | first seq, count `u32` (≥ 1), then `count` times: length `u32` and that many bytes of one encoded message; messages `first`, `first + 1`, … |
//! | `END`   | seq |
//! | `BYE`   | nothing: END's acknowledgement arrived, the sender closes |
//! | `DATA*`, `BATCH*` | as `DATA` and `BATCH`, each message prefixed by its causal trace stamp: length `u32` and that many bytes of JSON (`trace::Stamp`; length 0: none) |
//!
//! Receiver → sender: `WELCOME receiver handled received`, `ACK handled
//! received resend(u8)`, `WHO` (say hello first), `REFUSED reason`, `GONE`
//! (the receiving node stopped for good).
//!
//! A sender packs consecutive messages that are ready at once into one
//! `BATCH` (bounded in messages and bytes, never above the wire's
//! `max_message_size`); a message alone, or one larger than the batch bound,
//! goes as `DATA`. A frame is checked whole before anything in it counts: a
//! `BATCH` whose lengths do not add up to its size is malformed.

/// One encoded message: `DATA seq body`.
pub(crate) const DATA: u8 = 0;
/// The producer stopped for good: `END seq` (acknowledged like a message).
pub(crate) const END: u8 = 1;
/// Opens (or re-opens) a session: see [`Hello`].
pub(crate) const HELLO: u8 = 2;
/// The receiver accepted a hello: its incarnation and what it has of the sender.
pub(crate) const WELCOME: u8 = 3;
/// Cumulative acknowledgement: handled and received sequence numbers.
pub(crate) const ACK: u8 = 4;
/// The receiver does not know this connection: say hello (again).
pub(crate) const WHO: u8 = 5;
/// The receiver refused a hello, with the reason.
pub(crate) const REFUSED: u8 = 6;
/// The receiving node stopped for good (graceful shutdown): its consumer
/// takes nothing more.
pub(crate) const GONE: u8 = 7;

/// Several consecutive messages: `BATCH first count (len body)*count`.
pub(crate) const BATCH: u8 = 8;
/// `DATA` of a traced wire: the body starts with the message's stamp.
pub(crate) const DATA_STAMPED: u8 = 9;
/// `BATCH` of a traced wire: every body starts with its message's stamp.
pub(crate) const BATCH_STAMPED: u8 = 10;
/// The sender got END's acknowledgement and closes: the receiver may close
/// too (until then it keeps the connection and repeats that acknowledgement,
/// so that closing cannot take it with it).
pub(crate) const BYE: u8 = 11;

/// Protocol version carried in every hello. 2: `BATCH` frames; 3: stamped
/// `DATA*` and `BATCH*` frames of traced wires; 4: `BYE` (a build of an
/// older version would not read them; the receiver refuses a hello of
/// another version with the reason).
pub(crate) const VERSION: u8 = 4;

/// Bytes of a `BATCH` frame before its messages: tag, first, count.
pub(crate) const BATCH_HEADER: usize = 1 + 8 + 4;
/// Bytes a `BATCH` frame adds per message: its length.
pub(crate) const BATCH_PER_MESSAGE: usize = 4;
/// Bytes of a `DATA` frame before its message: tag, seq.
pub(crate) const DATA_HEADER: usize = 1 + 8;

/// A frame that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadFrame {
    /// A hello of another protocol version (another build).
    #[error(
        "hello of hop protocol version {theirs}, this build speaks {VERSION}: \
         both nodes must run builds of the same hop protocol"
    )]
    Version {
        /// The version the hello named.
        theirs: u8,
    },
    /// Not a frame of this protocol (truncated, garbage, unknown tag).
    #[error("{0}")]
    Malformed(String),
}

impl From<String> for BadFrame {
    fn from(s: String) -> Self {
        BadFrame::Malformed(s)
    }
}

impl From<&str> for BadFrame {
    fn from(s: &str) -> Self {
        BadFrame::Malformed(s.to_owned())
    }
}

/// What a sender says when it (re)connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hello {
    /// Name of the topology.
    pub topology: String,
    /// Hash of the wire's definition (ends, message type, codec, delivery).
    pub wiring: u64,
    /// The wire's label, `from.port -> to.port`.
    pub wire: String,
    /// The sending node.
    pub node: String,
    /// The sending process's incarnation (random per start).
    pub incarnation: u64,
    /// The first sequence number the sender still holds unacknowledged.
    pub first_unacked: u64,
}

/// A frame the receiver got.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToReceiver<'a> {
    Hello(Hello),
    /// `DATA` (one message) or `BATCH` (several).
    Messages(Messages<'a>),
    End {
        seq: u64,
    },
    /// `BYE`: END's acknowledgement arrived.
    Bye,
}

/// Consecutive messages of one checked `DATA` or `BATCH` frame: iterates
/// over `(seq, encoded body)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Messages<'a> {
    first: u64,
    count: u64,
    /// `DATA`: the body; `BATCH`: the length-prefixed bodies.
    bytes: &'a [u8],
    packed: bool,
    /// Every body starts with a causal trace stamp ([`split_stamp`]).
    stamped: bool,
}

impl<'a> Messages<'a> {
    /// Every body starts with a causal trace stamp ([`split_stamp`]).
    pub(crate) fn stamped(&self) -> bool {
        self.stamped
    }

    /// The sequence number of the first message left.
    pub(crate) fn first_seq(&self) -> u64 {
        self.first
    }

    /// How many messages are left.
    #[cfg(test)]
    pub(crate) fn remaining(&self) -> u64 {
        self.count
    }

    /// The sequence number of the last message (the frame was checked, so
    /// this does not overflow).
    pub(crate) fn last_seq(&self) -> u64 {
        self.first + self.count.saturating_sub(1)
    }

    /// Drops the messages before `seq` (already received).
    pub(crate) fn skip_to(&mut self, seq: u64) {
        while self.count > 0 && self.first < seq {
            self.next();
        }
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = (u64, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.count == 0 {
            return None;
        }
        let body = if self.packed {
            let (len, rest) = self.bytes.split_first_chunk::<4>()?;
            let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
            let (body, rest) = rest.split_at(len);
            self.bytes = rest;
            body
        } else {
            std::mem::take(&mut self.bytes)
        };
        let seq = self.first;
        self.first += 1;
        self.count -= 1;
        Some((seq, body))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.count).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

/// A frame the sender got.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToSender {
    Welcome {
        receiver: u64,
        handled: u64,
        received: u64,
    },
    Ack {
        handled: u64,
        received: u64,
        resend: bool,
    },
    Who,
    Refused(String),
    Gone,
}

/// Starts a DATA frame in `buf` (cleared); the codec appends the body.
pub(crate) fn data_header(seq: u64, buf: &mut Vec<u8>) {
    buf.clear();
    buf.push(DATA);
    buf.extend_from_slice(&seq.to_le_bytes());
}

/// Starts a `DATA*` frame in `buf` (cleared) with `stamp` (JSON, or empty
/// for none); the codec appends the body.
pub(crate) fn stamped_header(seq: u64, stamp: &[u8], buf: &mut Vec<u8>) {
    buf.clear();
    buf.push(DATA_STAMPED);
    buf.extend_from_slice(&seq.to_le_bytes());
    let len = u32::try_from(stamp.len()).unwrap_or(0);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&stamp[..len as usize]);
}

/// The tag of a BATCH frame of messages stored as frames tagged `data`.
pub(crate) fn batch_tag(data: u8) -> u8 {
    if data == DATA_STAMPED {
        BATCH_STAMPED
    } else {
        BATCH
    }
}

/// A stamped body's stamp (JSON, empty for none) and message; `None` when
/// the body is shorter than its stamp says.
pub(crate) fn split_stamp(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = body.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// Starts a BATCH frame of `count` messages from `first` in `buf` (cleared);
/// [`batch_push`] appends each message.
pub(crate) fn batch_header(first: u64, count: u32, buf: &mut Vec<u8>) {
    buf.clear();
    buf.push(BATCH);
    buf.extend_from_slice(&first.to_le_bytes());
    buf.extend_from_slice(&count.to_le_bytes());
}

/// Appends one encoded message to a BATCH frame (at most `u32::MAX` bytes:
/// the sender never batches messages that large).
pub(crate) fn batch_push(body: &[u8], buf: &mut Vec<u8>) {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&body[..len as usize]);
}

pub(crate) fn end(seq: u64) -> Vec<u8> {
    let mut b = vec![END];
    b.extend_from_slice(&seq.to_le_bytes());
    b
}

pub(crate) fn bye() -> Vec<u8> {
    vec![BYE]
}

pub(crate) fn hello(h: &Hello) -> Vec<u8> {
    let mut b = vec![HELLO, VERSION];
    for s in [&h.topology, &h.wire, &h.node] {
        put_str(&mut b, s);
    }
    for n in [h.wiring, h.incarnation, h.first_unacked] {
        b.extend_from_slice(&n.to_le_bytes());
    }
    b
}

pub(crate) fn welcome(receiver: u64, handled: u64, received: u64) -> Vec<u8> {
    let mut b = vec![WELCOME];
    for n in [receiver, handled, received] {
        b.extend_from_slice(&n.to_le_bytes());
    }
    b
}

pub(crate) fn ack(handled: u64, received: u64, resend: bool) -> Vec<u8> {
    let mut b = vec![ACK];
    for n in [handled, received] {
        b.extend_from_slice(&n.to_le_bytes());
    }
    b.push(u8::from(resend));
    b
}

pub(crate) fn who() -> Vec<u8> {
    vec![WHO]
}

pub(crate) fn gone() -> Vec<u8> {
    vec![GONE]
}

pub(crate) fn refused(reason: &str) -> Vec<u8> {
    let mut b = vec![REFUSED];
    put_str(&mut b, reason);
    b
}

fn put_str(b: &mut Vec<u8>, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    b.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    b.extend_from_slice(bytes);
}

/// Reads fields off the front of a frame.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u64(&mut self) -> Result<u64, String> {
        let (head, rest) = self
            .0
            .split_first_chunk::<8>()
            .ok_or_else(|| format!("{} bytes where a number was expected", self.0.len()))?;
        self.0 = rest;
        Ok(u64::from_le_bytes(*head))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let (head, rest) = self
            .0
            .split_first_chunk::<4>()
            .ok_or_else(|| format!("{} bytes where a count was expected", self.0.len()))?;
        self.0 = rest;
        Ok(u32::from_le_bytes(*head))
    }
    fn u8(&mut self) -> Result<u8, String> {
        let (&b, rest) = self.0.split_first().ok_or("frame too short")?;
        self.0 = rest;
        Ok(b)
    }
    fn string(&mut self) -> Result<String, String> {
        let (len, rest) = self.0.split_first_chunk::<2>().ok_or("frame too short")?;
        let len = u16::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(format!("a string of {len} bytes, {} left", rest.len()));
        }
        let (s, rest) = rest.split_at(len);
        self.0 = rest;
        String::from_utf8(s.to_vec()).map_err(|_| "a string that is not UTF-8".to_owned())
    }
    fn done(&self) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(format!("{} bytes too many", self.0.len()))
        }
    }
}

/// Checks the messages of a BATCH frame (after first and count): every
/// length within the frame, nothing left over.
fn check_batch(first: u64, count: u32, bytes: &[u8]) -> Result<(), String> {
    if count == 0 {
        return Err("a batch of no messages".into());
    }
    if first.checked_add(u64::from(count)).is_none() {
        return Err(format!(
            "a batch of {count} from {first} overflows the sequence numbers"
        ));
    }
    let mut r = Reader(bytes);
    for i in 0..count {
        let len = r.u32()? as usize;
        if r.0.len() < len {
            return Err(format!(
                "message {i} of a batch of {count} says {len} bytes, {} left",
                r.0.len()
            ));
        }
        r.0 = &r.0[len..];
    }
    r.done()
}

/// Parses a frame sent to a receiver.
pub(crate) fn parse_to_receiver(frame: &[u8]) -> Result<ToReceiver<'_>, BadFrame> {
    let (&tag, rest) = frame.split_first().ok_or("empty frame")?;
    let mut r = Reader(rest);
    match tag {
        DATA | DATA_STAMPED => {
            let seq = r.u64()?;
            Ok(ToReceiver::Messages(Messages {
                first: seq,
                count: 1,
                bytes: r.0,
                packed: false,
                stamped: tag == DATA_STAMPED,
            }))
        }
        BATCH | BATCH_STAMPED => {
            let first = r.u64()?;
            let count = r.u32()?;
            check_batch(first, count, r.0)?;
            Ok(ToReceiver::Messages(Messages {
                first,
                count: u64::from(count),
                bytes: r.0,
                packed: true,
                stamped: tag == BATCH_STAMPED,
            }))
        }
        END => {
            let seq = r.u64()?;
            r.done()?;
            Ok(ToReceiver::End { seq })
        }
        BYE => {
            r.done()?;
            Ok(ToReceiver::Bye)
        }
        HELLO => {
            let version = r.u8()?;
            if version != VERSION {
                return Err(BadFrame::Version { theirs: version });
            }
            let topology = r.string()?;
            let wire = r.string()?;
            let node = r.string()?;
            let wiring = r.u64()?;
            let incarnation = r.u64()?;
            let first_unacked = r.u64()?;
            r.done()?;
            Ok(ToReceiver::Hello(Hello {
                topology,
                wiring,
                wire,
                node,
                incarnation,
                first_unacked,
            }))
        }
        other => Err(format!("unknown frame tag {other}").into()),
    }
}

/// Parses a frame sent to a sender.
pub(crate) fn parse_to_sender(frame: &[u8]) -> Result<ToSender, String> {
    let (&tag, rest) = frame.split_first().ok_or("empty frame")?;
    let mut r = Reader(rest);
    let parsed = match tag {
        WELCOME => ToSender::Welcome {
            receiver: r.u64()?,
            handled: r.u64()?,
            received: r.u64()?,
        },
        ACK => ToSender::Ack {
            handled: r.u64()?,
            received: r.u64()?,
            resend: r.u8()? != 0,
        },
        WHO => ToSender::Who,
        REFUSED => ToSender::Refused(r.string()?),
        GONE => ToSender::Gone,
        other => return Err(format!("unknown frame tag {other}")),
    };
    r.done()?;
    Ok(parsed)
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
