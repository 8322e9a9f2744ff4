//! The socket side of a publisher, subscriber or broker: one thread owns the
//! role's sockets (REQ to discovery, PUB and/or SUB), feeds replies to the
//! [`Client`] state machine and carries out its actions, then disseminates.
//! What it observes goes to the kind's actor as [`Event`]s on a bounded
//! channel (a full channel makes the thread wait: nothing is dropped).
//!
//! Discovery requests time out after `request_timeout` and are resent on a
//! fresh REQ socket (the "lazy pirate" pattern), at most `retries` times.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::channel::mpsc;
use futures::SinkExt;
use prost::Message as _;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use rolecall_codecs::pb::discovery::{DiscoveryReq, RegistrantInfo};
use thiserror::Error;

use super::client::{Action, Client, ClientError, Kind};
use super::publication::{Format, Publication, Stamp};
use super::topics;
use crate::metrics::now_ns;
use crate::zmq::io::context;

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
    /// The end: completed, or why not.
    Done(Result<String, String>),
}

type Events = mpsc::Sender<Event>;

fn emit(events: &mut Events, ev: Event) {
    // Waits while the actor is behind; an error means the actor is gone.
    let _ = futures::executor::block_on(events.send(ev));
}

fn socket(kind: zmq::SocketType) -> Result<zmq::Socket, DriverError> {
    context().socket(kind).map_err(|error| DriverError::Socket {
        action: "creating a socket for",
        endpoint: String::new(),
        error,
    })
}

fn connect(s: &zmq::Socket, endpoint: &str) -> Result<(), DriverError> {
    s.connect(endpoint).map_err(|error| DriverError::Socket {
        action: "connecting to",
        endpoint: endpoint.to_owned(),
        error,
    })
}

/// Runs a role to completion on the calling thread.
pub fn run(cfg: &Config, stop: &AtomicBool, events: &mut Events) -> Result<String, DriverError> {
    let publisher = match &cfg.bind {
        Some(ep) => {
            let s = socket(zmq::PUB)?;
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
    let mut discovery = Discovery::new(cfg)?;
    emit(
        events,
        Event::Phase(
            "REGISTER",
            format!("{} with {}", cfg.info.id, cfg.discovery),
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
                return publish(cfg, s, stop, events);
            }
            Action::Connect(to) => {
                let list: Vec<String> = to.iter().map(endpoint_of).collect();
                emit(
                    events,
                    Event::Phase(
                        "DISSEMINATE",
                        format!("connecting to [{}]", list.join(", ")),
                    ),
                );
                return receive(cfg, &list, publisher.as_ref(), stop, events);
            }
        };
        let reply = discovery.call(&req, stop)?;
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
fn sleep(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
    }
    !stop.load(Ordering::Relaxed)
}

/// The REQ side of the discovery conversation, with timeouts and resends.
struct Discovery<'a> {
    cfg: &'a Config,
    socket: zmq::Socket,
}

impl<'a> Discovery<'a> {
    fn new(cfg: &'a Config) -> Result<Self, DriverError> {
        Ok(Discovery {
            cfg,
            socket: Self::open(cfg)?,
        })
    }

    fn open(cfg: &Config) -> Result<zmq::Socket, DriverError> {
        let s = socket(zmq::REQ)?;
        let _ = s.set_linger(0);
        connect(&s, &cfg.discovery)?;
        Ok(s)
    }

    fn call(&mut self, req: &DiscoveryReq, stop: &AtomicBool) -> Result<Vec<u8>, DriverError> {
        let bytes = req.encode_to_vec();
        let tries = self.cfg.retries + 1;
        for _ in 0..tries {
            self.socket
                .send(&bytes, 0)
                .map_err(|error| DriverError::Socket {
                    action: "sending to",
                    endpoint: self.cfg.discovery.clone(),
                    error,
                })?;
            let deadline = Instant::now() + self.cfg.request_timeout;
            while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                if self.socket.poll(zmq::POLLIN, 50).unwrap_or(0) > 0 {
                    if let Ok(reply) = self.socket.recv_bytes(0) {
                        return Ok(reply);
                    }
                }
            }
            // A REQ socket that lost its reply cannot send again: open a new one.
            self.socket = Self::open(self.cfg)?;
        }
        Err(DriverError::DiscoveryTimeout {
            endpoint: self.cfg.discovery.clone(),
            timeout: self.cfg.request_timeout,
            tries,
        })
    }
}

