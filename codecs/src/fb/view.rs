//! [`TopicView`]: a verified `MyPubSub.Topic` buffer read in place.
//!
//! [`TopicFlatBuffers`] decodes into an owned [`Topic`]: two allocations and
//! a copy of `name` and `data` per message. A [`TopicView`] keeps the
//! buffer itself (shared [`Bytes`]) and reads the fields from it on demand.
//! The buffer is verified once, when the view is made; the places of `name`
//! and `data` found then are kept, so the accessors are bounds-checked
//! slicing of bytes that cannot change (no `unsafe`, no allocation).
//!
//! Decoded with [`TopicViewFlatBuffers`] inside
//! [`decode_in`](crate::shared::decode_in), as a cross-node hop decodes a
//! received batch, a view shares the received buffer: no copy at all.
//! The bytes are those of [`TopicFlatBuffers`], in both directions.

use std::fmt;

use bytes::Bytes;
use flatbuffers::InvalidFlatbuffer;

use super::{schema, TopicFlatBuffers};
use crate::codec::Codec;
use crate::error::{DecodeError, EncodeError};
use crate::shared::share;
use crate::topic::Topic;

/// Where a byte string lies in the buffer: offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Span {
    at: u32,
    len: u32,
}

impl Span {
    /// The span of `part`, which lies inside `buf`.
    fn of(buf: &[u8], part: &[u8]) -> Result<Span, DecodeError> {
        let at = (part.as_ptr() as usize).checked_sub(buf.as_ptr() as usize);
        let too_large = || DecodeError::FlatBuffers(InvalidFlatbuffer::ApparentSizeTooLarge);
        // The verifier's default limits keep a Topic far below 4 GiB; a
        // larger offset is refused rather than truncated.
        Ok(Span {
            at: at
                .and_then(|at| u32::try_from(at).ok())
                .ok_or_else(too_large)?,
            len: u32::try_from(part.len()).map_err(|_| too_large())?,
        })
    }

    /// The bytes of the span in `buf` (empty if out of range, which a
    /// verified buffer never is).
    fn in_buf(self, buf: &[u8]) -> &[u8] {
        let start = self.at as usize;
        buf.get(start..start.saturating_add(self.len as usize))
            .unwrap_or_default()
    }
}

/// A `MyPubSub.Topic` FlatBuffers buffer, verified when made, whose fields
/// are read in place.
///
/// Absent fields read as their schema defaults (`0`, `0.0`, an empty name,
/// empty data), as [`TopicFlatBuffers`] decodes them. Cloning shares the
/// buffer (a reference count). Two views are equal when their fields are
/// (as two [`Topic`]s are), whatever their bytes.
///
/// A view decoded on a hop keeps the whole received batch alive (at most
/// the hop's batch bound); [`TopicView::detached`] copies it out for keeping.
///
/// ```
/// use rolecall_codecs::{Topic, TopicView};
///
/// let topic = Topic { seq_no: 7, ts: 1.5, name: "weather".into(), data: vec![1, 2, 3] };
/// let view = TopicView::from_topic(&topic);
/// assert_eq!((view.seq_no(), view.name()), (7, "weather"));
/// assert_eq!(view.data().iter().sum::<u32>(), 6);
/// let again = TopicView::from_slice(view.as_bytes()).expect("a verified buffer");
/// assert_eq!(again.to_topic(), topic);
/// ```
#[derive(Clone)]
pub struct TopicView {
    /// The whole buffer, verified.
    bytes: Bytes,
    seq_no: u32,
    ts: f64,
    /// The name's UTF-8 bytes (without the length prefix or terminator).
    name: Span,
    /// The data vector's little-endian elements.
    data: Span,
}

impl TopicView {
    /// Verifies `bytes` and keeps them (no copy).
    pub fn new(bytes: Bytes) -> Result<Self, DecodeError> {
        let (seq_no, ts, name, data) = locate(&bytes)?;
        Ok(TopicView {
            bytes,
            seq_no,
            ts,
            name,
            data,
        })
    }

    /// Verifies `slice` and keeps it as [`share`] gives it: a view of the
    /// source inside [`decode_in`](crate::shared::decode_in), a copy
    /// otherwise. Nothing is copied when verification fails.
    pub fn from_slice(slice: &[u8]) -> Result<Self, DecodeError> {
        let (seq_no, ts, name, data) = locate(slice)?;
        // Offsets are relative to the slice's start, so they hold for the
        // shared bytes (the same bytes, a view or a copy).
        Ok(TopicView {
            bytes: share(slice),
            seq_no,
            ts,
            name,
            data,
        })
    }

    /// Encodes `topic` (the bytes [`TopicFlatBuffers`] writes).
    pub fn from_topic(topic: &Topic) -> Self {
        let mut out = Vec::with_capacity(64 + topic.name.len() + 4 * topic.data.len());
        // The encoder never fails (`EncodeError` is for other formats).
        let _ = TopicFlatBuffers.encode(topic, &mut out);
        match Self::new(Bytes::from(out)) {
            Ok(view) => view,
            // The builder panics before a buffer reaches 2 GiB and writes one
            // table, so the verifier's default limits (2 GiB, a million
            // tables, depth 64) accept whatever it finishes.
            Err(e) => unreachable!("flatbuffers rejected its own Topic buffer: {e}"),
        }
    }

    /// The sequence number.
    pub fn seq_no(&self) -> u32 {
        self.seq_no
    }

