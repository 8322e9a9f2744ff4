//! Receiving: a subscriber's SUB socket (to its publishers, its broker, or
//! with the ZooKeeper strategy the primary broker of each of its topics'
//! groups, followed as it changes), with each stream's gaps and duplicates
//! counted ([`Streams`]) and the ownership policy applied; and a broker's
//! forwarding, which as a backup replica buffers the last `replay`
//! publications and replays them when it becomes its group's primary.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::discovery::Discovery;
use super::{connect, emit, socket, Config, DirectionsRx, DriverError, Event, Events};
use crate::metrics::now_ns;
use crate::pubsub::coordination::{group_of, Directions};
use crate::pubsub::history_io;
use crate::pubsub::promotion::{Due, Promotion};
use crate::pubsub::publication::Publication;
use crate::pubsub::streams::{Seen, Streams};
use crate::pubsub::topics;

/// Most (publisher, topic) streams a subscriber accounts for.
const MAX_STREAMS: usize = 4096;

/// Gap warnings logged in full before they are only counted (then every thousandth).
const GAP_WARNINGS: u64 = 5;

/// The endpoints a SUB socket is connected to, changed as directions change.
struct Links {
    now: BTreeSet<String>,
}

impl Links {
    fn set(
        &mut self,
        sub: &zmq::Socket,
        wanted: BTreeSet<String>,
        events: &mut Events,
    ) -> Result<(), DriverError> {
        for gone in self.now.difference(&wanted) {
            let _ = sub.disconnect(gone);
        }
        for new in wanted.difference(&self.now) {
            connect(sub, new)?;
        }
        if wanted != self.now {
            let list: Vec<&str> = wanted.iter().map(String::as_str).collect();
            emit(
                events,
                Event::Phase("DISSEMINATE", format!("connected to [{}]", list.join(", "))),
            );
        }
        self.now = wanted;
        Ok(())
    }
}

/// The primary brokers of the groups of `topics` that are known.
fn primaries(cfg: &Config, d: &Directions, groups: usize) -> BTreeSet<String> {
    cfg.topics
        .iter()
        .filter_map(|t| d.brokers.get(&group_of(t, groups)).cloned())
        .collect()
}

/// Ends a receive loop after `idle` without a publication (once one came).
fn idle_over(cfg: &Config, last: Option<Instant>, received: u64) -> bool {
    let (Some(idle), Some(t)) = (cfg.idle_timeout, last) else {
        return false;
    };
    if t.elapsed() < idle {
        return false;
    }
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
    true
}

/// What one wait on a SUB socket gave.
enum Next {
    /// A multipart message.
    Frames(Vec<Vec<u8>>),
    /// Nothing within 50 ms (or a failed receive): look around, wait again.
    Nothing,
    /// Nothing for `idle_timeout` since the last one: the loop ends.
    Idle,
}

/// Waits up to `wait_ms` for the next message on `sub`.
fn next(
    sub: &zmq::Socket,
    cfg: &Config,
    wait_ms: i64,
    last: Option<Instant>,
    received: u64,
) -> Next {
    if sub.poll(zmq::POLLIN, wait_ms).unwrap_or(0) == 0 {
        return if idle_over(cfg, last, received) {
            Next::Idle
        } else {
            Next::Nothing
        };
    }
    match sub.recv_multipart(0) {
        Ok(f) => Next::Frames(f),
        Err(_) => Next::Nothing,
    }
}

