//! [`Endpoint`]: the actor around one ZeroMQ socket, generic over its kind.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, ParamCheck, Ports, Role};
use rolecall_runtime::wire::Output;

use super::driven::{Driven, Step};
use super::frames::Frames;
use super::io::{SocketIo, Wiring};
use super::kinds::SocketKind;
use super::message::{SocketEvent, Subscription};
use super::params::Params;

/// Messages received per poll of a driven socket before yielding to the
/// node's other actors.
const RECEIVE_BUDGET: usize = 256;
/// Messages received before they are handed to `out` together (one lock).
const RECEIVE_BATCH: usize = 64;

/// A ZeroMQ socket as an actor.
///
/// Ports (by socket type): `in` (messages to send), `out` (messages
/// received), `subscriptions` (SUB/XSUB filter changes) and `monitor`
/// (socket events, when `monitor = true`). The socket is opened in
/// [`Role::build`], so a failing bind or connect is a crash the supervisor
/// retries with backoff; a restart opens a fresh socket.
///
/// PUB, SUB and PULL drive their socket from the node's own thread (the
/// actor sends in its handler and reads when libzmq signals; see
/// `zmq/driven.rs`); the other kinds, and any monitored endpoint, hand it
/// to an I/O thread that drains `in` straight from the wires.
pub struct Endpoint<K: SocketKind> {
    socket: Socket,
    _kind: PhantomData<K>,
}

/// Who works the socket.
enum Socket {
    /// Its I/O thread; the actor's own sends go through `outbound`.
    Thread {
        io: SocketIo,
        outbound: Output<Frames>,
        /// `in` is an inlet (a monitored driven kind) and has ended.
        ended: bool,
    },
    /// The actor, on the node's thread (`None` once closed).
    Node {
        driven: Option<Driven>,
        out: Option<Output<Frames>>,
        /// Received, on their way to `out` (kept for its capacity).
        batch: VecDeque<Frames>,
        /// Messages sent or received and dropped by a socket since closed,
        /// and messages for `in` dropped after it closed.
        closed: (u64, u64),
    },
}

impl<K: SocketKind> std::fmt::Debug for Endpoint<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").field("kind", &K::NAME).finish()
    }
}

impl<K: SocketKind> Endpoint<K> {
    /// Closes a driven socket (its context is gone), keeping its counts.
    fn close_driven(&mut self, why: &str) {
        if let Socket::Node { driven, closed, .. } = &mut self.socket {
            if let Some(d) = driven.take() {
                *closed = (closed.0 + d.messages, closed.1 + d.dropped);
                tracing::warn!(kind = K::NAME, "{why}: socket closed");
            }
        }
    }
}

impl<K: SocketKind> Actor for Endpoint<K> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        match &self.socket {
            Socket::Thread { .. } => {
                // The socket thread drains `in` itself; when those wires end,
                // it hands what is queued to the socket (waiting up to
                // `linger_ms` for a peer that binds late) and closes it; then
                // the endpoint stops.
                ctx.run_interval(Duration::from_millis(20), |act, ctx| {
                    if let Socket::Thread { io, ended, .. } = &act.socket {
                        if *ended || io.producers_gone() {
                            io.finish();
                            if io.is_finished() {
                                ctx.stop();
                            }
                        }
                    }
                });
            }
            Socket::Node { out: Some(_), .. } => {
                ctx.spawn(Receiving::<K>(PhantomData));
            }
            Socket::Node { out: None, .. } => {
                ctx.spawn(Watching::<K>(PhantomData));
            }
        }
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        let (messages, dropped) = match &self.socket {
            Socket::Thread { io, .. } => io.counts(),
            Socket::Node { driven, closed, .. } => driven
                .as_ref()
                .map_or(*closed, |d| (closed.0 + d.messages, closed.1 + d.dropped)),
        };
        tracing::info!(kind = K::NAME, messages, dropped, "endpoint closed");
    }
}

/// Reads a driven socket into `out` on the node's thread, for as long as the
/// actor runs: up to [`RECEIVE_BUDGET`] messages a poll, none while the
/// actor waits for room on a full `block` wire (so libzmq's receive
/// high-water mark fills and the peers are pushed back on).
struct Receiving<K>(PhantomData<K>);

impl<K: SocketKind> ActorFuture<Endpoint<K>> for Receiving<K> {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut Endpoint<K>,
        ctx: &mut Context<Endpoint<K>>,
        task: &mut TaskContext<'_>,
    ) -> Poll<()> {
        let mut received = 0;
        loop {
            if ctx.waiting() {
                // Polled again once the wait is over.
                return Poll::Pending;
            }
            let Socket::Node {
                driven: Some(driven),
                out: Some(out),
                batch,
                ..
            } = &mut act.socket
            else {
                return Poll::Ready(());
            };
            // How the batch ended: `None` when it filled up.
            let mut stopped = None;
            while batch.len() < RECEIVE_BATCH {
                match driven.poll_next(task) {
                    Step::Message(msg) => batch.push_back(msg),
                    other => {
                        stopped = Some(other);
                        break;
                    }
                }
            }
            received += batch.len();
            if !batch.is_empty() {
                out.send_batch(batch, ctx);
            }
            match stopped {
                Some(Step::Gone) => {
                    act.close_driven("the ZeroMQ context was terminated");
                    return Poll::Ready(());
                }
                Some(_) => return Poll::Pending,
                None if received >= RECEIVE_BUDGET => {
                    task.waker().wake_by_ref();
                    return Poll::Pending;
                }
                None => {}
            }
        }
    }
}

