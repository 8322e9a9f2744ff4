//! [`SocketThread`]: the one thread that owns a ZeroMQ socket, shared by the
//! endpoint actors (`zmq.*` kinds) and the runtime's cross-node hops.
//!
//! A zmq socket is not thread safe, so exactly one thread touches it:
//!
//! * **into the socket**: the thread drains its input wires (the runtime's
//!   [`Queue`]s themselves, round-robin, in batches) plus a queue of its own
//!   ([`SocketThread::outbound`]), encodes each message with its [`Framing`]
//!   and sends without blocking. A queue that goes from empty to non-empty
//!   calls the thread's waker: a thread waiting only for its queues is
//!   parked and gets unparked; one also waiting for its socket sleeps in
//!   `zmq_poll` and gets one byte on an inproc PAIR socket polled beside its own.
//!   A message the socket will not take yet (high-water mark) waits in the
//!   thread and the thread polls for `POLLOUT`: the wires fill and their
//!   producers wait — backpressure.
//! * **out of the socket**: the thread receives a batch, decodes it and hands
//!   it to its [`Output`] under one lock per batch, blocking while the
//!   consumers are full, so the socket's receive high-water mark fills and
//!   ZeroMQ pushes back on the peers. A frame that does not decode is counted
//!   in [`RemoteStats::bad_frames`] and logged with the peer's address and the
//!   reason; the flow of good messages goes on.
//! * **end of stream**: once every input wire has ended and all is sent, a
//!   framing with an [`Framing::end_of_stream`] message sends it and the
//!   thread finishes (cross-node hops); a received [`Decoded::End`] finishes a
//!   receiving thread.
//! * **close**: [`SocketThread::finish`] keeps the socket open until
//!   everything queued is handed to libzmq, waiting for room (a peer that
//!   binds late, a high-water mark) up to the socket's linger, then closes it
//!   with the rest of the linger for libzmq to deliver (the node must then
//!   terminate its ZeroMQ context, [`ZmqContext::terminate`](super::ZmqContext::terminate),
//!   which waits for that, before the process exits).
//!   [`SocketThread::stop`] (and dropping the thread) hands over only what
//!   the socket takes at once. Either way what is left is counted in
//!   [`RemoteStats::dropped`] and logged.

use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::limit::LogLimiter;
use super::link::{RemoteError, RemoteStats};
use super::lockstep::Lockstep;
use super::pump::{Loop, BATCH, RESEND_FOR};
use super::wake::{WakeSignal, AWAKE};
use crate::wire::{Output, Policy, Queue, Sender};

/// How long REQ/REP threads poll without sleeping before they block in
/// `zmq_poll` (other sockets: 0, unless [`Builder::spin`] says otherwise).
const LOCKSTEP_SPIN: Duration = Duration::from_micros(50);
fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Receives one multipart message into `parts` without waiting for its
/// first part (`EAGAIN` when there is none), reusing the messages `parts`
/// holds; returns how many parts it has. The rest of a multipart message is
/// always there once its first part is.
pub fn recv_parts(
    socket: &zmq::Socket,
    parts: &mut Vec<zmq::Message>,
) -> Result<usize, zmq::Error> {
    if parts.is_empty() {
        parts.push(zmq::Message::new());
    }
    socket.recv(&mut parts[0], zmq::DONTWAIT)?;
    let mut n = 1;
    while parts[n - 1].get_more() {
        if parts.len() == n {
            parts.push(zmq::Message::new());
        }
        socket.recv(&mut parts[n], 0)?;
        n += 1;
    }
    Ok(n)
}

/// What a receiving thread made of one multipart message.
#[derive(Debug)]
pub enum Decoded<T> {
    /// A message for the output.
    Message(T),
    /// The peer's end of stream: the thread finishes.
    End,
    /// Not decodable, with the reason (counted, logged, skipped).
    Bad(String),
}

