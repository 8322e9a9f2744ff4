//! [`Barrier`] (`zk.barrier`): the course's barrier, and a double barrier.
//!
//! A driver member (`driver = true`) creates the barrier's parent node. Every
//! member waits until the parent exists, then creates an ephemeral child
//! named after itself (data: its name) and is released when the number of
//! member children reaches `size`. The first member to see the full count
//! also creates a `ready` child, so that a member that looks later — when
//! early members may already have left — is released too. Leaving (double
//! barrier; on a `Leave` command or `leave_after_ms` after the release)
//! deletes the member's child and waits until every member's child is gone;
//! then the driver deletes `ready` and the parent. A course-style kazoo client
//! that creates `parent/<name>` and counts children is a member like any other.

use std::time::Duration;

use actix::prelude::*;
use futures::future::{select, Either};
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::{Deserialize, Serialize};
use zookeeper_client as zkc;

use super::config::params_with_session;
use super::contender::{session_ended, terminated, OnError};
use super::error::{validate_path, Error, Result};

/// The marker child created once the barrier is full.
pub const READY: &str = "ready";

/// The members among a barrier's children (every child but [`READY`]), sorted.
pub fn members<S: AsRef<str>>(children: &[S]) -> Vec<String> {
    let mut m: Vec<String> = children
        .iter()
        .map(|c| c.as_ref().to_owned())
        .filter(|c| c != READY)
        .collect();
    m.sort();
    m
}

/// What a member waiting at the barrier does after listing the children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Fewer than `size` members and no `ready` marker: wait for a change.
    Wait,
    /// Released; `mark` says whether to create the `ready` marker (the count
    /// is reached but nobody has marked it yet).
    Release {
        /// The members present.
        members: Vec<String>,
        /// Create the `ready` marker.
        mark: bool,
    },
}

/// Decides an entering member's next step from the parent's children.
pub fn entry<S: AsRef<str>>(children: &[S], size: usize) -> Entry {
    let ready = children.iter().any(|c| c.as_ref() == READY);
    let members = members(children);
    if ready {
        Entry::Release {
            members,
            mark: false,
        }
    } else if members.len() >= size {
        Entry::Release {
            members,
            mark: true,
        }
    } else {
        Entry::Wait
    }
}

/// Whether every member has left (only the marker, or nothing, remains).
pub fn all_left<S: AsRef<str>>(children: &[S]) -> bool {
    members(children).is_empty()
}

params_with_session! {
    /// Parameters of `zk.barrier`.
    pub struct Params {
        /// The barrier's parent node.
        pub path: String,
        /// How many members release the barrier.
        pub size: usize,
        /// This member's child name (default: the actor's name).
        #[serde(default)]
        pub name: Option<String>,
        /// This member creates the parent and removes it after everyone left.
        #[serde(default)]
        pub driver: bool,
        /// Leave by itself this many milliseconds after the release (default:
        /// only on a `Leave` command).
        #[serde(default)]
        pub leave_after_ms: Option<u64>,
        /// Stop the actor once everyone has left (default true), so finite
        /// topologies end by themselves.
        #[serde(default = "yes")]
        pub stop_when_left: bool,
    }
}

fn yes() -> bool {
    true
}

/// Commands to a barrier member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub enum BarrierCommand {
    /// Leave the barrier (double barrier): delete this member's child and
    /// wait for everyone to leave.
    Leave,
}

/// What happens at the barrier.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub enum BarrierEvent {
    /// This member's child exists; it waits for the others.
    Entered,
    /// The barrier is full: everyone may proceed.
    Released {
        /// The members present at the release.
        members: Vec<String>,
    },
    /// Every member has left.
    Left,
}

/// A barrier member.
pub struct Barrier {
    params: Params,
    name: String,
    client: Option<zkc::Client>,
    released: bool,
    leaving: bool,
    out: Output<BarrierEvent>,
    on_error: OnError,
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Barrier")
            .field("path", &self.params.path)
            .field("name", &self.name)
            .finish()
    }
}

fn err(path: &str) -> impl Fn(zkc::Error) -> Error + '_ {
    move |e| Error::from_client(e, path, None)
}

