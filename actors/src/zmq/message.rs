//! The messages ZeroMQ endpoint actors exchange with the rest of a topology.

use actix::Message;
use serde::{Deserialize, Serialize};

/// One ZeroMQ message: its frames in order (a single-frame message has one).
/// For ROUTER and DEALER the routing envelope is part of the frames, as on
/// the wire, so a reply carries the request's envelope back.
///
/// Serialized as a sequence of byte strings, which every serde format
/// writes exactly as a sequence of sequences of `u8` (JSON: arrays of
/// numbers; postcard: lengths and raw bytes), but in one piece per frame
/// rather than one byte at a time.
#[derive(Debug, Clone, PartialEq, Eq, Default, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct Frames(#[serde(with = "frame_list")] pub Vec<Vec<u8>>);

/// Serde for `Vec<Vec<u8>>` through `serialize_bytes` / `deserialize_bytes`.
mod frame_list {
    use std::fmt;

    use serde::de::{self, SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    struct Bytes<'a>(&'a [u8]);

    impl Serialize for Bytes<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }

    pub(super) fn serialize<S: Serializer>(frames: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(frames.iter().map(|f| Bytes(f)))
    }

    struct Frame(Vec<u8>);

    impl<'de> Deserialize<'de> for Frame {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_byte_buf(FrameVisitor).map(Frame)
        }
    }

    struct FrameVisitor;

    impl<'de> Visitor<'de> for FrameVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the bytes of a frame")
        }
        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            // At most 4 KiB reserved ahead of what actually arrives.
            let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(b) = seq.next_element::<u8>()? {
                v.push(b);
            }
            Ok(v)
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = Vec<Vec<u8>>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of frames")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(Frame(f)) = seq.next_element()? {
                    v.push(f);
                }
                Ok(v)
            }
        }

        d.deserialize_seq(ListVisitor)
    }
}

impl Frames {
    /// A single-frame message.
    pub fn one(bytes: impl Into<Vec<u8>>) -> Self {
        Frames(vec![bytes.into()])
    }

    /// A single-frame text message.
    pub fn text(s: &str) -> Self {
        Frames::one(s.as_bytes().to_vec())
    }

    /// The last frame (the body, after any envelope).
    pub fn body(&self) -> &[u8] {
        self.0.last().map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Changes a SUB (or XSUB) socket's topic filters at run time.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub enum Subscription {
    /// Receive messages whose first frame starts with this prefix.
    Subscribe(Vec<u8>),
    /// Stop receiving them.
    Unsubscribe(Vec<u8>),
}

/// What libzmq's socket monitor reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A connection was made.
    Connected,
    /// A connect is pending.
    ConnectDelayed,
    /// A reconnect was attempted.
    ConnectRetried,
    /// The socket is bound and listening.
    Listening,
    /// A bind failed.
    BindFailed,
    /// A connection was accepted.
    Accepted,
    /// Accepting failed.
    AcceptFailed,
    /// A connection was closed.
    Closed,
    /// Closing failed.
    CloseFailed,
    /// A peer disconnected.
    Disconnected,
    /// The monitor stopped.
    MonitorStopped,
    /// The security handshake failed (no detail).
    HandshakeFailedNoDetail,
    /// The security handshake succeeded.
    HandshakeSucceeded,
    /// The handshake failed on a protocol error.
    HandshakeFailedProtocol,
    /// The handshake failed on authentication (for example an unknown CURVE key).
    HandshakeFailedAuth,
    /// An event this version does not know.
    Other(u16),
}

impl EventKind {
    /// Decodes libzmq's event number.
    pub fn from_raw(raw: u16) -> Self {
        match raw {
            0x0001 => EventKind::Connected,
            0x0002 => EventKind::ConnectDelayed,
            0x0004 => EventKind::ConnectRetried,
            0x0008 => EventKind::Listening,
            0x0010 => EventKind::BindFailed,
            0x0020 => EventKind::Accepted,
            0x0040 => EventKind::AcceptFailed,
            0x0080 => EventKind::Closed,
            0x0100 => EventKind::CloseFailed,
            0x0200 => EventKind::Disconnected,
            0x0400 => EventKind::MonitorStopped,
            0x0800 => EventKind::HandshakeFailedNoDetail,
            0x1000 => EventKind::HandshakeSucceeded,
            0x2000 => EventKind::HandshakeFailedProtocol,
            0x4000 => EventKind::HandshakeFailedAuth,
            other => EventKind::Other(other),
        }
    }
}

/// One socket-monitor event, sent on an endpoint's or a proxy's `monitor` port.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct SocketEvent {
    /// The endpoint actor's name.
    pub actor: String,
    /// Which of the actor's sockets: `socket` for an endpoint, `frontend` or
    /// `backend` for `zmq.proxy`.
    #[serde(default)]
    pub socket: String,
    /// What happened.
    pub kind: EventKind,
    /// The endpoint it happened on.
    pub endpoint: String,
    /// libzmq's value (a file descriptor, an errno, a reconnect interval).
    pub value: u32,
}

#[cfg(test)]
mod tests {
    use rolecall_codecs::{Binary, Codec, Json};

    use super::Frames;

    /// What the derived serde wrote before: a sequence of sequences of u8.
    #[derive(serde::Serialize)]
    struct Plain<'a>(&'a Vec<Vec<u8>>);

    fn samples() -> Vec<Frames> {
        vec![
            Frames::default(),
            Frames::one(Vec::new()),
            Frames::text("hello"),
            Frames(vec![b"id".to_vec(), Vec::new(), (0..=255).collect()]),
            Frames::one(vec![7; 300]),
        ]
    }

    #[test]
    fn frames_encode_as_before_in_every_serde_codec_and_read_back() {
        for f in samples() {
            for codec in [&Binary as &dyn Codec<Frames>, &Json] {
                let mut ours = Vec::new();
                codec.encode(&f, &mut ours).expect("encode");
                let mut plain = Vec::new();
                match codec.name() {
                    "binary" => plain = postcard::to_stdvec(&Plain(&f.0)).expect("postcard"),
                    _ => serde_json::to_writer(&mut plain, &Plain(&f.0)).expect("json"),
                }
                assert_eq!(ours, plain, "{} of {f:?}", codec.name());
                assert_eq!(codec.decode(&ours).expect("decode"), f);
            }
        }
    }

    #[test]
    fn bad_frames_are_decode_errors() {
        let json: &dyn Codec<Frames> = &Json;
        for bad in [&b"[[256]]"[..], b"[1]", b"[[1,2]", b"{}"] {
            assert!(
                json.decode(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let binary: &dyn Codec<Frames> = &Binary;
        // One frame said to be 5 bytes long, 2 there.
        assert!(binary.decode(&[1, 5, 1, 2]).is_err());
    }
}
