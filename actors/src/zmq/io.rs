//! Opening an endpoint's socket and handing it to its I/O thread.
//!
//! The thread itself is the runtime's [`SocketThread`], the same one
//! that carries cross-node wires: it drains the endpoint's `in` wires straight
//! into the socket (woken by the queues' waker), hands received batches to
//! `out` with a blocking send (so a slow consumer fills the socket's receive
//! high-water mark and ZeroMQ pushes back on the peers), and flushes what is
//! queued on close. Here: the socket's options, bind/connect, the monitor,
//! and the [`Frames`] framing (every frame as is). Sockets open in the
//! node's context; [`process_context`] is for sockets outside a node.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rolecall_runtime::remote::{
    Builder, Decoded, Framing, SocketThread, Terminated, Zap, ZmqContext,
};
use rolecall_runtime::wire::{Output, Queue};

use super::frames::{Frame, Frames};
use super::message::{EventKind, SocketEvent, Subscription};
use super::params::Params;

pub use rolecall_runtime::remote::TerminateError;

/// The process's own context, for sockets opened outside a node (`None`
/// until first used and after [`terminate`]).
fn process() -> std::sync::MutexGuard<'static, Option<ZmqContext>> {
    static PROCESS: OnceLock<Mutex<Option<ZmqContext>>> = OnceLock::new();
    PROCESS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A ZeroMQ context for sockets opened outside a node (test peers,
/// benchmarks, programs of their own), one per process, made on first use
/// and again after [`terminate`]. Endpoints do not use it: they run in
/// their node's context ([`Io::zmq`](rolecall_runtime::kind::Io::zmq)).
pub fn process_context() -> ZmqContext {
    process().get_or_insert_with(ZmqContext::new).clone()
}

/// The libzmq context of [`process_context`].
pub fn context() -> zmq::Context {
    loop {
        // Fails only if [`terminate`] ran in between: the next one is new.
        if let Ok(c) = process_context().get() {
            return c;
        }
    }
}

/// Terminates [`process_context`], waiting for what its closed sockets still
/// deliver within their linger (see [`ZmqContext::terminate`]); the next
/// [`context`] is a new one. A node's own context is terminated through
/// [`Node::zmq`](rolecall_runtime::Node::zmq).
pub fn terminate() -> Result<(), TerminateError> {
    let taken = process().take();
    taken.map_or(Ok(()), |c| c.terminate())
}

fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// What the endpoint's thread needs besides its socket.
pub(crate) struct Wiring {
    pub(crate) actor: String,
    pub(crate) out: Option<Output<Frames>>,
    pub(crate) monitor: Option<Output<SocketEvent>>,
    /// XSUB sends subscriptions as messages instead of socket options.
    pub(crate) subscriptions_as_messages: bool,
}

/// Frames go to the socket as they are, and come back as they arrived.
pub(crate) struct Raw;

impl Raw {
    /// A received message's parts as frames: a large part moves into its
    /// frame without a copy (see `Frame::received`).
    pub(crate) fn frames(parts: &mut [zmq::Message]) -> Frames {
        parts.iter_mut().map(Frame::received).collect()
    }
}

impl Framing<Frames> for Raw {
    fn encode(
        &self,
        msg: Frames,
        frames: &mut Vec<bytes::Bytes>,
    ) -> Result<(), rolecall_codecs::EncodeError> {
        frames.clear();
        frames.extend(msg.into_iter().map(Frame::into_bytes));
        Ok(())
    }
    fn decode(&self, parts: &mut [zmq::Message]) -> Decoded<Frames> {
        Decoded::Message(Raw::frames(parts))
    }
}

/// A running socket thread.
pub(crate) struct SocketIo {
    thread: SocketThread<Frames>,
    /// A CURVE server keeps its context's ZAP handler (dropped after the
    /// thread, which closes the socket).
    _zap: Option<Arc<Zap>>,
    /// The socket's context lives at least as long as the socket.
    _context: ZmqContext,
}

impl std::fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.thread.fmt(f)
    }
}

