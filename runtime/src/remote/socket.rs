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
//! * **lossless close**: on [`SocketThread::stop`] the thread hands what is
//!   still queued to libzmq before it closes the socket; the socket's linger
//!   decides how long libzmq keeps delivering it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::link::{RemoteError, RemoteStats};
use super::lockstep::Lockstep;
use super::wake::{WakeSignal, AWAKE, PARKED, POLLING};
use crate::wire::{Output, Policy, Popped, PushError, Queue};

/// Messages sent or received per loop turn before polling again.
const BATCH: usize = 256;
/// How long after start an XSUB re-sends its subscriptions, and how often.
const RESEND_FOR: Duration = Duration::from_secs(3);
const RESEND_EVERY: Duration = Duration::from_millis(200);
/// How long REQ/REP threads poll without sleeping before they block in
/// `zmq_poll` (other sockets: 0, unless [`Builder::spin`] says otherwise).
const LOCKSTEP_SPIN: Duration = Duration::from_micros(50);
/// Longest sleep in `zmq_poll`, so that a stop request is seen.
const TICK_MS: i64 = 100;

fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
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
    /// the previous message's frames (already sent: reuse their buffers, or
    /// replace them). An error drops the message (counted as a bad frame).
    fn encode(&self, msg: T, frames: &mut Vec<Vec<u8>>) -> Result<(), String>;
    /// One received multipart message.
    fn decode(&self, parts: &[zmq::Message]) -> Decoded<T>;
    /// Frames sent once every input wire has ended; the thread then finishes.
    fn end_of_stream(&self) -> Option<Vec<Vec<u8>>> {
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
        }
    }

    /// Wires the thread drains straight into the socket; once they have all
    /// ended, [`SocketThread::inputs_ended`] turns true.
    pub fn inputs(mut self, inputs: Vec<Queue<T>>) -> Self {
        self.inputs = inputs;
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

    /// Starts the thread.
    pub fn start(self) -> Result<SocketThread<T>, RemoteError> {
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
        outbound.add_sender();
        let control = Queue::new(64, Policy::Block);
        control.add_sender();
        let xsub = self.xsub.is_some();
        for prefix in self.xsub.unwrap_or_default() {
            let _ = control.try_push(Control::Subscribe(prefix));
        }
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            inputs_ended: AtomicBool::new(false),
        });
        let stats = Arc::new(RemoteStats::default());
        let wake = Arc::new(WakeSignal {
            socket: Mutex::new(wake_tx),
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
        };
        let thread = std::thread::Builder::new()
            .name(format!("rc-zmq {}", self.label))
            .spawn(move || {
                let _ = run.wake.thread.set(std::thread::current());
                run.run();
                if let Some(f) = on_exit {
                    f();
                }
            })?;
        Ok(SocketThread {
            label: self.label,
            outbound,
            control,
            shared,
            stats,
            wake,
            thread: Some(thread),
        })
    }
}

struct Shared {
    stop: AtomicBool,
    /// Every input wire has ended (their producers stopped for good).
    inputs_ended: AtomicBool,
}

/// A subscription change for the socket thread.
#[derive(Debug, Clone)]
enum Control {
    Subscribe(Vec<u8>),
    Unsubscribe(Vec<u8>),
}

/// A running socket thread; dropping it stops it (flushing what is queued).
pub struct SocketThread<T> {
    label: String,
    outbound: Queue<T>,
    control: Queue<Control>,
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