/// How messages of type `T` become frames on the socket and back.
pub trait Framing<T>: Send + Sync + 'static {
    /// Puts the frames of one outbound message into `frames`, which holds
    /// the previous message's frames (already sent: clear it, or replace
    /// it). Frames are shared bytes: a message's own buffers move in without
    /// a copy; each is copied once, into the ZeroMQ message. An error drops
    /// the message (counted as a bad frame, logged with the codec's reason).
    fn encode(&self, msg: T, frames: &mut Vec<Bytes>) -> Result<(), rolecall_codecs::EncodeError>;
    /// One received multipart message. A decoder may take the parts it
    /// keeps (replacing each with `zmq::Message::new()`: the thread receives
    /// into it next), so a message's buffers move on without a copy; a
    /// message it calls `Bad` should keep its first part, from which the
    /// warning names the peer.
    fn decode(&self, parts: &mut [zmq::Message]) -> Decoded<T>;
    /// Frames sent once every input wire has ended; the thread then finishes.
    fn end_of_stream(&self) -> Option<Vec<Bytes>> {
        None
    }
}

/// Delivers the raw parts of one socket-monitor event.
pub type MonitorSink = Box<dyn FnMut(Vec<Vec<u8>>) + Send>;

/// Sets up a [`SocketThread`]: the socket must already be configured, bound
/// and connected (so that the caller reports its errors).
pub struct Builder<T> {
    label: String,
    context: zmq::Context,
    socket: zmq::Socket,
    kind: zmq::SocketType,
    framing: Arc<dyn Framing<T>>,
    inputs: Vec<Queue<T>>,
    send_queue: usize,
    out: Option<Output<T>>,
    monitor: Option<(zmq::Socket, MonitorSink)>,
    xsub: Option<Vec<Vec<u8>>>,
    spin: Option<Duration>,
    on_exit: Option<Box<dyn FnOnce() + Send>>,
    paced_by: Option<Queue<T>>,
}

impl<T> std::fmt::Debug for Builder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("label", &self.label)
            .field("inputs", &self.inputs.len())
            .finish()
    }
}

