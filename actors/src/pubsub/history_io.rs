//! The sockets of the history QoS ([`history`](super::history) has the logic):
//!
//! * a publisher with `history = N > 0` binds a ROUTER at its PUB port + 1
//!   ([`Server`]) and answers requests between publications and while it
//!   waits for the next one, never blocking publication (at most
//!   [`MAX_REQUESTS_PER_POLL`] requests per poll, replies sent without
//!   waiting: a reply to a subscriber whose queue is full is dropped and
//!   counted, and the subscriber asks again);
//! * a subscriber with `history = H > 0` opens a DEALER per publisher
//!   (its identity is the subscriber's id, so the publisher's log names it)
//!   at the publisher's registered address and port + 1 ([`Fetcher`]), asks
//!   for each of its topics, and routes every publication through the
//!   [`Catchup`] merge before it becomes an [`Event::Delivered`].
//!
//! Only under Direct dissemination: under Broker the subscriber connects to
//! the broker, which keeps no history; both sides then log one warning.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rolecall_codecs::pb::discovery::RegistrantInfo;

use super::catchup::{Catchup, Note, Out, Timing};
use super::client::Kind;
use super::directory::Dissemination;
use super::driver::{self, Config, DriverError, Event};
use super::history::{history_port, parse_reply, request, History, Reply, Served};
use super::publication::Publication;
use crate::metrics;

/// The most requests a publisher answers per poll (bound on the time taken
/// from publishing).
pub const MAX_REQUESTS_PER_POLL: usize = 64;

/// High-water mark of the history sockets (messages queued per peer).
const HWM: i32 = 1_000;

/// How often a subscriber looks for answers and lets its requests' time pass.
pub const POLL_EVERY: Duration = Duration::from_millis(10);

fn socket_error(action: &'static str, endpoint: &str, error: zmq::Error) -> DriverError {
    DriverError::Socket {
        action,
        endpoint: endpoint.to_owned(),
        error,
    }
}

/// A publisher's history and the ROUTER that serves it.
pub struct Server {
    id: String,
    endpoint: String,
    socket: zmq::Socket,
    history: History,
    /// Requests answered with samples, refused, malformed; replies not queued.
    counts: [u64; 4],
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("id", &self.id)
            .field("endpoint", &self.endpoint)
            .field("history", &self.history)
            .finish()
    }
}

impl Server {
    /// Binds the history endpoint of a publisher configured by `cfg` (its PUB
    /// endpoint's port + 1); `None` when it keeps no history (`history = 0`),
    /// is not a publisher, or disseminates through a broker (logged).
    pub fn bind(cfg: &Config) -> Result<Option<Server>, DriverError> {
        if cfg.history == 0 || cfg.kind != Kind::Publisher {
            return Ok(None);
        }
        if cfg.dissemination == Dissemination::Broker {
            tracing::warn!(
                id = %cfg.info.id,
                "history = {} is not served under Broker dissemination: history needs Direct",
                cfg.history
            );
            return Ok(None);
        }
        let bind = cfg.bind.clone().unwrap_or_default();
        let endpoint = bind
            .rsplit_once(':')
            .and_then(|(host, port)| {
                let port = history_port(port.parse().ok()?)?;
                Some(format!("{host}:{port}"))
            })
            .ok_or_else(|| {
                socket_error(
                    "binding the history (PUB port + 1) of",
                    &bind,
                    zmq::Error::EINVAL,
                )
            })?;
        let socket = cfg
            .context()
            .socket(zmq::ROUTER)
            .map_err(|e| socket_error("creating the history socket for", &endpoint, e))?;
        let _ = socket.set_sndhwm(HWM);
        let _ = socket.set_rcvhwm(HWM);
        let _ = socket.set_linger(0);
        // A subscriber that comes back with its id takes its identity over.
        let _ = socket.set_router_handover(true);
        socket
            .bind(&endpoint)
            .map_err(|e| socket_error("binding the history (PUB port + 1) at", &endpoint, e))?;
        tracing::info!(
            id = %cfg.info.id,
            "history: keeping the last {} publications of each topic, served at {endpoint}",
            cfg.history
        );
        Ok(Some(Server {
            id: cfg.info.id.clone(),
            endpoint,
            socket,
            history: History::new(cfg.history, &cfg.topics),
            counts: [0; 4],
        }))
    }

