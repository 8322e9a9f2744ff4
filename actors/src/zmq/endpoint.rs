//! [`Endpoint`]: the actor around one ZeroMQ socket, generic over its kind.

use std::marker::PhantomData;
use std::time::Duration;

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, ParamCheck, Ports, Role};
use rolecall_runtime::wire::Output;

use super::frames::Frames;
use super::io::{SocketIo, Wiring};
use super::kinds::SocketKind;
use super::message::{SocketEvent, Subscription};
use super::params::Params;

/// A ZeroMQ socket as an actor.
///
/// Ports (by socket type): `in` (messages to send, drained by the socket
/// thread straight from the wires), `out` (messages
/// received), `subscriptions` (SUB/XSUB filter changes) and `monitor`
/// (socket events, when `monitor = true`). The socket is opened in
/// [`Role::build`], so a failing bind or connect is a crash the supervisor
/// retries with backoff; a restart opens a fresh socket.
pub struct Endpoint<K: SocketKind> {
    io: SocketIo,
    outbound: Output<Frames>,
    _kind: PhantomData<K>,
}

impl<K: SocketKind> std::fmt::Debug for Endpoint<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").field("kind", &K::NAME).finish()
    }
}

impl<K: SocketKind> Actor for Endpoint<K> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // The socket thread drains `in` itself; when those wires end, it
        // hands what is queued to the socket (waiting up to `linger_ms` for
        // a peer that binds late) and closes it; then the endpoint stops.
        ctx.run_interval(Duration::from_millis(20), |act, ctx| {
            if act.io.producers_gone() {
                act.io.finish();
                if act.io.is_finished() {
                    ctx.stop();
                }
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        let (messages, dropped) = self.io.counts();
        tracing::info!(kind = K::NAME, messages, dropped, "endpoint closed");
    }
}

impl<K: SocketKind> Handler<Frames> for Endpoint<K> {
    type Result = ();

    fn handle(&mut self, msg: Frames, ctx: &mut Context<Self>) {
        self.outbound.send(msg, ctx);
    }
}

impl<K: SocketKind> Handler<Subscription> for Endpoint<K> {
    type Result = ();

    fn handle(&mut self, msg: Subscription, _ctx: &mut Context<Self>) {
        self.io.subscription(msg);
    }
}

impl<K: SocketKind> Role for Endpoint<K> {
    type Params = Params;
    const ABOUT: &'static str = K::ABOUT;

    fn ports(ports: &mut Ports<Self>) {
        if K::SENDS {
            // The socket thread sends straight from the wires.
            ports.direct_input::<Frames>("in");
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
            io: socket,
            outbound,
            _kind: PhantomData,
        })
    }

    fn end_of_input(&mut self, _ctx: &mut Context<Self>) {
        // Only `subscriptions` has an inlet: its end changes nothing. The end
        // of `in` is seen by the socket thread (see `started`).
    }
}
