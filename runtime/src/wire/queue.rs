//! The bounded queue behind every wire.
//!
//! One [`Queue`] carries the messages of one wire into one input port. It is
//! shared by three sides that may live on different threads:
//!
//! * producers ([`Output`](super::Output) handles in actors, or a ZeroMQ receive
//!   thread) push under the wire's [`Policy`];
//! * the consumer (an [`Inlet`](super::inlet) in the receiving actor's context, or
//!   a ZeroMQ send thread) pops batches;
//! * the runtime keeps a handle across actor restarts, so messages waiting in a
//!   wire survive the crash of the actor that consumes them.
//!
//! Capacity counts queued messages plus messages popped by the consumer but not
//! yet handled ("in flight"), so memory stays bounded even while a batch is being
//! worked on, and a crashed consumer's unhandled batch can be put back in front.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::gate::Gate;
use super::policy::{Policy, WireStats};
use super::traced::{Origin, WireTrace};
use crate::trace::{Kind, Stamp, Stamped};

/// Why a push did not enqueue the message; the message is handed back.
#[derive(Debug, PartialEq, Eq)]
pub enum PushError<T> {
    /// The wire is full and its policy is [`Policy::Block`]: try again later.
    Full(T),
    /// The consumer is gone for good; the message was counted as dropped.
    Closed(T),
}

/// What a successful push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// The message was enqueued.
    Queued,
    /// The wire was full: the incoming message was dropped (policy drop-newest).
    DroppedNewest,
    /// The wire was full: the oldest queued message was dropped to make room.
    DroppedOldest,
}

/// What [`Queue::pop_batch`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Popped {
    /// This many messages were moved into the caller's buffer.
    Items(usize),
    /// Nothing queued now; the caller's waker is registered.
    Empty,
    /// Nothing queued and every producer is gone: end of input.
    Ended,
}

struct Inner<T> {
    items: VecDeque<T>,
    /// Popped by the consumer, not yet handled; counts against capacity.
    in_flight: usize,
    consumer: Option<Waker>,
    producers: Vec<Waker>,
    /// Live producer registrations; the wire ends when this drops to zero.
    senders: usize,
    /// The consumer is gone for good.
    consumer_closed: bool,
    /// On a traced wire, the stamps of `items`, in lockstep with them (none
    /// for a message from an untraced node).
    stamps: VecDeque<Option<Stamped>>,
    /// On a traced wire, the stamps of the in-flight messages, in order.
    in_flight_stamps: VecDeque<Option<Stamped>>,
}

impl<T> Inner<T> {
    fn occupied(&self) -> usize {
        self.items.len() + self.in_flight
    }

    fn take_producers(&mut self) -> Vec<Waker> {
        std::mem::take(&mut self.producers)
    }
}

struct Shared<T> {
    inner: Mutex<Inner<T>>,
    capacity: usize,
    policy: Policy,
    /// Wakes threads blocked in [`Queue::pop_blocking`].
    not_empty: Condvar,
    /// Wakes threads blocked in [`Queue::push_blocking`].
    not_full: Condvar,
    accepted: AtomicU64,
    /// Accepted messages that left the queue: handled, evicted by
    /// drop-oldest, or discarded when the consumer closed.
    finished: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    fault_dropped: AtomicU64,
    fault_duplicated: AtomicU64,
    /// What decides each message's fate (fault injection), set once when built.
    gate: std::sync::OnceLock<Arc<dyn Gate>>,
    /// Causal tracing of this wire, set once when built (before any push).
    trace: std::sync::OnceLock<WireTrace<T>>,
}

/// A bounded, policy-driven queue; cloning gives another handle to the same queue.
pub struct Queue<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("capacity", &self.shared.capacity)
            .field("policy", &self.shared.policy)
            .field("stats", &self.stats())
            .finish()
    }
}

impl<T> Queue<T> {
    /// Creates a queue holding at most `capacity` messages (at least 1).
    pub fn new(capacity: usize, policy: Policy) -> Self {
        Queue {
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    items: VecDeque::with_capacity(capacity.min(1024)),
                    in_flight: 0,
                    consumer: None,
                    producers: Vec::new(),
                    senders: 0,
                    consumer_closed: false,
                    stamps: VecDeque::new(),
                    in_flight_stamps: VecDeque::new(),
                }),
                capacity: capacity.max(1),
                policy,
                not_empty: Condvar::new(),
                not_full: Condvar::new(),
                accepted: AtomicU64::new(0),
                finished: AtomicU64::new(0),
                delivered: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                fault_dropped: AtomicU64::new(0),
                fault_duplicated: AtomicU64::new(0),
                gate: std::sync::OnceLock::new(),
                trace: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Attaches a gate (a fault plan): actors sending on this wire through
    /// [`Output::send`](super::Output::send) get its delays, drops and
    /// duplicates. Only the first call has an effect.
    pub fn set_gate(&self, gate: Arc<dyn Gate>) {
        let _ = self.shared.gate.set(gate);
    }

