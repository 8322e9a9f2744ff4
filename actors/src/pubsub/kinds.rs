//! The kinds: thin actors around [`Directory`] and the [`driver`](mod@super::driver).
//!
//! | kind | ports |
//! |---|---|
//! | `pubsub.discovery` | `requests`: [`Frames`] in (from a `zmq.rep`), `replies`: [`Frames`] out (to it), `leadership`: [`Leadership`] in (a replica's `zk.election`) |
//! | `pubsub.publisher` | `points`: [`Point`] out (progress); `zk`: [`Members`] in |
//! | `pubsub.subscriber` | `points`: [`Point`] out (one `latency` point per stamped publication); `zk`: [`Members`] in |
//! | `pubsub.broker` | `points`: [`Point`] out; `zk`: [`Members`] in; `leadership`: [`Leadership`] in (its group's `zk.election`) |
//!
//! `zk` takes the member lists of the watch-only `zk.membership` actors that
//! follow the ZooKeeper strategy's nodes ([`coordination`](super::coordination)).

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::time::Duration;

use actix::prelude::*;
use rolecall_codecs::pb::discovery::RegistrantInfo;
use rolecall_runtime::kind::{CreateError, Io, ParamCheck, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::Deserialize;
use tokio::sync::oneshot;

use super::client::Kind;
use super::coordination::{Change, Coordinator, Directions};
use super::directory::{Directory, Dissemination, Expect};
use super::driver::{self, Event, Running};
use super::promotion::Pace;
use super::publication::Format;
use super::topics;
use crate::metrics::Point;
use crate::zk::{Leadership, Members};
use crate::zmq::Frames;

// ---------------------------------------------------------------- discovery

/// Parameters of `pubsub.discovery`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryParams {
    /// Publishers expected before lookups are answered (`-P`).
    pub publishers: usize,
    /// Subscribers expected before the system is ready (`-S`).
    pub subscribers: usize,
    /// `direct` (default) or `broker`.
    #[serde(default)]
    pub dissemination: Dissemination,
    /// Topics accepted at registration (default: the course's nine).
    #[serde(default)]
    pub topics: Option<Vec<String>>,
    /// Most registrants kept (default 10000).
    #[serde(default)]
    pub capacity: Option<usize>,
    /// Brokers expected under Broker dissemination (default 1; the
    /// ZooKeeper strategy's broker replicas all register).
    #[serde(default)]
    pub brokers: Option<usize>,
}

/// The centralized discovery service: answers each request frame from a
/// `zmq.rep` endpoint with one reply frame.
#[derive(Debug)]
pub struct Discovery {
    directory: Directory,
    replies: Output<Frames>,
    name: String,
    /// As a replica (ZooKeeper strategy): the last word of its election.
    standing: Option<Leadership>,
}

impl Handler<Leadership> for Discovery {
    type Result = ();
    fn handle(&mut self, msg: Leadership, _ctx: &mut Context<Self>) {
        match &msg {
            Leadership::Elected { identifier } => tracing::info!(
                actor = %self.name,
                "discovery PRIMARY: elected, serving at {identifier}"
            ),
            Leadership::Following { leader } => tracing::info!(
                actor = %self.name,
                "discovery BACKUP: the primary is {leader}"
            ),
        }
        self.standing = Some(msg);
    }
}

impl Actor for Discovery {
    type Context = Context<Self>;
}

impl Handler<Frames> for Discovery {
    type Result = ();
    fn handle(&mut self, msg: Frames, ctx: &mut Context<Self>) {
        let before = self.directory.counts();
        let reply = self.directory.handle_bytes(msg.body());
        let after = self.directory.counts();
        if before != after {
            tracing::info!(
                actor = %self.name,
                publishers = after.0,
                subscribers = after.1,
                broker = after.2,
                ready = self.directory.is_ready(),
                "registered"
            );
        }
        self.replies.send(Frames::one(reply), ctx);
    }
}

impl Role for Discovery {
    type Params = DiscoveryParams;
    const ABOUT: &'static str =
        "the course's centralized discovery service: protobuf DiscoveryReq on `requests`, DiscoveryResp on `replies`";
    const REACTIVE: bool = true;
    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<Frames>("requests")
            .input::<Leadership>("leadership")
            .output::<Frames>("replies");
    }
    fn build(p: &DiscoveryParams, io: &mut Io) -> Result<Self, CreateError> {
        let mut expect = Expect::new(p.publishers, p.subscribers, p.dissemination);
        if let Some(t) = &p.topics {
            expect.topics = t.clone();
        }
        if let Some(c) = p.capacity {
            expect.capacity = c;
        }
        if let Some(b) = p.brokers {
            expect.brokers = b;
        }
        Ok(Discovery {
            directory: Directory::new(expect),
            replies: io.output("replies")?,
            name: io.actor_name().to_owned(),
            standing: None,
        })
    }
}

