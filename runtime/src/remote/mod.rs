//! ZeroMQ I/O: the socket-owner thread ([`SocketThread`]) that the endpoint
//! actors (`zmq.*` kinds of rolecall-actors) and the cross-node wires share,
//! and the cross-node wires themselves: one PUSH/PULL pair per wire destination.
//!
//! A wire whose producer and consumer run on different nodes keeps a local
//! [`Queue`](crate::wire::Queue) at each end. On the producer's node a
//! [`SocketThread`] owns a PUSH socket (connecting), drains the queue directly
//! in batches (woken by the queue's waker), encodes each message with the
//! wire's codec and sends it. On the consumer's node a [`SocketThread`] owns a
//! PULL socket (binding), decodes and pushes into the consumer's queue in
//! batches, blocking while it is full. Backpressure therefore runs end to end: a slow
//! consumer fills its queue, the receiver stops reading, ZeroMQ's high-water
//! marks and TCP fill up, the sender blocks, and the producer's queue applies
//! its policy. Each socket is touched by its one thread only.
//!
//! Frames carry a one-byte header: [`DATA`] followed by the encoded message, or
//! [`END`] when the producer stopped for good (end of stream crosses nodes).
//! Undecodable frames are counted and logged, never fatal.

pub(crate) mod limit;
mod link;
mod lockstep;
mod monitor;
mod pump;
mod socket;
mod wake;

pub(crate) use link::{spawn_receiver, spawn_sender};
pub use link::{RemoteEndpoint, RemoteError, RemoteLink, RemoteStats};
pub use monitor::{close_monitored, MONITOR_CLOSE};
pub use socket::{Builder, Decoded, Framing, MonitorSink, SocketThread};

/// Header byte of a frame carrying one encoded message.
pub const DATA: u8 = 0;
/// Header byte of the frame that ends the stream.
pub const END: u8 = 1;

/// The linked libzmq's version.
pub fn zmq_version() -> (i32, i32, i32) {
    zmq::version()
}

/// Whether the linked libzmq has a capability (`pgm`, `curve`, `ipc`, `norm`, ...).
pub fn zmq_has(capability: &str) -> bool {
    zmq::has(capability).unwrap_or(false)
}

#[cfg(test)]
mod tests;
