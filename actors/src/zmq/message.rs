//! The messages ZeroMQ endpoint actors exchange with the rest of a topology.

use actix::Message;
use serde::{Deserialize, Serialize};

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