// ---------------------------------------------------------------- clients

/// Parameters of `pubsub.publisher`, `pubsub.subscriber` and `pubsub.broker`
/// (each uses the fields of its role).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientParams {
    /// The unique id (`-n`).
    pub id: String,
    /// The address others reach this one at (`-a`, default `localhost`).
    #[serde(default = "default_addr")]
    pub addr: String,
    /// Publisher, broker: the PUB port (`-p`, default 5577).
    #[serde(default = "default_port")]
    pub port: u16,
    /// Discovery, `HOST:PORT` (`-d`, default `localhost:5555`).
    #[serde(default = "default_discovery")]
    pub discovery: String,
    /// Topics; without them `num_topics` are chosen from `seed`.
    #[serde(default)]
    pub topics: Option<Vec<String>>,
    /// How many topics to choose (`-T`, 1-9, default 1).
    #[serde(default = "one")]
    pub num_topics: usize,
    /// Seed of the topic choice and the values (default: from the id).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Publisher: iterations (`-i`, default 1000).
    #[serde(default = "default_iters")]
    pub iters: u64,
    /// Publisher: iterations per second (`-f`, default 1; 0: unpaced).
    #[serde(default = "default_frequency")]
    pub frequency: f64,
    /// Milliseconds between isready or lookup polls while not ready (default 1000;
    /// the course's publisher waits 10 s).
    #[serde(default = "default_pause")]
    pub pause_ms: u64,
    /// Milliseconds a discovery request may take before it is resent (default 5000).
    #[serde(default = "default_timeout")]
    pub request_timeout_ms: u64,
    /// Resends of an unanswered discovery request (default 3).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Publisher: milliseconds between ready and the first publication (default 300).
    #[serde(default = "default_settle")]
    pub settle_ms: u64,
    /// Subscriber: complete after this many publications (0: never).
    #[serde(default)]
    pub stop_after: u64,
    /// Subscriber, broker: complete after this many ms without a publication
    /// once one arrived (0: never).
    #[serde(default)]
    pub idle_timeout_ms: u64,
    /// High-water mark of the data sockets (default 100000).
    #[serde(default = "default_hwm")]
    pub hwm: i32,
    /// Publisher: `text` (the course's `topic:data`, default) or `flatbuffers`
    /// (the course's `Topic`); subscribers read both.
    #[serde(default)]
    pub format: Format,
    /// The ZooKeeper strategy: discovery is the primary replica that the
    /// `zk` port's lists name (`discovery` is not used).
    #[serde(default)]
    pub zookeeper: bool,
    /// The ZooKeeper strategy's root node (default `/rolecall/pubsub`).
    #[serde(default = "default_zk_root")]
    pub zk_root: String,
    /// Broker dissemination with the ZooKeeper strategy: the number of
    /// topic groups; a subscriber connects to the primary broker of each of
    /// its topics' groups.
    #[serde(default)]
    pub groups: Option<usize>,
    /// A broker replica (ZooKeeper strategy): its topic group (0-based, below `groups`).
    #[serde(default)]
    pub group: Option<usize>,
    /// A broker replica: publications kept for replay when it becomes the
    /// primary (default 10000).
    #[serde(default = "default_replay")]
    pub replay: usize,
    /// A broker replica: the most milliseconds between being elected and
    /// replaying, so that subscribers can connect (default 500).
    #[serde(default = "default_promote_settle")]
    pub promote_settle_ms: u64,
    /// A broker replica: it replays this many milliseconds after the last
    /// subscription that arrived since it was elected (default 100; equal to
    /// `promote_settle_ms`: always the whole settle). See [`promotion`](super::promotion).
    #[serde(default = "default_promote_quiet")]
    pub promote_quiet_ms: u64,
    /// History QoS, Direct only (`--history`; 0, default: none): see [`history`](super::history).
    #[serde(default, deserialize_with = "super::history::depth")]
    pub history: usize,
    /// `direct` (default) or `broker`, as discovery's (history needs Direct).
    #[serde(default)]
    pub dissemination: Dissemination,
}

