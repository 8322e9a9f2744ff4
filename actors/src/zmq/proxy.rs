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
//! Without inspection a message goes from one socket to the other inside the
//! thread, with no actor hop. Backpressure: when the receiving socket will not
//! take a message (high-water mark) the thread stops reading the other one
//! until it does; `capture` and the inspection ports are wires whose policy
//! applies (`block` waits).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix::prelude::*;
use parking_lot::Mutex;
use rolecall_runtime::kind::{CreateError, Io, ParamCheck, Ports, Role};
use rolecall_runtime::remote::{close_monitored, MONITOR_CLOSE};
use rolecall_runtime::wire::{Output, Popped, PushError, Queue};
use serde::Deserialize;

use super::io::{attach, monitor_event, monitor_socket, open};
use super::message::{Frames, SocketEvent};
use super::params::Params;

/// Messages moved per socket and loop turn before polling again.
const BATCH: usize = 256;
/// Longest sleep in `zmq_poll`, so that a stop request is seen.
const TICK_MS: i64 = 100;

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

/// Wakes the device thread out of `zmq_poll` when a `to_*` wire gets a message.
struct WakeSignal(Mutex<zmq::Socket>);

impl std::task::Wake for WakeSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let _ = self.0.lock().send(&[0u8][..], zmq::DONTWAIT);
    }
}

fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The device as an actor; its thread does all the work.
pub struct Proxy {
    stop: Arc<AtomicBool>,
    wake: Arc<WakeSignal>,
    thread: Option<JoinHandle<()>>,
    /// The context's ZAP handler, kept by CURVE server sides.
    _zap: Vec<Arc<rolecall_runtime::remote::Zap>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").finish()
    }
}

impl Actor for Proxy {
    type Context = Context<Self>;
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        std::task::Wake::wake_by_ref(&self.wake);
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("zmq proxy thread panicked");
            }
        }
    }
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
        let actor = io.actor_name().to_owned();
        let (front_kind, back_kind) = p.mode.sockets();
        let ctx = io.zmq().clone();
        let front =
            open(&ctx, front_kind, &p.frontend, &actor).map_err(|e| format!("frontend: {e}"))?;
        let back =
            open(&ctx, back_kind, &p.backend, &actor).map_err(|e| format!("backend: {e}"))?;
        // CURVE server sides keep their context's ZAP handler.
        let zap = front.zap.into_iter().chain(back.zap).collect();
        let (front, back) = (front.socket, back.socket);
        // Monitors first, so that they see the binds and connects.
        let monitor = |socket: &zmq::Socket, params: &Params, name: &str| {
            params
                .monitor
                .then(|| monitor_socket(&ctx, socket).map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
        let front_monitor = monitor(&front, &p.frontend, "frontend")?;
        let back_monitor = monitor(&back, &p.backend, "backend")?;
        attach(&front, &p.frontend).map_err(|e| format!("frontend: {e}"))?;
        attach(&back, &p.backend).map_err(|e| format!("backend: {e}"))?;
        let wake_ep = format!("inproc://rolecall-proxy-wake-{}", unique());
        let wake_rx = ctx.socket(zmq::PAIR).map_err(|e| e.to_string())?;
        wake_rx.bind(&wake_ep).map_err(|e| e.to_string())?;
        let wake_tx = ctx.socket(zmq::PAIR).map_err(|e| e.to_string())?;
        wake_tx.connect(&wake_ep).map_err(|e| e.to_string())?;
        let wake = Arc::new(WakeSignal(Mutex::new(wake_tx)));
        let stop = Arc::new(AtomicBool::new(false));
        let inspect_back = p.inspect == Inspect::Both;
        let inspect_front = p.inspect != Inspect::None;
        let device = Device {
            actor: actor.clone(),
            sides: [
                Side {
                    name: "frontend",
                    socket: front,
                    monitor: front_monitor,
                    receives: true,
                    inspected: inspect_front,
                    out: io.output("from_frontend")?,
                    inputs: io.direct_input("to_frontend"),
                    next_input: 0,
                    pending: None,
                },
                Side {
                    name: "backend",
                    socket: back,
                    monitor: back_monitor,
                    receives: p.mode.two_way(),
                    inspected: inspect_back,
                    out: io.output("from_backend")?,
                    inputs: io.direct_input("to_backend"),
                    next_input: 0,
                    pending: None,
                },
            ],
            capture: io.output("capture")?,
            monitor_out: io.output("monitor")?,
            wake_rx,
            waker: std::task::Waker::from(Arc::clone(&wake)),
            stop: Arc::clone(&stop),
        };
        let thread = std::thread::Builder::new()
            .name(format!("rc-proxy {actor}"))
            .spawn(move || device.run())
            .map_err(|e| format!("starting the proxy thread: {e}"))?;
        Ok(Proxy {
            stop,
            wake,
            thread: Some(thread),
            _zap: zap,
        })
    }
}

