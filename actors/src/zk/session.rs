//! [`Session`]: one ZooKeeper session as an actor.
//!
//! Requests come in as [`Request`]s on the `requests` port (answered on
//! `replies` with the same id) or as [`Call`]s through the actor's `Ref`.
//! Each request runs as its own future on the actor's context, so the mailbox
//! never waits for the server. Watches fire as [`WatchEvent`]s on `events`;
//! connection changes go out as [`ConnectionState`] on `state`. When the
//! session expires the actor opens a new one, creates again the ephemeral
//! nodes it had created (non-sequential ones: their path is known; a node the
//! expired session still holds is replaced, one another session holds is
//! waited out: see `ephemeral.rs`), and sets
//! its persistent watches again. Opening the first session keeps trying for
//! `connect_timeout_ms`; if no server answered by then the node fails with
//! one line naming the servers and how to point the kind elsewhere (see
//! [`Connect::connect`]). Opening one after an expiry keeps trying for
//! `reconnect_timeout_ms`, by default until a server answers
//! ([`Connect::reconnect`]).

use std::collections::BTreeMap;

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use zookeeper_client as zkc;

use super::config::{params_with_session, Connect};
use super::contender::OnError;
use super::ephemeral::{create_again, Again};
use super::error::{validate_path, Error, Result};
use super::request::{
    Access, Call, ConnectionState, EventKind, Mode, Op, Outcome, Reply, Request, WatchEvent,
};

params_with_session! {
    /// Parameters of `zk.session`.
    pub struct Params {
        /// Requests in flight at most (default 256). At the limit the actor
        /// handles nothing else until one completes, so its input wire fills and
        /// pushes back on the senders.
        #[serde(default = "default_max_in_flight")]
        pub max_in_flight: usize,
    }
}

fn default_max_in_flight() -> usize {
    256
}

/// A ZooKeeper session (kind `zk.session`); parameters: [`Params`].
pub struct Session {
    connect: Connect,
    on_error: OnError,
    max_in_flight: usize,
    in_flight: usize,
    client: Option<zkc::Client>,
    /// Incremented at every new session: futures of older ones are ignored.
    epoch: u64,
    /// The id of the session that expired last, whose ephemeral nodes this
    /// actor may replace.
    expired: Option<i64>,
    /// Ephemeral nodes this actor created (path → data, access), made again
    /// after an expiry.
    ephemerals: BTreeMap<String, (Vec<u8>, Access)>,
    /// Persistent watches (path → recursive), set again after an expiry.
    watches: BTreeMap<String, bool>,
    replies: Output<Reply>,
    events: Output<WatchEvent>,
    state: Output<ConnectionState>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("servers", &self.connect.servers())
            .field("epoch", &self.epoch)
            .field("ephemerals", &self.ephemerals.len())
            .finish()
    }
}

/// A watch a request set, to be followed by the actor.
enum Watcher {
    Oneshot(zkc::OneshotWatcher),
    Persistent(zkc::PersistentWatcher),
}

/// What one request produced besides its outcome: a watch to follow.
type Ran = (Result<Outcome>, Option<Watcher>);