    /// Stops the thread after it has handed everything queued to libzmq, and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        std::task::Wake::wake_by_ref(&self.wake);
        self.outbound.remove_sender();
        self.control.remove_sender();
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

struct Loop<T> {
    socket: zmq::Socket,
    wake_rx: zmq::Socket,
    monitor: Option<zmq::Socket>,
    monitor_sink: Option<MonitorSink>,
    framing: Arc<dyn Framing<T>>,
    /// The input wires, then the thread's own outbound queue; drained round-robin.
    inputs: Vec<Queue<T>>,
    /// Whether any input wire was given (then their end counts).
    wired: bool,
    next_input: usize,
    /// Registered with empty queues, so a producer's push wakes the thread.
    waker: std::task::Waker,
    wake: Arc<WakeSignal>,
    control: Queue<Control>,
    shared: Arc<Shared>,
    stats: Arc<RemoteStats>,
    label: String,
    out: Option<Output<T>>,
    /// XSUB: subscriptions are messages.
    xsub: bool,
    /// Frames the socket would not take yet (high-water mark, or a REQ
    /// still waiting for its reply).
    pending: Option<Vec<Vec<u8>>>,
    /// The frames of the message being sent (their buffers are reused).
    scratch: Vec<Vec<u8>>,
    /// The parts of the message being received (reused).
    parts: Vec<zmq::Message>,
    /// REQ and REP alternate strictly: which way the next message goes.
    lockstep: Lockstep,
    /// Busy-poll this long before sleeping.
    spin: Duration,
    /// XSUB: the subscriptions in force, re-sent while connections are still
    /// being set up (libzmq can lose one sent to a pipe mid-setup; XPUB drops
    /// the duplicates), each with how many subscribe messages libzmq took:
    /// XSUB counts references per prefix and passes an unsubscribe upstream
    /// only when the count drops to zero, so an unsubscription is sent that
    /// many times.
    subscriptions: BTreeMap<Vec<u8>, u32>,
    resend_until: Instant,
    last_resend: Instant,
    batch: VecDeque<T>,
    /// Received messages on their way to the output (kept for its capacity).
    inbox: VecDeque<T>,
    /// The end-of-stream frames are pending: finish once they are sent.
    ending: bool,
}

impl<T: Clone + Send + 'static> Loop<T> {
    fn run(mut self) {
        loop {
            let stopping = self.shared.stop.load(Ordering::SeqCst);
            self.apply_control();
            self.resend_subscriptions();
            let sent = self.send_some();
            let sent_all = sent == Sending::Idle;
            if sent_all && self.ending {
                tracing::debug!(socket = %self.label, "end of stream sent");
                return;
            }
            if sent_all && !self.ending && self.shared.inputs_ended.load(Ordering::SeqCst) {
                if let Some(end) = self.framing.end_of_stream() {
                    self.pending = Some(end);
                    self.ending = true;
                    continue;
                }
            }
            if stopping {
                // Hand everything still queued to libzmq; linger decides its fate.
                while self.send_some() == Sending::More {}
                return;
            }
            let received = match self.receive_some() {
                Received::Ended => return,
                Received::Some => true,
                Received::None => false,
            };
            self.read_monitor();
            if received || sent == Sending::More {
                continue;
            }
            let blocked_on_socket = sent == Sending::Blocked && self.lockstep.may_send();
            let receives = self.out.is_some() && self.lockstep.may_receive();
            self.wait(receives, blocked_on_socket);
        }
    }

    /// Sleeps until the socket (when it is read, or a message waits for
    /// room), a queue or the monitor has something, or a tick passes.
    fn wait(&mut self, receives: bool, want_out: bool) {
        let mut events = zmq::PollEvents::empty();
        if receives {
            events |= zmq::POLLIN;
        }
        if want_out {
            events |= zmq::POLLOUT;
        }
        if events.is_empty() && self.monitor.is_none() && self.spin.is_zero() {
            // Only the queues can bring work: park.
            self.wake.state.store(PARKED, Ordering::SeqCst);
            if !self.wake.notified.swap(false, Ordering::SeqCst) {
                std::thread::park_timeout(Duration::from_millis(TICK_MS as u64));
            }
            self.wake.state.store(AWAKE, Ordering::SeqCst);
            return;
        }
        let mut items = vec![
            self.wake_rx.as_poll_item(zmq::POLLIN),
            self.socket.as_poll_item(events),
        ];
        if let Some(m) = &self.monitor {
            items.push(m.as_poll_item(zmq::POLLIN));
        }
        self.wake.state.store(POLLING, Ordering::SeqCst);
        // Spin briefly before sleeping: a reply usually follows a request within
        // tens of microseconds, and a futex wake-up costs about as much.
        let spin_until = Instant::now() + self.spin;
        let mut ready = 0;
        while ready == 0 && Instant::now() < spin_until {
            ready = zmq::poll(&mut items, 0).unwrap_or(0);
            if ready == 0 {
                std::thread::yield_now();
            }
        }
        if ready == 0 && !self.wake.notified.swap(false, Ordering::SeqCst) {
            let _ = zmq::poll(&mut items, TICK_MS);
        }
        self.wake.state.store(AWAKE, Ordering::SeqCst);
        while self.wake_rx.recv_bytes(zmq::DONTWAIT).is_ok() {}
    }