/// One of the device's two sockets.
struct Side {
    name: &'static str,
    socket: zmq::Socket,
    /// A PAIR reading libzmq's monitor of `socket`, when monitored.
    monitor: Option<zmq::Socket>,
    /// Whether it is read (not a PUSH).
    receives: bool,
    /// Whether what it receives goes to `out` instead of the other socket.
    inspected: bool,
    out: Output<Frames>,
    /// Wires of messages to send on this socket.
    inputs: Vec<Queue<Frames>>,
    next_input: usize,
    /// A message this socket would not take yet.
    pending: Option<Vec<Vec<u8>>>,
}

impl Side {
    /// Sends `frames`; false (and kept in `pending`) when the socket is full.
    fn send(&mut self, frames: Vec<Vec<u8>>, actor: &str) -> bool {
        match self.socket.send_multipart(frames.iter(), zmq::DONTWAIT) {
            Ok(()) => true,
            Err(zmq::Error::EAGAIN) => {
                self.pending = Some(frames);
                false
            }
            Err(e) => {
                tracing::warn!(actor, socket = self.name, error = %e, "send failed; message dropped");
                true
            }
        }
    }

    /// Retries the pending message; true when nothing is pending any more.
    fn flush(&mut self, actor: &str) -> bool {
        match self.pending.take() {
            Some(f) => self.send(f, actor),
            None => true,
        }
    }

    /// Sends what the `to_*` wires hold; true if anything moved.
    fn drain_inputs(&mut self, waker: &std::task::Waker, actor: &str) -> bool {
        let mut moved = false;
        let mut batch = VecDeque::new();
        let n = self.inputs.len();
        for k in 0..n {
            if self.pending.is_some() {
                break;
            }
            let i = (self.next_input + k) % n;
            if let Popped::Items(_) = self.inputs[i].pop_batch(&mut batch, BATCH, Some(waker)) {
                let mut handled = 0;
                while let Some(m) = batch.pop_front() {
                    handled += 1;
                    if !self.send(m.0, actor) {
                        break;
                    }
                }
                // The message kept in `pending` counts as handled; the rest go back.
                self.inputs[i].settle(handled, &mut batch);
                self.next_input = (i + 1) % n;
                moved = true;
            }
        }
        moved
    }
}

struct Device {
    actor: String,
    sides: [Side; 2],
    capture: Output<Frames>,
    monitor_out: Output<SocketEvent>,
    wake_rx: zmq::Socket,
    waker: std::task::Waker,
    stop: Arc<AtomicBool>,
}

impl Device {
    fn run(mut self) {
        loop {
            let stopping = self.stop.load(Ordering::SeqCst);
            let mut moved = false;
            for s in &mut self.sides {
                s.flush(&self.actor);
                moved |= s.drain_inputs(&self.waker, &self.actor);
            }
            if stopping {
                // Hand what is pending to libzmq; linger decides its fate.
                self.close();
                return;
            }
            moved |= self.pump(0);
            moved |= self.pump(1);
            moved |= self.read_monitors();
            if !moved {
                self.wait();
            }
        }
    }