/// Watches a driven socket that is only written (a PUB) for the end of its
/// context, which a send would otherwise be the first to notice: the
/// context's termination waits for the socket to close.
struct Watching<K>(PhantomData<K>);

impl<K: SocketKind> ActorFuture<Endpoint<K>> for Watching<K> {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut Endpoint<K>,
        _ctx: &mut Context<Endpoint<K>>,
        task: &mut TaskContext<'_>,
    ) -> Poll<()> {
        let Socket::Node {
            driven: Some(driven),
            ..
        } = &mut act.socket
        else {
            return Poll::Ready(());
        };
        if driven.poll_gone(task) {
            act.close_driven("the ZeroMQ context was terminated");
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl<K: SocketKind> Handler<Frames> for Endpoint<K> {
    type Result = ();

    fn handle(&mut self, msg: Frames, ctx: &mut Context<Self>) {
        match &mut self.socket {
            Socket::Thread { outbound, .. } => {
                outbound.send(msg, ctx);
            }
            Socket::Node { driven, closed, .. } => match driven {
                Some(d) => {
                    if !d.send(msg) {
                        self.close_driven("the ZeroMQ context was terminated");
                    }
                }
                None => {
                    // Counted, and logged with the rest when the endpoint stops.
                    closed.1 += 1;
                    if closed.1 == 1 {
                        tracing::warn!(
                            kind = K::NAME,
                            "socket closed: messages for it are dropped (counted)"
                        );
                    }
                }
            },
        }
    }
}

impl<K: SocketKind> Handler<Subscription> for Endpoint<K> {
    type Result = ();

    fn handle(&mut self, msg: Subscription, _ctx: &mut Context<Self>) {
        match &mut self.socket {
            Socket::Thread { io, .. } => io.subscription(msg),
            Socket::Node { driven, .. } => {
                if let Some(d) = driven {
                    match msg {
                        Subscription::Subscribe(p) => d.set_subscription(&p, true),
                        Subscription::Unsubscribe(p) => d.set_subscription(&p, false),
                    }
                }
            }
        }
    }
}

impl<K: SocketKind> Role for Endpoint<K> {
    type Params = Params;
    const ABOUT: &'static str = K::ABOUT;

    fn ports(ports: &mut Ports<Self>) {
        if K::SENDS {
            if K::DRIVEN {
                // The endpoint's handler sends (or hands to the thread).
                ports.input::<Frames>("in");
            } else {
                // The socket thread sends straight from the wires.
                ports.direct_input::<Frames>("in");
            }
        }
        if K::RECEIVES {
            ports.output::<Frames>("out");
        }
        if K::FILTERS {
            ports.input::<Subscription>("subscriptions");
        }
        ports.output::<SocketEvent>("monitor");
    }

    fn check(params: &Params, check: &mut ParamCheck) {
        for endpoint in &params.bind {
            check.binds("bind", endpoint);
        }
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        let out = if K::RECEIVES {
            Some(io.output::<Frames>("out")?)
        } else {
            None
        };
        if K::DRIVEN && !params.monitor {
            let driven = Driven::open(io.zmq(), K::TYPE, params, io.actor_name())?;
            return Ok(Endpoint {
                socket: Socket::Node {
                    driven: Some(driven),
                    out,
                    batch: VecDeque::with_capacity(RECEIVE_BATCH),
                    closed: (0, 0),
                },
                _kind: PhantomData,
            });
        }
        let monitor = if params.monitor {
            Some(io.output::<SocketEvent>("monitor")?)
        } else {
            None
        };
        let socket = SocketIo::start(
            io.zmq(),
            K::TYPE,
            params,
            Wiring {
                actor: io.actor_name().to_owned(),
                out,
                monitor,
                subscriptions_as_messages: K::TYPE == zmq::XSUB,
            },
            io.direct_input::<Frames>("in"),
        )?;
        let outbound = Output::new("socket", vec![socket.outbound().clone()]);
        Ok(Endpoint {
            socket: Socket::Thread {
                io: socket,
                outbound,
                ended: false,
            },
            _kind: PhantomData,
        })
    }

    fn end_of_input(&mut self, ctx: &mut Context<Self>) {
        if !(K::DRIVEN && K::SENDS) {
            // Only `subscriptions` has an inlet: its end changes nothing. The
            // end of `in` is seen by the socket thread (see `started`).
            return;
        }
        match &mut self.socket {
            // `in` has ended: libzmq delivers what the socket holds within
            // its linger once it closes.
            Socket::Node { .. } => ctx.stop(),
            // Monitored: everything is in the thread's queue; it flushes
            // and closes, then the endpoint stops (see `started`).
            Socket::Thread { ended, .. } => *ended = true,
        }
    }
}
