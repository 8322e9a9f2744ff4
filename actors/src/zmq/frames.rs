//! [`Frames`], the message ZeroMQ endpoint actors exchange with the rest of a
//! topology, and [`Frame`], one of its parts: bytes shared, not copied.
//!
//! A frame is a [`Bytes`]: cloning one (a producer sending the same body
//! again, a fan-out) counts a reference instead of copying, and a frame
//! decoded from a cross-node hop's batch is a view of the received buffer
//! ([`rolecall_codecs::shared`]), so moving a message across nodes makes no
//! allocation per message. A large frame received from a socket shares the
//! ZeroMQ message it arrived in, and small ones share a buffer with the
//! frames received around them ([`Frame::received`]). A message of one or
//! two frames (the usual body, or a ROUTER's identity and body) keeps them
//! inline, without a list.

use std::fmt;
use std::ops::{Deref, DerefMut};

use actix::Message;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Received frames up to this size are copied out of their ZeroMQ message;
/// larger ones share it. libzmq (4.3, by default) decodes the messages of
/// one 8 KiB read as views of that read's buffer: sharing such a message
/// would keep the whole buffer alive as long as the frame is kept. A larger
/// message has a buffer of its own. (Sharing from 256 bytes up measured no
/// gain over copying at 1 KiB or 64 KiB: docs/performance.md, "2026-12-07".)
const COPIED_WHEN_RECEIVED: usize = 8192;

/// Received frames up to this size are copied into a buffer shared with the
/// frames received before and after them on the same thread ([`Slab`]);
/// larger ones (up to [`COPIED_WHEN_RECEIVED`]) into one of their own.
const SLAB_FRAME: usize = 512;
/// The size of one such shared buffer.
const SLAB: usize = 4 * 1024;

/// Where a socket thread copies the small frames it receives: one buffer for
/// many frames, each frame a view of its part. A small frame copied into
/// an allocation of its own is allocated by the socket's thread and freed
/// by the consumer's, which for 64 B messages cost more than everything
/// else on both threads (glibc's arena lock and bins, every message:
/// docs/performance.md, "small received frames"); a shared buffer is one
/// allocation per [`SLAB`] bytes, and a frame costs a reference count.
struct Slab(bytes::BytesMut);

impl Slab {
    /// `data` copied into the current buffer (a new one when it is full).
    fn copy(&mut self, data: &[u8]) -> Bytes {
        if self.0.capacity() - self.0.len() < data.len() {
            self.0 = bytes::BytesMut::with_capacity(SLAB);
        }
        self.0.extend_from_slice(data);
        self.0.split().freeze()
    }
}

thread_local! {
    static SLAB_OF_THIS_THREAD: std::cell::RefCell<Slab> =
        std::cell::RefCell::new(Slab(bytes::BytesMut::new()));
}

/// Owns a received ZeroMQ message for [`Bytes::from_owner`].
struct ReceivedBuffer(zmq::Message);

impl AsRef<[u8]> for ReceivedBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// One frame of a ZeroMQ message: immutable bytes, shared when cloned.
///
/// A frame decoded from a hop keeps the buffer it came in alive (a batch of
/// messages, at most the hop's batch bound); [`Frame::into_vec`] or
/// [`Frame::detached`] copy it out for keeping.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Frame(Bytes);

impl Frame {
    /// A frame holding `bytes` (no copy).
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Frame(bytes.into())
    }

    /// A frame of a message received from a socket. A large one (over
    /// 8 KiB) takes the ZeroMQ message it arrived in, leaving an empty one in
    /// its place, and is shared bytes over it (no copy; its buffer is freed
    /// where the last clone is dropped); a smaller one is copied, and the
    /// message stays to be received into again. A small one (up to 512
    /// bytes) is copied into a 4 KiB buffer that the frames received
    /// around it on this thread share, freed when the last of them is
    /// dropped: keep such a frame for long with [`Frame::detached`].
    pub fn received(message: &mut zmq::Message) -> Self {
        if message.len() <= SLAB_FRAME {
            Frame(SLAB_OF_THIS_THREAD.with(|slab| slab.borrow_mut().copy(message)))
        } else if message.len() <= COPIED_WHEN_RECEIVED {
            Frame(Bytes::copy_from_slice(message))
        } else {
            let taken = std::mem::replace(message, zmq::Message::new());
            Frame(Bytes::from_owner(ReceivedBuffer(taken)))
        }
    }

    /// A frame of constant bytes: no allocation, and its clones share no
    /// reference count (a payload sent over and over, a fixed topic).
    pub fn from_static(bytes: &'static [u8]) -> Self {
        Frame(Bytes::from_static(bytes))
    }

    /// The frame's bytes as shared [`Bytes`].
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// The frame's bytes, moved out.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The frame as a vector: without a copy when nothing else shares it and
    /// it was made from one, copied otherwise.
    pub fn into_vec(self) -> Vec<u8> {
        Vec::from(self.0)
    }

    /// A frame with its own copy of the bytes (it keeps no received buffer
    /// alive).
    pub fn detached(&self) -> Self {
        Frame(Bytes::copy_from_slice(&self.0))
    }
}