    /// Moves a batch received on side `from` on to the other side (or to the
    /// inspection port); true if anything was received.
    fn pump(&mut self, from: usize) -> bool {
        let (src, dst) = match from {
            0 => {
                let [a, b] = &mut self.sides;
                (a, b)
            }
            _ => {
                let [a, b] = &mut self.sides;
                (b, a)
            }
        };
        if !src.receives || (!src.inspected && dst.pending.is_some()) {
            return false;
        }
        let mut inspected = VecDeque::new();
        let mut captured = VecDeque::new();
        let capture = self.capture.is_connected();
        let mut any = false;
        for _ in 0..BATCH {
            let frames = match src.socket.recv_multipart(zmq::DONTWAIT) {
                Ok(f) => f,
                Err(zmq::Error::EAGAIN) => break,
                Err(e) => {
                    tracing::warn!(actor = %self.actor, socket = src.name, error = %e, "receive failed");
                    break;
                }
            };
            any = true;
            if capture {
                captured.push_back(Frames(frames.clone()));
            }
            if src.inspected {
                inspected.push_back(Frames(frames));
            } else if !dst.send(frames, &self.actor) {
                break;
            }
        }
        let out = src.out.clone();
        let capture = self.capture.clone();
        self.deliver(&capture, captured);
        self.deliver(&out, inspected);
        any
    }

    /// Closes both sockets; a monitored one first, its monitor read until
    /// libzmq reports it stopped (`rolecall_runtime::remote::close_monitored`
    /// says why), the last events still going out on `monitor`.
    fn close(self) {
        let Device {
            actor,
            sides,
            monitor_out,
            ..
        } = self;
        for side in sides {
            // An unmonitored socket is simply dropped.
            if let Some(monitor) = side.monitor {
                close_monitored(side.socket, monitor, MONITOR_CLOSE, |parts| {
                    if let Some(event) = monitor_event(&actor, side.name, &parts) {
                        let _ = monitor_out.try_send(event);
                    }
                });
            }
        }
    }

    /// Passes on the monitor events that have arrived; true if any did.
    fn read_monitors(&mut self) -> bool {
        let mut any = false;
        for side in &self.sides {
            let Some(monitor) = &side.monitor else {
                continue;
            };
            for _ in 0..BATCH {
                let Ok(parts) = monitor.recv_multipart(zmq::DONTWAIT) else {
                    break;
                };
                any = true;
                if let Some(event) = monitor_event(&self.actor, side.name, &parts) {
                    // Monitoring never holds up the device: a full wire drops (counted).
                    let _ = self.monitor_out.try_send(event);
                }
            }
        }
        any
    }

    /// Sends `msgs` to every wire of `out` in order, waiting while a `block`
    /// wire is full — and meanwhile draining the `to_*` wires, because the
    /// actor that empties `out` may itself be waiting for room there.
    fn deliver(&mut self, out: &Output<Frames>, msgs: VecDeque<Frames>) {
        let Some((last, rest)) = out.wires().split_last() else {
            return;
        };
        for m in msgs {
            for wire in rest {
                self.push_one(wire, m.clone());
            }
            self.push_one(last, m);
        }
    }

    fn push_one(&mut self, wire: &Queue<Frames>, msg: Frames) {
        let mut msg = msg;
        loop {
            let deadline = Instant::now() + Duration::from_millis(1);
            match wire.push_blocking(msg, Some(deadline)) {
                Ok(_) | Err(PushError::Closed(_)) => return,
                Err(PushError::Full(back)) => {
                    msg = back;
                    for s in &mut self.sides {
                        s.flush(&self.actor);
                        s.drain_inputs(&self.waker, &self.actor);
                    }
                    if self.stop.load(Ordering::SeqCst) {
                        tracing::debug!(actor = %self.actor, "stopping: a message waiting for room dropped");
                        return;
                    }
                }
            }
        }
    }

    /// Sleeps until a socket can be read (or written, when a message is
    /// pending), a `to_*` wire has a message, a monitor has an event, or a
    /// tick passes.
    fn wait(&mut self) {
        let [front, back] = &self.sides;
        let events = |me: &Side, other: &Side| {
            let mut e = zmq::PollEvents::empty();
            if me.receives && (me.inspected || other.pending.is_none()) {
                e |= zmq::POLLIN;
            }
            if me.pending.is_some() {
                e |= zmq::POLLOUT;
            }
            e
        };
        let mut items = vec![
            self.wake_rx.as_poll_item(zmq::POLLIN),
            front.socket.as_poll_item(events(front, back)),
            back.socket.as_poll_item(events(back, front)),
        ];
        items.extend(
            self.sides
                .iter()
                .filter_map(|side| side.monitor.as_ref())
                .map(|m| m.as_poll_item(zmq::POLLIN)),
        );
        let _ = zmq::poll(&mut items, TICK_MS);
        while self.wake_rx.recv_bytes(zmq::DONTWAIT).is_ok() {}
    }
}
