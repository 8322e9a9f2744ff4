//! A socket driven from its node's own thread: the endpoint actor sends and
//! receives on it there, woken through libzmq's `ZMQ_FD` registered with
//! the node's tokio reactor, instead of handing every message to and from an
//! I/O thread of its own (the [`SocketThread`](rolecall_runtime::remote::SocketThread)
//! of [`super::io`]). PUB, SUB and PULL endpoints run this way when
//! unmonitored: their messages go one way and never wait on the socket (a
//! PUB drops for a subscriber at its high-water mark instead of blocking),
//! so the hand-off to a second thread and back — 10–15 µs each way on the
//! course's trickle, a third of the small-message rate — buys nothing
//! (see `docs/performance.md`, "endpoints driven from the node's thread").
//!
//! `ZMQ_FD` is edge-triggered and only says that `ZMQ_EVENTS` may have
//! changed: a receive is always tried first, and the reader sleeps on the
//! descriptor only once `ZMQ_EVENTS` says nothing is there, so a signal
//! consumed by a send, a receive or an option change is never waited for.

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use rolecall_runtime::remote::{recv_parts, LogLimiter, ReadySocket, Verdict, Zap, ZmqContext};

use super::frames::Frames;
use super::io::{attach, open, EndpointError, Opened, Raw};
use super::params::Params;

/// What the next receive found.
pub(crate) enum Step {
    /// A message.
    Message(Frames),
    /// Nothing yet: the task is woken when the socket may have more.
    Idle,
    /// The node's ZeroMQ context was terminated: the socket must close.
    Gone,
}

/// One socket, read and written on the thread that owns it.
pub(crate) struct Driven {
    /// The socket, its descriptor registered with the node's reactor.
    socket: ReadySocket,
    /// The parts of the message being received (reused).
    parts: Vec<zmq::Message>,
    label: String,
    /// Messages sent or received.
    pub(crate) messages: u64,
    /// Messages the socket refused (counted and logged, never silent).
    pub(crate) dropped: u64,
    /// Refusals: the first few logged in full, then counted.
    refusals: LogLimiter,
    /// A CURVE server keeps its context's ZAP handler while the socket lives.
    _zap: Option<Arc<Zap>>,
    /// The socket's context lives at least as long as the socket.
    _context: ZmqContext,
}

impl std::fmt::Debug for Driven {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driven")
            .field("socket", &self.label)
            .finish()
    }
}

impl Driven {
    /// Opens, configures, binds and connects the socket in `ctx`, and
    /// registers its descriptor with the calling thread's reactor (the
    /// node's: [`Role::build`](rolecall_runtime::kind::Role::build) runs there).
    pub(crate) fn open(
        ctx: &ZmqContext,
        kind: zmq::SocketType,
        params: &Params,
        actor: &str,
    ) -> Result<Self, EndpointError> {
        let Opened { socket, zap } = open(ctx, kind, params, actor)?;
        attach(&socket, params)?;
        Ok(Driven {
            socket: ReadySocket::register(socket)?,
            parts: Vec::new(),
            label: actor.to_owned(),
            messages: 0,
            dropped: 0,
            refusals: LogLimiter::default(),
            _zap: zap,
            _context: ctx.clone(),
        })
    }

    /// Hands one message to the socket without waiting. Returns false when
    /// the context is gone (the socket must close).
    pub(crate) fn send(&mut self, msg: Frames) -> bool {
        // As slices: one copy each into a ZeroMQ message.
        match self
            .socket
            .socket()
            .send_multipart(msg.iter().map(|f| &f[..]), zmq::DONTWAIT)
        {
            Ok(()) => {
                self.messages += 1;
                true
            }
            Err(zmq::Error::ETERM) => {
                self.refused(1, "the ZeroMQ context was terminated");
                false
            }
            Err(e) => {
                self.refused(1, &e.to_string());
                true
            }
        }
    }

