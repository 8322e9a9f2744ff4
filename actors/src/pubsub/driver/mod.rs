//! The socket side of a publisher, subscriber or broker: one thread owns the
//! role's sockets (REQ to discovery, PUB and/or SUB), feeds replies to the
//! [`Client`] state machine and carries out its actions, then disseminates.
//! What it observes goes to the kind's actor as [`Event`]s on a bounded
//! channel (a full channel makes the thread wait: nothing is dropped).
//!
//! Discovery requests time out after `request_timeout` and are resent on a
//! fresh REQ socket (the "lazy pirate" pattern), at most `retries` times
//! ([`discovery`](self)). With the ZooKeeper strategy the actor passes the
//! [`Directions`] it learns to the thread through a `watch` channel (latest
//! value wins: bounded by construction): which discovery replica is the
//! primary, which broker serves each topic group, who owns each topic.

mod discovery;
mod publish;
mod receive;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::channel::mpsc;
use futures::SinkExt;
use rolecall_codecs::pb::discovery::RegistrantInfo;
use thiserror::Error;
use tokio::sync::watch;

use super::client::{Action, Client, ClientError, Kind};
use super::coordination::Directions;
use super::directory::Dissemination;
use super::history_io;
pub use super::promotion::Pace;
use super::publication::Format;
use crate::zmq::io::process_context;
use rolecall_runtime::remote::ZmqContext;

pub use receive::{PROMOTE_QUIET, PROMOTE_SETTLE};

/// The thread's end of the directions channel.
pub type DirectionsRx = watch::Receiver<Directions>;

/// Why a driver stopped before completing.
#[derive(Debug, Error)]
pub enum DriverError {
    /// A socket could not be opened, bound or connected.
    #[error("{action} {endpoint}: {error}")]
    Socket {
        /// What was being done.
        action: &'static str,
        /// The endpoint.
        endpoint: String,
        /// libzmq's error.
        error: zmq::Error,
    },
    /// Discovery did not answer.
    #[error("discovery at {endpoint} did not answer within {timeout:?} ({tries} tries)")]
    DiscoveryTimeout {
        /// The discovery endpoint.
        endpoint: String,
        /// Per try.
        timeout: Duration,
        /// Tries made.
        tries: u32,
    },
    /// The protocol failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// ZooKeeper named no primary discovery replica in time.
    #[error("no primary discovery replica was elected in ZooKeeper within {0:?}")]
    NoPrimary(Duration),
}

/// Everything a driver needs, from the kind's parameters.
#[derive(Debug, Clone)]
pub struct Config {
    /// Which role.
    pub kind: Kind,
    /// The discovery endpoint, `tcp://HOST:PORT`.
    pub discovery: String,
    /// What is registered (id, and for a publisher or broker its address and port).
    pub info: RegistrantInfo,
    /// Topics published or wanted.
    pub topics: Vec<String>,
    /// Endpoint the PUB socket binds (publisher, broker).
    pub bind: Option<String>,
    /// Pause between isready or lookup polls.
    pub pause: Duration,
    /// Per discovery request.
    pub request_timeout: Duration,
    /// Resends of an unanswered request.
    pub retries: u32,
    /// Publisher: iterations (one publication per topic each).
    pub iters: u64,
    /// Publisher: iterations per second (0: as fast as possible).
    pub frequency: f64,
    /// Publisher: wait after ready before the first publication, so that the
    /// subscribers' connections are up.
    pub settle: Duration,
    /// Publisher: seed of the values.
    pub seed: u64,
    /// Subscriber: complete after this many publications (0: never).
    pub stop_after: u64,
    /// Subscriber, broker: complete after this long without a publication,
    /// once one arrived (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// PUB send high-water mark.
    pub sndhwm: i32,
    /// Publisher: text `topic:data` frames or FlatBuffers `Topic`s.
    pub format: Format,
    /// The ZooKeeper strategy: discovery is the primary the directions name
    /// (`discovery` is not used).
    pub zk: bool,
    /// Broker dissemination with the ZooKeeper strategy: the number of topic
    /// groups (a subscriber follows the primary broker of each of its topics' groups).
    pub groups: Option<usize>,
    /// A broker replica: its topic group.
    pub group: Option<usize>,
    /// A broker replica: publications kept for replay when it becomes primary.
    pub replay: usize,
    /// A broker replica: when it replays after being elected.
    pub promote: Pace,
    /// History QoS: a publisher keeps its last `history` publications per
    /// topic (`N`), a subscriber asks for them (`H`); 0: none.
    pub history: usize,
    /// Direct or Broker (history is served under Direct only).
    pub dissemination: Dissemination,
    /// The ZeroMQ context the sockets open in: the node's (the kind sets
    /// [`Io::zmq`](rolecall_runtime::kind::Io::zmq)); `None`, outside a
    /// node: [`process_context`].
    pub zmq: Option<ZmqContext>,
}

impl Config {
    /// The context the driver's sockets open in.
    pub(crate) fn context(&self) -> ZmqContext {
        self.zmq.clone().unwrap_or_else(process_context)
    }

    /// A broker replica of the ZooKeeper strategy: its (group, groups).
    pub(crate) fn replica(&self) -> Option<(usize, usize)> {
        match (self.kind, self.zk, self.group, self.groups) {
            (Kind::Broker, true, Some(group), Some(groups)) => Some((group, groups)),
            _ => None,
        }
    }
}