    fn resend_subscriptions(&mut self) {
        let now = Instant::now();
        if !self.xsub || now > self.resend_until || now - self.last_resend < RESEND_EVERY {
            return;
        }
        self.last_resend = now;
        for (p, sent) in &mut self.subscriptions {
            if self
                .socket
                .send([&[1u8][..], p].concat(), zmq::DONTWAIT)
                .is_ok()
            {
                *sent += 1;
            }
        }
    }

    fn apply_control(&mut self) {
        let mut buf = VecDeque::new();
        if let Popped::Items(n) = self.control.pop_batch(&mut buf, 64, Some(&self.waker)) {
            for c in buf.drain(..) {
                let result = match (c, self.xsub) {
                    (Control::Subscribe(p), false) => self.socket.set_subscribe(&p),
                    (Control::Unsubscribe(p), false) => self.socket.set_unsubscribe(&p),
                    (Control::Subscribe(p), true) => {
                        let r = self.socket.send([&[1u8][..], &p].concat(), 0);
                        if r.is_ok() {
                            *self.subscriptions.entry(p).or_insert(0) += 1;
                        }
                        r
                    }
                    (Control::Unsubscribe(p), true) => {
                        let sent = self.subscriptions.remove(&p).unwrap_or(1).max(1);
                        let cancel = [&[0u8][..], &p].concat();
                        (0..sent).try_for_each(|_| self.socket.send(&cancel, 0))
                    }
                };
                if let Err(e) = result {
                    tracing::warn!(socket = %self.label, error = %e, "subscription change failed");
                }
            }
            self.control.settle(n, &mut VecDeque::new());
        }
    }

    /// Sends queued messages until the queues are empty (with the waker
    /// registered), the socket is full (the frames kept in `pending`) or a
    /// batch has been sent (there may be more: the caller must not sleep).
    fn send_some(&mut self) -> Sending {
        for _ in 0..BATCH {
            if !self.lockstep.may_send() {
                // REQ awaiting its reply (or REP its request): nothing to do yet.
                return Sending::Idle;
            }
            match self.pending.take() {
                Some(f) => self.scratch = f,
                None => {
                    let msg = match self.batch.pop_front() {
                        Some(m) => m,
                        None => {
                            if self.refill() {
                                continue;
                            }
                            return Sending::Idle;
                        }
                    };
                    if let Err(reason) = self.framing.encode(msg, &mut self.scratch) {
                        let bad = self.stats.bad_frames.fetch_add(1, Ordering::Relaxed) + 1;
                        tracing::warn!(socket = %self.label, %reason, bad, "message not encodable; skipped");
                        continue;
                    }
                }
            }
            match self
                .socket
                .send_multipart(self.scratch.iter(), zmq::DONTWAIT)
            {
                Ok(()) => {
                    self.lockstep = self.lockstep.after_send();
                    self.stats.messages.fetch_add(1, Ordering::Relaxed);
                }
                Err(zmq::Error::EAGAIN) => {
                    self.pending = Some(std::mem::take(&mut self.scratch));
                    return Sending::Blocked;
                }
                Err(e) => {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(socket = %self.label, error = %e, frames = self.scratch.len(), "send failed; message dropped")
                }
            }
        }
        Sending::More
    }

    /// Takes a batch from the next input queue that has one (registering the
    /// waker with the empty ones); false when all are empty.
    fn refill(&mut self) -> bool {
        let n = self.inputs.len();
        let mut ended = 0;
        for k in 0..n {
            let i = (self.next_input + k) % n;
            match self.inputs[i].pop_batch(&mut self.batch, BATCH, Some(&self.waker)) {
                Popped::Items(taken) => {
                    // Room is freed as soon as the thread holds them.
                    self.inputs[i].settle(taken, &mut VecDeque::new());
                    self.next_input = (i + 1) % n;
                    return true;
                }
                Popped::Ended => ended += usize::from(i + 1 < n),
                Popped::Empty => {}
            }
        }
        if self.wired && ended == n - 1 {
            self.shared.inputs_ended.store(true, Ordering::SeqCst);
        }
        false
    }

