//! The requests of a contender (election candidate, lock waiter), around the
//! I/O-free [`contention`](super::contention) functions: enter, look where it
//! stands, wait for its turn.

use actix::{Actor, ActorFutureExt, AsyncContext, Context};
use futures::future::{select, Either};
use futures::Future;
use rolecall_runtime::kind::{Crash, Io, Stopping};
use rolecall_runtime::NodeHandle;
use zookeeper_client as zkc;

use super::config::Connect;
use super::contention::{position, Position};
use super::error::{Error, Result};

/// Where a contender stands after one look at the parent's children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Standing {
    /// It holds the lock / leads.
    Holder,
    /// It waits behind `predecessor`; `holder` leads, with data `leader`.
    Waiting {
        predecessor: String,
        holder: String,
        leader: Option<String>,
    },
}

fn open() -> zkc::CreateOptions<'static> {
    zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all())
}

/// Creates `parent` if needed, then this contender's EPHEMERAL|SEQUENTIAL
/// node `parent/<prefix><sequence>`; returns its name.
pub(crate) async fn enter(
    client: &zkc::Client,
    parent: &str,
    prefix: &str,
    data: &[u8],
) -> Result<String> {
    client
        .mkdir(parent, &open())
        .await
        .map_err(|e| Error::from_client(e, parent, None))?;
    let path = format!("{parent}/{prefix}");
    let options = zkc::CreateMode::EphemeralSequential.with_acls(zkc::Acls::anyone_all());
    let (_, seq) = client
        .create(&path, data, &options)
        .await
        .map_err(|e| Error::from_client(e, &path, None))?;
    Ok(format!("{prefix}{seq}"))
}

/// Looks where `me` stands under `parent` (and reads the leader's data).
pub(crate) async fn standing(client: &zkc::Client, parent: &str, me: &str) -> Result<Standing> {
    let children = client
        .list_children(parent)
        .await
        .map_err(|e| Error::from_client(e, parent, None))?;
    match position(&children, me) {
        Position::Holder => Ok(Standing::Holder),
        Position::Absent => Err(Error::NoNode {
            path: format!("{parent}/{me}"),
        }),
        Position::Waiting {
            predecessor,
            holder,
        } => {
            let leader = client
                .get_data(&format!("{parent}/{holder}"))
                .await
                .ok()
                .map(|(d, _)| String::from_utf8_lossy(&d).into_owned());
            Ok(Standing::Waiting {
                predecessor,
                holder,
                leader,
            })
        }
    }
}

/// Waits until `predecessor` is deleted (or, with `also`, until that node is
/// deleted or changes). Returns at once if one of them is already gone.
pub(crate) async fn wait_turn(
    client: &zkc::Client,
    parent: &str,
    predecessor: &str,
    also: Option<&str>,
) -> Result<()> {
    let p = format!("{parent}/{predecessor}");
    let (stat, first) = client
        .check_and_watch_stat(&p)
        .await
        .map_err(|e| Error::from_client(e, &p, None))?;
    if stat.is_none() {
        return Ok(());
    }
    let second = match also.filter(|h| *h != predecessor) {
        Some(h) => {
            let h = format!("{parent}/{h}");
            let (stat, w) = client
                .check_and_watch_stat(&h)
                .await
                .map_err(|e| Error::from_client(e, &h, None))?;
            if stat.is_none() {
                return Ok(());
            }
            Some(w)
        }
        None => None,
    };
    match second {
        None => {
            first.changed().await;
        }
        Some(second) => {
            let a = Box::pin(first.changed());
            let b = Box::pin(second.changed());
            match select(a, b).await {
                Either::Left(_) | Either::Right(_) => {}
            }
        }
    }
    Ok(())
}

/// Resolves when the client's session ends (expired, closed, auth failed).
pub(crate) async fn terminated(mut watcher: zkc::StateWatcher) -> zkc::SessionState {
    loop {
        let s = watcher.changed().await;
        if s.is_terminated() {
            return s;
        }
    }
}

/// The error a recipe's incarnation ends with when its session ended.
pub(crate) fn session_ended(path: String, s: zkc::SessionState) -> Error {
    Error::Other {
        path,
        message: format!("session ended ({s:?})"),
    }
}

