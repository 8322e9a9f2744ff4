//! The socket thread's loop: drains the input wires into the socket, hands
//! received messages to the output, applies subscription changes, reads the
//! monitor, and sleeps only when there is nothing to do (see [`super::socket`]).

use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::limit::{LogLimiter, Verdict};
use super::link::RemoteStats;
use super::lockstep::Lockstep;
use super::socket::{Control, Decoded, Framing, MonitorSink, Shared};
use super::wake::{WakeSignal, AWAKE, PARKED, POLLING};
use crate::wire::{Output, Policy, Popped, PushError, Queue};

/// Messages sent or received per loop turn before polling again.
pub(super) const BATCH: usize = 256;
/// How long after start an XSUB re-sends its subscriptions, and how often.
pub(super) const RESEND_FOR: Duration = Duration::from_secs(3);
pub(super) const RESEND_EVERY: Duration = Duration::from_millis(200);
/// Longest sleep in `zmq_poll`, so that a stop request is seen.
pub(super) const TICK_MS: i64 = 100;

pub(super) struct Loop<T> {
    pub(super) socket: zmq::Socket,
    pub(super) wake_rx: zmq::Socket,
    pub(super) monitor: Option<zmq::Socket>,
    pub(super) monitor_sink: Option<MonitorSink>,
    pub(super) framing: Arc<dyn Framing<T>>,
    /// The input wires, then the thread's own outbound queue; drained round-robin.
    pub(super) inputs: Vec<Queue<T>>,
    /// Whether any input wire was given (then their end counts).
    pub(super) wired: bool,
    pub(super) next_input: usize,
    /// Registered with empty queues, so a producer's push wakes the thread.
    pub(super) waker: std::task::Waker,
    pub(super) wake: Arc<WakeSignal>,
    pub(super) control: Queue<Control>,
    pub(super) shared: Arc<Shared>,
    pub(super) stats: Arc<RemoteStats>,
    pub(super) label: String,
    pub(super) out: Option<Output<T>>,
    /// XSUB: subscriptions are messages.
    pub(super) xsub: bool,
    /// Frames the socket would not take yet (high-water mark, or a REQ
    /// still waiting for its reply).
    pub(super) pending: Option<Vec<Bytes>>,
    /// The frames of the message being sent (their buffers are reused).
    pub(super) scratch: Vec<Bytes>,
    /// The parts of the message being received (reused).
    pub(super) parts: Vec<zmq::Message>,
    /// REQ and REP alternate strictly: which way the next message goes.
    pub(super) lockstep: Lockstep,
    /// Busy-poll this long before sleeping.
    pub(super) spin: Duration,
    /// XSUB: the subscriptions in force, re-sent while connections are still
    /// being set up (libzmq can lose one sent to a pipe mid-setup; XPUB drops
    /// the duplicates), each with how many subscribe messages libzmq took:
    /// XSUB counts references per prefix and passes an unsubscribe upstream
    /// only when the count drops to zero, so an unsubscription is sent that
    /// many times.
    pub(super) subscriptions: BTreeMap<Vec<u8>, u32>,
    pub(super) resend_until: Instant,
    pub(super) last_resend: Instant,
    pub(super) batch: VecDeque<T>,
    /// Received messages on their way to the output (kept for its capacity).
    pub(super) inbox: VecDeque<T>,
    /// The end-of-stream frames are pending: finish once they are sent.
    pub(super) ending: bool,
    /// Set once [`Shared::finish`] is seen: until when the thread keeps
    /// trying to hand queued messages to the socket (`None`: forever, a
    /// linger of -1).
    pub(super) finishing: Option<Option<Instant>>,
    /// Undecodable received messages: the first few logged in full, then counted.
    pub(super) bad_log: LogLimiter,
    /// Unencodable outbound messages, likewise.
    pub(super) encode_log: LogLimiter,
    /// The context was terminated (`ETERM`) while the socket was open.
    pub(super) context_gone: bool,
    /// Read the socket only while this queue has room for what is read (a
    /// device's queue into its other socket).
    pub(super) paced_by: Option<Queue<T>>,
}