fn publish(
    cfg: &Config,
    s: &zmq::Socket,
    stop: &AtomicBool,
    events: &mut Events,
) -> Result<String, DriverError> {
    if !sleep(cfg.settle, stop) {
        return Ok("stopped before publishing".into());
    }
    let mut rng = SmallRng::seed_from_u64(cfg.seed);
    let period = (cfg.frequency > 0.0).then(|| Duration::from_secs_f64(1.0 / cfg.frequency));
    let start = Instant::now();
    let mut sent = 0u64;
    for i in 0..cfg.iters {
        for topic in &cfg.topics {
            let p = Publication {
                topic: topic.clone(),
                value: topics::value(topic, &mut rng),
                stamp: Some(Stamp {
                    publisher: cfg.info.id.clone(),
                    seq: i,
                    sent_ns: now_ns(),
                }),
            };
            s.send_multipart(p.encode_frames(cfg.format), 0)
                .map_err(|error| DriverError::Socket {
                    action: "publishing on",
                    endpoint: cfg.bind.clone().unwrap_or_default(),
                    error,
                })?;
            sent += 1;
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if let Some(period) = period {
            // Paced from the start, so that the rate does not drift.
            let next = start + period.mul_f64((i + 1) as f64);
            let now = Instant::now();
            if next > now && !sleep(next - now, stop) {
                break;
            }
        }
    }
    emit(events, Event::Sent(sent));
    Ok(format!("published {sent} publications"))
}

fn receive(
    cfg: &Config,
    publishers: &[String],
    forward: Option<&zmq::Socket>,
    stop: &AtomicBool,
    events: &mut Events,
) -> Result<String, DriverError> {
    let sub = socket(zmq::SUB)?;
    let _ = sub.set_rcvhwm(cfg.sndhwm);
    if forward.is_some() {
        let _ = sub.set_subscribe(b"");
    } else {
        for t in &cfg.topics {
            let _ = sub.set_subscribe(format!("{t}:").as_bytes());
        }
    }
    for ep in publishers {
        connect(&sub, ep)?;
    }
    let mut received = 0u64;
    let mut per_publisher: BTreeMap<String, u64> = BTreeMap::new();
    let mut last = None::<Instant>;
    while !stop.load(Ordering::Relaxed) {
        if sub.poll(zmq::POLLIN, 50).unwrap_or(0) == 0 {
            if let (Some(idle), Some(t)) = (cfg.idle_timeout, last) {
                if t.elapsed() >= idle {
                    if received < cfg.stop_after {
                        tracing::warn!(
                            id = %cfg.info.id,
                            arrived = received,
                            expected = cfg.stop_after,
                            missing = cfg.stop_after - received,
                            "no publication for {} ms: ending with {received} of {} publications arrived",
                            idle.as_millis(),
                            cfg.stop_after,
                        );
                    }
                    break;
                }
            }
            continue;
        }
        let Ok(frames) = sub.recv_multipart(0) else {
            continue;
        };
        let now = now_ns();
        last = Some(Instant::now());
        received += 1;
        if let Some(out) = forward {
            let _ = out.send_multipart(frames, 0);
            if received % 1000 == 0 {
                emit(events, Event::Sent(received));
            }
            continue;
        }
        match Publication::decode_frames(&frames) {
            Ok(p) => {
                let (publisher, latency_ns) = match p.stamp {
                    Some(s) => (s.publisher, Some(now - s.sent_ns)),
                    None => ("unknown".to_owned(), None),
                };
                *per_publisher.entry(publisher.clone()).or_default() += 1;
                emit(
                    events,
                    Event::Delivered {
                        topic: p.topic,
                        publisher,
                        latency_ns,
                    },
                );
            }
            Err(e) => emit(events, Event::Malformed(e.to_string())),
        }
        if cfg.stop_after > 0 && received >= cfg.stop_after {
            break;
        }
    }
    if forward.is_some() {
        emit(events, Event::Sent(received));
        return Ok(format!("forwarded {received} publications"));
    }
    Ok(format!("received {received} publications"))
}

/// A driver running on its own thread.
#[derive(Debug)]
pub struct Running {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts `cfg` on a new thread; events arrive on the returned receiver,
    /// the last one `Done`.
    pub fn start(
        cfg: Config,
        capacity: usize,
    ) -> std::io::Result<(Running, mpsc::Receiver<Event>)> {
        let (mut tx, rx) = mpsc::channel(capacity);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("pubsub-{}", cfg.info.id))
            .spawn(move || {
                let result = run(&cfg, &flag, &mut tx).map_err(|e| e.to_string());
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
