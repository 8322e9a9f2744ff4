//! [`Output`]: the handle an actor sends through on one of its output ports.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix::{Actor, AsyncContext};
use parking_lot::Mutex;

use super::gate::Verdict;
use super::queue::{PushError, Pushed, Queue};
use super::sender::Sender;

/// The sending end of an output port, fanned out to every wire from that port.
///
/// Cloning is cheap. An `Output` survives actor restarts: the runtime hands the
/// same wires to every incarnation. A message sent to several wires is cloned
/// for all but the last.
///
/// Order is kept per wire. When a `block` wire is full, [`Output::send`] parks
/// the message in the port's backlog and makes the actor wait; messages sent
/// meanwhile (by the same handler call, or a catching-up timer) queue behind
/// it in the backlog, in order, so the backlog never holds more than one
/// handler call sent.
///
/// The backlog is moved into the wires by a task of its own (one at a time,
/// spawned on the actor's arbiter), which holds a producer registration on
/// every wire of the port while it works: an actor that stops (or crashes)
/// with copies still in the backlog does not lose them — they are delivered
/// after it, and the wires end only then. Only a node that stops before
/// there is room drops them, counted in each wire's `dropped` and logged.
pub struct Output<T> {
    port: Arc<str>,
    wires: Arc<[Queue<T>]>,
    backlog: Arc<Mutex<Backlog<T>>>,
}

/// Copies waiting for room on a full `block` wire, in order.
struct Backlog<T> {
    /// (wire index, message).
    items: VecDeque<(usize, T)>,
    /// A [`Keeper`] is moving `items` into the wires (always, while any wait).
    draining: bool,
    /// The actor waiting for the backlog to empty ([`UntilDrained`]).
    waiter: Option<std::task::Waker>,
}

impl<T> Backlog<T> {
    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn push_back(&mut self, item: (usize, T)) {
        self.items.push_back(item);
    }
}

impl<T> Clone for Output<T> {
    fn clone(&self) -> Self {
        Output {
            port: Arc::clone(&self.port),
            wires: Arc::clone(&self.wires),
            backlog: Arc::clone(&self.backlog),
        }
    }
}

impl<T> std::fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("port", &self.port)
            .field("wires", &self.wires.len())
            .finish()
    }
}

/// How a send went, summed over the wires of the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sent {
    /// Wires that queued the message.
    pub queued: usize,
    /// Wires that dropped a message (this one or their oldest) under their policy,
    /// or whose consumer is gone.
    pub dropped: usize,
    /// Wires whose [`Block`](super::Policy::Block) policy made the sender wait.
    pub waited: usize,
}