/// A subscriber: receives until `stop_after` publications were delivered,
/// `idle_timeout`, or stop.
pub(super) fn subscribe(
    cfg: &Config,
    publishers: &[String],
    mut history: Option<history_io::Fetcher>,
    discovery: &mut Discovery<'_>,
    dirs: &mut DirectionsRx,
    stop: &AtomicBool,
    events: &mut Events,
) -> Result<String, DriverError> {
    let sub = socket(cfg, zmq::SUB)?;
    let _ = sub.set_rcvhwm(cfg.sndhwm);
    for t in &cfg.topics {
        let _ = sub.set_subscribe(format!("{t}:").as_bytes());
    }
    let mut links = Links {
        now: BTreeSet::new(),
    };
    let mut directions = dirs.borrow_and_update().clone();
    match cfg.groups {
        Some(g) if cfg.zk => links.set(&sub, primaries(cfg, &directions, g), events)?,
        _ => links.set(&sub, publishers.iter().cloned().collect(), events)?,
    }
    let mut streams = Streams::new(MAX_STREAMS);
    let (mut received, mut suppressed, mut gaps) = (0u64, 0u64, 0u64);
    let mut last = None::<Instant>;
    while !stop.load(Ordering::Relaxed) {
        if dirs.has_changed().unwrap_or(false) {
            directions = dirs.borrow_and_update().clone();
            if let (Some(g), true) = (cfg.groups, cfg.zk) {
                links.set(&sub, primaries(cfg, &directions, g), events)?;
            }
        }
        discovery.follow(dirs, stop, events)?;
        for ev in history_io::poll(&mut history) {
            if let Event::Delivered {
                topic, publisher, ..
            } = &ev
            {
                // History samples obey ownership as live data does.
                if !directions.delivers(topic, publisher) {
                    suppressed += 1;
                    continue;
                }
                (received, last) = (received + 1, Some(Instant::now()));
            }
            emit(events, ev);
        }
        let frames = match next(&sub, cfg, 50, last, received) {
            Next::Frames(f) => f,
            Next::Nothing => continue,
            Next::Idle => break,
        };
        let now = now_ns();
        last = Some(Instant::now());
        let p = match Publication::decode_frames(&frames) {
            Ok(p) => p,
            Err(e) => {
                emit(events, Event::Malformed(e.to_string()));
                continue;
            }
        };
        let publisher = match &p.stamp {
            Some(s) => {
                match streams.observe(&s.publisher, &p.topic, s.seq) {
                    Seen::Duplicate => continue,
                    Seen::Fresh { missed } if missed > 0 => {
                        gaps += 1;
                        if gaps <= GAP_WARNINGS || gaps % 1000 == 0 {
                            emit(
                                events,
                                Event::Notice(format!(
                                    "lost {missed} publications of {}/{} before seq {} (gap #{gaps}; {} lost in all)",
                                    s.publisher,
                                    p.topic,
                                    s.seq,
                                    streams.totals().lost
                                )),
                            );
                        }
                    }
                    _ => {}
                }
                s.publisher.clone()
            }
            None => "unknown".to_owned(),
        };
        if !directions.delivers(&p.topic, &publisher) {
            suppressed += 1;
            continue;
        }
        // Through the history merge (it may hold the publication back, or drop it).
        for ev in history_io::on_live(&mut history, p, now) {
            received += u64::from(matches!(ev, Event::Delivered { .. }));
            emit(events, ev);
        }
        if cfg.stop_after > 0 && received >= cfg.stop_after {
            break;
        }
    }
    for ev in history.iter().flat_map(history_io::Fetcher::finish) {
        emit(events, ev);
    }
    let t = streams.totals();
    Ok(format!(
        "delivered {received}; lost {}, duplicates dropped {}, not from the owner {suppressed}, untracked {}",
        t.lost, t.duplicates, t.untracked
    ))
}