    /// The gate of this wire, if any.
    pub fn gate(&self) -> Option<&Arc<dyn Gate>> {
        self.shared.gate.get()
    }

    /// Traces this wire: every message it accepts is stamped with its
    /// sender's clocks, and the inlet records its receive and handle. Set
    /// before the first push; only the first call has an effect.
    pub fn set_trace(&self, trace: WireTrace<T>) {
        let _ = self.shared.trace.set(trace);
    }

    /// Counts `n` messages dropped on their way to this wire that never
    /// reached it (a producer's backlog when its node stopped).
    pub(crate) fn count_dropped(&self, n: u64) {
        self.shared.dropped.fetch_add(n, Ordering::Relaxed);
        if let Some(t) = self.shared.trace.get() {
            (0..n).for_each(|_| t.lost(Kind::Drop, None));
        }
    }

    /// Counts `n` messages the fault layer dropped on their way to this wire.
    pub(crate) fn count_fault_dropped(&self, n: u64) {
        self.shared.fault_dropped.fetch_add(n, Ordering::Relaxed);
        if let Some(t) = self.shared.trace.get() {
            (0..n).for_each(|_| t.lost(Kind::Drop, None));
        }
    }

    /// Counts one message the fault layer duplicated on its way to this wire.
    pub(crate) fn count_fault_duplicated(&self) {
        self.shared.fault_duplicated.fetch_add(1, Ordering::Relaxed);
        if let Some(t) = self.shared.trace.get() {
            t.lost(Kind::Duplicate, None);
        }
    }

    /// True when this wire is traced.
    pub(crate) fn is_traced(&self) -> bool {
        self.shared.trace.get().is_some()
    }

    /// On a traced wire, the stamps of the first `n` in-flight messages
    /// (what a hop sender sends with them); empty otherwise.
    pub(crate) fn in_flight_stamps(&self, n: usize) -> Vec<Option<Stamp>> {
        if !self.is_traced() {
            return Vec::new();
        }
        let inner = self.shared.inner.lock();
        inner
            .in_flight_stamps
            .iter()
            .take(n)
            .map(|s| s.as_ref().map(|s| s.stamp.clone()))
            .collect()
    }

    /// On a traced wire, records that the consumer handles its in-flight
    /// message number `index` (from 0 since the last [`Queue::settle`]).
    #[inline]
    pub(crate) fn trace_handle(&self, index: usize) {
        if let Some(t) = self.shared.trace.get() {
            let stamped = self
                .shared
                .inner
                .lock()
                .in_flight_stamps
                .get(index)
                .cloned();
            if let Some(Some(s)) = stamped {
                t.tracer.handle(&t.to, &s);
            }
        }
    }

    /// On a traced wire, records that a consumer outside an actor's inlet
    /// (an endpoint's socket thread, a [`crate::Tap`], any program that pops
    /// batches itself) takes its first `n` in-flight messages: a receive and
    /// a handle each, on the wire's receiving actor. Call it before
    /// [`Queue::settle`]; untraced wires ignore it.
    pub fn trace_taken(&self, n: usize) {
        if self.is_traced() {
            (0..n).for_each(|i| self.trace_handle(i));
        }
    }

    /// The most messages this queue holds (queued plus in flight).
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// The policy applied when the queue is full.
    pub fn policy(&self) -> Policy {
        self.shared.policy
    }

    /// Counters since creation.
    pub fn stats(&self) -> WireStats {
        let inner = self.shared.inner.lock();
        WireStats {
            accepted: self.shared.accepted.load(Ordering::Relaxed),
            delivered: self.shared.delivered.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            fault_dropped: self.shared.fault_dropped.load(Ordering::Relaxed),
            fault_duplicated: self.shared.fault_duplicated.load(Ordering::Relaxed),
            queued: inner.items.len() as u64,
            in_flight: inner.in_flight as u64,
        }
    }