impl<T: Clone + Send + 'static> Loop<T> {
    pub(super) fn run(mut self) {
        self.serve();
        self.report_quiet(None);
        self.close();
    }

    /// Logs how many bad frames went unlogged, once their interval has
    /// passed (`None`: whatever is left, at close).
    fn report_quiet(&mut self, now: Option<Instant>) {
        let (bad, unencodable) = match now {
            Some(now) => (self.bad_log.due(now), self.encode_log.due(now)),
            None => (self.bad_log.take(), self.encode_log.take()),
        };
        if let Some(n) = bad {
            tracing::warn!(
                socket = %self.label,
                more = n,
                bad = self.bad_log.seen(),
                "undecodable messages skipped (not logged one by one)"
            );
        }
        if let Some(n) = unencodable {
            tracing::warn!(
                socket = %self.label,
                more = n,
                bad = self.encode_log.seen(),
                "unencodable messages skipped (not logged one by one)"
            );
        }
    }

    /// Notes when every input wire's producers are gone (their messages may
    /// still be queued).
    fn see_producers_gone(&self) {
        if !self.wired || self.shared.producers_gone.load(Ordering::Relaxed) {
            return;
        }
        let wires = &self.inputs[..self.inputs.len() - 1];
        if wires.iter().all(Queue::senders_gone) {
            self.shared.producers_gone.store(true, Ordering::SeqCst);
        }
    }

    /// Messages taken from the queues or still in them, not yet handed to libzmq.
    fn unsent(&self) -> usize {
        usize::from(self.pending.is_some())
            + self.batch.len()
            + self.inputs.iter().map(Queue::len).sum::<usize>()
    }

    /// Counts what is still unsent as dropped, with one WARN saying why.
    fn give_up(&mut self, why: &str) {
        let n = self.unsent();
        if n == 0 {
            return;
        }
        self.stats.dropped.fetch_add(n as u64, Ordering::Relaxed);
        tracing::warn!(socket = %self.label, unsent = n, "{why}: messages not handed to the socket were dropped");
    }

    /// A finish was asked for: returns true once the thread should close
    /// (everything handed to libzmq, or the deadline passed), setting the
    /// socket's linger to what is left of the deadline.
    fn finished(&mut self) -> bool {
        if !self.shared.finish.load(Ordering::SeqCst) {
            return false;
        }
        let deadline = *self.finishing.get_or_insert_with(|| {
            let linger = self.socket.get_linger().unwrap_or(0);
            u64::try_from(linger)
                .ok()
                .map(|ms| Instant::now() + Duration::from_millis(ms))
        });
        let Some(deadline) = deadline else {
            // Linger -1: wait for the peer for as long as it takes.
            return self.unsent() == 0;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if self.unsent() == 0 {
            let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
            let _ = self.socket.set_linger(ms);
            return true;
        }
        if left.is_zero() {
            self.give_up("linger passed before the peers took everything (what the socket still holds is discarded too)");
            let _ = self.socket.set_linger(0);
            return true;
        }
        false
    }

    /// Closes the socket; a monitored one first, its monitor read to the end
    /// (see [`super::monitor`]).
    fn close(self) {
        self.wake.socket.lock().take();
        // A SUB or PULL holds nothing of the user's to deliver (a SUB only its
        // subscriptions): no linger, so that terminating the context does not
        // wait for a publisher that is gone.
        if matches!(self.socket.get_socket_type(), Ok(zmq::SUB | zmq::PULL)) {
            let _ = self.socket.set_linger(0);
        }
        let Loop {
            socket,
            monitor,
            monitor_sink,
            ..
        } = self;
        if let Some(monitor) = monitor {
            let mut sink = monitor_sink;
            super::monitor::close_monitored(socket, monitor, super::MONITOR_CLOSE, |parts| {
                if let Some(sink) = &mut sink {
                    sink(parts);
                }
            });
        }
    }

    fn serve(&mut self) {
        loop {
            match self.turn(&mut || {}) {
                Turn::Busy => {}
                Turn::Idle { receives, want_out } => self.wait(receives, want_out),
                Turn::Done => return,
            }
        }
    }

    /// One turn of the loop: sends, receives and reads the monitor as far as
    /// each can go without waiting (but waiting for room on the output, and
    /// calling `meanwhile` while it does: see [`Loop::push_one`]).
    fn turn(&mut self, meanwhile: &mut dyn FnMut()) -> Turn {
        if self.context_gone {
            // Terminating the context waits for this socket: close it.
            self.give_up("the ZeroMQ context was terminated");
            return Turn::Done;
        }
        let stopping = self.shared.stop.load(Ordering::SeqCst);
        self.apply_control();
        self.resend_subscriptions();
        self.report_quiet(Some(Instant::now()));
        self.see_producers_gone();
        let sent = self.send_some();
        let sent_all = sent == Sending::Idle;
        if sent_all && self.ending {
            tracing::debug!(socket = %self.label, "end of stream sent");
            return Turn::Done;
        }
        if sent_all && !self.ending && self.shared.inputs_ended.load(Ordering::SeqCst) {
            if let Some(end) = self.framing.end_of_stream() {
                self.pending = Some(end);
                self.ending = true;
                return Turn::Busy;
            }
        }
        if stopping {
            // Hand everything still queued to libzmq; linger decides its fate.
            while self.send_some() == Sending::More {}
            self.give_up("stopped with the socket full");
            return Turn::Done;
        }
        if self.finished() {
            return Turn::Done;
        }
        let received = match self.receive_some(meanwhile) {
            Received::Ended => return Turn::Done,
            Received::Some => true,
            Received::None => false,
        };
        self.read_monitor();
        if received || sent == Sending::More {
            return Turn::Busy;
        }
        Turn::Idle {
            receives: self.out.is_some() && self.lockstep.may_receive() && self.room() > 0,
            want_out: sent == Sending::Blocked && self.lockstep.may_send(),
        }
    }

    /// How many messages the socket may be read for now: a batch, or less
    /// when the output is paced by a queue with less room (see
    /// [`Builder::paced_by`](super::Builder::paced_by)).
    fn room(&self) -> usize {
        match &self.paced_by {
            Some(q) => BATCH.min(q.capacity().saturating_sub(q.len())),
            None => BATCH,
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
                let tick = Duration::from_millis(TICK_MS as u64);
                let parked = Instant::now();
                std::thread::park_timeout(tick);
                // A whole tick without work: see whether the context was
                // terminated (its termination waits for this socket).
                if parked.elapsed() >= tick {
                    if let Err(zmq::Error::ETERM) = self.socket.get_events() {
                        self.context_gone = true;
                    }
                }
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
            if let Err(zmq::Error::ETERM) = zmq::poll(&mut items, TICK_MS) {
                self.context_gone = true;
            }
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
            self.control.trace_taken(n);
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
                        if self.encode_log.event(Instant::now()) == Verdict::Log {
                            tracing::warn!(socket = %self.label, %reason, bad, "message not encodable; skipped");
                        }
                        continue;
                    }
                }
            }
            match self
                .socket
                // As slices: one copy each into a ZeroMQ message (no
                // intermediate vector, no buffer freed by libzmq's thread).
                .send_multipart(self.scratch.iter().map(|f| &f[..]), zmq::DONTWAIT)
            {
                Ok(()) => {
                    self.lockstep = self.lockstep.after_send();
                    self.stats.messages.fetch_add(1, Ordering::Relaxed);
                }
                Err(zmq::Error::EAGAIN) => {
                    self.pending = Some(std::mem::take(&mut self.scratch));
                    return Sending::Blocked;
                }
                Err(zmq::Error::ETERM) => {
                    self.pending = Some(std::mem::take(&mut self.scratch));
                    self.context_gone = true;
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
                    self.inputs[i].trace_taken(taken);
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

    /// Receives what is available (as much as [`Loop::room`] allows) and
    /// hands it on.
    fn receive_some(&mut self, meanwhile: &mut dyn FnMut()) -> Received {
        if self.out.is_none() {
            return Received::None;
        }
        let mut received = std::mem::take(&mut self.inbox);
        let mut ended = false;
        for _ in 0..self.room() {
            if !self.lockstep.may_receive() {
                break;
            }
            match super::socket::recv_parts(&self.socket, &mut self.parts) {
                Ok(n) => {
                    self.lockstep = self.lockstep.after_receive();
                    match self.framing.decode(&mut self.parts[..n]) {
                        Decoded::Message(m) => received.push_back(m),
                        Decoded::End => {
                            tracing::debug!(socket = %self.label, "end of stream received");
                            ended = true;
                            break;
                        }
                        Decoded::Bad(reason) => {
                            let bad = self.stats.bad_frames.fetch_add(1, Ordering::Relaxed) + 1;
                            if self.bad_log.event(Instant::now()) == Verdict::Log {
                                let peer = self.parts[0].gets("Peer-Address").unwrap_or("?");
                                tracing::warn!(socket = %self.label, %peer, %reason, bad, "undecodable message skipped");
                            }
                        }
                    }
                }
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EFSM) => break,
                Err(zmq::Error::ETERM) => {
                    self.context_gone = true;
                    break;
                }
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
            self.deliver(&out, &mut received, meanwhile);
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
    /// input of this same thread (a responder between a ROUTER's `out` and
    /// `in`), and calls `meanwhile` (a device's other socket sends too).
    fn deliver(&mut self, out: &Output<T>, msgs: &mut VecDeque<T>, meanwhile: &mut dyn FnMut()) {
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
                self.push_one(wire, m.clone(), meanwhile);
            }
            self.push_one(last, m, meanwhile);
        }
    }

    fn push_one(&mut self, wire: &Queue<T>, msg: T, meanwhile: &mut dyn FnMut()) {
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
                    meanwhile();
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

/// What one [`Loop::turn`] left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// There may be more at once: turn again.
    Busy,
    /// Nothing until the socket is readable (`receives`) or writable
    /// (`want_out`), a queue or the monitor has something, or a tick passes.
    Idle { receives: bool, want_out: bool },
    /// The thread is done: close.
    Done,
}

pub(super) mod device;
#[cfg(test)]
mod tests;