async fn execute(client: zkc::Client, op: Op) -> Ran {
    let path = op.path().to_owned();
    let sequential = matches!(&op, Op::Create { mode, .. } if mode.is_sequential());
    if let Err(e) = validate_path(&path, sequential) {
        return (Err(e), None);
    }
    let err = |e, expected| Error::from_client(e, &path, expected);
    match op {
        Op::Create {
            data, mode, access, ..
        } => {
            let options = mode.client().with_acls(access.acls());
            let r = client.create(&path, &data, &options).await;
            let r = r.map(|(_, seq)| Outcome::Created {
                path: if mode.is_sequential() {
                    format!("{path}{seq}")
                } else {
                    path.clone()
                },
            });
            (r.map_err(|e| err(e, None)), None)
        }
        Op::Get { watch: false, .. } => {
            let r = client
                .get_data(&path)
                .await
                .map(|(data, stat)| Outcome::Data {
                    data,
                    version: stat.version,
                });
            (r.map_err(|e| err(e, None)), None)
        }
        Op::Get { watch: true, .. } => match client.get_and_watch_data(&path).await {
            Ok((data, stat, w)) => (
                Ok(Outcome::Data {
                    data,
                    version: stat.version,
                }),
                Some(Watcher::Oneshot(w)),
            ),
            Err(e) => (Err(err(e, None)), None),
        },
        Op::Set { data, version, .. } => {
            let r = client.set_data(&path, &data, version).await;
            let r = r.map(|stat| Outcome::Written {
                version: stat.version,
            });
            (r.map_err(|e| err(e, version)), None)
        }
        Op::Delete { version, .. } => {
            let r = client
                .delete(&path, version)
                .await
                .map(|()| Outcome::Deleted);
            (r.map_err(|e| err(e, version)), None)
        }
        Op::Exists { watch: false, .. } => {
            let r = client.check_stat(&path).await.map(|s| Outcome::Exists {
                version: s.map(|s| s.version),
            });
            (r.map_err(|e| err(e, None)), None)
        }
        Op::Exists { watch: true, .. } => match client.check_and_watch_stat(&path).await {
            Ok((s, w)) => (
                Ok(Outcome::Exists {
                    version: s.map(|s| s.version),
                }),
                Some(Watcher::Oneshot(w)),
            ),
            Err(e) => (Err(err(e, None)), None),
        },
        Op::Children { watch: false, .. } => {
            let r = client.list_children(&path).await.map(|mut names| {
                names.sort();
                Outcome::Children { names }
            });
            (r.map_err(|e| err(e, None)), None)
        }
        Op::Children { watch: true, .. } => match client.list_and_watch_children(&path).await {
            Ok((mut names, w)) => {
                names.sort();
                (Ok(Outcome::Children { names }), Some(Watcher::Oneshot(w)))
            }
            Err(e) => (Err(err(e, None)), None),
        },
        Op::Watch { recursive, .. } => {
            // Set before the reply: a change right after it is seen.
            match client.watch(&path, watch_mode(recursive)).await {
                Ok(w) => (Ok(Outcome::Watching), Some(Watcher::Persistent(w))),
                Err(e) => (Err(err(e, None)), None),
            }
        }
    }
}

fn watch_mode(recursive: bool) -> zkc::AddWatchMode {
    if recursive {
        zkc::AddWatchMode::PersistentRecursive
    } else {
        zkc::AddWatchMode::Persistent
    }
}

impl Session {
    /// Opens a session (again, after an expiry, or in a restarted
    /// incarnation: see [`Connect::reconnect`]); the actor handles nothing
    /// else until it is open.
    fn open(&mut self, expired: bool, ctx: &mut Context<Self>) {
        let opening = self.on_error.open(self.connect.clone(), expired);
        ctx.wait(opening.into_actor(self).map(|res, act, ctx| match res {
            Ok(client) => act.opened(client, ctx),
            Err(e) => act.on_error.fail(ctx, &e),
        }));
    }

    fn opened(&mut self, client: zkc::Client, ctx: &mut Context<Self>) {
        self.epoch += 1;
        let epoch = self.epoch;
        let session = client.session_id().0;
        tracing::info!(session = format!("{session:#x}"), "zk session open");
        self.client = Some(client.clone());
        self.follow_state(client.state_watcher(), epoch, ctx);
        // Ephemeral nodes and persistent watches of a previous session.
        for (path, (data, access)) in self.ephemerals.clone() {
            let (c, expired) = (client.clone(), self.expired);
            ctx.spawn(
                async move { (create_again(&c, &path, &data, access, expired).await, path) }
                    .into_actor(self)
                    .map(|(res, path), _, _| match res {
                        Ok(again @ (Again::Created | Again::Replaced | Again::Waited)) => {
                            tracing::info!(%path, "ephemeral node created again ({again:?})");
                        }
                        Ok(Again::HeldByPersistentNode) => tracing::warn!(
                            %path,
                            "cannot create ephemeral node again: a persistent node holds its path"
                        ),
                        Err(e) => tracing::warn!(%path, "cannot create ephemeral node again: {e}"),
                    }),
            );
        }
        for (path, recursive) in self.watches.clone() {
            self.watch(path, recursive, ctx);
        }
        self.state.send(
            ConnectionState::Connected {
                session,
                fresh: true,
            },
            ctx,
        );
    }

