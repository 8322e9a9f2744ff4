//! ZeroMQ endpoint actors: one kind per socket type (`zmq.req`, `zmq.rep`,
//! `zmq.dealer`, `zmq.router`, `zmq.pub`, `zmq.sub`, `zmq.xpub`, `zmq.xsub`,
//! `zmq.push`, `zmq.pull`, `zmq.pair`), linked against the system libzmq.
//!
//! Each endpoint owns its socket, opened in its node's ZeroMQ context
//! ([`Io::zmq`](rolecall_runtime::kind::Io::zmq)), through one I/O thread
//! ([`io`]), or — PUB, SUB and PULL, unmonitored — from the node's own
//! thread (`driven.rs`): actors send [`Frames`] into the endpoint's `in` port, received
//! messages leave on `out` straight into the wired actors' queues. Subscriptions change at run time
//! through [`Subscription`] messages; socket-monitor events arrive as
//! [`SocketEvent`]s on `monitor`. [`curve`] adds CURVE encryption and a ZAP
//! allowlist of client keys (served by the node's one ZAP handler).
//! [`Proxy`] (`zmq.proxy`) is a device joining two sockets in one thread (the
//! runtime's [`Device`](rolecall_runtime::remote::Device)), with a capture
//! port and an optional inspection detour.

pub mod curve;
mod driven;
mod endpoint;
mod frames;
pub mod io;
mod kinds;
mod message;
mod params;
pub mod proxy;

pub use endpoint::Endpoint;
pub use frames::{Frame, Frames, IntoFrames};
pub use kinds::{Dealer, Pair, Pub, Pull, Push, Rep, Req, Router, SocketKind, Sub, XPub, XSub};
pub use message::{EventKind, SocketEvent, Subscription};
pub use params::Params;
pub use proxy::Proxy;

use rolecall_runtime::kind::{RegisterError, Registry};

/// Registers the eleven endpoint kinds and the `zmq.proxy` device.
pub fn register(registry: &mut Registry) -> Result<(), RegisterError> {
    registry
        .register::<Endpoint<Req>>(Req::NAME)?
        .register::<Endpoint<Rep>>(Rep::NAME)?
        .register::<Endpoint<Dealer>>(Dealer::NAME)?
        .register::<Endpoint<Router>>(Router::NAME)?
        .register::<Endpoint<Pub>>(Pub::NAME)?
        .register::<Endpoint<Sub>>(Sub::NAME)?
        .register::<Endpoint<XPub>>(XPub::NAME)?
        .register::<Endpoint<XSub>>(XSub::NAME)?
        .register::<Endpoint<Push>>(Push::NAME)?
        .register::<Endpoint<Pull>>(Pull::NAME)?
        .register::<Endpoint<Pair>>(Pair::NAME)?
        .register::<Proxy>("zmq.proxy")?;
    Ok(())
}
