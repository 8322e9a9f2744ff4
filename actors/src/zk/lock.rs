//! [`Lock`] (`zk.lock`): a distributed lock in kazoo's layout.
//!
//! On [`LockCommand::Acquire`] the actor creates its EPHEMERAL|SEQUENTIAL
//! node (data: its identifier) and waits, watching only its immediate
//! predecessor, until it has the lowest sequence; then it sends
//! [`LockEvent::Acquired`]. [`LockCommand::Release`] deletes the node and
//! sends [`LockEvent::Released`]. With `hold_ms` the actor is a finite job:
//! it acquires at start, holds the lock that long, releases and stops.
//! kazoo's `Lock` on the same path contends in
//! the same queue. If the session ends the actor crashes (its node is gone
//! with the session), and the supervisor restarts it.

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::{Deserialize, Serialize};
use zookeeper_client as zkc;

use super::config::params_with_session;
use super::contender::{enter, standing, transient, wait_turn, OnError, Standing, RETRY};
use super::contention::node_prefix;
use super::error::{validate_path, Error};

params_with_session! {
    /// Parameters of `zk.lock`.
    pub struct Params {
        /// The lock's persistent parent node, created if missing.
        pub path: String,
        /// This contender's identifier, stored as its node's data (default: the
        /// actor's name).
        #[serde(default)]
        pub identifier: Option<String>,
        /// A finite job: acquire at start, hold the lock this many milliseconds,
        /// release it and stop (default: act on `commands` only).
        #[serde(default)]
        pub hold_ms: Option<u64>,
    }
}

/// What to do with the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub enum LockCommand {
    /// Queue for the lock (ignored while queued or holding).
    Acquire,
    /// Leave the queue, or release the lock.
    Release,
}

/// What happened to the lock.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub enum LockEvent {
    /// This actor holds the lock through `node`.
    Acquired {
        /// Its node's name under the lock's path.
        node: String,
    },
    /// This actor released the lock (or left the queue).
    Released,
}

/// A distributed lock's contender.
pub struct Lock {
    params: Params,
    identifier: String,
    client: Option<zkc::Client>,
    node: Option<String>,
    /// Incremented at every release: rounds of an older attempt stop.
    attempt: u64,
    out: Output<LockEvent>,
    on_error: OnError,
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lock")
            .field("path", &self.params.path)
            .field("node", &self.node)
            .finish()
    }
}

impl Lock {
    fn round(&mut self, attempt: u64, ctx: &mut Context<Self>) {
        let (Some(client), Some(me)) = (self.client.clone(), self.node.clone()) else {
            return;
        };
        let parent = self.params.path.clone();
        ctx.spawn(
            async move {
                match standing(&client, &parent, &me).await? {
                    Standing::Holder => Ok(true),
                    Standing::Waiting { predecessor, .. } => {
                        wait_turn(&client, &parent, &predecessor, None).await?;
                        Ok::<_, Error>(false)
                    }
                }
            }
            .into_actor(self)
            .map(move |res, act, ctx| {
                if act.attempt != attempt {
                    return;
                }
                match res {
                    Ok(true) => {
                        let node = act.node.clone().unwrap_or_default();
                        tracing::info!(identifier = %act.identifier, %node, "lock acquired");
                        act.out.send(LockEvent::Acquired { node }, ctx);
                        if let Some(ms) = act.params.hold_ms {
                            ctx.run_later(std::time::Duration::from_millis(ms), |_, ctx| {
                                ctx.notify(LockCommand::Release)
                            });
                        }
                    }
                    Ok(false) => act.round(attempt, ctx),
                    Err(e) if transient(&e) => {
                        ctx.run_later(RETRY, move |act, ctx| act.round(attempt, ctx));
                    }
                    Err(e) => act.on_error.crash(ctx, &e),
                }
            }),
        );
    }
}

impl Actor for Lock {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let opening = self.on_error.open(self.params.connect(), false);
        ctx.wait(opening.into_actor(self).map(|res, act, ctx| match res {
            Err(e) => act.on_error.fail(ctx, &e),
            Ok(client) => {
                let watcher = client.state_watcher();
                act.client = Some(client);
                if act.params.hold_ms.is_some() {
                    ctx.notify(LockCommand::Acquire);
                }
                act.on_error.crash_when_session_ends(watcher, "", ctx);
            }
        }));
    }
}

impl Handler<LockCommand> for Lock {
    type Result = ();

    fn handle(&mut self, cmd: LockCommand, ctx: &mut Context<Self>) {
        let Some(client) = self.client.clone() else {
            return;
        };
        let parent = self.params.path.clone();
        match cmd {
            LockCommand::Acquire if self.node.is_none() => {
                let attempt = self.attempt;
                let data = self.identifier.clone().into_bytes();
                // Until the node exists, nothing else: a Release must see it.
                ctx.wait(
                    async move { enter(&client, &parent, &node_prefix(), &data).await }
                        .into_actor(self)
                        .map(move |res, act, ctx| match res {
                            Ok(node) => {
                                act.node = Some(node);
                                act.round(attempt, ctx);
                            }
                            Err(e) => act.on_error.crash(ctx, &e),
                        }),
                );
            }
            LockCommand::Acquire => {}
            LockCommand::Release => {
                self.attempt += 1;
                let Some(node) = self.node.take() else {
                    return;
                };
                let path = format!("{parent}/{node}");
                ctx.wait(
                    async move { (client.delete(&path, None).await, path) }
                        .into_actor(self)
                        .map(|(res, path), act, ctx| match res {
                            Ok(()) | Err(zkc::Error::NoNode) => {
                                act.out.send(LockEvent::Released, ctx);
                                if act.params.hold_ms.is_some() {
                                    ctx.stop();
                                }
                            }
                            Err(e) => act.on_error.crash(ctx, &Error::from_client(e, &path, None)),
                        }),
                );
            }
        }
    }
}

impl Role for Lock {
    type Params = Params;
    const ABOUT: &'static str =
        "a distributed lock (kazoo layout, no herd): commands Acquire/Release in, Acquired/Released out";

    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<LockCommand>("commands")
            .output::<LockEvent>("events");
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        let bad = |e: String| CreateError::from(format!("zk.lock: {e}"));
        validate_path(&params.path, false).map_err(|e| bad(e.to_string()))?;
        params.connect().validate().map_err(bad)?;
        Ok(Lock {
            identifier: params
                .identifier
                .clone()
                .unwrap_or_else(|| io.actor_name().to_owned()),
            params: params.clone(),
            client: None,
            node: None,
            attempt: 0,
            out: io.output("events")?,
            on_error: OnError::new("zk.lock", io),
        })
    }
}
