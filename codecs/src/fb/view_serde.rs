//! serde for [`TopicView`], so that it is a wire message like [`Topic`].
//!
//! A human-readable format (JSON, and so trace summaries) sees the fields,
//! exactly as it sees a [`Topic`]: `{"seq_no":..,"ts":..,"name":..,"data":[..]}`.
//! A binary format (postcard: the `binary` codec) carries the FlatBuffers
//! buffer as one byte string, verified when read; a byte string the
//! deserializer borrowed from its input goes through
//! [`share`](crate::shared::share), so inside
//! [`decode_in`](crate::shared::decode_in) the view shares the received buffer.

use std::fmt;

use bytes::Bytes;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::view::{DataView, TopicView};
use crate::topic::Topic;

impl Serialize for TopicView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return s.serialize_bytes(self.as_bytes());
        }
        let mut t = s.serialize_struct("Topic", 4)?;
        t.serialize_field("seq_no", &self.seq_no())?;
        t.serialize_field("ts", &self.ts())?;
        t.serialize_field("name", self.name())?;
        t.serialize_field("data", &Elements(self.data()))?;
        t.end()
    }
}

/// Serializes a [`DataView`] as a sequence of numbers.
struct Elements<'a>(DataView<'a>);

impl Serialize for Elements<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

impl<'de> Deserialize<'de> for TopicView {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            Topic::deserialize(d).map(|t| TopicView::from_topic(&t))
        } else {
            d.deserialize_bytes(BufferVisitor)
        }
    }
}

/// Reads the FlatBuffers buffer from a byte string (or, from a format that
/// writes bytes as a sequence, from numbers) and verifies it.
struct BufferVisitor;

impl<'de> Visitor<'de> for BufferVisitor {
    type Value = TopicView;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a MyPubSub.Topic FlatBuffers buffer (bytes)")
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<TopicView, E> {
        TopicView::from_slice(v).map_err(E::custom)
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<TopicView, E> {
        TopicView::new(Bytes::copy_from_slice(v)).map_err(E::custom)
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<TopicView, E> {
        TopicView::new(Bytes::from(v)).map_err(E::custom)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopicView, A::Error> {
        // At most 4 KiB reserved ahead of what actually arrives.
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element::<u8>()? {
            v.push(b);
        }
        self.visit_byte_buf(v)
    }
}
