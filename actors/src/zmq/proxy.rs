//! `zmq.proxy`: a ZeroMQ device owning two sockets in one thread —
//! XSUB↔XPUB (a forwarder), ROUTER↔DEALER (a request broker) or PULL→PUSH (a
//! streamer) — with a capture port and an optional inspection detour.
//!
//! Ports:
//! * `capture` (out): a copy of every message received on either socket
//!   (data, requests, replies, XPUB subscription messages), in arrival order;
//! * `from_frontend` / `from_backend` (out): with `inspect = "forward"`
//!   (frontend → backend only) or `"both"`, received messages leave here
//!   instead of going straight to the other socket, so an actor can look at,
//!   change or drop them (the course's polling proxy with a forwarder);
//! * `to_backend` / `to_frontend` (direct in): messages to send on that socket
//!   — the inspector's output, or anything else to inject;
//! * `monitor` (out): libzmq socket-monitor events ([`SocketEvent`], `socket`
//!   = `frontend` or `backend`) of each side whose parameters say
//!   `monitor = true`; a full monitor wire drops events rather than hold up
//!   the device.
//!
//! The thread is the runtime's [`Device`]: the socket loop of
//! [`SocketThread`](rolecall_runtime::remote::SocketThread) (the one that
//! endpoints and cross-node hops use) run for both sockets on one thread.
//! Without inspection a message goes from one socket to the other inside the
//! thread, with no actor hop. Backpressure: when the receiving socket will not
//! take a message (high-water mark) the thread stops reading the other one
//! until it does; `capture` and the inspection ports are wires whose policy
//! applies (`block` waits, and meanwhile the `to_*` wires keep draining).

use std::sync::Arc;

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, ParamCheck, Ports, Role};
use rolecall_runtime::remote::{Builder, Device, DeviceThread, MonitorSink, Side, Zap, ZmqContext};
use rolecall_runtime::wire::Output;
use serde::Deserialize;

use super::frames::Frames;
use super::io::{attach, monitor_event, monitor_socket, open, EndpointError, Opened, Raw};
use super::message::SocketEvent;
use super::params::Params;

/// Which pair of sockets the device joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Frontend XSUB (publishers connect), backend XPUB (subscribers
    /// connect); subscriptions travel backend → frontend.
    XsubXpub,
    /// Frontend ROUTER (clients connect), backend DEALER (workers connect);
    /// replies travel backend → frontend with their envelopes.
    RouterDealer,
    /// Frontend PULL, backend PUSH: one way.
    PullPush,
}

impl Mode {
    fn sockets(self) -> (zmq::SocketType, zmq::SocketType) {
        match self {
            Mode::XsubXpub => (zmq::XSUB, zmq::XPUB),
            Mode::RouterDealer => (zmq::ROUTER, zmq::DEALER),
            Mode::PullPush => (zmq::PULL, zmq::PUSH),
        }
    }

    /// Whether messages also travel backend → frontend.
    fn two_way(self) -> bool {
        self != Mode::PullPush
    }
}

/// Which directions pass through an inspecting actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Inspect {
    /// Straight from socket to socket (default).
    #[default]
    None,
    /// Frontend → backend through `from_frontend` / `to_backend`.
    Forward,
    /// Both directions through the inspection ports.
    Both,
}

/// Parameters of `zmq.proxy`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyParams {
    /// `xsub-xpub`, `router-dealer` or `pull-push`.
    pub mode: Mode,
    /// The frontend socket (same options as an endpoint: bind, connect, hwm, ...).
    pub frontend: Params,
    /// The backend socket.
    pub backend: Params,
    /// `none` (default), `forward` or `both`.
    #[serde(default)]
    pub inspect: Inspect,
}

/// Setting up the proxy failed.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// Opening or configuring one of its sockets.
    #[error("{side}: {source}")]
    Socket {
        /// `frontend` or `backend`.
        side: &'static str,
        /// What failed.
        #[source]
        source: EndpointError,
    },
    /// Starting the device's thread.
    #[error("starting the proxy thread: {0}")]
    Thread(#[from] rolecall_runtime::remote::RemoteError),
}

/// The device as an actor; its thread does all the work.
pub struct Proxy {
    /// Dropping it stops the thread and closes both sockets.
    _device: DeviceThread<Frames>,
    /// The context's ZAP handler, kept by CURVE server sides (dropped after
    /// the device).
    _zap: Vec<Arc<Zap>>,
    /// The sockets' context lives at least as long as the sockets.
    _context: ZmqContext,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").finish()
    }
}

impl Actor for Proxy {
    type Context = Context<Self>;
}