    /// Messages accepted since creation. The FIFO queue has handled a
    /// message accepted as number `n` once [`Queue::finished_count`] ≥ `n`.
    pub fn accepted_count(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Accepted messages that left the queue since creation: handled,
    /// evicted by drop-oldest, or discarded when the consumer closed.
    pub fn finished_count(&self) -> u64 {
        self.shared.finished.load(Ordering::SeqCst)
    }

    /// Wakes `waker` once the consumer next settles (handles) messages or room
    /// is made: a thread that acknowledges handled messages sleeps on it.
    pub fn wake_on_progress(&self, waker: &Waker) {
        let mut inner = self.shared.inner.lock();
        if !inner.producers.iter().any(|w| w.will_wake(waker)) {
            inner.producers.push(waker.clone());
        }
    }

    /// Number of messages queued or in flight.
    pub fn len(&self) -> usize {
        self.shared.inner.lock().occupied()
    }

    /// True when nothing is queued or in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Registers one producer. The queue reports end of input once every
    /// registered producer has called [`Queue::remove_sender`]. Prefer a
    /// [`Sender`](super::Sender), which unregisters itself when dropped.
    pub fn add_sender(&self) {
        self.shared.inner.lock().senders += 1;
    }

    /// Unregisters one producer; the last one ends the input.
    pub fn remove_sender(&self) {
        let waker = {
            let mut inner = self.shared.inner.lock();
            inner.senders = inner.senders.saturating_sub(1);
            if inner.senders == 0 {
                inner.consumer.take()
            } else {
                None
            }
        };
        self.shared.not_empty.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// True once every producer is gone (queued messages may still remain).
    pub fn senders_gone(&self) -> bool {
        self.shared.inner.lock().senders == 0
    }

    /// Marks the consumer gone for good: later pushes fail with
    /// [`PushError::Closed`] and are counted as dropped, together with what was queued.
    pub fn close_consumer(&self) {
        let producers = {
            let mut inner = self.shared.inner.lock();
            inner.consumer_closed = true;
            let lost = inner.items.len() as u64;
            inner.items.clear();
            inner.stamps.clear();
            self.shared.dropped.fetch_add(lost, Ordering::Relaxed);
            self.shared.finished.fetch_add(lost, Ordering::Relaxed);
            inner.take_producers()
        };
        self.shared.not_full.notify_all();
        producers.into_iter().for_each(Waker::wake);
    }

    /// Pushes without waiting, applying the policy when full.
    pub fn try_push(&self, msg: T) -> Result<Pushed, PushError<T>> {
        self.push_from(msg, Origin::Local)
    }

    pub(super) fn push_from(&self, msg: T, origin: Origin) -> Result<Pushed, PushError<T>> {
        // A hop's messages were sent (and their drops recorded) on the other node.
        let local = matches!(origin, Origin::Local);
        let stamp = |t: &WireTrace<T>, msg: &T| match &origin {
            Origin::Local => Some(t.send(msg)),
            Origin::Hop(Some(s)) => Some(t.received(s.clone(), msg)),
            Origin::Hop(None) => Some(t.unstamped(msg)),
        };
        let trace = self.shared.trace.get();
        let (result, consumer) = {
            let mut inner = self.shared.inner.lock();
            if inner.consumer_closed {
                drop(inner);
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                if let (Some(t), true) = (trace, local) {
                    t.lost(Kind::Drop, None);
                }
                return Err(PushError::Closed(msg));
            }
            let result = if inner.occupied() < self.shared.capacity {
                if let Some(t) = trace {
                    let s = stamp(t, &msg);
                    inner.stamps.push_back(s);
                }
                inner.items.push_back(msg);
                Pushed::Queued
            } else {
                match self.shared.policy {
                    Policy::Block => return Err(PushError::Full(msg)),
                    Policy::DropNewest => {
                        drop(inner);
                        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                        if let (Some(t), true) = (trace, local) {
                            t.lost(Kind::Drop, None);
                        }
                        return Ok(Pushed::DroppedNewest);
                    }
                    Policy::DropOldest => {
                        if inner.items.pop_front().is_some() {
                            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                            self.shared.finished.fetch_add(1, Ordering::Relaxed);
                            if let Some(t) = trace {
                                let evicted = inner.stamps.pop_front().flatten();
                                if local {
                                    t.lost(Kind::Drop, evicted.as_ref());
                                }
                                let s = stamp(t, &msg);
                                inner.stamps.push_back(s);
                            }
                            inner.items.push_back(msg);
                            Pushed::DroppedOldest
                        } else {
                            // Everything is in flight: nothing queued to evict.
                            drop(inner);
                            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                            if let (Some(t), true) = (trace, local) {
                                t.lost(Kind::Drop, None);
                            }
                            return Ok(Pushed::DroppedNewest);
                        }
                    }
                }
            };
            // Counted under the lock: the count orders messages as the queue does.
            self.shared.accepted.fetch_add(1, Ordering::SeqCst);
            (result, inner.consumer.take())
        };
        self.shared.not_empty.notify_one();
        if let Some(w) = consumer {
            w.wake();
        }
        Ok(result)
    }

    /// Pushes from async code. The message is taken out of `slot`; on a full
    /// [`Policy::Block`] queue it stays in `slot`, the waker is registered and
    /// `Pending` is returned.
    pub fn poll_push(
        &self,
        slot: &mut Option<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Pushed, PushError<T>>> {
        let Some(msg) = slot.take() else {
            return Poll::Ready(Ok(Pushed::Queued));
        };
        match self.try_push(msg) {
            Err(PushError::Full(msg)) => {
                let mut inner = self.shared.inner.lock();
                if inner.occupied() < self.shared.capacity || inner.consumer_closed {
                    // Room was made between the two locks: try again at once.
                    drop(inner);
                    cx.waker().wake_by_ref();
                } else if !inner.producers.iter().any(|w| w.will_wake(cx.waker())) {
                    inner.producers.push(cx.waker().clone());
                }
                *slot = Some(msg);
                Poll::Pending
            }
            other => Poll::Ready(other),
        }
    }

    /// Pushes from a plain thread, waiting while a [`Policy::Block`] queue is
    /// full, at most until `deadline` (then the message is handed back as `Full`).
    pub fn push_blocking(&self, msg: T, deadline: Option<Instant>) -> Result<Pushed, PushError<T>> {
        let mut msg = msg;
        loop {
            match self.try_push(msg) {
                Err(PushError::Full(m)) => {
                    msg = m;
                    let mut inner = self.shared.inner.lock();
                    while inner.occupied() >= self.shared.capacity && !inner.consumer_closed {
                        match deadline {
                            Some(d) => {
                                if self.shared.not_full.wait_until(&mut inner, d).timed_out() {
                                    return Err(PushError::Full(msg));
                                }
                            }
                            None => self.shared.not_full.wait(&mut inner),
                        }
                    }
                }
                other => return other,
            }
        }
    }

    /// Pushes every message of `items` in order from a plain thread, taking
    /// the lock once per run of messages that fit and waiting (policy
    /// `block`) while the queue is full. Other policies apply per message.
    /// Returns how many were enqueued.
    pub fn push_all_blocking(&self, items: &mut VecDeque<T>) -> usize {
        if self.shared.trace.get().is_some() && self.shared.policy == Policy::Block {
            // Traced: one message at a time, each stamped as it goes in.
            let mut n = 0;
            while let Some(m) = items.pop_front() {
                n += usize::from(matches!(self.push_blocking(m, None), Ok(Pushed::Queued)));
            }
            return n;
        }
        if self.shared.policy != Policy::Block {
            let mut n = 0;
            while let Some(m) = items.pop_front() {
                n += usize::from(matches!(self.try_push(m), Ok(Pushed::Queued)));
            }
            return n;
        }
        let mut pushed = 0;
        while !items.is_empty() {
            let consumer = {
                let mut inner = self.shared.inner.lock();
                while inner.occupied() >= self.shared.capacity && !inner.consumer_closed {
                    self.shared.not_full.wait(&mut inner);
                }
                if inner.consumer_closed {
                    let lost = items.len() as u64;
                    items.clear();
                    drop(inner);
                    self.shared.dropped.fetch_add(lost, Ordering::Relaxed);
                    return pushed;
                }
                let room = self.shared.capacity - inner.occupied();
                let n = room.min(items.len());
                inner.items.extend(items.drain(..n));
                pushed += n;
                self.shared.accepted.fetch_add(n as u64, Ordering::Relaxed);
                inner.consumer.take()
            };
            self.shared.not_empty.notify_one();
            if let Some(w) = consumer {
                w.wake();
            }
        }
        pushed
    }

    /// Pushes from the front of `items`, in order, as many as fit now under
    /// one lock, without waiting (policy `block`; other policies apply per
    /// message). Returns how many left `items`; those the consumer's close
    /// discarded count as dropped.
    pub fn push_available(&self, items: &mut VecDeque<T>) -> usize {
        if self.shared.policy != Policy::Block {
            let n = items.len();
            while let Some(m) = items.pop_front() {
                let _ = self.try_push(m);
            }
            return n;
        }
        if self.shared.trace.get().is_some() {
            // Traced: one message at a time, each stamped as it goes in.
            let mut n = 0;
            while let Some(m) = items.pop_front() {
                match self.try_push(m) {
                    Err(PushError::Full(m)) => {
                        items.push_front(m);
                        break;
                    }
                    _ => n += 1,
                }
            }
            return n;
        }
        let consumer = {
            let mut inner = self.shared.inner.lock();
            if inner.consumer_closed {
                let lost = items.len();
                items.clear();
                drop(inner);
                self.shared
                    .dropped
                    .fetch_add(lost as u64, Ordering::Relaxed);
                return lost;
            }
            let room = self.shared.capacity.saturating_sub(inner.occupied());
            let n = room.min(items.len());
            if n == 0 {
                return 0;
            }
            inner.items.extend(items.drain(..n));
            self.shared.accepted.fetch_add(n as u64, Ordering::SeqCst);
            (n, inner.consumer.take())
        };
        self.shared.not_empty.notify_one();
        if let Some(w) = consumer.1 {
            w.wake();
        }
        consumer.0
    }

    /// Waits until the queue has room (or its consumer is gone), at most until `deadline`.
    pub fn wait_for_room(&self, deadline: Instant) {
        let mut inner = self.shared.inner.lock();
        while inner.occupied() >= self.shared.capacity && !inner.consumer_closed {
            if self
                .shared
                .not_full
                .wait_until(&mut inner, deadline)
                .timed_out()
            {
                return;
            }
        }
    }

    /// Moves up to `max` queued messages into `buf`, marking them in flight
    /// until [`Queue::settle`]. Registers `waker` when nothing is queued.
    pub fn pop_batch(&self, buf: &mut VecDeque<T>, max: usize, waker: Option<&Waker>) -> Popped {
        let mut inner = self.shared.inner.lock();
        let n = inner.items.len().min(max);
        if n == 0 {
            if inner.senders == 0 {
                return Popped::Ended;
            }
            if let Some(w) = waker {
                match &inner.consumer {
                    Some(old) if old.will_wake(w) => {}
                    _ => inner.consumer = Some(w.clone()),
                }
            }
            return Popped::Empty;
        }
        buf.extend(inner.items.drain(..n));
        inner.in_flight += n;
        if self.shared.trace.get().is_some() {
            let Inner {
                stamps,
                in_flight_stamps,
                ..
            } = &mut *inner;
            in_flight_stamps.extend(stamps.drain(..n.min(stamps.len())));
        }
        Popped::Items(n)
    }

    /// Waits up to `timeout` for messages, then behaves like [`Queue::pop_batch`].
    pub fn pop_blocking(&self, buf: &mut VecDeque<T>, max: usize, timeout: Duration) -> Popped {
        let deadline = Instant::now() + timeout;
        let mut inner = self.shared.inner.lock();
        while inner.items.is_empty() && inner.senders > 0 {
            if self
                .shared
                .not_empty
                .wait_until(&mut inner, deadline)
                .timed_out()
            {
                break;
            }
        }
        drop(inner);
        self.pop_batch(buf, max, None)
    }

    /// Reports that `handled` in-flight messages were handled, freeing their room,
    /// and puts `unhandled` ones back in front of the queue (in order).
    pub fn settle(&self, handled: usize, unhandled: &mut VecDeque<T>) {
        if handled == 0 && unhandled.is_empty() {
            return;
        }
        let producers = {
            let mut inner = self.shared.inner.lock();
            let returned = unhandled.len();
            inner.in_flight = inner.in_flight.saturating_sub(handled + returned);
            while let Some(m) = unhandled.pop_back() {
                inner.items.push_front(m);
            }
            if self.shared.trace.get().is_some() {
                let Inner {
                    stamps,
                    in_flight_stamps,
                    ..
                } = &mut *inner;
                in_flight_stamps.drain(..handled.min(in_flight_stamps.len()));
                // What was put back keeps its stamp (and is received again).
                for _ in 0..returned {
                    match in_flight_stamps.pop_back() {
                        Some(s) => stamps.push_front(s),
                        None => break,
                    }
                }
            }
            inner.take_producers()
        };
        self.shared
            .delivered
            .fetch_add(handled as u64, Ordering::Relaxed);
        self.shared
            .finished
            .fetch_add(handled as u64, Ordering::Relaxed);
        self.shared.not_full.notify_all();
        producers.into_iter().for_each(Waker::wake);
    }
}
