//! ZeroMQ I/O: a node's context ([`ZmqContext`], with its one ZAP handler,
//! [`Zap`]), the socket-owner thread ([`SocketThread`]) that the endpoint
//! actors (`zmq.*` kinds of rolecall-actors) and the cross-node wires share,
//! and the cross-node wires themselves (`hop`): one DEALER→ROUTER
//! connection per wire destination, with a hello, sequence numbers and
//! acknowledgements (the delivery contract of docs/runtime-semantics.md).

mod context;
mod device;
mod hop;
pub(crate) mod limit;
mod link;
mod lockstep;
mod monitor;
mod pump;
mod ready;
mod socket;
mod start;
mod wake;
mod zap;

pub use context::{TerminateError, Terminated, ZmqContext};
pub use device::{Device, DeviceThread, Side};
pub use hop::{stable_hash, Delivery, HopCurve, HopIdentity, HopStats};
pub use limit::{LogLimiter, Verdict};
pub(crate) use link::HOP_LINGER_MS;
pub use link::{RemoteEndpoint, RemoteError, RemoteLink, RemoteStats};
pub use monitor::{close_monitored, MONITOR_CLOSE};
pub use ready::{ReadyError, ReadySocket};
pub use socket::{recv_parts, Builder, Decoded, Framing, MonitorSink, SocketThread};
pub(crate) use start::{start_receiver, start_sender};
pub use zap::Zap;

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