/// Opening, configuring or starting an endpoint's socket failed.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// A ZeroMQ call failed: `creating the socket`, `setting sndhwm`,
    /// `binding tcp://*:5555`, ...
    #[error("{action} {what}: {source}")]
    Socket {
        /// What was being done.
        action: &'static str,
        /// To what.
        what: String,
        /// Why it failed.
        source: zmq::Error,
    },
    /// Making the socket a CURVE server or client failed.
    #[error(transparent)]
    Curve(#[from] super::curve::CurveError),
    /// The socket's I/O thread could not be started.
    #[error("starting the socket thread: {0}")]
    Thread(#[from] rolecall_runtime::remote::RemoteError),
    /// The node's ZeroMQ context was terminated.
    #[error(transparent)]
    Context(#[from] Terminated),
    /// The socket could not be registered with the node's reactor (an
    /// endpoint driven from its node's thread).
    #[error(transparent)]
    Ready(#[from] rolecall_runtime::remote::ReadyError),
}

fn failed(action: &'static str, what: &str, source: zmq::Error) -> EndpointError {
    EndpointError::Socket {
        action,
        what: what.to_owned(),
        source,
    }
}

/// An endpoint's socket, configured, with the ZAP handler a CURVE server
/// registered with (keep it as long as the socket).
pub(crate) struct Opened {
    pub(crate) socket: zmq::Socket,
    pub(crate) zap: Option<Arc<Zap>>,
}

/// Creates and configures the socket in `ctx`.
pub(crate) fn open(
    ctx: &ZmqContext,
    kind: zmq::SocketType,
    p: &Params,
    actor: &str,
) -> Result<Opened, EndpointError> {
    let s = ctx
        .socket(kind)
        .map_err(|e| failed("creating", "the socket", e))?;
    if let Some(h) = p.sndhwm {
        s.set_sndhwm(h)
            .map_err(|e| failed("setting", "sndhwm", e))?;
    }
    if let Some(h) = p.rcvhwm {
        s.set_rcvhwm(h)
            .map_err(|e| failed("setting", "rcvhwm", e))?;
    }
    s.set_linger(p.linger_ms)
        .map_err(|e| failed("setting", "linger", e))?;
    ctx.note_linger(p.linger_ms);
    s.set_maxmsgsize(p.max_message_size)
        .map_err(|e| failed("setting", "max_message_size", e))?;
    if let Some(id) = &p.identity {
        s.set_identity(id.as_bytes())
            .map_err(|e| failed("setting", "identity", e))?;
    }
    if let Some(ms) = p.reconnect_ivl_ms {
        s.set_reconnect_ivl(ms)
            .map_err(|e| failed("setting", "reconnect_ivl", e))?;
    }
    let zap = match &p.curve {
        Some(curve) => super::curve::apply(ctx, &s, curve, actor)?,
        None => None,
    };
    if kind == zmq::SUB {
        for prefix in &p.subscribe {
            s.set_subscribe(prefix.as_bytes())
                .map_err(|e| failed("subscribing", prefix, e))?;
        }
    }
    Ok(Opened { socket: s, zap })
}

/// Binds and connects (after the monitor is attached, so that it sees it).
pub(crate) fn attach(s: &zmq::Socket, p: &Params) -> Result<(), EndpointError> {
    for ep in &p.bind {
        s.bind(ep).map_err(|e| failed("binding", ep, e))?;
    }
    for ep in &p.connect {
        s.connect(ep).map_err(|e| failed("connecting to", ep, e))?;
    }
    Ok(())
}

/// Decodes one libzmq monitor event (a 6-byte header, then the endpoint) of
/// `actor`'s socket `socket`.
pub(crate) fn monitor_event(actor: &str, socket: &str, parts: &[Vec<u8>]) -> Option<SocketEvent> {
    let head = parts.first().filter(|h| h.len() >= 6)?;
    let raw = u16::from_le_bytes([head[0], head[1]]);
    let value = u32::from_le_bytes([head[2], head[3], head[4], head[5]]);
    let endpoint = parts
        .get(1)
        .map(|e| String::from_utf8_lossy(e).into_owned())
        .unwrap_or_default();
    Some(SocketEvent {
        actor: actor.to_owned(),
        socket: socket.to_owned(),
        kind: EventKind::from_raw(raw),
        endpoint,
        value,
    })
}

/// Attaches a monitor to `socket` (before it binds or connects, so that the
/// monitor sees it) and returns the PAIR socket (in `ctx`, the socket's
/// context) that reads it.
pub(crate) fn monitor_socket(
    ctx: &ZmqContext,
    socket: &zmq::Socket,
) -> Result<zmq::Socket, EndpointError> {
    let mon_ep = format!("inproc://rolecall-monitor-{}", unique());
    socket
        .monitor(&mon_ep, zmq::SocketEvent::ALL as i32)
        .map_err(|e| failed("monitoring", "the socket", e))?;
    let m = ctx
        .socket(zmq::PAIR)
        .map_err(|e| failed("creating", "the monitor socket", e))?;
    m.connect(&mon_ep)
        .map_err(|e| failed("connecting to", &mon_ep, e))?;
    Ok(m)
}

impl SocketIo {
    /// Opens the socket in `ctx` (the node's context) on the calling thread
    /// (so that errors are reported at once) and hands it to a new I/O
    /// thread. `inputs` are the wires into the endpoint's `in` port, drained
    /// by the thread directly.
    pub(crate) fn start(
        ctx: &ZmqContext,
        kind: zmq::SocketType,
        params: &Params,
        wiring: Wiring,
        inputs: Vec<Queue<Frames>>,
    ) -> Result<Self, EndpointError> {
        let Opened { socket, zap } = open(ctx, kind, params, &wiring.actor)?;
        let monitor = match wiring.monitor {
            Some(out) => Some((monitor_socket(ctx, &socket)?, out)),
            None => None,
        };
        attach(&socket, params)?;
        let mut b = Builder::new(
            wiring.actor.clone(),
            &ctx.get()?,
            socket,
            kind,
            Arc::new(Raw),
        )
        .inputs(inputs)
        .send_queue(params.send_queue)
        .spin(params.spin_us.map(std::time::Duration::from_micros));
        if let Some(out) = wiring.out {
            b = b.output(out);
        }
        if let Some((m, out)) = monitor {
            let actor = wiring.actor.clone();
            b = b.monitor(
                m,
                Box::new(move |parts| {
                    if let Some(event) = monitor_event(&actor, "socket", &parts) {
                        // Monitoring never holds up the socket: a full monitor wire drops (counted).
                        let _ = out.try_send(event);
                    }
                }),
            );
        }
        if wiring.subscriptions_as_messages {
            b = b.subscriptions_as_messages(
                params
                    .subscribe
                    .iter()
                    .map(|p| p.as_bytes().to_vec())
                    .collect(),
            );
        }
        let thread = b.start()?;
        Ok(SocketIo {
            thread,
            _zap: zap,
            _context: ctx.clone(),
        })
    }

    /// The queue the endpoint actor sends into.
    pub(crate) fn outbound(&self) -> &Queue<Frames> {
        self.thread.outbound()
    }

    /// Queues a subscription change.
    pub(crate) fn subscription(&self, s: Subscription) {
        match s {
            Subscription::Subscribe(p) => self.thread.subscribe(p),
            Subscription::Unsubscribe(p) => self.thread.unsubscribe(p),
        }
    }

    /// True once the producers of every wire into `in` are gone (what they
    /// sent may still be queued).
    pub(crate) fn producers_gone(&self) -> bool {
        self.thread.producers_gone()
    }

    /// Asks the thread to hand everything queued to the socket (waiting up
    /// to the linger for room or a peer) and close it; see [`SocketThread::finish`].
    pub(crate) fn finish(&self) {
        self.thread.finish();
    }

    /// True once the thread has closed the socket.
    pub(crate) fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Messages sent and received, and messages dropped (not handed to the
    /// socket in time, or received with the consumer gone).
    pub(crate) fn counts(&self) -> (u64, u64) {
        let s = self.thread.stats();
        (
            s.messages.load(Ordering::Relaxed),
            s.dropped.load(Ordering::Relaxed),
        )
    }
}
