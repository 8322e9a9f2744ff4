//! Opening an endpoint's socket and handing it to its I/O thread.
//!
//! The thread itself is the runtime's [`SocketThread`], the same one
//! that carries cross-node wires: it drains the endpoint's `in` wires straight
//! into the socket (woken by the queues' waker), hands received batches to
//! `out` with a blocking send (so a slow consumer fills the socket's receive
//! high-water mark and ZeroMQ pushes back on the peers), and flushes what is
//! queued on close. Here: the socket's options, bind/connect, the monitor,
//! and the [`Frames`] framing (every frame as is).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rolecall_runtime::remote::{Builder, Decoded, Framing, SocketThread};
use rolecall_runtime::wire::{Output, Queue};

use super::message::{EventKind, Frames, SocketEvent, Subscription};
use super::params::Params;

/// The process's ZeroMQ context and what [`terminate`] needs to know.
#[derive(Default)]
struct Process {
    context: Option<zmq::Context>,
    /// Contexts made so far (a new one after each [`terminate`]).
    generation: u64,
    /// The longest linger of the sockets opened in it, in milliseconds (-1: forever).
    longest_linger: i32,
}

fn process() -> std::sync::MutexGuard<'static, Process> {
    static PROCESS: OnceLock<Mutex<Process>> = OnceLock::new();
    PROCESS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The process's ZeroMQ context (one, so that `inproc://` works between
/// endpoints), made on first use and again after [`terminate`].
pub fn context() -> zmq::Context {
    process()
        .context
        .get_or_insert_with(|| {
            tracing::trace!("new ZeroMQ context");
            zmq::Context::new()
        })
        .clone()
}

/// Which context [`context`] hands out now (it changes at [`terminate`]).
pub(crate) fn generation() -> u64 {
    process().generation
}

fn note_linger(ms: i32) {
    let mut p = process();
    if p.longest_linger != -1 {
        p.longest_linger = if ms < 0 { -1 } else { p.longest_linger.max(ms) };
    }
}

/// How long [`terminate`] waits beyond the longest linger for sockets to close.
const TERMINATE_GRACE: Duration = Duration::from_secs(2);

/// The process's ZeroMQ context did not terminate in time.
#[derive(Debug, thiserror::Error)]
#[error("the ZeroMQ context did not terminate within {waited:?}: a socket is still open")]
pub struct TerminateError {
    /// How long it waited.
    pub waited: Duration,
}

/// Terminates the process's ZeroMQ context (`zmq_ctx_term`), waiting for
/// what closed sockets still have to deliver within their linger: call it at
/// node end, once every endpoint is gone, so that the process does not exit
/// with messages still on their way. Waits for at most the longest linger of
/// the sockets opened plus two seconds (forever if one lingers forever); the
/// next [`context`] is a new one.
pub fn terminate() -> Result<(), TerminateError> {
    let (context, linger) = {
        let mut p = process();
        let Some(context) = p.context.take() else {
            return Ok(());
        };
        p.generation += 1;
        let linger = std::mem::take(&mut p.longest_linger);
        (context, linger)
    };
    // zmq_ctx_term frees the context: the handle that would term it again on
    // its last drop (sockets hold clones) must never be dropped.
    std::mem::forget(context.clone());
    let bound = u64::try_from(linger)
        .ok()
        .map(|ms| Duration::from_millis(ms) + TERMINATE_GRACE);
    let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("rc-zmq-term".into())
        .spawn(move || {
            let mut context = context;
            let mut r = context.destroy();
            while r == Err(zmq::Error::EINTR) {
                r = context.destroy();
            }
            let _ = done_tx.send(r);
        });
    if spawned.is_err() {
        tracing::warn!(
            "no thread to terminate the ZeroMQ context on; not waiting for lingering sockets"
        );
        return Ok(());
    }
    let started = std::time::Instant::now();
    let result = match bound {
        Some(bound) => done_rx
            .recv_timeout(bound)
            .map_err(|_| TerminateError { waited: bound }),
        None => done_rx.recv().map_err(|_| TerminateError {
            waited: started.elapsed(),
        }),
    };
    match result {
        Ok(Ok(())) | Ok(Err(_)) => {
            tracing::debug!(took = ?started.elapsed(), "ZeroMQ context terminated");
            Ok(())
        }
        Err(e) => Err(e),
    }
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
struct Raw;

impl Framing<Frames> for Raw {
    fn encode(
        &self,
        msg: Frames,
        frames: &mut Vec<Vec<u8>>,
    ) -> Result<(), rolecall_codecs::EncodeError> {
        *frames = msg.0;
        Ok(())
    }
    fn decode(&self, parts: &[zmq::Message]) -> Decoded<Frames> {
        Decoded::Message(Frames(parts.iter().map(|p| p.to_vec()).collect()))
    }
}

/// A running socket thread.
pub(crate) struct SocketIo {
    thread: SocketThread<Frames>,
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
}

fn failed(action: &'static str, what: &str, source: zmq::Error) -> EndpointError {
    EndpointError::Socket {
        action,
        what: what.to_owned(),
        source,
    }
}

/// Creates and configures the socket.
pub(crate) fn open(
    kind: zmq::SocketType,
    p: &Params,
    actor: &str,
) -> Result<zmq::Socket, EndpointError> {
    let s = context()
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
    note_linger(p.linger_ms);
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
    if let Some(curve) = &p.curve {
        super::curve::apply(&s, curve, actor)?;
    }
    if kind == zmq::SUB {
        for prefix in &p.subscribe {
            s.set_subscribe(prefix.as_bytes())
                .map_err(|e| failed("subscribing", prefix, e))?;
        }
    }
    Ok(s)
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
/// monitor sees it) and returns the PAIR socket that reads it.
pub(crate) fn monitor_socket(socket: &zmq::Socket) -> Result<zmq::Socket, EndpointError> {
    let mon_ep = format!("inproc://rolecall-monitor-{}", unique());
    socket
        .monitor(&mon_ep, zmq::SocketEvent::ALL as i32)
        .map_err(|e| failed("monitoring", "the socket", e))?;
    let m = context()
        .socket(zmq::PAIR)
        .map_err(|e| failed("creating", "the monitor socket", e))?;
    m.connect(&mon_ep)
        .map_err(|e| failed("connecting to", &mon_ep, e))?;
    Ok(m)
}

impl SocketIo {
    /// Opens the socket on the calling thread (so that errors are reported at
    /// once) and hands it to a new I/O thread. `inputs` are the wires into the
    /// endpoint's `in` port, drained by the thread directly.
    pub(crate) fn start(
        kind: zmq::SocketType,
        params: &Params,
        wiring: Wiring,
        inputs: Vec<Queue<Frames>>,
    ) -> Result<Self, EndpointError> {
        let socket = open(kind, params, &wiring.actor)?;
        let monitor = match wiring.monitor {
            Some(out) => Some((monitor_socket(&socket)?, out)),
            None => None,
        };
        attach(&socket, params)?;
        let mut b = Builder::new(
            wiring.actor.clone(),
            &context(),
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
        Ok(SocketIo { thread })
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
