//! [`Node`]: the `dht.node` actor. It builds the swarm in [`Role::build`]
//! (so a bad identity or a busy listen address is a crash the supervisor
//! retries), hands it to the driver task on its own arbiter, and turns typed
//! messages and wired [`Request`]s into driver commands.
//!
//! With bootstrap peers configured, the node bootstraps at start; when none
//! can be reached within `bootstrap_timeout`, the actor crashes with a
//! [`BootstrapError`] naming each address and why, and the supervisor
//! restarts it with backoff (a ring whose processes start in any order
//! forms itself this way).

use std::future::Future;

use actix::prelude::*;
use rolecall_runtime::kind::{Crash, CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use tokio::sync::{mpsc, oneshot};

use super::config::{Config, Params};
use super::driver::{Command, Driver};
use super::message::{
    Bootstrap, BootstrapError, Bootstrapped, Event, FindProviders, FindProvidersError, Found, Get,
    GetError, GetInfo, Info, NodeDown, Op, Outcome, Provide, ProvideError, Provided, Providers,
    Put, PutError, Request, Response, Stored,
};
use super::swarm;

/// Capacity of the channel carrying [`Event`]s from the driver to the actor.
const EVENT_CAPACITY: usize = 1024;

/// A Kademlia DHT node as an actor.
///
/// Ports: `requests` (in, [`Request`]), `responses` (out, [`Response`], with
/// the request's id), `events` (out, [`Event`]: routing-table updates,
/// bootstrap done). Through its `Ref`: [`Put`], [`Get`], [`Provide`],
/// [`FindProviders`], [`Bootstrap`], [`GetInfo`].
pub struct Node {
    config: Config,
    peer_id: String,
    commands: mpsc::Sender<Command>,
    start: Option<(Driver, mpsc::Receiver<Command>, mpsc::Receiver<Event>)>,
    task: Option<tokio::task::JoinHandle<()>>,
    responses: Output<Response>,
    events: Output<Event>,
    in_flight: usize,
    crash: Crash,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("peer_id", &self.peer_id)
            .field("in_flight", &self.in_flight)
            .finish()
    }
}

/// Sends `make(reply)` to the driver and waits for the answer. The command
/// is queued right away when there is room (so the driver sees it without
/// waiting for the returned future to be polled); otherwise the future
/// waits for room.
fn call<T, E: From<NodeDown>>(
    commands: mpsc::Sender<Command>,
    make: impl FnOnce(oneshot::Sender<Result<T, E>>) -> Command,
) -> impl Future<Output = Result<T, E>> {
    let (tx, rx) = oneshot::channel();
    let queued = match commands.try_send(make(tx)) {
        Ok(()) => Ok(None),
        Err(mpsc::error::TrySendError::Full(command)) => Ok(Some(command)),
        Err(mpsc::error::TrySendError::Closed(_)) => Err(NodeDown),
    };
    async move {
        if let Some(command) = queued? {
            commands.send(command).await.map_err(|_| NodeDown)?;
        }
        rx.await.map_err(|_| NodeDown)?
    }
}

/// Runs one operation of a wired request to its outcome.
async fn outcome(commands: mpsc::Sender<Command>, op: Op) -> Outcome {
    match op {
        Op::Put(m) => Outcome::Put(call(commands, |r| Command::Put(m, r)).await),
        Op::Get(m) => Outcome::Get(call(commands, |r| Command::Get(m, r)).await),
        Op::Provide(m) => Outcome::Provide(call(commands, |r| Command::Provide(m, r)).await),
        Op::FindProviders(m) => {
            Outcome::FindProviders(call(commands, |r| Command::FindProviders(m, r)).await)
        }
        Op::Bootstrap => Outcome::Bootstrap(call(commands, Command::Bootstrap).await),
    }
}

impl Node {
    /// The node's peer id.
    pub fn peer_id(&self) -> &str {
        &self.peer_id
    }
}

