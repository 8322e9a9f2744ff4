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
    /// Whether the endpoint drives its socket from its node's own thread
    /// (unless monitored; see `zmq/driven.rs`): kinds whose messages go one
    /// way and never wait on the socket. Their `in` is an ordinary input
    /// (the endpoint's handler sends), not a port drained by a socket thread.
    const DRIVEN: bool = false;
    /// What the kind does, in `rolecall kinds`: the socket's pattern and ports.
    const ABOUT: &'static str;
}

macro_rules! socket_kind {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $ty:ident, sends: $s:literal, receives: $r:literal $(, filters: $f:literal)? $(, driven: $d:literal)?, about: $about:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl SocketKind for $name {
            const NAME: &'static str = $kind;
            const TYPE: zmq::SocketType = zmq::$ty;
            const SENDS: bool = $s;
            const RECEIVES: bool = $r;
            $(const FILTERS: bool = $f;)?
            $(const DRIVEN: bool = $d;)?
            const ABOUT: &'static str = $about;
        }
    };
}

socket_kind!(/// REQ: sends a request, then receives its reply.
    Req, "zmq.req", REQ, sends: true, receives: true, about: "ZeroMQ REQ: each message on `in` is a request; its reply goes to `out` (one at a time); a peer sending over `max_message_size` bytes (default 64 MiB) is disconnected; at end of input what is queued is still delivered for `linger_ms` (default 2000, -1 forever)");
socket_kind!(/// REP: receives a request, then sends its reply.
    Rep, "zmq.rep", REP, sends: true, receives: true, about: "ZeroMQ REP: each request received goes to `out`; the next message on `in` is its reply; a peer sending over `max_message_size` bytes (default 64 MiB) is disconnected; at end of input what is queued is still delivered for `linger_ms` (default 2000, -1 forever)");
socket_kind!(/// DEALER: asynchronous REQ, round-robin to peers.
    Dealer, "zmq.dealer", DEALER, sends: true, receives: true, about: "ZeroMQ DEALER: `in` is sent round-robin to peers; what arrives goes to `out`; a peer sending over `max_message_size` bytes (default 64 MiB) is disconnected; at end of input what is queued is still delivered for `linger_ms` (default 2000, -1 forever)");
socket_kind!(/// ROUTER: asynchronous REP, addressing peers by identity frame.
    Router, "zmq.router", ROUTER, sends: true, receives: true, about: "ZeroMQ ROUTER: what arrives goes to `out` with the peer's identity frame first; `in` is routed by its first frame; a peer sending over `max_message_size` bytes (default 64 MiB) is disconnected; at end of input what is queued is still delivered for `linger_ms` (default 2000, -1 forever)");
socket_kind!(/// PUB: publishes to every matching subscriber.
    Pub, "zmq.pub", PUB, sends: true, receives: false, driven: true, about: "ZeroMQ PUB: `in` is published to every matching subscriber (no `out`); at end of input what is queued is still delivered for `linger_ms` (default 2000, -1 forever)");
socket_kind!(/// SUB: receives what matches its subscriptions.
    Sub, "zmq.sub", SUB, sends: false, receives: true, filters: true, driven: true, about: "ZeroMQ SUB: what matches its subscriptions goes to `out`; `subscriptions` changes them; a peer sending over `max_message_size` bytes (default 64 MiB) is disconnected");
socket_kind!(/// XPUB: PUB that also receives subscription messages.
    XPub, "zmq.xpub", XPUB, sends: true, receives: true, about: "ZeroMQ XPUB: `in` is published; subscription messages from subscribers go to `out`; a peer sending over `max_message_size` bytes (default 64 MiB) is disconnected; at end of input what is queued is still delivered for `linger_ms` (default 2000, -1 forever)");
socket_kind!(/// XSUB: SUB that sends subscriptions as messages.
    XSub, "zmq.xsub", XSUB, sends: true, receives: true, filters: true, about: "ZeroMQ XSUB: what arrives goes to `out`; `in` is sent upstream, `subscriptions` become subscription messages; a peer sending over `max_message_size` bytes (default 64 MiB) is disconnected; at end of input what is queued is still delivered for `linger_ms` (default 2000, -1 forever)");
socket_kind!(/// PUSH: sends round-robin to pullers.
    Push, "zmq.push", PUSH, sends: true, receives: false, about: "ZeroMQ PUSH: `in` is sent round-robin to pullers (no `out`); at end of input what is queued is still delivered for `linger_ms` (default 2000, -1 forever)");
socket_kind!(/// PULL: fair-queues from pushers.
    Pull, "zmq.pull", PULL, sends: false, receives: true, driven: true, about: "ZeroMQ PULL: what arrives from pushers (fair-queued) goes to `out`; a peer sending over `max_message_size` bytes (default 64 MiB) is disconnected");
socket_kind!(/// PAIR: exclusive two-way connection.
    Pair, "zmq.pair", PAIR, sends: true, receives: true, about: "ZeroMQ PAIR: exclusive two-way connection: `in` is sent, what arrives goes to `out`; a peer sending over `max_message_size` bytes (default 64 MiB) is disconnected; at end of input what is queued is still delivered for `linger_ms` (default 2000, -1 forever)");
