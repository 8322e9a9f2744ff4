//! The I/O thread of one endpoint: the only code that touches its socket.
//!
//! Outbound messages reach the thread through a bounded queue (the endpoint
//! actor pushes, pausing itself when it is full) plus a wake-up PAIR socket
//! that is signalled only when the thread is asleep in `zmq_poll`. Inbound
//! messages leave the thread straight into the endpoint's `out` wires with a
//! blocking send: when the consumers are slower than the network the thread
//! stops reading, the socket's receive high-water mark fills and ZeroMQ pushes
//! back on the peers. Monitor events are read from libzmq's monitor socket.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use parking_lot::Mutex;
use rolecall_runtime::wire::{Output, Policy, Popped, Queue};

use super::message::{EventKind, Frames, SocketEvent, Subscription};
use super::params::Params;

/// Messages sent or received per loop turn before polling again.
const BATCH: usize = 256;
/// How long after start an XSUB endpoint re-sends its subscriptions, and how often.
const RESEND_FOR: std::time::Duration = std::time::Duration::from_secs(3);
const RESEND_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
/// How long REQ/REP threads poll without sleeping before they block in
/// `zmq_poll` (other sockets: 0, unless `spin_us` says otherwise).
const LOCKSTEP_SPIN: std::time::Duration = std::time::Duration::from_micros(50);
/// Longest sleep in `zmq_poll`, so that a stop request is seen.
const TICK_MS: i64 = 100;

/// The process's ZeroMQ context (one, so that `inproc://` works between endpoints).
pub fn context() -> &'static zmq::Context {
    static CONTEXT: OnceLock<zmq::Context> = OnceLock::new();
    CONTEXT.get_or_init(zmq::Context::new)
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

struct Shared {
    stop: AtomicBool,
    /// Every wire into `in` has ended (their producers stopped for good).
    inputs_ended: AtomicBool,
}

/// Wakes the socket thread out of `zmq_poll` by writing to its wake socket.
/// Queues call it only when they go from empty to non-empty.
struct WakeSignal(Mutex<zmq::Socket>);

impl std::task::Wake for WakeSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let _ = self.0.lock().send(&[0u8][..], zmq::DONTWAIT);
    }
}

/// A running socket thread.
pub(crate) struct SocketIo {
    outbound: Queue<Frames>,
    control: Queue<Subscription>,
    shared: Arc<Shared>,
    wake: Arc<WakeSignal>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIo")
            .field("outbound", &self.outbound.len())
            .finish()
    }
}

fn failed(action: &str, what: &str, e: zmq::Error) -> String {
    format!("{action} {what}: {e}")
}

/// Creates, configures, binds and connects the socket.
fn open(kind: zmq::SocketType, p: &Params, actor: &str) -> Result<zmq::Socket, String> {
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
fn attach(s: &zmq::Socket, p: &Params) -> Result<(), String> {
    for ep in &p.bind {
        s.bind(ep).map_err(|e| failed("binding", ep, e))?;
    }
    for ep in &p.connect {
        s.connect(ep).map_err(|e| failed("connecting to", ep, e))?;
    }
    Ok(())
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
    ) -> Result<Self, String> {
        let socket = open(kind, params, &wiring.actor)?;
        let id = unique();
        let wake_ep = format!("inproc://rolecall-wake-{id}");
        let wake_rx = context()
            .socket(zmq::PAIR)
            .map_err(|e| failed("creating", "the wake socket", e))?;
        wake_rx
            .bind(&wake_ep)
            .map_err(|e| failed("binding", &wake_ep, e))?;
        let wake_tx = context()
            .socket(zmq::PAIR)
            .map_err(|e| failed("creating", "the wake socket", e))?;
        wake_tx
            .connect(&wake_ep)
            .map_err(|e| failed("connecting to", &wake_ep, e))?;
        let monitor = match wiring.monitor.is_some() {
            false => None,
            true => {
                let mon_ep = format!("inproc://rolecall-monitor-{id}");
                socket
                    .monitor(&mon_ep, zmq::SocketEvent::ALL as i32)
                    .map_err(|e| failed("monitoring", "the socket", e))?;
                let m = context()
                    .socket(zmq::PAIR)
                    .map_err(|e| failed("creating", "the monitor socket", e))?;
                m.connect(&mon_ep)
                    .map_err(|e| failed("connecting to", &mon_ep, e))?;
                Some(m)
            }
        };
        attach(&socket, params)?;
        let outbound = Queue::new(params.send_queue.max(1), Policy::Block);
        outbound.add_sender();
        let control = Queue::new(64, Policy::Block);
        control.add_sender();
        if wiring.subscriptions_as_messages {
            for prefix in &params.subscribe {
                let _ = control.try_push(Subscription::Subscribe(prefix.as_bytes().to_vec()));
            }
        }
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            inputs_ended: AtomicBool::new(false),
        });
        let wake = Arc::new(WakeSignal(Mutex::new(wake_tx)));
        let waker = std::task::Waker::from(Arc::clone(&wake));
        let wired = !inputs.is_empty();
        let mut queues = inputs;
        queues.push(outbound.clone());
        let thread = std::thread::Builder::new()
            .name(format!("rc-zmq {}", wiring.actor))
            .spawn({
                let ctx = Loop {
                    socket,
                    wake_rx,
                    monitor,
                    inputs: queues,
                    wired,
                    next_input: 0,
                    waker,
                    control: control.clone(),
                    shared: Arc::clone(&shared),
                    wiring,
                    pending: None,
                    lockstep: Lockstep::of(kind),
                    subscriptions: Default::default(),
                    resend_until: std::time::Instant::now() + RESEND_FOR,
                    last_resend: std::time::Instant::now(),
                    spin: match params.spin_us {
                        Some(us) => std::time::Duration::from_micros(us),
                        None if Lockstep::of(kind) != Lockstep::Free => LOCKSTEP_SPIN,
                        None => std::time::Duration::ZERO,
                    },
                    batch: VecDeque::with_capacity(BATCH),
                };
                move || ctx.run()
            })
            .map_err(|e| format!("starting the socket thread: {e}"))?;
        Ok(SocketIo {
            outbound,
            control,
            shared,
            wake,
            thread: Some(thread),
        })
    }

    /// The queue the endpoint actor sends into.
    pub(crate) fn outbound(&self) -> &Queue<Frames> {
        &self.outbound
    }

    /// Queues a subscription change.
    pub(crate) fn subscription(&self, s: Subscription) {
        let _ = self.control.push_blocking(s, None);
    }

    /// True once every wire into `in` has ended.
    pub(crate) fn inputs_ended(&self) -> bool {
        self.shared.inputs_ended.load(Ordering::SeqCst)
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        std::task::Wake::wake_by_ref(&self.wake);
        self.outbound.remove_sender();
        self.control.remove_sender();
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("zmq socket thread panicked");
            }
        }
    }
}

