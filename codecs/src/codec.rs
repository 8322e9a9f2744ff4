//! The [`Codec`] trait.

use crate::error::{DecodeError, EncodeError};

/// Turns values of `T` into bytes and back.
///
/// Implementations are shared between threads (a cross-node hop encodes on
/// its own thread). `decode` takes untrusted bytes: it returns an error for
/// anything malformed and never panics or reads out of bounds.
pub trait Codec<T>: Send + Sync + 'static {
    /// The format's name as written in topology files: `json`, `binary`, `flatbuffers`.
    fn name(&self) -> &'static str;
    /// Appends the encoding of `value` to `out`.
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// Decodes one message from untrusted bytes.
    fn decode(&self, bytes: &[u8]) -> Result<T, DecodeError>;
}