/// How long a recipe waits before trying a step again after a transient error.
pub(crate) const RETRY: std::time::Duration = std::time::Duration::from_millis(300);

/// Whether a failed step may simply be tried again on the same session (the
/// connection dropped while the request was in flight; the client reconnects).
pub(crate) fn transient(e: &Error) -> bool {
    matches!(e, Error::ConnectionLoss { .. } | Error::NotConnected)
}

/// How a ZooKeeper kind ends when a step fails: [`Error::Unreachable`] (no
/// server answered for the whole connect timeout) fails the node at once,
/// with one line naming the actor, the servers and how to point it
/// elsewhere, since restarting would only wait again for the same absent
/// server; any other error crashes the incarnation ([`OnError::crash`]).
#[derive(Debug, Clone)]
pub(crate) struct OnError {
    kind: &'static str,
    actor: String,
    incarnation: u64,
    stopping: Stopping,
    node: NodeHandle,
    crash: Crash,
}

impl OnError {
    /// For actor `io.actor_name()` of `kind`.
    pub(crate) fn new(kind: &'static str, io: &Io) -> Self {
        OnError {
            kind,
            actor: io.actor_name().to_owned(),
            incarnation: io.incarnation(),
            stopping: io.stopping(),
            node: io.node().clone(),
            crash: io.crash(),
        }
    }

    /// Opens the incarnation's session: within `connect_timeout_ms` for the
    /// first incarnation, for `reconnect_timeout_ms` (by default until a
    /// server answers) for a restarted one, whose predecessor reached a
    /// server, or when a session of this incarnation `expired` (the first
    /// attempt of all fails the node when no server answers).
    pub(crate) fn open(
        &self,
        connect: Connect,
        expired: bool,
    ) -> impl Future<Output = Result<zkc::Client>> {
        let again = expired || self.incarnation > 1;
        let stopping = self.stopping.clone();
        let opening = async move {
            if again {
                connect.reconnect().await
            } else {
                connect.connect().await
            }
        };
        // A stop asked for meanwhile ends the wait (the actor handles
        // nothing else while it opens a session, its stop included).
        async move {
            match select(Box::pin(opening), stopping).await {
                Either::Left((opened, _)) => opened,
                Either::Right(_) => Err(Error::Stopping),
            }
        }
    }

    /// Crashes the incarnation when its session ends (expired, closed, auth
    /// failed); the restarted incarnation opens a new one. `path`: the
    /// recipe's node, for the message.
    pub(crate) fn crash_when_session_ends<A>(
        &self,
        watcher: zkc::StateWatcher,
        path: &str,
        ctx: &mut Context<A>,
    ) where
        A: Actor<Context = Context<A>>,
    {
        let (me, path) = (self.clone(), path.to_owned());
        ctx.spawn(
            actix::fut::wrap_future::<_, A>(terminated(watcher)).map(move |s, _, ctx| {
                me.crash(ctx, &session_ended(path, s));
            }),
        );
    }

    /// Fails the node (unreachable servers) or crashes the incarnation;
    /// nothing for [`Error::Stopping`] (the stop ends the incarnation).
    pub(crate) fn fail<A>(&self, ctx: &mut Context<A>, error: &Error)
    where
        A: Actor<Context = Context<A>>,
    {
        match error {
            // The stop ends the incarnation once its wait is over.
            Error::Stopping => {}
            Error::Unreachable { .. } => {
                let (kind, actor) = (self.kind, &self.actor);
                self.node.fail(format!("{kind} `{actor}`: {error}"));
            }
            _ => self.crash(ctx, error),
        }
    }

    /// Ends the incarnation whose session or contention failed: the
    /// supervisor restarts it after its backoff, and the new incarnation
    /// contends anew. Reported once, by the supervisor's `crashed` line.
    pub(crate) fn crash<A>(&self, ctx: &mut Context<A>, error: &Error)
    where
        A: Actor<Context = Context<A>>,
    {
        self.crash.now(ctx, format_args!("{}: {error}", self.kind));
    }
}
