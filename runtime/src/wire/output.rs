//! [`Output`]: the handle an actor sends through on one of its output ports.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix::{Actor, AsyncContext};

use super::queue::{PushError, Pushed, Queue};

/// The sending end of an output port, fanned out to every wire from that port.
///
/// Cloning is cheap. An `Output` survives actor restarts: the runtime hands the
/// same wires to every incarnation. A message sent to several wires is cloned
/// for all but the last.
pub struct Output<T> {
    port: Arc<str>,
    wires: Arc<[Queue<T>]>,
}

impl<T> Clone for Output<T> {
    fn clone(&self) -> Self {
        Output {
            port: Arc::clone(&self.port),
            wires: Arc::clone(&self.wires),
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
    pub fn send<A>(&self, msg: T, ctx: &mut actix::Context<A>) -> Sent
    where
        A: Actor<Context = actix::Context<A>>,
    {
        let (sent, blocked) = self.push_all(msg);
        if !blocked.is_empty() {
            ctx.wait(actix::fut::wrap_future::<_, A>(PushAll { blocked }));
        }
        sent
    }

    /// Sends from async code outside an actor, waiting on `block` wires.
    pub async fn send_async(&self, msg: T) -> Sent {
        let (mut sent, blocked) = self.push_all(msg);
        sent.waited = blocked.len();
        PushAll { blocked }.await;
        sent
    }

    /// Sends from a plain thread, blocking it on full `block` wires.
    pub fn send_blocking(&self, msg: T) -> Sent {
        let mut sent = Sent::default();
        self.for_each_wire(msg, |wire, m| match wire.push_blocking(m, None) {
            Ok(Pushed::Queued) => sent.queued += 1,
            Ok(_) | Err(_) => sent.dropped += 1,
        });
        sent
    }

    /// Sends without ever waiting: a full `block` wire hands the message back.
    /// With several wires, those with room still get their copy.
    pub fn try_send(&self, msg: T) -> Result<Sent, PushError<T>> {
        let (sent, mut blocked) = self.push_all(msg);
        match blocked.pop() {
            None => Ok(sent),
            Some((_, Some(m))) => Err(PushError::Full(m)),
            Some((_, None)) => Ok(sent),
        }
    }

    fn for_each_wire(&self, msg: T, mut f: impl FnMut(&Queue<T>, T)) {
        if let Some((last, rest)) = self.wires.split_last() {
            for wire in rest {
                f(wire, msg.clone());
            }
            f(last, msg);
        }
    }

    /// Pushes to every wire without waiting; returns the wires that are full
    /// under `block`, each with its copy of the message.
    fn push_all(&self, msg: T) -> (Sent, Vec<(Queue<T>, Option<T>)>) {
        let mut sent = Sent::default();
        let mut blocked = Vec::new();
        self.for_each_wire(msg, |wire, m| match wire.try_push(m) {
            Ok(Pushed::Queued) => sent.queued += 1,
            Ok(_) | Err(PushError::Closed(_)) => sent.dropped += 1,
            Err(PushError::Full(m)) => {
                sent.waited += 1;
                blocked.push((wire.clone(), Some(m)));
            }
        });
        (sent, blocked)
    }
}

/// Completes once every blocked wire has taken its copy.
struct PushAll<T> {
    blocked: Vec<(Queue<T>, Option<T>)>,
}

impl<T> Unpin for PushAll<T> {}

impl<T> Future for PushAll<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.blocked.retain_mut(|(wire, slot)| {
            matches!(wire.poll_push(slot, cx), Poll::Pending)
        });
        if this.blocked.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