/// What the driver tells its actor.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A lifecycle step (REGISTER, ISREADY, …) with detail.
    Phase(&'static str, String),
    /// A publication arrived (subscriber).
    Delivered {
        /// Its topic.
        topic: String,
        /// Its publisher (from the stamp; `unknown` without one).
        publisher: String,
        /// One-way latency in ns (stamped publications).
        latency_ns: Option<i64>,
    },
    /// Publications sent (publisher) or forwarded (broker) so far.
    Sent(u64),
    /// A frame that is not a publication.
    Malformed(String),
    /// Something the operator should know (logged as a warning).
    Notice(String),
    /// The end: completed, or why not.
    Done(Result<String, String>),
}

pub(crate) type Events = mpsc::Sender<Event>;

pub(crate) fn emit(events: &mut Events, ev: Event) {
    // Waits while the actor is behind; an error means the actor is gone.
    let _ = futures::executor::block_on(events.send(ev));
}

pub(crate) fn socket(cfg: &Config, kind: zmq::SocketType) -> Result<zmq::Socket, DriverError> {
    cfg.context()
        .socket(kind)
        .map_err(|error| DriverError::Socket {
            action: "creating a socket for",
            endpoint: String::new(),
            error,
        })
}

pub(crate) fn connect(s: &zmq::Socket, endpoint: &str) -> Result<(), DriverError> {
    s.connect(endpoint).map_err(|error| DriverError::Socket {
        action: "connecting to",
        endpoint: endpoint.to_owned(),
        error,
    })
}

/// Runs a role to completion on the calling thread.
pub fn run(
    cfg: &Config,
    dirs: &mut DirectionsRx,
    stop: &AtomicBool,
    events: &mut Events,
) -> Result<String, DriverError> {
    let publisher = match &cfg.bind {
        Some(ep) => {
            // A broker replica sees its subscribers' subscriptions (every
            // one: verbose), to replay once they arrived after its election.
            let s = match cfg.replica() {
                Some(_) => {
                    let s = socket(cfg, zmq::XPUB)?;
                    let _ = s.set_xpub_verbose(true);
                    s
                }
                None => socket(cfg, zmq::PUB)?,
            };
            let _ = s.set_sndhwm(cfg.sndhwm);
            let _ = s.set_linger(2000);
            s.bind(ep).map_err(|error| DriverError::Socket {
                action: "binding",
                endpoint: ep.clone(),
                error,
            })?;
            Some(s)
        }
        None => None,
    };
    let mut client = Client::new(cfg.kind, cfg.info.clone(), cfg.topics.clone(), cfg.pause);
    let mut discovery = discovery::Discovery::new(cfg, dirs, stop)?;
    emit(
        events,
        Event::Phase(
            "REGISTER",
            format!("{} with {}", cfg.info.id, discovery.endpoint()),
        ),
    );
    let mut action = client.start();
    loop {
        let req = match action {
            Action::Send(req) => req,
            Action::SendAfter(pause, req) => {
                if !sleep(pause, stop) {
                    return Ok("stopped before dissemination".into());
                }
                req
            }
            Action::Publish => {
                emit(
                    events,
                    Event::Phase(
                        "DISSEMINATE",
                        format!("after {} isready polls", client.polls()),
                    ),
                );
                let s = publisher
                    .as_ref()
                    .ok_or(ClientError::LookupFailed("no PUB socket".into()))?;
                return publish::publish(cfg, s, &mut discovery, dirs, stop, events);
            }
            Action::Connect(to) => {
                let list: Vec<String> = to.iter().map(endpoint_of).collect();
                return match publisher.as_ref() {
                    Some(out) => {
                        receive::forward(cfg, &list, out, &mut discovery, dirs, stop, events)
                    }
                    None => {
                        let history = history_io::Fetcher::connect(cfg, &to)?;
                        receive::subscribe(cfg, &list, history, &mut discovery, dirs, stop, events)
                    }
                };
            }
        };
        let reply = discovery.call(&req, dirs, stop, events)?;
        action = client.on_reply_bytes(&reply)?;
    }
}

fn endpoint_of(p: &RegistrantInfo) -> String {
    format!(
        "tcp://{}:{}",
        p.addr.as_deref().unwrap_or("localhost"),
        p.port.unwrap_or(0)
    )
}

/// Sleeps up to `d` in small steps; false if told to stop meanwhile.
pub(crate) fn sleep(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
    }
    !stop.load(Ordering::Relaxed)
}

/// A driver running on its own thread.
#[derive(Debug)]
pub struct Running {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts `cfg` on a new thread; events arrive on the returned receiver,
    /// the last one `Done`. The thread follows what `dirs` says.
    pub fn start(
        cfg: Config,
        mut dirs: DirectionsRx,
        capacity: usize,
    ) -> std::io::Result<(Running, mpsc::Receiver<Event>)> {
        let (mut tx, rx) = mpsc::channel(capacity);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("pubsub-{}", cfg.info.id))
            .spawn(move || {
                let result = run(&cfg, &mut dirs, &flag, &mut tx).map_err(|e| e.to_string());
                emit(&mut tx, Event::Done(result));
            })?;
        Ok((
            Running {
                stop,
                thread: Some(thread),
            },
            rx,
        ))
    }

    /// Asks the thread to stop (it finishes within ~50 ms).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Not joined: the thread may be waiting for room on the event channel
        // of an actor being dropped; it sees the flag (or the closed channel)
        // within ~50 ms and ends on its own.
        self.stop();
        drop(self.thread.take());
    }
}