impl Drop for SocketIo {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The send/receive alternation of REQ and REP sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lockstep {
    /// Any order (every other socket type).
    Free,
    /// The next operation must be a send.
    Send,
    /// The next operation must be a receive.
    Receive,
}

impl Lockstep {
    fn of(kind: zmq::SocketType) -> Self {
        match kind {
            zmq::REQ => Lockstep::Send,
            zmq::REP => Lockstep::Receive,
            _ => Lockstep::Free,
        }
    }
    fn may_send(self) -> bool {
        self != Lockstep::Receive
    }
    fn may_receive(self) -> bool {
        self != Lockstep::Send
    }
    fn after_send(self) -> Self {
        if self == Lockstep::Free {
            self
        } else {
            Lockstep::Receive
        }
    }
    fn after_receive(self) -> Self {
        if self == Lockstep::Free {
            self
        } else {
            Lockstep::Send
        }
    }
}

struct Loop {
    socket: zmq::Socket,
    wake_rx: zmq::Socket,
    monitor: Option<zmq::Socket>,
    /// The wires into `in`, then the queue of messages sent through the
    /// endpoint actor itself; drained round-robin.
    inputs: Vec<Queue<Frames>>,
    /// Whether any wire leads into `in` (then its end stops the endpoint).
    wired: bool,
    next_input: usize,
    /// Registered with empty queues, so a producer's push wakes the thread.
    waker: std::task::Waker,
    control: Queue<Subscription>,
    shared: Arc<Shared>,
    wiring: Wiring,
    /// A message the socket would not take yet (high-water mark, or a REQ
    /// still waiting for its reply).
    pending: Option<Frames>,
    /// REQ and REP alternate strictly: which way the next message goes.
    lockstep: Lockstep,
    /// Busy-poll this long before sleeping.
    spin: std::time::Duration,
    /// XSUB: the subscriptions in force, re-sent while connections are still
    /// being set up (libzmq can lose one sent to a pipe mid-setup; XPUB drops
    /// the duplicates).
    subscriptions: std::collections::BTreeSet<Vec<u8>>,
    /// Until when XSUB subscriptions are re-sent.
    resend_until: std::time::Instant,
    last_resend: std::time::Instant,
    batch: VecDeque<Frames>,
}

impl Loop {
    fn run(mut self) {
        let receives = self.wiring.out.is_some();
        loop {
            let stopping = self.shared.stop.load(Ordering::SeqCst);
            self.apply_control();
            self.resend_subscriptions();
            let sent_all = self.send_some();
            if stopping {
                // Hand everything still queued to libzmq; linger decides its fate.
                while !self.send_some() && self.pending.is_none() {}
                return;
            }
            let received = receives && self.receive_some();
            self.read_monitor();
            if received {
                continue;
            }
            let blocked_on_socket = !sent_all && self.lockstep.may_send();
            self.wait(receives && self.lockstep.may_receive(), blocked_on_socket);
        }
    }

