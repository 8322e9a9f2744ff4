//! Messages between ring nodes, in one frame each.

use serde::{Deserialize, Serialize};

use super::store::{Answer, Op};

/// A message between ring nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerMsg {
    /// An operation on its way to the node responsible for `key`.
    Route {
        /// Endpoint of the node that started it (the answer goes there).
        origin: String,
        /// The origin's operation id.
        id: u64,
        /// Endpoint of the node that sent this hop (the ack goes there).
        from: String,
        /// The key.
        key: u64,
        /// What to do there.
        op: Op,
        /// Hops so far.
        hops: u32,
    },
    /// A hop arrived.
    Ack {
        /// The operation's origin.
        origin: String,
        /// Its id.
        id: u64,
    },
    /// The answer, from the responsible node to the origin.
    Done {
        /// The origin's operation id.
        id: u64,
        /// The node that applied it (or gave up).
        node: String,
        /// Hops it took.
        hops: u32,
        /// The answer, or why the ring could not apply it.
        answer: Result<Answer, String>,
    },
}

/// Peer messages start with this prefix (a protobuf message cannot start
/// with a zero byte), so clients and peers can share the node's socket.
pub const PEER_PREFIX: &[u8] = b"\0chord\0";

impl PeerMsg {
    /// The message as one frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = PEER_PREFIX.to_vec();
        // Serializing these plain types cannot fail.
        out.extend(serde_json::to_vec(self).unwrap_or_default());
        out
    }

    /// A frame from a peer, or `None` when it is not one.
    pub fn decode(frame: &[u8]) -> Option<Result<PeerMsg, serde_json::Error>> {
        frame.strip_prefix(PEER_PREFIX).map(serde_json::from_slice)
    }
}