impl<T: Clone + Send + 'static> Output<T> {
    /// An output port named `port` feeding `wires`.
    pub fn new(port: impl Into<Arc<str>>, wires: Vec<Queue<T>>) -> Self {
        Output {
            port: port.into(),
            wires: wires.into(),
            backlog: Arc::new(Mutex::new(Backlog {
                items: VecDeque::new(),
                draining: false,
                waiter: None,
            })),
        }
    }

    /// An output wired to nothing: sends are discarded.
    pub fn unconnected(port: impl Into<Arc<str>>) -> Self {
        Self::new(port, Vec::new())
    }

    /// The port's name.
    pub fn port(&self) -> &str {
        &self.port
    }

    /// True when at least one wire leaves this port.
    pub fn is_connected(&self) -> bool {
        !self.wires.is_empty()
    }

    /// The wires of this port (for statistics).
    pub fn wires(&self) -> &[Queue<T>] {
        &self.wires
    }

    /// Sends from inside an actor. On a full wire with the `block` policy the
    /// actor's context waits (`ctx.wait`) until the wire has room: the actor
    /// handles no other message meanwhile, so backpressure travels upstream.
    ///
    /// A wire with a fault plan (`[[faults]]` in the topology) may drop the
    /// message, duplicate it, or deliver it later from a timer on `ctx`.
    pub fn send<A>(&self, msg: T, ctx: &mut actix::Context<A>) -> Sent
    where
        A: Actor<Context = actix::Context<A>>,
    {
        if self.wires.iter().any(|w| w.gate().is_some()) {
            return self.send_faulty(msg, ctx);
        }
        let mut backlog = self.backlog.lock();
        if !backlog.is_empty() {
            // A drain is already under way: queue behind it to keep the order.
            let mut sent = Sent::default();
            self.for_each_wire(msg, |i, _, m| {
                backlog.push_back((i, m));
                sent.waited += 1;
            });
            drop(backlog);
            self.wait_for_room(ctx);
            return sent;
        }
        let mut blocked = VecDeque::new();
        let sent = self.push_all(msg, &mut blocked);
        backlog.items.extend(blocked);
        let waiting = !backlog.is_empty();
        drop(backlog);
        if waiting {
            self.wait_for_room(ctx);
        }
        sent
    }

    /// Sends `msgs` in order from inside an actor, as [`Output::send`] would
    /// one by one, but into a port with one wire and no fault plan as many
    /// as fit go in under one lock; the rest wait in the backlog (so it can
    /// hold one batch) and make the actor wait. `msgs` is left empty.
    pub fn send_batch<A>(&self, msgs: &mut VecDeque<T>, ctx: &mut actix::Context<A>)
    where
        A: Actor<Context = actix::Context<A>>,
    {
        let wire = match self.wires.as_ref() {
            [wire] if wire.gate().is_none() => wire,
            _ => {
                while let Some(m) = msgs.pop_front() {
                    self.send(m, ctx);
                }
                return;
            }
        };
        let mut backlog = self.backlog.lock();
        if backlog.is_empty() {
            wire.push_available(msgs);
        }
        if msgs.is_empty() {
            return;
        }
        backlog.items.extend(msgs.drain(..).map(|m| (0, m)));
        drop(backlog);
        self.wait_for_room(ctx);
    }

    /// The backlog is not empty: makes sure a [`Keeper`] moves it into the
    /// wires, and makes the actor wait (once) until it has.
    fn wait_for_room<A>(&self, ctx: &mut actix::Context<A>)
    where
        A: Actor<Context = actix::Context<A>>,
    {
        let start = {
            let mut backlog = self.backlog.lock();
            !std::mem::replace(&mut backlog.draining, true)
        };
        if start {
            let keeper = Keeper {
                output: self.clone(),
                _producers: self.wires.iter().map(Sender::new).collect(),
            };
            actix::spawn(keeper);
        }
        if !ctx.waiting() {
            ctx.wait(actix::fut::wrap_future::<_, A>(UntilDrained {
                output: self.clone(),
            }));
        }
    }

    /// [`Output::send`] through the wires' fault plans.
    fn send_faulty<A>(&self, msg: T, ctx: &mut actix::Context<A>) -> Sent
    where
        A: Actor<Context = actix::Context<A>>,
    {
        let mut sent = Sent::default();
        let mut copies = Vec::new();
        self.for_each_wire(msg, |i, wire, m| match wire.gate().map(|g| g.decide()) {
            None => copies.push((i, m, Duration::ZERO)),
            Some(Verdict::Drop) => {
                wire.count_fault_dropped(1);
                sent.dropped += 1;
            }
            Some(Verdict::Deliver(d)) => copies.push((i, m, d)),
            Some(Verdict::Duplicate(d1, d2)) => {
                wire.count_fault_duplicated();
                copies.push((i, m.clone(), d1));
                copies.push((i, m, d2));
            }
        });
        for (i, m, d) in copies {
            if d.is_zero() {
                self.push_one(i, m, ctx, &mut sent);
            } else if let Some(wire) = self.wires.get(i) {
                let out = self.clone();
                let mut delayed = Delayed {
                    wire: wire.clone(),
                    msg: Some(m),
                };
                ctx.run_later(d, move |_, ctx| {
                    if let Some(m) = delayed.msg.take() {
                        out.push_one(i, m, ctx, &mut Sent::default());
                    }
                });
                sent.queued += 1;
            }
        }
        sent
    }

    /// Pushes one copy into wire `i`, behind any backlog, waiting if full.
    fn push_one<A>(&self, i: usize, m: T, ctx: &mut actix::Context<A>, sent: &mut Sent)
    where
        A: Actor<Context = actix::Context<A>>,
    {
        let mut backlog = self.backlog.lock();
        if !backlog.is_empty() {
            backlog.push_back((i, m));
            sent.waited += 1;
            drop(backlog);
            self.wait_for_room(ctx);
            return;
        }
        let Some(wire) = self.wires.get(i) else {
            return;
        };
        match wire.try_push(m) {
            Ok(Pushed::Queued) => sent.queued += 1,
            Ok(_) | Err(PushError::Closed(_)) => sent.dropped += 1,
            Err(PushError::Full(m)) => {
                sent.waited += 1;
                backlog.push_back((i, m));
                drop(backlog);
                self.wait_for_room(ctx);
            }
        }
    }

    /// Sends from async code outside an actor, waiting on full `block` wires.
    pub async fn send_async(&self, msg: T) -> Sent {
        let sent = {
            let mut backlog = self.backlog.lock();
            if backlog.is_empty() {
                let mut blocked = VecDeque::new();
                let sent = self.push_all(msg, &mut blocked);
                backlog.items.extend(blocked);
                sent
            } else {
                let mut sent = Sent::default();
                self.for_each_wire(msg, |i, _, m| {
                    backlog.push_back((i, m));
                    sent.waited += 1;
                });
                sent
            }
        };
        Drain {
            output: self.clone(),
        }
        .await;
        sent
    }

    /// Sends from a plain thread, blocking it on full `block` wires.
    pub fn send_blocking(&self, msg: T) -> Sent {
        let mut sent = Sent::default();
        self.for_each_wire(msg, |_, wire, m| match wire.push_blocking(m, None) {
            Ok(Pushed::Queued) => sent.queued += 1,
            Ok(_) | Err(_) => sent.dropped += 1,
        });
        sent
    }

    /// Sends a batch from a plain thread, in order, blocking on full `block`
    /// wires; with one wire the batch goes in under one lock per run that fits.
    /// `msgs` is left empty.
    pub fn send_all_blocking(&self, msgs: &mut VecDeque<T>) {
        match self.wires.as_ref() {
            [] => msgs.clear(),
            [wire] => {
                wire.push_all_blocking(msgs);
            }
            _ => {
                while let Some(m) = msgs.pop_front() {
                    self.send_blocking(m);
                }
            }
        }
    }

    /// Sends without ever waiting. If a `block` wire is full the message comes
    /// back as `Full`; wires that had room still got their copy.
    pub fn try_send(&self, msg: T) -> Result<Sent, PushError<T>> {
        let mut full = VecDeque::new();
        let sent = self.push_all(msg, &mut full);
        match full.pop_front() {
            None => Ok(sent),
            Some((_, m)) => Err(PushError::Full(m)),
        }
    }

    fn for_each_wire(&self, msg: T, mut f: impl FnMut(usize, &Queue<T>, T)) {
        if let Some((last, rest)) = self.wires.split_last() {
            for (i, wire) in rest.iter().enumerate() {
                f(i, wire, msg.clone());
            }
            f(rest.len(), last, msg);
        }
    }

    /// Pushes to every wire without waiting; copies for full `block` wires go
    /// to `blocked`.
    fn push_all(&self, msg: T, blocked: &mut VecDeque<(usize, T)>) -> Sent {
        let mut sent = Sent::default();
        self.for_each_wire(msg, |i, wire, m| match wire.try_push(m) {
            Ok(Pushed::Queued) => sent.queued += 1,
            Ok(_) | Err(PushError::Closed(_)) => sent.dropped += 1,
            Err(PushError::Full(m)) => {
                sent.waited += 1;
                blocked.push_back((i, m));
            }
        });
        sent
    }
}