/// Waits until `parent` exists (creating it if `driver`), then enters.
async fn enter(client: &zkc::Client, parent: &str, name: &str, driver: bool) -> Result<()> {
    if driver {
        let open = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all());
        client.mkdir(parent, &open).await.map_err(err(parent))?;
    }
    loop {
        let (stat, w) = client
            .check_and_watch_stat(parent)
            .await
            .map_err(err(parent))?;
        if stat.is_some() {
            break;
        }
        w.changed().await;
    }
    let me = format!("{parent}/{name}");
    let eph = zkc::CreateMode::Ephemeral.with_acls(zkc::Acls::anyone_all());
    match client.create(&me, name.as_bytes(), &eph).await {
        Ok(_) | Err(zkc::Error::NodeExists) => Ok(()),
        Err(e) => Err(err(&me)(e)),
    }
}

/// Waits until the barrier is full; returns the members.
async fn wait_full(client: &zkc::Client, parent: &str, size: usize) -> Result<Vec<String>> {
    loop {
        let (children, w) = client
            .list_and_watch_children(parent)
            .await
            .map_err(err(parent))?;
        match entry(&children, size) {
            Entry::Wait => {
                w.changed().await;
            }
            Entry::Release { members, mark } => {
                if mark {
                    let ready = format!("{parent}/{READY}");
                    let open = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all());
                    match client.create(&ready, b"", &open).await {
                        Ok(_) | Err(zkc::Error::NodeExists) => {}
                        Err(e) => return Err(err(&ready)(e)),
                    }
                }
                return Ok(members);
            }
        }
    }
}

/// Deletes this member's child and waits until every member has left; the
/// driver then removes the marker and the parent.
async fn leave(client: &zkc::Client, parent: &str, name: &str, driver: bool) -> Result<()> {
    let me = format!("{parent}/{name}");
    match client.delete(&me, None).await {
        Ok(()) | Err(zkc::Error::NoNode) => {}
        Err(e) => return Err(err(&me)(e)),
    }
    loop {
        let (children, w) = match client.list_and_watch_children(parent).await {
            Ok(x) => x,
            Err(zkc::Error::NoNode) => return Ok(()),
            Err(e) => return Err(err(parent)(e)),
        };
        if all_left(&children) {
            break;
        }
        let timeout = Box::pin(tokio::time::sleep(Duration::from_secs(1)));
        if let Either::Right(_) = select(Box::pin(w.changed()), timeout).await {
            continue;
        }
    }
    if driver {
        let ready = format!("{parent}/{READY}");
        for p in [ready.as_str(), parent] {
            match client.delete(p, None).await {
                Ok(()) | Err(zkc::Error::NoNode) | Err(zkc::Error::NotEmpty) => {}
                Err(e) => return Err(err(p)(e)),
            }
        }
    }
    Ok(())
}

impl Barrier {
    fn leave(&mut self, ctx: &mut Context<Self>) {
        let Some(client) = self.client.clone() else {
            return;
        };
        if self.leaving {
            return;
        }
        self.leaving = true;
        let (parent, name, driver) = (
            self.params.path.clone(),
            self.name.clone(),
            self.params.driver,
        );
        ctx.spawn(
            async move { leave(&client, &parent, &name, driver).await }
                .into_actor(self)
                .map(|res, act, ctx| match res {
                    Ok(()) => {
                        act.out.send(BarrierEvent::Left, ctx);
                        if act.params.stop_when_left {
                            ctx.stop();
                        }
                    }
                    Err(e) => act.on_error.crash(ctx, &e),
                }),
        );
    }
}