    /// Follows the session's state changes until it ends.
    fn follow_state(
        &mut self,
        mut watcher: zkc::StateWatcher,
        epoch: u64,
        ctx: &mut Context<Self>,
    ) {
        ctx.spawn(
            async move {
                let s = watcher.changed().await;
                (watcher, s)
            }
            .into_actor(self)
            .map(move |(watcher, s), act, ctx| {
                if act.epoch != epoch {
                    return;
                }
                act.state_changed(s, ctx);
                if !s.is_terminated() {
                    act.follow_state(watcher, epoch, ctx);
                }
            }),
        );
    }

    fn state_changed(&mut self, s: zkc::SessionState, ctx: &mut Context<Self>) {
        use zkc::SessionState as S;
        tracing::info!("zk session state: {s:?}");
        match s {
            S::SyncConnected | S::ConnectedReadOnly => {
                let session = self.client.as_ref().map_or(0, |c| c.session_id().0);
                self.state.send(
                    ConnectionState::Connected {
                        session,
                        fresh: false,
                    },
                    ctx,
                );
            }
            S::Disconnected => {
                self.state.send(ConnectionState::Disconnected, ctx);
            }
            S::Expired => {
                self.expired = self.client.take().map(|c| c.session_id().0);
                self.state.send(ConnectionState::Expired, ctx);
                self.open(true, ctx);
            }
            S::AuthFailed => {
                self.client = None;
                self.state.send(ConnectionState::AuthFailed, ctx);
                self.on_error.crash(ctx, &Error::AuthFailed);
            }
            S::Closed => self.client = None,
        }
    }

    /// Sets a persistent watch and delivers its events until the session ends.
    fn watch(&mut self, path: String, recursive: bool, ctx: &mut Context<Self>) {
        let Some(client) = self.client.clone() else {
            return;
        };
        let epoch = self.epoch;
        let mode = watch_mode(recursive);
        ctx.spawn(
            async move { (client.watch(&path, mode).await, path) }
                .into_actor(self)
                .map(move |(res, path), act, ctx| match res {
                    Ok(w) => act.persistent_events(w, epoch, ctx),
                    Err(e) => tracing::warn!(%path, "cannot set persistent watch: {e}"),
                }),
        );
    }

    fn persistent_events(
        &mut self,
        mut w: zkc::PersistentWatcher,
        epoch: u64,
        ctx: &mut Context<Self>,
    ) {
        ctx.spawn(
            async move {
                let ev = w.changed().await;
                (w, ev)
            }
            .into_actor(self)
            .map(move |(w, ev), act, ctx| {
                if act.epoch != epoch {
                    return;
                }
                match EventKind::from_client(ev.event_type) {
                    Some(kind) => {
                        act.events.send(
                            WatchEvent {
                                path: ev.path,
                                kind,
                                persistent: true,
                            },
                            ctx,
                        );
                        act.persistent_events(w, epoch, ctx);
                    }
                    // A session event: this watcher is done when the session
                    // ends; otherwise keep listening.
                    None if ev.session_state.is_terminated() => {}
                    None => act.persistent_events(w, epoch, ctx),
                }
            }),
        );
    }

    fn oneshot(&mut self, w: zkc::OneshotWatcher, ctx: &mut Context<Self>) {
        let epoch = self.epoch;
        ctx.spawn(
            async move { w.changed().await }
                .into_actor(self)
                .map(move |ev, act, ctx| {
                    if act.epoch != epoch {
                        return;
                    }
                    if let Some(kind) = EventKind::from_client(ev.event_type) {
                        act.events.send(
                            WatchEvent {
                                path: ev.path,
                                kind,
                                persistent: false,
                            },
                            ctx,
                        );
                    }
                }),
        );
    }

