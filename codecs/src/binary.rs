//! `binary`: postcard, a compact serde format (varints, no field names).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::Codec;
use crate::error::{DecodeError, EncodeError};

/// postcard for any serde type; decoding rejects trailing bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Binary;

impl<T: Serialize + DeserializeOwned> Codec<T> for Binary {
    fn name(&self) -> &'static str {
        "binary"
    }
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        postcard::to_io(value, out)
            .map(|_| ())
            .map_err(EncodeError::Binary)
    }
    fn decode(&self, bytes: &[u8]) -> Result<T, DecodeError> {
        let (value, rest) = postcard::take_from_bytes(bytes).map_err(DecodeError::Binary)?;
        if rest.is_empty() {
            Ok(value)
        } else {
            Err(DecodeError::TrailingBytes { extra: rest.len() })
        }
    }
}