impl Deref for Frame {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Frame {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<Vec<u8>> for Frame {
    fn from(v: Vec<u8>) -> Self {
        Frame(Bytes::from(v))
    }
}

impl From<Bytes> for Frame {
    fn from(b: Bytes) -> Self {
        Frame(b)
    }
}

impl From<&[u8]> for Frame {
    fn from(b: &[u8]) -> Self {
        Frame(Bytes::copy_from_slice(b))
    }
}

impl<const N: usize> From<&[u8; N]> for Frame {
    fn from(b: &[u8; N]) -> Self {
        Frame(Bytes::copy_from_slice(b))
    }
}

impl From<&str> for Frame {
    fn from(s: &str) -> Self {
        Frame(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Frame {
    fn from(s: String) -> Self {
        Frame(Bytes::from(s.into_bytes()))
    }
}

impl From<Frame> for Vec<u8> {
    fn from(f: Frame) -> Self {
        f.into_vec()
    }
}

impl PartialEq<[u8]> for Frame {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

impl PartialEq<&[u8]> for Frame {
    fn eq(&self, other: &&[u8]) -> bool {
        self.0 == *other
    }
}

impl PartialEq<Vec<u8>> for Frame {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.0 == other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Frame {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.0 == other[..]
    }
}

/// One ZeroMQ message: its frames in order (a single-frame message has one).
/// For ROUTER and DEALER the routing envelope is part of the frames, as on
/// the wire, so a reply carries the request's envelope back.
///
/// It dereferences to its frames (`msg.len()`, `msg[0]`, `msg.iter()`);
/// build one with [`Frames::one`], [`Frames::text`], `Frames::from(vec![..])`
/// or by collecting frames.
///
/// Serialized as a sequence of byte strings, which every serde format
/// writes exactly as a sequence of sequences of `u8` (JSON: arrays of
/// numbers; postcard: lengths and raw bytes), but in one piece per frame
/// rather than one byte at a time.
#[derive(Clone, PartialEq, Eq, Default, Message)]
#[rtype(result = "()")]
pub struct Frames(Parts);

/// The frames: one or two inline, more in a list.
#[derive(Clone, Default)]
enum Parts {
    #[default]
    None,
    One(Frame),
    Two([Frame; 2]),
    Many(Vec<Frame>),
}

impl PartialEq for Parts {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Parts {}

impl Parts {
    fn as_slice(&self) -> &[Frame] {
        match self {
            Parts::None => &[],
            Parts::One(f) => std::slice::from_ref(f),
            Parts::Two(fs) => fs,
            Parts::Many(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [Frame] {
        match self {
            Parts::None => &mut [],
            Parts::One(f) => std::slice::from_mut(f),
            Parts::Two(fs) => fs,
            Parts::Many(v) => v,
        }
    }

    fn push(&mut self, frame: Frame) {
        *self = match std::mem::take(self) {
            Parts::None => Parts::One(frame),
            Parts::One(a) => Parts::Two([a, frame]),
            Parts::Two([a, b]) => Parts::Many(vec![a, b, frame]),
            Parts::Many(mut v) => {
                v.push(frame);
                Parts::Many(v)
            }
        }
    }
}

impl Frames {
    /// A message without frames.
    pub fn new() -> Self {
        Frames::default()
    }

    /// A single-frame message.
    pub fn one(bytes: impl Into<Frame>) -> Self {
        Frames(Parts::One(bytes.into()))
    }

    /// A single-frame text message.
    pub fn text(s: &str) -> Self {
        Frames::one(s)
    }

    /// Appends a frame.
    pub fn push(&mut self, frame: impl Into<Frame>) {
        self.0.push(frame.into());
    }

    /// Removes and returns the last frame (the body, leaving the envelope).
    pub fn pop(&mut self) -> Option<Frame> {
        let (rest, last) = match std::mem::take(&mut self.0) {
            Parts::None => (Parts::None, None),
            Parts::One(f) => (Parts::None, Some(f)),
            Parts::Two([a, b]) => (Parts::One(a), Some(b)),
            Parts::Many(mut v) => {
                let last = v.pop();
                (Parts::Many(v), last)
            }
        };
        self.0 = rest;
        last
    }

    /// The last frame (the body, after any envelope).
    pub fn body(&self) -> &[u8] {
        self.last().map(|f| &f[..]).unwrap_or(&[])
    }

    /// The frames, in order.
    pub fn frames(&self) -> &[Frame] {
        self.0.as_slice()
    }

    /// The frames as a list (moved, not copied).
    pub fn into_frames(self) -> Vec<Frame> {
        match self.0 {
            Parts::None => Vec::new(),
            Parts::One(f) => vec![f],
            Parts::Two([a, b]) => vec![a, b],
            Parts::Many(v) => v,
        }
    }

    /// The message with its own copy of every frame: for keeping a message
    /// that came over a hop without keeping its batch's buffer alive.
    pub fn detached(&self) -> Self {
        self.iter().map(Frame::detached).collect()
    }

    /// Each frame as a vector (see [`Frame::into_vec`]).
    pub fn into_vecs(self) -> Vec<Vec<u8>> {
        self.into_frames()
            .into_iter()
            .map(Frame::into_vec)
            .collect()
    }
}

impl Deref for Frames {
    type Target = [Frame];
    fn deref(&self) -> &[Frame] {
        self.0.as_slice()
    }
}

impl DerefMut for Frames {
    fn deref_mut(&mut self) -> &mut [Frame] {
        self.0.as_mut_slice()
    }
}

impl fmt::Debug for Frames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Frames").field(&self.frames()).finish()
    }
}

impl<F: Into<Frame>> FromIterator<F> for Frames {
    /// Builds the message in place: each frame is moved once (a socket
    /// thread collects millions).
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        let mut it = iter.into_iter();
        let Some(a) = it.next() else {
            return Frames::new();
        };
        let Some(b) = it.next() else {
            return Frames(Parts::One(a.into()));
        };
        let Some(c) = it.next() else {
            return Frames(Parts::Two([a.into(), b.into()]));
        };
        let mut v = Vec::with_capacity(3 + it.size_hint().0);
        v.extend([a.into(), b.into(), c.into()]);
        v.extend(it.map(Into::into));
        Frames(Parts::Many(v))
    }
}

impl<F: Into<Frame>> Extend<F> for Frames {
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for f in iter {
            self.push(f);
        }
    }
}

impl<F: Into<Frame>> From<Vec<F>> for Frames {
    fn from(v: Vec<F>) -> Self {
        v.into_iter().collect()
    }
}

impl IntoIterator for Frames {
    type Item = Frame;
    type IntoIter = IntoFrames;
    fn into_iter(self) -> IntoFrames {
        IntoFrames(match self.0 {
            Parts::None => Inline::Few(None.into_iter().chain(None)),
            Parts::One(f) => Inline::Few(Some(f).into_iter().chain(None)),
            Parts::Two([a, b]) => Inline::Few(Some(a).into_iter().chain(Some(b))),
            Parts::Many(v) => Inline::Many(v.into_iter()),
        })
    }
}

/// The frames of a [`Frames`], moved out in order. A message of one or two
/// frames is taken apart without a list (a socket thread sends millions).
#[derive(Debug)]
pub struct IntoFrames(Inline);

#[derive(Debug)]
enum Inline {
    Few(std::iter::Chain<std::option::IntoIter<Frame>, std::option::IntoIter<Frame>>),
    Many(std::vec::IntoIter<Frame>),
}

impl Iterator for IntoFrames {
    type Item = Frame;
    fn next(&mut self) -> Option<Frame> {
        match &mut self.0 {
            Inline::Few(it) => it.next(),
            Inline::Many(it) => it.next(),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            Inline::Few(it) => it.size_hint(),
            Inline::Many(it) => it.size_hint(),
        }
    }
}

impl ExactSizeIterator for IntoFrames {}

impl<'a> IntoIterator for &'a Frames {
    type Item = &'a Frame;
    type IntoIter = std::slice::Iter<'a, Frame>;
    fn into_iter(self) -> Self::IntoIter {
        self.frames().iter()
    }
}

impl Serialize for Frame {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Frame {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_bytes(de::FrameVisitor)
    }
}

impl Serialize for Frames {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.frames())
    }
}

impl<'de> Deserialize<'de> for Frames {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(de::ListVisitor)
    }
}

/// Reading frames from any serde format: a byte string borrowed from a
/// shared source is shared ([`rolecall_codecs::shared::share`]), other byte
/// strings are taken or copied, and a sequence of numbers (JSON) is read
/// byte by byte.
mod de {
    use std::fmt;

    use bytes::Bytes;
    use serde::de::{self, SeqAccess, Visitor};

    use super::{Frame, Frames};

    pub(super) struct FrameVisitor;

    impl<'de> Visitor<'de> for FrameVisitor {
        type Value = Frame;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a frame (bytes)")
        }
        fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Frame, E> {
            Ok(Frame(rolecall_codecs::shared::share(v)))
        }
        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Frame, E> {
            Ok(Frame(Bytes::copy_from_slice(v)))
        }
        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Frame, E> {
            Ok(Frame(Bytes::from(v)))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Frame, A::Error> {
            // At most 4 KiB reserved ahead of what actually arrives.
            let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(b) = seq.next_element::<u8>()? {
                v.push(b);
            }
            Ok(Frame::from(v))
        }
    }

    pub(super) struct ListVisitor;

    impl<'de> Visitor<'de> for ListVisitor {
        type Value = Frames;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sequence of frames")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Frames, A::Error> {
            let mut frames = Frames::new();
            while let Some(f) = seq.next_element::<Frame>()? {
                frames.push(f);
            }
            Ok(frames)
        }
    }
}

#[cfg(test)]
#[path = "frames_tests.rs"]
mod tests;
