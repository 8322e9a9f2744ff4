//! [`Membership`] (`zk.membership`): group membership / service registry.
//!
//! A member registers an ephemeral node `path/<name>` whose data is its
//! address; a watcher (no `name`) only watches. Both send the current member
//! list as [`Members`] on `members` at start and after every change (a child
//! watch on `path`, set again each time). Names are unique: a node with this
//! member's name owned by another session is taken to be a previous
//! incarnation's (its session not yet closed by the server) and replaced.
//! A member's node disappears when its session ends; a connection lost during
//! a listing is retried; if this actor's own session expires it crashes, and the
//! supervisor restarts it, which registers it again.

use std::collections::BTreeMap;

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::{Deserialize, Serialize};
use zookeeper_client as zkc;

use super::config::params_with_session;
use super::contender::{transient, OnError, RETRY};
use super::error::{validate_path, Error, Result};

params_with_session! {
    /// Parameters of `zk.membership`.
    pub struct Params {
        /// The group's parent node (created if missing).
        pub path: String,
        /// Register as this member (omit to only watch).
        #[serde(default)]
        pub name: Option<String>,
        /// The member's address, stored as its node's data.
        #[serde(default)]
        pub address: String,
    }
}

/// The group's members: name → address, sent at every change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct Members {
    /// The group's parent node (so that one receiver can follow several groups).
    #[serde(default)]
    pub path: String,
    /// Member name → address.
    pub members: BTreeMap<String, String>,
}

/// A group member or watcher.
pub struct Membership {
    params: Params,
    client: Option<zkc::Client>,
    last: Option<Members>,
    out: Output<Members>,
    on_error: OnError,
}

impl std::fmt::Debug for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membership")
            .field("path", &self.params.path)
            .field("name", &self.params.name)
            .finish()
    }
}

/// Lists the members (with their addresses) and sets a child watch.
async fn list(client: &zkc::Client, parent: &str) -> Result<(Members, zkc::OneshotWatcher)> {
    let (names, w) = client
        .list_and_watch_children(parent)
        .await
        .map_err(|e| Error::from_client(e, parent, None))?;
    let mut members = BTreeMap::new();
    for n in names {
        // A member may leave between the list and the read: skip it.
        if let Ok((data, _)) = client.get_data(&format!("{parent}/{n}")).await {
            members.insert(n, String::from_utf8_lossy(&data).into_owned());
        }
    }
    Ok((
        Members {
            path: parent.to_owned(),
            members,
        },
        w,
    ))
}

/// Creates this member's ephemeral node. A node of the same name left by an
/// earlier incarnation's session (not yet closed by the server) is replaced.
async fn register(
    client: &zkc::Client,
    me: &str,
    address: &[u8],
    eph: &zkc::CreateOptions<'_>,
) -> Result<()> {
    let err = |e| Error::from_client(e, me, None);
    for _ in 0..3 {
        match client.create(me, address, eph).await {
            Ok(_) => return Ok(()),
            Err(zkc::Error::NodeExists) => match client.check_stat(me).await.map_err(err)? {
                Some(stat) if stat.ephemeral_owner != client.session_id().0 => {
                    match client.delete(me, Some(stat.version)).await {
                        Ok(()) | Err(zkc::Error::NoNode) | Err(zkc::Error::BadVersion) => {}
                        Err(e) => return Err(err(e)),
                    }
                }
                Some(_) => return Ok(()),
                None => {}
            },
            Err(e) => return Err(err(e)),
        }
    }
    Err(Error::NodeExists {
        path: me.to_owned(),
    })
}

impl Membership {
    fn follow(&mut self, ctx: &mut Context<Self>) {
        let Some(client) = self.client.clone() else {
            return;
        };
        let parent = self.params.path.clone();
        ctx.spawn(
            async move { list(&client, &parent).await }
                .into_actor(self)
                .map(|res, act, ctx| match res {
                    Err(e) if transient(&e) => {
                        ctx.run_later(RETRY, |act, ctx| act.follow(ctx));
                    }
                    Err(e) => act.on_error.crash(ctx, &e),
                    Ok((members, w)) => {
                        if act.last.as_ref() != Some(&members) {
                            act.last = Some(members.clone());
                            act.out.send(members, ctx);
                        }
                        ctx.spawn(
                            async move { w.changed().await }
                                .into_actor(act)
                                .map(|_, act, ctx| act.follow(ctx)),
                        );
                    }
                }),
        );
    }
}

impl Actor for Membership {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let opening = self.on_error.open(self.params.connect(), false);
        let params = self.params.clone();
        ctx.wait(
            async move {
                let client = opening.await?;
                let open = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all());
                client
                    .mkdir(&params.path, &open)
                    .await
                    .map_err(|e| Error::from_client(e, &params.path, None))?;
                if let Some(name) = &params.name {
                    let me = format!("{}/{name}", params.path);
                    let eph = zkc::CreateMode::Ephemeral.with_acls(zkc::Acls::anyone_all());
                    register(&client, &me, params.address.as_bytes(), &eph).await?;
                }
                Ok::<_, Error>(client)
            }
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Err(e) => act.on_error.fail(ctx, &e),
                Ok(client) => {
                    let w = client.state_watcher();
                    act.client = Some(client);
                    let path = act.params.path.clone();
                    act.on_error.crash_when_session_ends(w, &path, ctx);
                    act.follow(ctx);
                }
            }),
        );
    }
}

impl Role for Membership {
    type Params = Params;
    const ABOUT: &'static str =
        "group membership / service registry: registers `name` → `address`, sends the member list at every change";

    fn ports(ports: &mut Ports<Self>) {
        ports.output::<Members>("members");
    }

    fn build(params: &Params, io: &mut Io) -> std::result::Result<Self, CreateError> {
        let bad = |e: String| CreateError::from(format!("zk.membership: {e}"));
        validate_path(&params.path, false).map_err(|e| bad(e.to_string()))?;
        params.connect().validate().map_err(bad)?;
        if let Some(n) = &params.name {
            if n.is_empty() || n.contains('/') {
                return Err(bad(format!("`name` {n:?} is not a valid child name")));
            }
        }
        Ok(Membership {
            params: params.clone(),
            client: None,
            last: None,
            out: io.output("members")?,
            on_error: OnError::new("zk.membership", io),
        })
    }
}