impl Actor for Node {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let Some((driver, commands, events)) = self.start.take() else {
            return;
        };
        self.task = Some(actix::spawn(driver.run(commands)));
        ctx.add_stream(futures::stream::unfold(events, |mut rx| async move {
            rx.recv().await.map(|e| (e, rx))
        }));
        if self.config.joins_at_start() && !self.config.bootstrap().is_empty() {
            // The driver gives up at `bootstrap_timeout` with each peer's
            // error; this is only a safety net.
            let timeout = self.config.bootstrap_timeout() + std::time::Duration::from_secs(2);
            let peers: Vec<String> = self
                .config
                .bootstrap()
                .iter()
                .map(|p| p.full().to_string())
                .collect();
            let bootstrap = call(self.commands.clone(), Command::Bootstrap);
            let fut = async move {
                match tokio::time::timeout(timeout, bootstrap).await {
                    Ok(result) => result,
                    Err(_) => Err(BootstrapError::Timeout {
                        peers,
                        after_ms: timeout.as_millis() as u64,
                    }),
                }
            };
            ctx.spawn(fut.into_actor(self).map(|result, act, ctx| match result {
                Ok(done) => tracing::info!(
                    peer = %act.peer_id,
                    routing_peers = done.peers,
                    "dht node bootstrapped"
                ),
                // The supervisor's restart (with backoff) is the retry.
                Err(e) => act.crash.now(ctx, e),
            }));
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl StreamHandler<Event> for Node {
    fn handle(&mut self, event: Event, ctx: &mut Context<Self>) {
        self.events.send(event, ctx);
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        // The driver holds the sender until its swarm ends, which only
        // happens when this actor drops its commands.
        let reason = format!("the dht swarm task of node {} ended", self.peer_id);
        self.crash.now(ctx, reason);
    }
}

impl Handler<Request> for Node {
    type Result = ();

    fn handle(&mut self, request: Request, ctx: &mut Context<Self>) {
        let id = request.id;
        let fut = outcome(self.commands.clone(), request.op)
            .into_actor(self)
            .map(move |outcome, act, ctx| {
                act.in_flight -= 1;
                act.responses.send(Response { id, outcome }, ctx);
            });
        self.in_flight += 1;
        // Bound the requests in flight: past the command queue's capacity,
        // take no more input until this one is answered.
        if self.in_flight > self.config.command_capacity {
            ctx.wait(fut);
        } else {
            ctx.spawn(fut);
        }
    }
}

macro_rules! forward {
    ($msg:ty, $ok:ty, $err:ty, $variant:ident) => {
        impl Handler<$msg> for Node {
            type Result = ResponseFuture<Result<$ok, $err>>;
            fn handle(&mut self, msg: $msg, _: &mut Context<Self>) -> Self::Result {
                Box::pin(call(self.commands.clone(), |r| Command::$variant(msg, r)))
            }
        }
    };
}

forward!(Put, Stored, PutError, Put);
forward!(Get, Found, GetError, Get);
forward!(Provide, Provided, ProvideError, Provide);
forward!(FindProviders, Providers, FindProvidersError, FindProviders);

impl Handler<Bootstrap> for Node {
    type Result = ResponseFuture<Result<Bootstrapped, BootstrapError>>;
    fn handle(&mut self, _: Bootstrap, _: &mut Context<Self>) -> Self::Result {
        Box::pin(call(self.commands.clone(), Command::Bootstrap))
    }
}

impl Handler<GetInfo> for Node {
    type Result = ResponseFuture<Result<Info, NodeDown>>;
    fn handle(&mut self, _: GetInfo, _: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        let commands = self.commands.clone();
        Box::pin(async move {
            commands
                .send(Command::Info(tx))
                .await
                .map_err(|_| NodeDown)?;
            rx.await.map_err(|_| NodeDown)
        })
    }
}

impl Role for Node {
    type Params = Params;
    const ABOUT: &'static str =
        "a Kademlia DHT node on libp2p (/ipfs/kad/1.0.0): put/get records, providers, bootstrap";

    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<Request>("requests")
            .output::<Response>("responses")
            .output::<Event>("events");
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        let config = params.validate()?;
        let keypair = config.identity().keypair()?;
        let peer_id = keypair.public().to_peer_id().to_string();
        let swarm = swarm::build(keypair, &config)?;
        let (commands, command_rx) = mpsc::channel(config.command_capacity);
        let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
        let driver = Driver::new(swarm, config.clone(), event_tx);
        Ok(Node {
            config,
            peer_id,
            commands,
            start: Some((driver, command_rx, event_rx)),
            task: None,
            responses: io.output("responses")?,
            events: io.output("events")?,
            in_flight: 0,
            crash: io.crash(),
        })
    }

    fn end_of_input(&mut self, _: &mut Context<Self>) {
        // A DHT node serves the ring whether or not anyone still sends it
        // requests: it stops on shutdown only.
    }
}
