//! Codecs turn rolecall's typed messages into bytes and back, for wires that cross
//! a process or host boundary.
//!
//! Three formats ship here: [`fb`] (FlatBuffers: the course's schemas,
//! wire-compatible with other languages' generated code), [`Json`] (serde
//! JSON, readable) and [`Binary`] (postcard, a compact serde format). Every codec implements
//! [`Codec<T>`]; decoding untrusted bytes returns a [`DecodeError`], never panics.
//! The [`CodecRegistry`] finds a codec by message type and format name, which is how a
//! topology's `codec = "..."` on a wire is resolved; [`serde_codec`] gives the
//! serde formats ([`SERDE_FORMATS`]) for any serde type without registering.
//!
//! [`pb`] has the course's protobuf schemas (the publish/subscribe discovery
//! protocol) as prost types and [`Protobuf`], their codec.
//!
//! [`Topic`] is the course's `MyPubSub.Topic` message; [`TopicFlatBuffers`]
//! encodes it exactly as other languages' code generated from
//! `codecs/schemas/topic.fbs` does (absent fields decode as their defaults).
//! [`TopicView`] is that message read in place, from the same bytes, with
//! its codec [`TopicViewFlatBuffers`]: a verified buffer and no copy.
//! `rolecall bench actor` measures that codec against the raw flatbuffers API.

// Library code reports through a role's console (`Io::console`), never to
// stdout or stderr itself: an embedding program decides where lines go.
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod binary;
mod codec;
mod error;
pub mod fb;
mod json;
pub mod pb;
mod registry;
pub mod shared;
mod topic;

pub use binary::Binary;
pub use codec::Codec;
pub use error::{DecodeError, EncodeError};
pub use fb::{TopicFlatBuffers, TopicView, TopicViewFlatBuffers};
pub use json::Json;
pub use pb::Protobuf;
pub use registry::{serde_codec, CodecRegistry, SERDE_FORMATS};
pub use topic::Topic;