impl<T: Clone + Send + 'static> Builder<T> {
    /// A thread for `socket` (of libzmq type `kind`, created in `context`),
    /// named `label` in logs.
    pub fn new(
        label: impl Into<String>,
        context: &zmq::Context,
        socket: zmq::Socket,
        kind: zmq::SocketType,
        framing: Arc<dyn Framing<T>>,
    ) -> Self {
        Builder {
            label: label.into(),
            context: context.clone(),
            socket,
            kind,
            framing,
            inputs: Vec::new(),
            send_queue: 1024,
            out: None,
            monitor: None,
            xsub: None,
            spin: None,
            on_exit: None,
            paced_by: None,
        }
    }

    /// Wires the thread drains straight into the socket; once they have all
    /// ended, [`SocketThread::inputs_ended`] turns true.
    pub fn inputs(mut self, inputs: Vec<Queue<T>>) -> Self {
        self.inputs = inputs;
        self
    }

    /// One more wire the thread drains into the socket.
    pub(super) fn add_input(mut self, input: Queue<T>) -> Self {
        self.inputs.push(input);
        self
    }

    /// Capacity of the thread's own outbound queue (default 1024).
    pub fn send_queue(mut self, capacity: usize) -> Self {
        self.send_queue = capacity.max(1);
        self
    }

    /// Where received messages go (without one the socket is not read).
    pub fn output(mut self, out: Output<T>) -> Self {
        self.out = Some(out);
        self
    }

    /// A PAIR socket connected to libzmq's monitor of the socket, and what to
    /// do with each event (called on the socket thread; must not block).
    pub fn monitor(mut self, socket: zmq::Socket, sink: MonitorSink) -> Self {
        self.monitor = Some((socket, sink));
        self
    }

    /// XSUB: subscriptions are sent as messages (`\x01prefix`), starting with
    /// `initial`, and re-sent while connections are being set up.
    pub fn subscriptions_as_messages(mut self, initial: Vec<Vec<u8>>) -> Self {
        self.xsub = Some(initial);
        self
    }

    /// Busy-poll this long before sleeping (default 50 µs for REQ/REP, else 0).
    pub fn spin(mut self, spin: Option<Duration>) -> Self {
        self.spin = spin;
        self
    }

    /// Runs on the socket thread after the socket is closed.
    pub fn on_exit(mut self, f: impl FnOnce() + Send + 'static) -> Self {
        self.on_exit = Some(Box::new(f));
        self
    }

    /// Reads the socket only while `queue` has room for what is read (at
    /// most a batch at a time). A [`Device`](super::Device) paces a socket by
    /// the queue into its other socket: when that one will not take more,
    /// this one is not read.
    pub fn paced_by(mut self, queue: Queue<T>) -> Self {
        self.paced_by = Some(queue);
        self
    }

    /// Where received messages go, if anywhere.
    pub(super) fn out(&self) -> Option<&Output<T>> {
        self.out.as_ref()
    }

    /// Starts the thread.
    pub fn start(self) -> Result<SocketThread<T>, RemoteError> {
        let Assembled {
            run,
            on_exit,
            mut handle,
        } = self.assemble()?;
        let thread = std::thread::Builder::new()
            .name(format!("rc-zmq {}", handle.label))
            .spawn(move || {
                let _ = run.wake.thread.set(std::thread::current());
                run.run();
                if let Some(f) = on_exit {
                    f();
                }
            })?;
        handle.thread = Some(thread);
        Ok(handle)
    }

    /// The loop that will own the socket and the handle that talks to it,
    /// with no thread yet.
    pub(super) fn assemble(self) -> Result<Assembled<T>, RemoteError> {
        let err = |action: &'static str, source| RemoteError::Socket {
            action,
            address: self.label.clone(),
            source,
        };
        let wake_ep = format!("inproc://rolecall-wake-{}", unique());
        let wake_rx = self
            .context
            .socket(zmq::PAIR)
            .map_err(|e| err("creating the wake socket of", e))?;
        wake_rx
            .bind(&wake_ep)
            .map_err(|e| err("binding the wake socket of", e))?;
        let wake_tx = self
            .context
            .socket(zmq::PAIR)
            .map_err(|e| err("creating the wake socket of", e))?;
        wake_tx
            .connect(&wake_ep)
            .map_err(|e| err("connecting the wake socket of", e))?;
        let outbound = Queue::new(self.send_queue, Policy::Block);
        let control = Queue::new(64, Policy::Block);
        let senders = Some((Sender::new(&outbound), Sender::new(&control)));
        let xsub = self.xsub.is_some();
        for prefix in self.xsub.unwrap_or_default() {
            let _ = control.try_push(Control::Subscribe(prefix));
        }
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            finish: AtomicBool::new(false),
            inputs_ended: AtomicBool::new(false),
            producers_gone: AtomicBool::new(false),
        });
        let stats = Arc::new(RemoteStats::default());
        let wake = Arc::new(WakeSignal {
            socket: Mutex::new(Some(wake_tx)),
            state: AtomicU8::new(AWAKE),
            notified: AtomicBool::new(false),
            thread: OnceLock::new(),
        });
        let waker = std::task::Waker::from(Arc::clone(&wake));
        let wired = !self.inputs.is_empty();
        let mut queues = self.inputs;
        queues.push(outbound.clone());
        let lockstep = Lockstep::of(self.kind);
        let spin = match self.spin {
            Some(d) => d,
            None if lockstep != Lockstep::Free => LOCKSTEP_SPIN,
            None => Duration::ZERO,
        };
        let (monitor, monitor_sink) = match self.monitor {
            Some((s, f)) => (Some(s), Some(f)),
            None => (None, None),
        };
        let on_exit = self.on_exit;
        let run = Loop {
            socket: self.socket,
            wake_rx,
            monitor,
            monitor_sink,
            framing: self.framing,
            inputs: queues,
            wired,
            next_input: 0,
            waker,
            wake: Arc::clone(&wake),
            control: control.clone(),
            shared: Arc::clone(&shared),
            stats: Arc::clone(&stats),
            label: self.label.clone(),
            out: self.out,
            xsub,
            pending: None,
            scratch: Vec::new(),
            parts: Vec::new(),
            lockstep,
            spin,
            subscriptions: BTreeMap::new(),
            resend_until: Instant::now() + RESEND_FOR,
            last_resend: Instant::now(),
            batch: VecDeque::with_capacity(BATCH),
            inbox: VecDeque::with_capacity(BATCH),
            ending: false,
            finishing: None,
            bad_log: LogLimiter::default(),
            encode_log: LogLimiter::default(),
            context_gone: false,
            paced_by: self.paced_by,
        };
        let handle = SocketThread {
            label: self.label,
            outbound,
            control,
            senders,
            shared,
            stats,
            wake,
            thread: None,
        };
        Ok(Assembled {
            run,
            on_exit,
            handle,
        })
    }
}

