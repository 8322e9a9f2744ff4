//! Protocol Buffers: the course's schemas (`codecs/schemas/*.proto`) as prost
//! types, and [`Protobuf`], a [`Codec`] for any prost message.
//!
//! The code under `generated/` is written by `scripts/regen-protobuf.sh`
//! (prost-build with Debian's `protoc`); CI checks it is current with
//! `scripts/regen-protobuf.sh --check`. The schemas have no `package`, as the
//! course's, so other languages' generated code (Python `protoc
//! --python_out`) talks to these types on the wire unchanged.

use std::marker::PhantomData;

use crate::codec::Codec;
use crate::error::{DecodeError, EncodeError};

/// The discovery protocol of the course's publish/subscribe assignments
/// (`codecs/schemas/discovery.proto`): `DiscoveryReq` / `DiscoveryResp` and
/// their parts.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod discovery {
    include!("generated/discovery.rs");
}

/// A codec for a prost message type: proto3 binary encoding.
pub struct Protobuf<T>(PhantomData<fn() -> T>);

impl<T> Protobuf<T> {
    /// The codec.
    pub const fn new() -> Self {
        Protobuf(PhantomData)
    }
}

impl<T> Default for Protobuf<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for Protobuf<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Protobuf")
    }
}

impl<T: prost::Message + Default + 'static> Codec<T> for Protobuf<T> {
    fn name(&self) -> &'static str {
        "protobuf"
    }

    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        value.encode(out).map_err(EncodeError::Protobuf)
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, DecodeError> {
        T::decode(bytes).map_err(DecodeError::Protobuf)
    }
}

#[cfg(test)]
mod tests {
    use super::discovery::*;
    use super::*;

    fn register(id: &str) -> DiscoveryReq {
        DiscoveryReq {
            msg_type: MsgTypes::TypeRegister as i32,
            content: Some(discovery_req::Content::RegisterReq(RegisterReq {
                role: Role::Publisher as i32,
                info: Some(RegistrantInfo {
                    id: id.into(),
                    addr: Some("10.0.0.2".into()),
                    port: Some(5577),
                }),
                topiclist: vec!["weather".into(), "light".into()],
            })),
        }
    }

    #[test]
    fn round_trip() {
        let codec = Protobuf::<DiscoveryReq>::new();
        let mut bytes = Vec::new();
        codec.encode(&register("pub1"), &mut bytes).unwrap();
        assert_eq!(codec.decode(&bytes).unwrap(), register("pub1"));
    }

    #[test]
    fn known_bytes() {
        // protoc --encode=DiscoveryReq: field 1 varint 2, field 3 empty message.
        let isready = DiscoveryReq {
            msg_type: MsgTypes::TypeIsready as i32,
            content: Some(discovery_req::Content::IsreadyReq(IsReadyReq {})),
        };
        let mut bytes = Vec::new();
        Protobuf::new().encode(&isready, &mut bytes).unwrap();
        assert_eq!(bytes, [0x08, 0x02, 0x1a, 0x00]);
    }

    #[test]
    fn malformed_is_an_error() {
        let codec = Protobuf::<DiscoveryReq>::new();
        assert!(codec.decode(&[0x0a, 0xff]).is_err());
        assert!(codec.decode(&[0xff, 0xff, 0xff]).is_err());
    }
}