fn default_zk_root() -> String {
    super::coordination::ROOT.to_owned()
}
fn default_replay() -> usize {
    10_000
}
fn default_promote_settle() -> u64 {
    driver::PROMOTE_SETTLE.as_millis() as u64
}
fn default_promote_quiet() -> u64 {
    driver::PROMOTE_QUIET.as_millis() as u64
}

fn default_addr() -> String {
    "localhost".into()
}
fn default_port() -> u16 {
    5577
}
fn default_discovery() -> String {
    "localhost:5555".into()
}
fn one() -> usize {
    1
}
fn default_iters() -> u64 {
    1000
}
fn default_frequency() -> f64 {
    1.0
}
fn default_pause() -> u64 {
    1000
}
fn default_timeout() -> u64 {
    5000
}
fn default_retries() -> u32 {
    3
}
fn default_settle() -> u64 {
    300
}
fn default_hwm() -> i32 {
    100_000
}

/// A bad parameter of a client kind.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// A topic outside the course's nine.
    #[error("unknown topic '{0}' (known: {known})", known = topics::TOPICS.join(", "))]
    UnknownTopic(String),
    /// `num_topics` out of 1-9.
    #[error("num_topics must be 1-9, not {0}")]
    NumTopics(usize),
    /// An empty id.
    #[error("id must not be empty")]
    EmptyId,
    /// A bad frequency.
    #[error("frequency must be finite and >= 0, not {0}")]
    Frequency(f64),
    /// A group outside `groups`, or a group without `groups`.
    #[error("group {group} needs groups > {group} (groups = {groups:?})")]
    Group {
        /// The group.
        group: usize,
        /// The number of groups.
        groups: Option<usize>,
    },
}

impl ClientParams {
    fn seed(&self) -> u64 {
        self.seed.unwrap_or_else(|| {
            // FNV-1a of the id: stable across runs and platforms.
            self.id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            })
        })
    }

    /// The topics: as given, or `num_topics` chosen from the seed.
    pub fn topics(&self) -> Result<Vec<String>, ParamsError> {
        match &self.topics {
            Some(t) => {
                if let Some(bad) = t.iter().find(|t| !topics::is_known(t)) {
                    return Err(ParamsError::UnknownTopic(bad.clone()));
                }
                Ok(t.clone())
            }
            None if (1..=9).contains(&self.num_topics) => {
                Ok(topics::interest(self.num_topics, self.seed()))
            }
            None => Err(ParamsError::NumTopics(self.num_topics)),
        }
    }

    /// The driver's configuration for role `kind`.
    pub fn driver_config(&self, kind: Kind) -> Result<driver::Config, ParamsError> {
        if self.id.is_empty() {
            return Err(ParamsError::EmptyId);
        }
        if !self.frequency.is_finite() || self.frequency < 0.0 {
            return Err(ParamsError::Frequency(self.frequency));
        }
        if let Some(group) = self.group {
            if self.groups.is_none_or(|g| group >= g) {
                return Err(ParamsError::Group {
                    group,
                    groups: self.groups,
                });
            }
        }
        let serves = kind != Kind::Subscriber;
        let discovery = if self.discovery.contains("://") {
            self.discovery.clone()
        } else {
            format!("tcp://{}", self.discovery)
        };
        Ok(driver::Config {
            kind,
            discovery,
            info: RegistrantInfo {
                id: self.id.clone(),
                addr: Some(self.addr.clone()),
                port: serves.then_some(u32::from(self.port)),
            },
            topics: if kind == Kind::Broker {
                Vec::new()
            } else {
                self.topics()?
            },
            bind: serves.then(|| format!("tcp://*:{}", self.port)),
            pause: Duration::from_millis(self.pause_ms),
            request_timeout: Duration::from_millis(self.request_timeout_ms.max(1)),
            retries: self.retries,
            iters: self.iters,
            frequency: self.frequency,
            settle: Duration::from_millis(self.settle_ms),
            seed: self.seed(),
            stop_after: self.stop_after,
            idle_timeout: (self.idle_timeout_ms > 0)
                .then(|| Duration::from_millis(self.idle_timeout_ms)),
            sndhwm: self.hwm,
            format: self.format,
            zk: self.zookeeper,
            groups: self.groups.map(|g| g.max(1)),
            group: self.group,
            replay: self.replay,
            promote: Pace {
                settle: Duration::from_millis(self.promote_settle_ms),
                quiet: Duration::from_millis(self.promote_quiet_ms),
            },
            history: self.history,
            dissemination: self.dissemination,
            zmq: None,
        })
    }
}