/// A copy held back by a fault delay. If its timer never fires (the sending
/// actor stopped first), dropping it counts it in the wire's `fault_dropped`.
struct Delayed<T> {
    wire: Queue<T>,
    msg: Option<T>,
}

impl<T> Drop for Delayed<T> {
    fn drop(&mut self) {
        if self.msg.is_some() {
            self.wire.count_fault_dropped(1);
        }
    }
}

/// Moves the backlog into its wires, in order, as room appears; `Ready`
/// when it is empty.
fn poll_drain<T>(output: &Output<T>, backlog: &mut Backlog<T>, cx: &mut Context<'_>) -> Poll<()> {
    while let Some((i, msg)) = backlog.items.pop_front() {
        let Some(wire) = output.wires.get(i) else {
            continue;
        };
        let mut slot = Some(msg);
        if wire.poll_push(&mut slot, cx).is_pending() {
            if let Some(m) = slot {
                backlog.items.push_front((i, m));
            }
            return Poll::Pending;
        }
    }
    Poll::Ready(())
}

/// Moves the backlog into its wires from async code outside an actor
/// ([`Output::send_async`]); completes when it is empty.
struct Drain<T> {
    output: Output<T>,
}

impl<T> Future for Drain<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut backlog = self.output.backlog.lock();
        poll_drain(&self.output, &mut backlog, cx)
    }
}

/// The task that moves an actor's backlog into the wires, holding a
/// producer registration on each so that they stay open until it is done,
/// whatever happens to the actor meanwhile. Wakes the waiting actor when
/// the backlog is empty.
struct Keeper<T> {
    output: Output<T>,
    _producers: Vec<Sender<T>>,
}

impl<T> Future for Keeper<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut backlog = self.output.backlog.lock();
        if poll_drain(&self.output, &mut backlog, cx).is_pending() {
            return Poll::Pending;
        }
        backlog.draining = false;
        if let Some(w) = backlog.waiter.take() {
            w.wake();
        }
        Poll::Ready(())
    }
}

impl<T> Drop for Keeper<T> {
    fn drop(&mut self) {
        // Dropped before the backlog emptied: the arbiter stopped (the node
        // is gone) while the wires were full.
        let mut backlog = self.output.backlog.lock();
        backlog.draining = false;
        let left = std::mem::take(&mut backlog.items);
        if left.is_empty() {
            return;
        }
        let mut per_wire = vec![0u64; self.output.wires.len()];
        for (i, _) in &left {
            if let Some(n) = per_wire.get_mut(*i) {
                *n += 1;
            }
        }
        for (wire, n) in self.output.wires.iter().zip(per_wire) {
            if n > 0 {
                wire.count_dropped(n);
            }
        }
        tracing::warn!(
            port = %self.output.port,
            dropped = left.len(),
            "messages waiting for room on a full wire were dropped: the node stopped first"
        );
    }
}

/// The actor's wait until its backlog is empty (backpressure): `Ready` once
/// the [`Keeper`] has moved everything.
struct UntilDrained<T> {
    output: Output<T>,
}

impl<T> Future for UntilDrained<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut backlog = self.output.backlog.lock();
        if backlog.is_empty() {
            return Poll::Ready(());
        }
        match &backlog.waiter {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => backlog.waiter = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