impl Actor for Barrier {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let opening = self.on_error.open(self.params.connect(), false);
        let (parent, name, driver) = (
            self.params.path.clone(),
            self.name.clone(),
            self.params.driver,
        );
        let size = self.params.size;
        ctx.wait(opening.into_actor(self).map(move |res, act, ctx| {
            let client = match res {
                Ok(c) => c,
                Err(e) => return act.on_error.fail(ctx, &e),
            };
            act.client = Some(client.clone());
            ctx.spawn(
                terminated(client.state_watcher())
                    .into_actor(act)
                    .map(|s, act, ctx| {
                        if !act.leaving {
                            let ended = session_ended(act.params.path.clone(), s);
                            act.on_error.crash(ctx, &ended)
                        }
                    }),
            );
            let c = client.clone();
            let p = parent.clone();
            ctx.spawn(
                async move { enter(&c, &p, &name, driver).await }
                    .into_actor(act)
                    .map(move |res, act, ctx| {
                        if let Err(e) = res {
                            return act.on_error.crash(ctx, &e);
                        }
                        act.out.send(BarrierEvent::Entered, ctx);
                        ctx.spawn(
                            async move { wait_full(&client, &parent, size).await }
                                .into_actor(act)
                                .map(|res, act, ctx| match res {
                                    Ok(members) => act.released(members, ctx),
                                    Err(e) => act.on_error.crash(ctx, &e),
                                }),
                        );
                    }),
            );
        }));
    }
}

impl Barrier {
    fn released(&mut self, members: Vec<String>, ctx: &mut Context<Self>) {
        tracing::info!(name = %self.name, ?members, "barrier released");
        self.released = true;
        self.out.send(BarrierEvent::Released { members }, ctx);
        if let Some(ms) = self.params.leave_after_ms {
            ctx.run_later(Duration::from_millis(ms), |act, ctx| act.leave(ctx));
        }
    }
}

impl Handler<BarrierCommand> for Barrier {
    type Result = ();

    fn handle(&mut self, BarrierCommand::Leave: BarrierCommand, ctx: &mut Context<Self>) {
        if self.released {
            self.leave(ctx);
        } else {
            // Not released yet: leave right after the release.
            self.params.leave_after_ms = Some(0);
        }
    }
}

impl Role for Barrier {
    type Params = Params;
    const ABOUT: &'static str =
        "a barrier member (course protocol; double barrier with Leave): events Entered, Released, Left";

    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<BarrierCommand>("commands")
            .output::<BarrierEvent>("events");
    }

    fn build(params: &Params, io: &mut Io) -> std::result::Result<Self, CreateError> {
        let bad = |e: String| CreateError::from(format!("zk.barrier: {e}"));
        validate_path(&params.path, false).map_err(|e| bad(e.to_string()))?;
        params.connect().validate().map_err(bad)?;
        if params.size == 0 {
            return Err(bad("`size` must be at least 1".into()));
        }
        let name = params
            .name
            .clone()
            .unwrap_or_else(|| io.actor_name().to_owned());
        if name.is_empty() || name.contains('/') || name == READY {
            return Err(bad(format!("`name` {name:?} is not a valid child name")));
        }
        Ok(Barrier {
            params: params.clone(),
            name,
            client: None,
            released: false,
            leaving: false,
            out: io.output("events")?,
            on_error: OnError::new("zk.barrier", io),
        })
    }

    fn end_of_input(&mut self, _ctx: &mut Context<Self>) {
        // No more commands: the member stays until it leaves by itself.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_at_size_and_marked_once() {
        assert_eq!(entry(&["a", "b"], 3), Entry::Wait);
        assert_eq!(
            entry(&["c", "a", "b"], 3),
            Entry::Release {
                members: vec!["a".into(), "b".into(), "c".into()],
                mark: true
            }
        );
        // Someone already marked it full, and early members have left.
        assert_eq!(
            entry(&["ready", "c"], 3),
            Entry::Release {
                members: vec!["c".into()],
                mark: false
            }
        );
        assert_eq!(
            entry(&["ready", "a", "b", "c"], 3),
            Entry::Release {
                members: vec!["a".into(), "b".into(), "c".into()],
                mark: false
            }
        );
    }

    #[test]
    fn the_marker_is_not_a_member() {
        assert_eq!(
            entry(&["ready"], 1),
            Entry::Release {
                members: vec![],
                mark: false
            }
        );
        assert_eq!(members(&["ready", "x"]), vec!["x".to_owned()]);
        assert!(all_left(&["ready"]));
        assert!(all_left::<&str>(&[]));
        assert!(!all_left(&["ready", "x"]));
    }
}