    /// Changes a SUB's filter.
    pub(crate) fn set_subscription(&mut self, prefix: &[u8], on: bool) {
        let result = if on {
            self.socket.socket().set_subscribe(prefix)
        } else {
            self.socket.socket().set_unsubscribe(prefix)
        };
        if let Err(e) = result {
            tracing::warn!(socket = %self.label, error = %e, "subscription change failed");
        }
    }

    /// Receives the next message if one is there; otherwise registers the
    /// task to be woken when the socket may have one.
    pub(crate) fn poll_next(&mut self, task: &mut TaskContext<'_>) -> Step {
        loop {
            match recv_parts(self.socket.socket(), &mut self.parts) {
                Ok(n) => {
                    self.messages += 1;
                    return Step::Message(Raw::frames(&mut self.parts[..n]));
                }
                Err(zmq::Error::EAGAIN) => match self.socket.events() {
                    Ok(events) if events.contains(zmq::POLLIN) => continue,
                    Ok(_) => {}
                    Err(zmq::Error::ETERM) => return Step::Gone,
                    Err(e) => {
                        tracing::warn!(socket = %self.label, error = %e, "reading the socket's events failed");
                    }
                },
                Err(zmq::Error::ETERM) => return Step::Gone,
                // Not retried at once: the next try is when the socket stirs.
                Err(e) => tracing::warn!(socket = %self.label, error = %e, "receive failed"),
            }
            if let Some(step) = self.sleep(task) {
                return step;
            }
        }
    }

    /// For a socket that is only written: true once the context is gone (the
    /// socket must close, or terminating the context waits for it);
    /// otherwise registers the task to be woken when the socket stirs.
    pub(crate) fn poll_gone(&mut self, task: &mut TaskContext<'_>) -> bool {
        loop {
            if let Err(zmq::Error::ETERM) = self.socket.events() {
                return true;
            }
            match self.sleep(task) {
                None => {}
                Some(Step::Idle) => return false,
                Some(_) => return true,
            }
        }
    }

    /// Waits for the socket to stir: `None` when it may have already (look
    /// again), `Idle` with the task registered, `Gone` if waiting failed.
    fn sleep(&self, task: &mut TaskContext<'_>) -> Option<Step> {
        match self.socket.poll_changed(task) {
            Poll::Ready(Ok(())) => None,
            Poll::Ready(Err(e)) => {
                tracing::warn!(socket = %self.label, error = %e, "waiting on the socket failed");
                Some(Step::Gone)
            }
            Poll::Pending => Some(Step::Idle),
        }
    }

    /// Counts `n` messages refused by the socket: the first few logged in
    /// full, then a summary of how many more now and then.
    fn refused(&mut self, n: u64, why: &str) {
        self.dropped += n;
        let now = Instant::now();
        if self.refusals.event(now) == Verdict::Log {
            tracing::warn!(socket = %self.label, dropped = self.dropped, reason = why, "the socket refused a message; dropped");
        }
        self.report_quiet(Some(now));
    }

    /// Logs how many refusals went unlogged, once their interval has passed
    /// (`None`: whatever is left, at close).
    fn report_quiet(&mut self, now: Option<Instant>) {
        let more = match now {
            Some(now) => self.refusals.due(now),
            None => self.refusals.take(),
        };
        if let Some(more) = more {
            tracing::warn!(socket = %self.label, more, dropped = self.dropped, "refused messages dropped (not logged one by one)");
        }
    }
}

impl Drop for Driven {
    fn drop(&mut self) {
        self.report_quiet(None);
        // A SUB or PULL holds nothing of the user's to deliver: no linger, so
        // that terminating the context does not wait for a publisher that is
        // gone. A PUB keeps its linger: libzmq still delivers what it holds.
        let socket = self.socket.socket();
        if matches!(socket.get_socket_type(), Ok(zmq::SUB | zmq::PULL)) {
            let _ = socket.set_linger(0);
        }
    }
}