/// Which client role a [`Member`] plays.
pub trait ClientRole: Unpin + 'static {
    /// The role.
    const KIND: Kind;
    /// Its name in log lines.
    const LABEL: &'static str;
}

macro_rules! client_role {
    ($(#[$doc:meta])* $name:ident, $kind:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl ClientRole for $name {
            const KIND: Kind = Kind::$kind;
            const LABEL: &'static str = $label;
        }
    };
}

client_role!(/// `pubsub.publisher`.
    Publisher, Publisher, "publisher");
client_role!(/// `pubsub.subscriber`.
    Subscriber, Subscriber, "subscriber");
client_role!(/// `pubsub.broker`.
    Broker, Broker, "broker");

/// Most distinct (publisher, topic) counters a subscriber keeps.
const MAX_SERIES: usize = 4096;

/// A publisher, subscriber or broker: starts its driver thread, turns its
/// events into log lines and metrics points, and stops when it completes.
pub struct Member<R: ClientRole> {
    name: String,
    config: driver::Config,
    running: Option<Running>,
    points: Output<Point>,
    counts: BTreeMap<(String, String), u64>,
    malformed: u64,
    watchers: Vec<oneshot::Sender<Result<String, String>>>,
    coordinator: Coordinator,
    directions: tokio::sync::watch::Sender<Directions>,
    node: rolecall_runtime::kind::NodeHandle,
    _role: PhantomData<R>,
}

impl<R: ClientRole> std::fmt::Debug for Member<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("role", &R::LABEL)
            .field("name", &self.name)
            .finish()
    }
}

impl<R: ClientRole> Actor for Member<R> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let dirs = self.directions.subscribe();
        match Running::start(self.config.clone(), dirs, 1024) {
            Ok((running, events)) => {
                self.running = Some(running);
                ctx.add_stream(events);
            }
            Err(e) => {
                tracing::error!(actor = %self.name, "cannot start the {} thread: {e}", R::LABEL);
                ctx.stop();
            }
        }
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        if let Some(r) = self.running.take() {
            r.stop();
        }
    }
}

/// Asks a client for its outcome: the reply is a receiver that gets
/// `Ok(summary)` when the role completes or `Err(reason)` when it fails
/// (dropped unanswered if the actor stops otherwise).
#[derive(Debug, Message)]
#[rtype(result = "oneshot::Receiver<Result<String, String>>")]
pub struct Watch;

impl<R: ClientRole> Handler<Watch> for Member<R> {
    type Result = MessageResult<Watch>;
    fn handle(&mut self, _: Watch, _ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.watchers.push(tx);
        MessageResult(rx)
    }
}

impl<R: ClientRole> Handler<Members> for Member<R> {
    type Result = ();
    fn handle(&mut self, msg: Members, _ctx: &mut Context<Self>) {
        if let Some(change) = self.coordinator.on_members(&msg) {
            self.directions_changed(change);
        }
    }
}

impl<R: ClientRole> Handler<Leadership> for Member<R> {
    type Result = ();
    fn handle(&mut self, msg: Leadership, _ctx: &mut Context<Self>) {
        let elected = matches!(msg, Leadership::Elected { .. });
        if let Leadership::Following { leader } = &msg {
            tracing::info!(actor = %self.name, "{} BACKUP: the primary is {leader}", R::LABEL);
        }
        if let Some(change) = self.coordinator.on_leadership(elected) {
            self.directions_changed(change);
        }
    }
}

impl<R: ClientRole> Member<R> {
    fn directions_changed(&mut self, change: Change) {
        let who = &self.name;
        match &change {
            Change::Discovery(Some(ep)) => {
                tracing::info!(actor = %who, "primary discovery: {ep}")
            }
            Change::Discovery(None) => {
                tracing::warn!(actor = %who, "no primary discovery: every replica is gone")
            }
            Change::Broker {
                group,
                endpoint: Some(ep),
            } => tracing::info!(actor = %who, "primary broker of group {group}: {ep}"),
            Change::Broker {
                group,
                endpoint: None,
            } => tracing::warn!(actor = %who, "group {group} has no primary broker"),
            Change::Owner {
                topic,
                owner,
                ignored,
            } => {
                match owner {
                    Some(o) => tracing::info!(
                        actor = %who,
                        "owner of {topic}: {} (strength {})",
                        o.id,
                        o.strength
                    ),
                    None => {
                        tracing::info!(actor = %who, "{topic} has no owner: every publisher is delivered")
                    }
                }
                if !ignored.is_empty() {
                    tracing::warn!(actor = %who, "ownership nodes of {topic} without a strength ignored: {ignored:?}");
                }
            }
            Change::Leading(true) => {
                tracing::info!(actor = %who, "{} PRIMARY of its group", R::LABEL)
            }
            Change::Leading(false) => {}
        }
        self.directions
            .send_replace(self.coordinator.directions().clone());
    }