    /// Where it serves.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Records a publication just sent.
    pub fn record(&mut self, p: &Publication) {
        self.history.record(p);
    }

    /// Answers the requests waiting (at most [`MAX_REQUESTS_PER_POLL`]), without blocking.
    pub fn serve(&mut self) {
        for _ in 0..MAX_REQUESTS_PER_POLL {
            let Ok(mut frames) = self.socket.recv_multipart(zmq::DONTWAIT) else {
                return;
            };
            if frames.is_empty() {
                continue;
            }
            let peer = frames.remove(0);
            let who = String::from_utf8_lossy(&peer).into_owned();
            let (reply, served) = self.history.serve(&frames);
            self.log(&who, &served);
            let mut out = Vec::with_capacity(reply.len() + 1);
            out.push(peer);
            out.extend(reply);
            if self.socket.send_multipart(out, zmq::DONTWAIT).is_err() {
                self.counts[3] += 1;
                tracing::warn!(id = %self.id, "history: the reply to {who} could not be queued ({} so far); it will ask again", self.counts[3]);
            }
        }
    }

    fn log(&mut self, who: &str, served: &Served) {
        let id = &self.id;
        let slot = match served {
            Served::Sent { .. } | Served::NotPublished(_) => 0,
            Served::Refused { .. } => 1,
            Served::Malformed(_) => 2,
        };
        self.counts[slot] += 1;
        match served {
            Served::Sent { topic, asked, sent } => tracing::info!(
                id = %id,
                "history: sent {sent} of the last {asked} publications of {topic} to {who}"
            ),
            Served::Refused {
                topic,
                keeps,
                asked,
            } => tracing::warn!(
                id = %id,
                "history REFUSED: {who} asked for the last H={asked} publications of {topic}; \
                 {id} keeps N={keeps}, so {who} takes none of {id}'s {topic} data"
            ),
            Served::NotPublished(topic) => tracing::debug!(
                id = %id,
                "history: {who} asked for {topic}, which {id} does not publish"
            ),
            Served::Malformed(e) => tracing::warn!(
                id = %id,
                "history: malformed request from {who} ({} so far): {e}",
                self.counts[2]
            ),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let [answered, refused, malformed, unsent] = self.counts;
        if answered + refused + malformed > 0 {
            tracing::info!(
                id = %self.id,
                "history: {answered} requests answered, {refused} refused, {malformed} malformed, {unsent} replies not queued"
            );
        }
    }
}

/// A subscriber's history requests and merge.
pub struct Fetcher {
    id: String,
    catchup: Catchup<Publication>,
    /// Publisher id -> its history endpoint and DEALER.
    dealers: BTreeMap<String, (String, zmq::Socket)>,
    polled: Instant,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("id", &self.id)
            .field("catchup", &self.catchup)
            .field("publishers", &self.dealers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Fetcher {
    /// Connects to the history endpoint of each of `publishers`, for a
    /// subscriber configured by `cfg`; `None` when it asks for none
    /// (`history = 0`), is not a subscriber, or its data comes from a broker (logged).
    pub fn connect(
        cfg: &Config,
        publishers: &[RegistrantInfo],
    ) -> Result<Option<Fetcher>, DriverError> {
        if cfg.history == 0 || cfg.kind != Kind::Subscriber {
            return Ok(None);
        }
        if cfg.dissemination == Dissemination::Broker {
            tracing::warn!(
                id = %cfg.info.id,
                "history = {} is not available under Broker dissemination: history needs Direct",
                cfg.history
            );
            return Ok(None);
        }
        let now = Instant::now();
        let mut catchup = Catchup::new(cfg.history, Timing::default());
        let mut dealers = BTreeMap::new();
        for p in publishers {
            let addr = p.addr.as_deref().unwrap_or("localhost");
            let Some(port) = p.port.and_then(history_port) else {
                tracing::warn!(id = %cfg.info.id, "history: publisher {} has no port to ask its history at", p.id);
                continue;
            };
            let endpoint = format!("tcp://{addr}:{port}");
            let s = cfg
                .context()
                .socket(zmq::DEALER)
                .map_err(|e| socket_error("creating a history socket for", &endpoint, e))?;
            let _ = s.set_sndhwm(HWM);
            let _ = s.set_rcvhwm(HWM);
            let _ = s.set_linger(0);
            let id = cfg.info.id.as_bytes();
            if (1..=255).contains(&id.len()) && id[0] != 0 {
                let _ = s.set_identity(id);
            }
            s.connect(&endpoint)
                .map_err(|e| socket_error("connecting to the history at", &endpoint, e))?;
            for t in &cfg.topics {
                catchup.watch(&p.id, t, now);
            }
            dealers.insert(p.id.clone(), (endpoint, s));
        }
        Ok(Some(Fetcher {
            id: cfg.info.id.clone(),
            catchup,
            dealers,
            polled: now,
        }))
    }

    /// Reads the answers waiting and lets time pass (requests due, resent,
    /// given up); without blocking, and at most every [`POLL_EVERY`] (the
    /// receive loop calls it once per publication).
    pub fn poll(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        if self.polled.elapsed() < POLL_EVERY {
            return out;
        }
        self.polled = Instant::now();
        let ids: Vec<String> = self.dealers.keys().cloned().collect();
        for publisher in ids {
            for _ in 0..MAX_REQUESTS_PER_POLL {
                let Some((_, s)) = self.dealers.get(&publisher) else {
                    break;
                };
                let Ok(frames) = s.recv_multipart(zmq::DONTWAIT) else {
                    break;
                };
                out.extend(self.on_reply(&publisher, &frames));
            }
        }
        let ticked = self.catchup.on_tick(Instant::now());
        out.extend(self.carry_out(ticked));
        out
    }

    fn on_reply(&mut self, publisher: &str, frames: &[Vec<u8>]) -> Vec<Event> {
        let outs = match parse_reply(frames) {
            Ok(Reply::Samples {
                topic,
                keeps,
                samples,
            }) => {
                let samples = samples
                    .into_iter()
                    .filter_map(|p| Some((p.stamp.as_ref()?.seq, p)))
                    .collect();
                self.catchup.on_samples(publisher, &topic, keeps, samples)
            }
            Ok(Reply::Refused {
                topic,
                keeps,
                reason,
            }) => self
                .catchup
                .on_refused(publisher, &topic, Some(keeps), &reason),
            Ok(Reply::NotPublished { topic }) => self.catchup.on_not_published(publisher, &topic),
            Ok(Reply::Error(reason)) => {
                tracing::warn!(id = %self.id, "history: {publisher} found our request malformed: {reason}");
                Vec::new()
            }
            Err(e) => {
                tracing::warn!(id = %self.id, "history: from {publisher}: {e}");
                return vec![Event::Malformed(e.to_string())];
            }
        };
        self.carry_out(outs)
    }

    /// Routes a live publication through the merge.
    pub fn live(&mut self, p: Publication, now_ns: i64) -> Vec<Event> {
        let Some(seq) = p.stamp.as_ref().map(|s| s.seq) else {
            return vec![delivered(p, false, now_ns)];
        };
        let publisher = p
            .stamp
            .as_ref()
            .map(|s| s.publisher.clone())
            .unwrap_or_default();
        let topic = p.topic.clone();
        let outs = self
            .catchup
            .on_live(&publisher, &topic, seq, p, Instant::now());
        self.carry_out(outs)
    }

    /// The end: what is still waiting, and each (publisher, topic)'s counts.
    pub fn finish(&self) -> Vec<Event> {
        let mut out = Vec::new();
        for (p, t, buffered) in self.catchup.pending() {
            tracing::warn!(
                id = %self.id,
                "history: still no answer from {p} on {t} at the end; {buffered} live publications not delivered"
            );
        }
        for ((p, t), s) in self.catchup.stats() {
            // A publisher asked about a topic it does not publish saw nothing.
            if s.history + s.live + s.duplicates + s.gaps + s.refused + s.overflowed == 0 {
                continue;
            }
            out.push(Event::Phase(
                "HISTORY",
                format!(
                    "{p}/{t}: {} from history, {} live, {} duplicates dropped, {} gaps, {} refused, {} overflowed",
                    s.history, s.live, s.duplicates, s.gaps, s.refused, s.overflowed
                ),
            ));
        }
        out
    }

    fn carry_out(&mut self, outs: Vec<Out<Publication>>) -> Vec<Event> {
        let mut events = Vec::new();
        for o in outs {
            match o {
                Out::Deliver { item, history, .. } => {
                    events.push(delivered(item, history, metrics::now_ns()))
                }
                Out::Ask {
                    publisher,
                    topic,
                    asked,
                } => {
                    if let Some((endpoint, s)) = self.dealers.get(&publisher) {
                        if let Err(e) = s.send_multipart(request(&topic, asked), zmq::DONTWAIT) {
                            // Not answered, so asked again after the timeout.
                            tracing::warn!(id = %self.id, "history: asking {endpoint} for {topic}: {e}");
                        }
                    }
                }
                Out::Note(note) => {
                    events.push(Event::Phase("HISTORY", note.to_string()));
                    // What the operator should know is also a warning.
                    if matches!(
                        note,
                        Note::Refused { .. } | Note::Gap { .. } | Note::Overflow { .. }
                    ) {
                        events.push(Event::Notice(format!("history {note}")));
                    }
                }
            }
        }
        events
    }
}

/// The event of one publication delivered at `now_ns` (history samples have
/// no latency: theirs is not a live figure); logged at debug with its sequence number.
pub fn delivered(p: Publication, history: bool, now_ns: i64) -> Event {
    let (publisher, seq, latency_ns) = match &p.stamp {
        Some(s) => (
            s.publisher.clone(),
            Some(s.seq),
            (!history).then(|| now_ns - s.sent_ns),
        ),
        None => ("unknown".to_owned(), None, None),
    };
    if let Some(seq) = seq {
        tracing::debug!(publisher = %publisher, topic = %p.topic, seq, history, "delivered");
    }
    Event::Delivered {
        topic: p.topic,
        publisher,
        latency_ns,
    }
}

/// The driver's hook for a live publication that arrived at `now_ns`:
/// through the merge when there is a [`Fetcher`].
pub fn on_live(fetcher: &mut Option<Fetcher>, p: Publication, now_ns: i64) -> Vec<Event> {
    match fetcher {
        Some(f) => f.live(p, now_ns),
        None => vec![delivered(p, false, now_ns)],
    }
}

/// The driver's hook on every turn of its receive loop: answers and time, when there is a [`Fetcher`].
pub fn poll(fetcher: &mut Option<Fetcher>) -> Vec<Event> {
    match fetcher {
        Some(f) => f.poll(),
        None => Vec::new(),
    }
}

/// The driver's hook after a publication is sent: recorded when there is a [`Server`].
pub fn record(server: &mut Option<Server>, p: &Publication) {
    if let Some(s) = server {
        s.record(p);
    }
}

/// The driver's hook between publications: answers waiting requests when there is a [`Server`].
pub fn serve(server: &mut Option<Server>) {
    if let Some(s) = server {
        s.serve();
    }
}

/// The driver's pause between publications (up to `d`; false if told to stop
/// meanwhile), answering history requests at least every 20 ms when there is a [`Server`].
pub fn sleep_serving(server: &mut Option<Server>, d: Duration, stop: &AtomicBool) -> bool {
    let Some(server) = server else {
        return driver::sleep(d, stop);
    };
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        server.serve();
        std::thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
    }
    !stop.load(Ordering::Relaxed)
}