/// A [`Builder`]'s loop and handle, before a thread runs the loop.
pub(super) struct Assembled<T> {
    pub(super) run: Loop<T>,
    /// Runs on the thread after the socket is closed.
    pub(super) on_exit: Option<Box<dyn FnOnce() + Send>>,
    pub(super) handle: SocketThread<T>,
}

pub(super) struct Shared {
    pub(super) stop: AtomicBool,
    /// Finish gracefully: keep handing queued messages to the socket, waiting
    /// for room up to its linger, then close (see [`SocketThread::finish`]).
    pub(super) finish: AtomicBool,
    /// Every input wire has ended (their producers stopped for good).
    pub(super) inputs_ended: AtomicBool,
    /// Every input wire's producers are gone (what they sent may still be queued).
    pub(super) producers_gone: AtomicBool,
}

/// A subscription change for the socket thread.
#[derive(Debug, Clone)]
pub(super) enum Control {
    Subscribe(Vec<u8>),
    Unsubscribe(Vec<u8>),
}

/// A running socket thread; dropping it stops it (flushing what is queued).
pub struct SocketThread<T> {
    label: String,
    outbound: Queue<T>,
    control: Queue<Control>,
    /// This handle's registrations on `outbound` and `control`: dropped at
    /// shutdown, which ends both queues for the thread.
    senders: Option<(Sender<T>, Sender<Control>)>,
    shared: Arc<Shared>,
    stats: Arc<RemoteStats>,
    wake: Arc<WakeSignal>,
    thread: Option<JoinHandle<()>>,
}

impl<T> std::fmt::Debug for SocketThread<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketThread")
            .field("label", &self.label)
            .field("outbound", &self.outbound.len())
            .finish()
    }
}

impl<T> SocketThread<T> {
    /// The thread's own outbound queue (besides its input wires).
    pub fn outbound(&self) -> &Queue<T> {
        &self.outbound
    }

    /// Adds a subscription filter (SUB: socket option; XSUB: a message).
    pub fn subscribe(&self, prefix: Vec<u8>) {
        let _ = self.control.push_blocking(Control::Subscribe(prefix), None);
    }

    /// Removes a subscription filter.
    pub fn unsubscribe(&self, prefix: Vec<u8>) {
        let _ = self
            .control
            .push_blocking(Control::Unsubscribe(prefix), None);
    }

    /// True once every input wire has ended.
    pub fn inputs_ended(&self) -> bool {
        self.shared.inputs_ended.load(Ordering::SeqCst)
    }

    /// True once the producers of every input wire are gone, even if what
    /// they sent is still queued (then [`SocketThread::finish`] delivers it).
    pub fn producers_gone(&self) -> bool {
        self.shared.producers_gone.load(Ordering::SeqCst)
    }

    /// The thread's counters.
    pub fn stats(&self) -> &Arc<RemoteStats> {
        &self.stats
    }

    /// The label given at start.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether the thread has finished by itself (end of stream sent or received).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Asks the thread to finish without waiting for it: it keeps handing
    /// what its queues hold to the socket, waiting for room (a peer that is
    /// not there yet, a high-water mark) for up to the socket's linger (-1:
    /// for as long as it takes), then closes the socket with the rest of the
    /// linger left for libzmq to deliver. Whatever it could not hand over by
    /// then is counted in [`RemoteStats::dropped`] and logged. Poll
    /// [`SocketThread::is_finished`] to see it done.
    pub fn finish(&self) {
        self.shared.finish.store(true, Ordering::SeqCst);
        std::task::Wake::wake_by_ref(&self.wake);
    }

    /// Stops the thread after it has handed to libzmq what the socket takes
    /// at once (the rest is counted as dropped), and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    pub(super) fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        std::task::Wake::wake_by_ref(&self.wake);
        self.senders = None;
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!(socket = %self.label, "zmq socket thread panicked");
            }
        }
    }
}

impl<T> Drop for SocketThread<T> {
    fn drop(&mut self) {
        self.shutdown();
    }
}