    /// The send time, seconds since the Unix epoch.
    pub fn ts(&self) -> f64 {
        self.ts
    }

    /// The topic name, read in place (its UTF-8 is checked again, without
    /// allocating; the verifier checked it first).
    pub fn name(&self) -> &str {
        std::str::from_utf8(self.name.in_buf(&self.bytes)).unwrap_or_default()
    }

    /// The data vector, read in place.
    pub fn data(&self) -> DataView<'_> {
        DataView {
            le: self.data.in_buf(&self.bytes),
        }
    }

    /// Copies the fields into an owned [`Topic`].
    pub fn to_topic(&self) -> Topic {
        Topic {
            seq_no: self.seq_no,
            ts: self.ts,
            name: self.name().to_owned(),
            data: self.data().to_vec(),
        }
    }

    /// The whole FlatBuffers buffer.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// A view with its own copy of the buffer (it keeps no received batch
    /// alive).
    pub fn detached(&self) -> Self {
        TopicView {
            bytes: Bytes::copy_from_slice(&self.bytes),
            ..*self
        }
    }

    /// The whole FlatBuffers buffer, taken out of the view.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }
}

/// Verifies `buf` as a `MyPubSub.Topic` and finds its fields.
fn locate(buf: &[u8]) -> Result<(u32, f64, Span, Span), DecodeError> {
    let root = schema::root_as_topic(buf).map_err(DecodeError::FlatBuffers)?;
    let name = match root.name() {
        Some(name) => Span::of(buf, name.as_bytes())?,
        None => Span::default(),
    };
    let data = match root.data() {
        Some(data) => Span::of(buf, data.bytes())?,
        None => Span::default(),
    };
    Ok((root.seq_no(), root.ts(), name, data))
}

impl From<&Topic> for TopicView {
    fn from(topic: &Topic) -> Self {
        TopicView::from_topic(topic)
    }
}

impl TryFrom<Bytes> for TopicView {
    type Error = DecodeError;
    fn try_from(bytes: Bytes) -> Result<Self, DecodeError> {
        TopicView::new(bytes)
    }
}

impl fmt::Debug for TopicView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopicView")
            .field("seq_no", &self.seq_no)
            .field("ts", &self.ts)
            .field("name", &self.name())
            .field("data", &self.data())
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl PartialEq for TopicView {
    fn eq(&self, other: &Self) -> bool {
        self.seq_no == other.seq_no
            && self.ts == other.ts
            && self.name() == other.name()
            && self.data().le == other.data().le
    }
}

impl PartialEq<Topic> for TopicView {
    fn eq(&self, other: &Topic) -> bool {
        self.seq_no == other.seq_no
            && self.ts == other.ts
            && self.name() == other.name
            && self.data().iter().eq(other.data.iter().copied())
    }
}

impl actix::Message for TopicView {
    type Result = ();
}

/// A Topic's `data` read in place: little-endian `u32`s in the buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DataView<'a> {
    /// A whole number of 4-byte elements (the verifier checked the length).
    le: &'a [u8],
}

impl<'a> DataView<'a> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.le.len() / 4
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.le.len() < 4
    }

    /// Element `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<u32> {
        let start = i.checked_mul(4)?;
        let b = self.le.get(start..start.checked_add(4)?)?;
        <[u8; 4]>::try_from(b).ok().map(u32::from_le_bytes)
    }

    /// The elements in order.
    pub fn iter(&self) -> DataIter<'a> {
        DataIter {
            chunks: self.le.chunks_exact(4),
        }
    }

    /// The elements' raw bytes, little-endian (FlatBuffers' byte order).
    pub fn as_le_bytes(&self) -> &'a [u8] {
        self.le
    }

    /// The elements copied into a `Vec`.
    pub fn to_vec(&self) -> Vec<u32> {
        self.iter().collect()
    }
}

impl fmt::Debug for DataView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for DataView<'a> {
    type Item = u32;
    type IntoIter = DataIter<'a>;
    fn into_iter(self) -> DataIter<'a> {
        self.iter()
    }
}

/// A 4-byte chunk of a verified vector as its `u32` (FlatBuffers is always
/// little-endian).
#[inline]
pub(super) fn le_u32(chunk: &[u8]) -> u32 {
    u32::from_le_bytes(<[u8; 4]>::try_from(chunk).unwrap_or_default())
}

/// An iterator over a [`DataView`]'s elements.
#[derive(Debug, Clone)]
pub struct DataIter<'a> {
    chunks: std::slice::ChunksExact<'a, u8>,
}

impl Iterator for DataIter<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        self.chunks.next().map(le_u32)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for DataIter<'_> {}

impl DoubleEndedIterator for DataIter<'_> {
    fn next_back(&mut self) -> Option<u32> {
        self.chunks.next_back().map(le_u32)
    }
}

/// The FlatBuffers codec of [`TopicView`] (format name `flatbuffers`): the
/// same bytes as [`TopicFlatBuffers`] for [`Topic`], so either end of a
/// wire may use either type.
///
/// Decoding verifies and keeps the bytes through [`share`] (a view of the
/// received buffer on a cross-node hop); encoding appends the buffer as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct TopicViewFlatBuffers;

impl Codec<TopicView> for TopicViewFlatBuffers {
    fn name(&self) -> &'static str {
        "flatbuffers"
    }

    fn encode(&self, value: &TopicView, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&value.bytes);
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<TopicView, DecodeError> {
        TopicView::from_slice(bytes)
    }
}