impl Role for Proxy {
    type Params = ProxyParams;
    const ABOUT: &'static str =
        "a ZeroMQ device (xsub-xpub, router-dealer, pull-push): two sockets, one thread, capture and monitor ports";

    fn ports(ports: &mut Ports<Self>) {
        ports
            .output::<Frames>("capture")
            .output::<Frames>("from_frontend")
            .output::<Frames>("from_backend")
            .direct_input::<Frames>("to_frontend")
            .direct_input::<Frames>("to_backend")
            .output::<SocketEvent>("monitor");
    }

    fn check(p: &ProxyParams, check: &mut ParamCheck) {
        for (side, params) in [("frontend", &p.frontend), ("backend", &p.backend)] {
            for endpoint in &params.bind {
                check.binds(&format!("{side}.bind"), endpoint);
            }
        }
    }

    fn build(p: &ProxyParams, io: &mut Io) -> Result<Self, CreateError> {
        let front = side(io, p, Side::Front)?;
        let back = side(io, p, Side::Back)?;
        let mut device = Device::new(io.actor_name(), front.builder, back.builder);
        if front.forwarded {
            device = device.forward(Side::Front);
        }
        if back.forwarded {
            device = device.forward(Side::Back);
        }
        Ok(Proxy {
            _device: device.start().map_err(ProxyError::Thread)?,
            _zap: front.zap.into_iter().chain(back.zap).collect(),
            _context: io.zmq().clone(),
        })
    }
}

/// One side of the proxy, ready for the device.
struct Half {
    builder: Builder<Frames>,
    /// What it receives goes straight to the other socket.
    forwarded: bool,
    zap: Option<Arc<Zap>>,
}

/// Sets up `side` of the proxy: every received message is captured; an
/// inspected one also leaves on `from_*`, any other goes to the other socket.
fn side(io: &Io, p: &ProxyParams, side: Side) -> Result<Half, CreateError> {
    let (front_kind, back_kind) = p.mode.sockets();
    let (name, kind, params, receives, inspected) = match side {
        Side::Front => (
            "frontend",
            front_kind,
            &p.frontend,
            true,
            p.inspect != Inspect::None,
        ),
        Side::Back => (
            "backend",
            back_kind,
            &p.backend,
            p.mode.two_way(),
            p.inspect == Inspect::Both,
        ),
    };
    let out = if receives {
        let mut wires = io.output::<Frames>("capture")?.wires().to_vec();
        if inspected {
            wires.extend_from_slice(io.output::<Frames>(&format!("from_{name}"))?.wires());
        }
        Some(Output::new(name, wires))
    } else {
        None
    };
    let monitor = match params.monitor {
        true => Some(io.output::<SocketEvent>("monitor")?),
        false => None,
    };
    let wiring = SideWiring {
        name,
        kind,
        out,
        monitor,
    };
    let (builder, zap) = side_builder(io, params, wiring)
        .map_err(|source| ProxyError::Socket { side: name, source })?;
    Ok(Half {
        builder,
        forwarded: receives && !inspected,
        zap,
    })
}

/// What one side of the proxy is wired to.
struct SideWiring {
    name: &'static str,
    kind: zmq::SocketType,
    /// Where received messages go besides the other socket (`None`: the
    /// socket is not read).
    out: Option<Output<Frames>>,
    monitor: Option<Output<SocketEvent>>,
}

/// Opens one side's socket (and its monitor, before it binds or connects,
/// so that the monitor sees it) and sets up its half of the device.
fn side_builder(
    io: &Io,
    params: &Params,
    wiring: SideWiring,
) -> Result<(Builder<Frames>, Option<Arc<Zap>>), EndpointError> {
    let ctx = io.zmq();
    let actor = io.actor_name();
    let Opened { socket, zap } = open(ctx, wiring.kind, params, actor)?;
    let monitor = wiring
        .monitor
        .map(|out| monitor_socket(ctx, &socket).map(|m| (m, out)))
        .transpose()?;
    attach(&socket, params)?;
    let label = format!("{actor} {}", wiring.name);
    let mut b = Builder::new(label, &ctx.get()?, socket, wiring.kind, Arc::new(Raw))
        .inputs(io.direct_input(&format!("to_{}", wiring.name)))
        .send_queue(1);
    if let Some(out) = wiring.out {
        b = b.output(out);
    }
    if let Some((m, out)) = monitor {
        let (actor, name) = (actor.to_owned(), wiring.name);
        let sink: MonitorSink = Box::new(move |parts| {
            if let Some(event) = monitor_event(&actor, name, &parts) {
                // Monitoring never holds up the device: a full wire drops (counted).
                let _ = out.try_send(event);
            }
        });
        b = b.monitor(m, sink);
    }
    Ok((b, zap))
}
