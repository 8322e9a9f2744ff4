//! [`Election`] (`zk.election`): leader election in kazoo's layout.
//!
//! The candidate enters with an EPHEMERAL|SEQUENTIAL node whose data is its
//! identifier (for example its address), then either leads (lowest sequence)
//! or watches its immediate predecessor. It sends [`Leadership::Elected`]
//! once it leads, and [`Leadership::Following`] with the leader's identifier
//! whenever the leader it follows changes. To learn of a new leader that is
//! not its predecessor, a follower also watches the current leader's node:
//! a leader change wakes every follower once (which is what "every follower
//! learns the new leader" costs), while a waiter leaving wakes only the one
//! behind it. When its session ends the candidate crashes; the supervisor
//! restarts it and it enters again.

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
    /// Parameters of `zk.election`: the parent path, the
    /// contender's identifier, and the session parameters of [`Connect`](super::config::Connect).
    pub struct Params {
        /// The election's (lock's) persistent parent node, created if missing.
        pub path: String,
        /// This contender's identifier, stored as its node's data (default: the
        /// actor's name).
        #[serde(default)]
        pub identifier: Option<String>,
    }
}

impl Params {
    pub(crate) fn check(&self, kind: &str) -> Result<(), CreateError> {
        validate_path(&self.path, false).map_err(|e| CreateError::from(format!("{kind}: {e}")))?;
        self.connect()
            .validate()
            .map_err(|e| CreateError::from(format!("{kind}: {e}")))
    }
}

/// What a candidate learns about the election.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub enum Leadership {
    /// This candidate leads.
    Elected {
        /// Its own identifier.
        identifier: String,
    },
    /// This candidate follows `leader` (the leader's identifier).
    Following {
        /// The leader's identifier (its node's data).
        leader: String,
    },
}

/// A candidate in a leader election.
pub struct Election {
    params: Params,
    identifier: String,
    client: Option<zkc::Client>,
    node: Option<String>,
    announced: Option<Leadership>,
    out: Output<Leadership>,
    on_error: OnError,
}

impl std::fmt::Debug for Election {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Election")
            .field("path", &self.params.path)
            .field("identifier", &self.identifier)
            .field("node", &self.node)
            .finish()
    }
}

impl Election {
    fn announce(&mut self, l: Leadership, ctx: &mut Context<Self>) {
        if self.announced.as_ref() != Some(&l) {
            tracing::info!(identifier = %self.identifier, "{l:?}");
            self.announced = Some(l.clone());
            self.out.send(l, ctx);
        }
    }

    /// One look at the candidates; then lead, or wait and look again.
    fn round(&mut self, ctx: &mut Context<Self>) {
        let (Some(client), Some(me)) = (self.client.clone(), self.node.clone()) else {
            return;
        };
        let parent = self.params.path.clone();
        ctx.spawn(
            async move {
                let s = standing(&client, &parent, &me).await?;
                Ok::<_, Error>((s, client, parent))
            }
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Err(e) if transient(&e) => {
                    ctx.run_later(RETRY, |act, ctx| act.round(ctx));
                }
                Err(e) => act.on_error.crash(ctx, &e),
                Ok((Standing::Holder, ..)) => {
                    let identifier = act.identifier.clone();
                    act.announce(Leadership::Elected { identifier }, ctx);
                }
                Ok((
                    Standing::Waiting {
                        predecessor,
                        holder,
                        leader,
                    },
                    client,
                    parent,
                )) => {
                    if let Some(leader) = leader {
                        act.announce(Leadership::Following { leader }, ctx);
                    }
                    ctx.spawn(
                        async move {
                            wait_turn(&client, &parent, &predecessor, Some(&holder)).await
                        }
                        .into_actor(act)
                        .map(|res, act, ctx| match res {
                            Ok(()) => act.round(ctx),
                            Err(e) if transient(&e) => {
                                ctx.run_later(RETRY, |act, ctx| act.round(ctx));
                            }
                            Err(e) => act.on_error.crash(ctx, &e),
                        }),
                    );
                }
            }),
        );
    }
}

impl Actor for Election {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let opening = self.on_error.open(self.params.connect(), false);
        let parent = self.params.path.clone();
        let data = self.identifier.clone().into_bytes();
        ctx.wait(
            async move {
                let client = opening.await?;
                let node = enter(&client, &parent, &node_prefix(), &data).await?;
                Ok::<_, Error>((client, node))
            }
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Err(e) => act.on_error.fail(ctx, &e),
                Ok((client, node)) => {
                    let watcher = client.state_watcher();
                    act.client = Some(client);
                    act.node = Some(node);
                    act.on_error.crash_when_session_ends(watcher, "", ctx);
                    act.round(ctx);
                }
            }),
        );
    }
}

/// Asks a candidate for the node it created (its name under the election's path; `None` before it entered).
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Option<String>")]
pub struct CandidateNode;

impl Handler<CandidateNode> for Election {
    type Result = Option<String>;

    fn handle(&mut self, _: CandidateNode, _ctx: &mut Context<Self>) -> Option<String> {
        self.node.clone()
    }
}

impl Role for Election {
    type Params = Params;
    const ABOUT: &'static str =
        "a leader-election candidate (kazoo layout): sends Elected, or Following(leader) at every leader change";

    fn ports(ports: &mut Ports<Self>) {
        ports.output::<Leadership>("leadership");
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        params.check("zk.election")?;
        Ok(Election {
            identifier: params
                .identifier
                .clone()
                .unwrap_or_else(|| io.actor_name().to_owned()),
            params: params.clone(),
            client: None,
            node: None,
            announced: None,
            out: io.output("leadership")?,
            on_error: OnError::new("zk.election", io),
        })
    }
}
