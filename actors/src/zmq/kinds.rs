//! The eleven ZeroMQ socket types as kinds: which directions each one has.

/// A ZeroMQ socket type usable as an endpoint kind.
pub trait SocketKind: Unpin + 'static {
    /// The kind's registered name, e.g. `zmq.pub`.
    const NAME: &'static str;
    /// libzmq's socket type.
    const TYPE: zmq::SocketType;
    /// Whether the socket sends (has an `in` port).
    const SENDS: bool;
    /// Whether the socket receives (has an `out` port).
    const RECEIVES: bool;
    /// Whether it takes subscription filters (has a `subscriptions` port).
    const FILTERS: bool = false;
}

macro_rules! socket_kind {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $ty:ident, sends: $s:literal, receives: $r:literal $(, filters: $f:literal)?) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl SocketKind for $name {
            const NAME: &'static str = $kind;
            const TYPE: zmq::SocketType = zmq::$ty;
            const SENDS: bool = $s;
            const RECEIVES: bool = $r;
            $(const FILTERS: bool = $f;)?
        }
    };
}

socket_kind!(/// REQ: sends a request, then receives its reply.
    Req, "zmq.req", REQ, sends: true, receives: true);
socket_kind!(/// REP: receives a request, then sends its reply.
    Rep, "zmq.rep", REP, sends: true, receives: true);
socket_kind!(/// DEALER: asynchronous REQ, round-robin to peers.
    Dealer, "zmq.dealer", DEALER, sends: true, receives: true);
socket_kind!(/// ROUTER: asynchronous REP, addressing peers by identity frame.
    Router, "zmq.router", ROUTER, sends: true, receives: true);
socket_kind!(/// PUB: publishes to every matching subscriber.
    Pub, "zmq.pub", PUB, sends: true, receives: false);
socket_kind!(/// SUB: receives what matches its subscriptions.
    Sub, "zmq.sub", SUB, sends: false, receives: true, filters: true);
socket_kind!(/// XPUB: PUB that also receives subscription messages.
    XPub, "zmq.xpub", XPUB, sends: true, receives: true);
socket_kind!(/// XSUB: SUB that sends subscriptions as messages.
    XSub, "zmq.xsub", XSUB, sends: true, receives: true, filters: true);
socket_kind!(/// PUSH: sends round-robin to pullers.
    Push, "zmq.push", PUSH, sends: true, receives: false);
socket_kind!(/// PULL: fair-queues from pushers.
    Pull, "zmq.pull", PULL, sends: false, receives: true);
socket_kind!(/// PAIR: exclusive two-way connection.
    Pair, "zmq.pair", PAIR, sends: true, receives: true);