    /// Receives one multipart message into `parts` (reusing its messages);
    /// returns how many parts it has.
    fn recv_one(&mut self) -> Result<usize, zmq::Error> {
        if self.parts.is_empty() {
            self.parts.push(zmq::Message::new());
        }
        self.socket.recv(&mut self.parts[0], zmq::DONTWAIT)?;
        let mut n = 1;
        while self.parts[n - 1].get_more() {
            if self.parts.len() == n {
                self.parts.push(zmq::Message::new());
            }
            self.socket.recv(&mut self.parts[n], 0)?;
            n += 1;
        }
        Ok(n)
    }

    /// Receives what is available and hands it on.
    fn receive_some(&mut self) -> Received {
        if self.out.is_none() {
            return Received::None;
        }
        let mut received = std::mem::take(&mut self.inbox);
        let mut ended = false;
        for _ in 0..BATCH {
            if !self.lockstep.may_receive() {
                break;
            }
            match self.recv_one() {
                Ok(n) => {
                    self.lockstep = self.lockstep.after_receive();
                    match self.framing.decode(&self.parts[..n]) {
                        Decoded::Message(m) => received.push_back(m),
                        Decoded::End => {
                            tracing::debug!(socket = %self.label, "end of stream received");
                            ended = true;
                            break;
                        }
                        Decoded::Bad(reason) => {
                            let bad = self.stats.bad_frames.fetch_add(1, Ordering::Relaxed) + 1;
                            let peer = self.parts[0].gets("Peer-Address").unwrap_or("?").to_owned();
                            tracing::warn!(socket = %self.label, %peer, %reason, bad, "undecodable message skipped");
                        }
                    }
                }
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EFSM) => break,
                Err(e) => {
                    tracing::warn!(socket = %self.label, error = %e, "receive failed");
                    break;
                }
            }
        }
        let any = !received.is_empty();
        self.stats
            .messages
            .fetch_add(received.len() as u64, Ordering::Relaxed);
        if let Some(out) = self.out.clone() {
            self.deliver(&out, &mut received);
        }
        received.clear();
        self.inbox = received;
        match (ended, any) {
            (true, _) => Received::Ended,
            (false, true) => Received::Some,
            (false, false) => Received::None,
        }
    }

    /// Hands received messages to the output in order, waiting while a
    /// `block` wire is full (so the socket's receive high-water mark fills and
    /// ZeroMQ pushes back on the peers). While it waits it keeps sending from
    /// its inputs: the actor that empties `out` may be waiting for room on an
    /// input of this same thread (a responder between a ROUTER's `out` and `in`).
    fn deliver(&mut self, out: &Output<T>, msgs: &mut VecDeque<T>) {
        if let [wire] = out.wires() {
            let room = wire.capacity().saturating_sub(wire.len());
            if wire.policy() != Policy::Block || room >= msgs.len() {
                // Cannot wait (this thread is the wire's only producer): one lock.
                wire.push_all_blocking(msgs);
                return;
            }
        }
        let Some((last, rest)) = out.wires().split_last() else {
            msgs.clear();
            return;
        };
        while let Some(m) = msgs.pop_front() {
            for wire in rest {
                self.push_one(wire, m.clone());
            }
            self.push_one(last, m);
        }
    }

    fn push_one(&mut self, wire: &Queue<T>, msg: T) {
        let mut msg = msg;
        loop {
            let deadline = Instant::now() + Duration::from_millis(1);
            match wire.push_blocking(msg, Some(deadline)) {
                Ok(_) | Err(PushError::Closed(_)) => return,
                Err(PushError::Full(back)) => {
                    msg = back;
                    if self.shared.stop.load(Ordering::SeqCst) {
                        self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(socket = %self.label, "stopping with the consumer full: a received message dropped");
                        return;
                    }
                    let _ = self.send_some();
                }
            }
        }
    }

    fn read_monitor(&mut self) {
        let (Some(m), Some(sink)) = (&self.monitor, &mut self.monitor_sink) else {
            return;
        };
        while let Ok(parts) = m.recv_multipart(zmq::DONTWAIT) {
            sink(parts);
        }
    }
}

/// What [`Loop::send_some`] left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sending {
    /// Nothing left to send (or not allowed to send now).
    Idle,
    /// The socket would not take the pending message.
    Blocked,
    /// The batch budget ran out with more possibly queued.
    More,
}

enum Received {
    None,
    Some,
    Ended,
}