    /// Sleeps in `zmq_poll` until the socket, the wake socket or the monitor
    /// has something (or a tick passes).
    fn wait(&mut self, receives: bool, want_out: bool) {
        let mut events = zmq::PollEvents::empty();
        if receives {
            events |= zmq::POLLIN;
        }
        if want_out {
            events |= zmq::POLLOUT;
        }
        let mut items = vec![
            self.wake_rx.as_poll_item(zmq::POLLIN),
            self.socket.as_poll_item(events),
        ];
        if let Some(m) = &self.monitor {
            items.push(m.as_poll_item(zmq::POLLIN));
        }
        // Spin briefly before sleeping: a reply usually follows a request within
        // tens of microseconds, and a futex wake-up costs about as much.
        let spin_until = std::time::Instant::now() + self.spin;
        let mut ready = 0;
        while ready == 0 && std::time::Instant::now() < spin_until {
            ready = zmq::poll(&mut items, 0).unwrap_or(0);
            if ready == 0 {
                std::thread::yield_now();
            }
        }
        if ready == 0 {
            let _ = zmq::poll(&mut items, TICK_MS);
        }
        while self.wake_rx.recv_bytes(zmq::DONTWAIT).is_ok() {}
    }

    fn resend_subscriptions(&mut self) {
        let now = std::time::Instant::now();
        if !self.wiring.subscriptions_as_messages
            || now > self.resend_until
            || now - self.last_resend < RESEND_EVERY
        {
            return;
        }
        self.last_resend = now;
        for p in &self.subscriptions {
            let _ = self.socket.send([&[1u8][..], p].concat(), zmq::DONTWAIT);
        }
    }

    fn apply_control(&mut self) {
        let mut buf = VecDeque::new();
        if let Popped::Items(n) = self.control.pop_batch(&mut buf, 64, Some(&self.waker)) {
            for s in buf.drain(..) {
                if self.wiring.subscriptions_as_messages {
                    match &s {
                        Subscription::Subscribe(p) => self.subscriptions.insert(p.clone()),
                        Subscription::Unsubscribe(p) => self.subscriptions.remove(p),
                    };
                }
                let result = match (&s, self.wiring.subscriptions_as_messages) {
                    (Subscription::Subscribe(p), false) => self.socket.set_subscribe(p),
                    (Subscription::Unsubscribe(p), false) => self.socket.set_unsubscribe(p),
                    (Subscription::Subscribe(p), true) => {
                        self.socket.send([&[1u8][..], p].concat(), 0)
                    }
                    (Subscription::Unsubscribe(p), true) => {
                        self.socket.send([&[0u8][..], p].concat(), 0)
                    }
                };
                if let Err(e) = result {
                    tracing::warn!(actor = %self.wiring.actor, error = %e, "subscription change failed");
                }
            }
            self.control.settle(n, &mut VecDeque::new());
        }
    }

    /// Sends queued messages until the queue is empty (true) or the socket is
    /// full (false, with the message kept in `pending`).
    fn send_some(&mut self) -> bool {
        for _ in 0..BATCH {
            if !self.lockstep.may_send() {
                // REQ awaiting its reply (or REP its request): nothing to do yet.
                return true;
            }
            let msg = match self.pending.take() {
                Some(m) => m,
                None => match self.batch.pop_front() {
                    Some(m) => m,
                    None => {
                        if self.refill() {
                            continue;
                        }
                        return true;
                    }
                },
            };
            match self.socket.send_multipart(msg.0.iter(), zmq::DONTWAIT) {
                Ok(()) => self.lockstep = self.lockstep.after_send(),
                Err(zmq::Error::EAGAIN) => {
                    self.pending = Some(msg);
                    return false;
                }
                Err(e) => {
                    tracing::warn!(actor = %self.wiring.actor, error = %e, frames = msg.0.len(), "send failed; message dropped")
                }
            }
        }
        self.batch.is_empty() && self.pending.is_none()
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

    /// Receives what is available; true if anything was.
    fn receive_some(&mut self) -> bool {
        let Some(out) = &self.wiring.out else {
            return false;
        };
        let mut received = VecDeque::new();
        for _ in 0..BATCH {
            if !self.lockstep.may_receive() {
                break;
            }
            match self.socket.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => {
                    self.lockstep = self.lockstep.after_receive();
                    received.push_back(Frames(frames));
                }
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EFSM) => break,
                Err(e) => {
                    tracing::warn!(actor = %self.wiring.actor, error = %e, "receive failed");
                    break;
                }
            }
        }
        let any = !received.is_empty();
        // One lock per batch; blocks while the wired consumers are full.
        out.send_all_blocking(&mut received);
        any
    }

    fn read_monitor(&mut self) {
        let (Some(m), Some(out)) = (&self.monitor, &self.wiring.monitor) else {
            return;
        };
        while let Ok(parts) = m.recv_multipart(zmq::DONTWAIT) {
            let Some(head) = parts.first().filter(|h| h.len() >= 6) else {
                continue;
            };
            let raw = u16::from_le_bytes([head[0], head[1]]);
            let value = u32::from_le_bytes([head[2], head[3], head[4], head[5]]);
            let endpoint = parts
                .get(1)
                .map(|e| String::from_utf8_lossy(e).into_owned())
                .unwrap_or_default();
            let event = SocketEvent {
                actor: self.wiring.actor.clone(),
                kind: EventKind::from_raw(raw),
                endpoint,
                value,
            };
            // Monitoring never holds up the socket: a full monitor wire drops (counted).
            let _ = out.try_send(event);
        }
    }
}