    /// Whether the next request must hold the mailbox (`ctx.wait`) rather than
    /// run beside it (`ctx.spawn`).
    fn at_limit(&self) -> bool {
        self.in_flight >= self.max_in_flight
    }

    /// Runs one request as a future on the actor's context.
    fn run(&mut self, op: Op) -> impl ActorFuture<Self, Output = Result<Outcome>> + 'static {
        self.in_flight += 1;
        let client = self.client.clone();
        let remember = op.clone();
        async move {
            match client {
                Some(c) => execute(c, op).await,
                None => (Err(Error::NotConnected), None),
            }
        }
        .into_actor(self)
        .map(move |(res, watcher), act, ctx| {
            act.in_flight -= 1;
            match watcher {
                Some(Watcher::Oneshot(w)) => act.oneshot(w, ctx),
                Some(Watcher::Persistent(w)) => {
                    let epoch = act.epoch;
                    act.persistent_events(w, epoch, ctx);
                }
                None => {}
            }
            match (&res, remember) {
                (
                    Ok(_),
                    Op::Create {
                        path,
                        data,
                        mode: Mode::Ephemeral,
                        access,
                    },
                ) => {
                    act.ephemerals.insert(path, (data, access));
                }
                (Ok(_), Op::Delete { path, .. }) => {
                    act.ephemerals.remove(&path);
                }
                (Ok(_), Op::Watch { path, recursive }) => {
                    // Remembered to be set again on a new session.
                    act.watches.insert(path, recursive);
                }
                _ => {}
            }
            res
        })
    }
}

impl Actor for Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.open(false, ctx);
    }
}

impl Handler<Request> for Session {
    type Result = ();

    fn handle(&mut self, req: Request, ctx: &mut Context<Self>) {
        let id = req.id;
        let limit = self.at_limit();
        let fut = self.run(req.op).map(move |result, act, ctx| {
            act.replies.send(Reply { id, result }, ctx);
        });
        if limit {
            ctx.wait(fut);
        } else {
            ctx.spawn(fut);
        }
    }
}

impl Handler<Call> for Session {
    type Result = ResponseActFuture<Self, Result<Outcome>>;

    fn handle(&mut self, call: Call, ctx: &mut Context<Self>) -> Self::Result {
        if !self.at_limit() {
            return Box::pin(self.run(call.0));
        }
        // At the limit: hold the mailbox until this one is done.
        let (tx, rx) = tokio::sync::oneshot::channel();
        ctx.wait(self.run(call.0).map(move |r, _, _| {
            let _ = tx.send(r);
        }));
        Box::pin(async move { rx.await.unwrap_or(Err(Error::SessionExpired)) }.into_actor(self))
    }
}

/// Asks the session for its id and password (to reattach to it from another
/// client); `None` between sessions.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Option<zkc::SessionInfo>")]
pub struct Info;

impl Handler<Info> for Session {
    type Result = Option<zkc::SessionInfo>;

    fn handle(&mut self, _: Info, _ctx: &mut Context<Self>) -> Self::Result {
        self.client.as_ref().map(|c| c.session().clone())
    }
}

impl Role for Session {
    type Params = Params;
    const ABOUT: &'static str =
        "a ZooKeeper session: typed requests in, replies, watch events and connection states out";

    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<Request>("requests")
            .output::<Reply>("replies")
            .output::<WatchEvent>("events")
            .output::<ConnectionState>("state");
    }

    fn build(params: &Params, io: &mut Io) -> std::result::Result<Self, CreateError> {
        let connect = params.connect();
        connect
            .validate()
            .map_err(|e| CreateError::from(format!("zk.session: {e}")))?;
        if params.max_in_flight == 0 {
            return Err("zk.session: `max_in_flight` must be at least 1".into());
        }
        Ok(Session {
            connect,
            on_error: OnError::new("zk.session", io),
            max_in_flight: params.max_in_flight,
            in_flight: 0,
            client: None,
            epoch: 0,
            expired: None,
            ephemerals: BTreeMap::new(),
            watches: BTreeMap::new(),
            replies: io.output("replies")?,
            events: io.output("events")?,
            state: io.output("state")?,
        })
    }
}