/// A broker: forwards what its publishers publish. A replica of a topic
/// group (ZooKeeper strategy) receives only its group's topics and forwards
/// only while it is the group's primary; meanwhile it keeps the last
/// `replay` publications, and replays them when it has become the primary
/// and its subscribers, which learn of it at the same moment, have
/// subscribed ([`Promotion`]), then goes live.
pub(super) fn forward(
    cfg: &Config,
    publishers: &[String],
    out: &zmq::Socket,
    discovery: &mut Discovery<'_>,
    dirs: &mut DirectionsRx,
    stop: &AtomicBool,
    events: &mut Events,
) -> Result<String, DriverError> {
    let sub = socket(cfg, zmq::SUB)?;
    let _ = sub.set_rcvhwm(cfg.sndhwm);
    let replica = cfg.replica();
    match replica {
        Some((group, groups)) => {
            for t in topics::TOPICS
                .iter()
                .filter(|t| group_of(t, groups) == group)
            {
                let _ = sub.set_subscribe(format!("{t}:").as_bytes());
            }
        }
        None => {
            let _ = sub.set_subscribe(b"");
        }
    }
    for ep in publishers {
        connect(&sub, ep)?;
    }
    let mut leading = replica.is_none() || dirs.borrow_and_update().leading;
    let mut promotion = Promotion::new();
    let mut drained = Instant::now();
    let mut buffer: VecDeque<Vec<Vec<u8>>> = VecDeque::new();
    let (mut received, mut forwarded, mut evicted) = (0u64, 0u64, 0u64);
    let mut last = None::<Instant>;
    let send = |frames: Vec<Vec<u8>>, forwarded: &mut u64| {
        if out.send_multipart(frames, 0).is_ok() {
            *forwarded += 1;
        }
    };
    while !stop.load(Ordering::Relaxed) {
        if replica.is_some() && dirs.has_changed().unwrap_or(false) {
            let now = dirs.borrow_and_update().leading;
            if now && !leading {
                promotion.promoted(Instant::now(), cfg.promote);
                emit(
                    events,
                    Event::Phase(
                        "PRIMARY",
                        format!(
                            "elected: replaying {} buffered publications once its subscribers subscribed (within {} ms), then live",
                            buffer.len(),
                            cfg.promote.settle.as_millis()
                        ),
                    ),
                );
            } else if !now && leading {
                // Demoted before its replay: the new primary replays instead.
                promotion.cancel();
                emit(
                    events,
                    Event::Notice(
                        "no longer the primary broker of its group: forwarding stops".into(),
                    ),
                );
            }
            leading = now;
        }
        if replica.is_some() {
            let now = Instant::now();
            // Subscriptions are read every turn while a replay waits for
            // them, else every DRAIN_EVERY (they are timed that finely).
            if promotion.pending() || now.saturating_duration_since(drained) >= DRAIN_EVERY {
                drained = now;
                let subscribed = subscriptions(out);
                if subscribed > 0 {
                    promotion.subscribed(now, subscribed, cfg.promote);
                }
            }
            if let Some(due) = promotion.due(now, cfg.promote) {
                let detail = replay_line(&promotion, due, now, cfg, buffer.len());
                emit(events, Event::Phase("REPLAY", detail));
                promotion.replayed();
                for frames in buffer.iter() {
                    send(frames.clone(), &mut forwarded);
                }
            }
        }
        discovery.follow(dirs, stop, events)?;
        let wait_ms = if promotion.pending() { 10 } else { 50 };
        let frames = match next(&sub, cfg, wait_ms, last, received) {
            Next::Frames(f) => f,
            Next::Nothing => continue,
            Next::Idle => break,
        };
        last = Some(Instant::now());
        received += 1;
        if replica.is_some() && cfg.replay > 0 {
            if buffer.len() >= cfg.replay {
                buffer.pop_front();
                evicted += 1;
            }
            buffer.push_back(frames.clone());
        }
        if leading && !promotion.pending() {
            send(frames, &mut forwarded);
        }
        if received % 1000 == 0 {
            emit(events, Event::Sent(forwarded));
        }
    }
    emit(events, Event::Sent(forwarded));
    Ok(match replica {
        Some((group, _)) => format!(
            "forwarded {forwarded} publications of group {group} ({received} received, {evicted} aged out of the replay buffer of {})",
            cfg.replay
        ),
        None => format!("forwarded {forwarded} publications"),
    })
}

/// Default longest time a promoted broker waits before replaying.
pub const PROMOTE_SETTLE: Duration = Duration::from_millis(500);

/// Default time without a new subscription after which a promoted broker
/// replays (once one arrived).
pub const PROMOTE_QUIET: Duration = Duration::from_millis(100);

/// How often a broker replica reads its XPUB's subscriptions when no replay
/// waits for them.
const DRAIN_EVERY: Duration = Duration::from_millis(10);

/// The `REPLAY` log line's detail.
fn replay_line(
    promotion: &Promotion,
    due: Due,
    now: Instant,
    cfg: &Config,
    buffered: usize,
) -> String {
    let why = match due {
        Due::Subscribed => format!(
            "{} subscriptions, then {} ms without one",
            promotion.subscriptions(),
            cfg.promote.quiet.as_millis()
        ),
        Due::Settled => format!("{} subscriptions", promotion.subscriptions()),
    };
    format!(
        "{buffered} buffered publications {} ms after the election ({why})",
        promotion.waited(now).as_millis()
    )
}

/// Most subscription messages taken from a broker replica's XPUB socket per turn.
const SUBSCRIPTIONS_PER_TURN: usize = 1024;

/// Takes the subscription messages a broker replica's XPUB socket received
/// (at most [`SUBSCRIPTIONS_PER_TURN`]); how many subscribed (the others
/// unsubscribed).
fn subscriptions(out: &zmq::Socket) -> u64 {
    let mut subscribed = 0;
    for _ in 0..SUBSCRIPTIONS_PER_TURN {
        match out.recv_bytes(zmq::DONTWAIT) {
            Ok(m) if m.first() == Some(&1) => subscribed += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    subscribed
}
