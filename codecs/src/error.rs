//! Encoding and decoding errors.

/// A value could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// serde JSON refused the value (for example a map with non-string keys).
    #[error("json: cannot encode: {0}")]
    Json(#[source] serde_json::Error),
    /// postcard refused the value.
    #[error("binary: cannot encode: {0}")]
    Binary(#[source] postcard::Error),
    /// prost refused the value (the buffer cannot grow).
    #[error("protobuf: cannot encode: {0}")]
    Protobuf(#[source] prost::EncodeError),
}

/// Bytes could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not valid JSON for the type.
    #[error("json: cannot decode: {0}")]
    Json(#[source] serde_json::Error),
    /// Not a valid postcard encoding of the type.
    #[error("binary: cannot decode: {0}")]
    Binary(#[source] postcard::Error),
    /// Bytes left over after a complete binary value.
    #[error("binary: {extra} trailing bytes after the value")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The FlatBuffers verifier rejected the buffer.
    #[error("flatbuffers: invalid buffer: {0}")]
    FlatBuffers(#[source] flatbuffers::InvalidFlatbuffer),
    /// Not a valid protobuf encoding of the message.
    #[error("protobuf: cannot decode: {0}")]
    Protobuf(#[source] prost::DecodeError),
}