    fn finish(&mut self, outcome: Result<String, String>) {
        for w in self.watchers.drain(..) {
            let _ = w.send(outcome.clone());
        }
    }

    fn summary(&self) -> String {
        let total: u64 = self.counts.values().sum();
        let parts: Vec<String> = self
            .counts
            .iter()
            .map(|((p, t), n)| format!("{p}/{t}={n}"))
            .collect();
        format!(
            "received {total} [{}] malformed {}",
            parts.join(" "),
            self.malformed
        )
    }
}

impl<R: ClientRole> StreamHandler<Event> for Member<R> {
    fn handle(&mut self, ev: Event, ctx: &mut Context<Self>) {
        match ev {
            Event::Phase(phase, detail) => {
                tracing::info!(actor = %self.name, "{} {phase}: {detail}", R::LABEL);
            }
            Event::Delivered {
                topic,
                publisher,
                latency_ns,
            } => {
                if let Some(ns) = latency_ns {
                    let point = Point::now("latency")
                        .tag("publisher", publisher.clone())
                        .tag("subscriber", self.config.info.id.clone())
                        .tag("topic", topic.clone())
                        .field("us", ns as f64 / 1000.0);
                    self.points.send(point, ctx);
                }
                let key = (publisher, topic);
                if self.counts.len() < MAX_SERIES || self.counts.contains_key(&key) {
                    *self.counts.entry(key).or_default() += 1;
                }
            }
            Event::Sent(n) => {
                tracing::debug!(actor = %self.name, sent = n, "{} progress", R::LABEL);
            }
            Event::Malformed(reason) => {
                self.malformed += 1;
                tracing::warn!(actor = %self.name, "dropped a frame: {reason}");
            }
            Event::Notice(what) => {
                tracing::warn!(actor = %self.name, "{} {}: {what}", R::LABEL, self.config.info.id);
            }
            Event::Done(Ok(what)) => {
                let detail = if R::KIND == Kind::Subscriber {
                    format!("{}; {what}", self.summary())
                } else {
                    what
                };
                tracing::info!(actor = %self.name, "{} COMPLETED: {detail}", R::LABEL);
                ctx.stop();
            }
            Event::Done(Err(e)) => {
                let e = format!("{} {} failed: {e}", R::LABEL, self.config.info.id);
                tracing::error!(actor = %self.name, "{e}");
                self.finish(Err(e.clone()));
                // No restart helps a refused registration or a port in use:
                // the node ends as failed, whether or not anyone watches.
                self.node.fail(e);
                ctx.stop();
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl<R: ClientRole> Role for Member<R> {
    type Params = ClientParams;
    const ABOUT: &'static str =
        "a course publish/subscribe client (publisher, subscriber or broker): registers with discovery, then disseminates";
    fn ports(ports: &mut Ports<Self>) {
        ports
            .output::<Point>("points")
            .input::<Members>("zk")
            .input::<Leadership>("leadership");
    }
    fn check(p: &ClientParams, check: &mut ParamCheck) {
        // Bad values are reported by `build` with the driver's own error.
        if let Ok(Some(bind)) = p.driver_config(R::KIND).map(|c| c.bind) {
            check.binds("port", bind);
        }
    }
    fn build(p: &ClientParams, io: &mut Io) -> Result<Self, CreateError> {
        let config = driver::Config {
            zmq: Some(io.zmq().clone()),
            ..p.driver_config(R::KIND)?
        };
        tracing::info!(
            actor = io.actor_name(),
            id = %config.info.id,
            topics = ?config.topics,
            "{} INITIALIZE/CONFIGURE done",
            R::LABEL
        );
        Ok(Member {
            name: io.actor_name().to_owned(),
            config,
            running: None,
            points: io.output("points")?,
            counts: BTreeMap::new(),
            malformed: 0,
            watchers: Vec::new(),
            coordinator: Coordinator::new(&p.zk_root),
            directions: tokio::sync::watch::channel(Directions::default()).0,
            node: io.node().clone(),
            _role: PhantomData,
        })
    }
}

#[cfg(test)]
#[path = "kinds_tests.rs"]
mod tests;
