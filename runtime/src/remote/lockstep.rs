//! [`Lockstep`]: the strict send/receive alternation of REQ and REP sockets.

/// The send/receive alternation of REQ and REP sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lockstep {
    /// Any order (every other socket type).
    Free,
    /// The next operation must be a send.
    Send,
    /// The next operation must be a receive.
    Receive,
}

impl Lockstep {
    pub(super) fn of(kind: zmq::SocketType) -> Self {
        match kind {
            zmq::REQ => Lockstep::Send,
            zmq::REP => Lockstep::Receive,
            _ => Lockstep::Free,
        }
    }
    pub(super) fn may_send(self) -> bool {
        self != Lockstep::Receive
    }
    pub(super) fn may_receive(self) -> bool {
        self != Lockstep::Send
    }
    pub(super) fn after_send(self) -> Self {
        if self == Lockstep::Free {
            self
        } else {
            Lockstep::Receive
        }
    }
    pub(super) fn after_receive(self) -> Self {
        if self == Lockstep::Free {
            self
        } else {
            Lockstep::Send
        }
    }
}
