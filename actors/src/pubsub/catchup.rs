//! The subscriber's side of the history QoS without I/O: the merge of a
//! publisher's history answer with its live publications, per (publisher,
//! topic). The wire and the publisher's side are in [`history`](super::history).

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

/// Live publications a subscriber buffers per (publisher, topic) while it
/// waits for the history answer (bound); past it the oldest is dropped,
/// counted and reported ([`Note::Overflow`]).
pub const MAX_PENDING: usize = 4_096;

/// When a subscriber asks, and how long it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Ask once the first live publication of the (publisher, topic) arrived
    /// (then the subscription is surely up, so the live stream continues the
    /// history without a gap), or after this long without one.
    pub first_live_wait: Duration,
    /// Wait this long for an answer before asking again.
    pub answer_timeout: Duration,
    /// Requests in all before giving up ("no history answer", taken as a refusal).
    pub tries: u32,
}

impl Default for Timing {
    /// 1 s, 2 s, 3 tries.
    fn default() -> Self {
        Timing {
            first_live_wait: Duration::from_secs(1),
            answer_timeout: Duration::from_secs(2),
            tries: 3,
        }
    }
}

/// What the subscriber's driver must do or say.
#[derive(Debug, Clone, PartialEq)]
pub enum Out<T> {
    /// Deliver this publication.
    Deliver {
        /// Its publisher.
        publisher: String,
        /// Its topic.
        topic: String,
        /// Its sequence number.
        seq: u64,
        /// The publication.
        item: T,
        /// From the history (true) or live.
        history: bool,
    },
    /// Send a request for the last `asked` of `topic` to `publisher`.
    Ask {
        /// The publisher.
        publisher: String,
        /// The topic.
        topic: String,
        /// `H`.
        asked: usize,
    },
    /// Something to log.
    Note(Note),
}

/// What happened to a (publisher, topic), for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The history arrived.
    Got {
        /// The publisher.
        publisher: String,
        /// The topic.
        topic: String,
        /// Samples delivered.
        got: usize,
        /// `H`.
        asked: usize,
        /// `N`.
        keeps: usize,
    },
    /// No history, and none of this publisher's data on this topic.
    Refused {
        /// The publisher.
        publisher: String,
        /// The topic.
        topic: String,
        /// `N`, when the publisher said it.
        keeps: Option<usize>,
        /// `H`.
        asked: usize,
        /// Why.
        reason: String,
        /// Buffered live publications dropped with it.
        dropped: u64,
    },
    /// The publisher does not publish the topic.
    NotPublished {
        /// The publisher.
        publisher: String,
        /// The topic.
        topic: String,
    },
    /// Live publications missing between two delivered ones.
    Gap {
        /// The publisher.
        publisher: String,
        /// The topic.
        topic: String,
        /// The last delivered.
        after: u64,
        /// The next delivered.
        next: u64,
    },
    /// The buffer of a (publisher, topic) waiting for its history was full:
    /// its oldest publication was dropped.
    Overflow {
        /// The publisher.
        publisher: String,
        /// The topic.
        topic: String,
        /// The dropped publication's sequence number.
        dropped: u64,
    },
    /// A request unanswered within the timeout was sent again.
    Resent {
        /// The publisher.
        publisher: String,
        /// The topic.
        topic: String,
        /// This try (2, 3, …).
        attempt: u32,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Got {
                publisher,
                topic,
                got,
                asked,
                keeps,
            } => write!(
                f,
                "got {got} of {asked} from {publisher} on {topic} (it keeps {keeps})"
            ),
            Note::Refused {
                publisher,
                topic,
                keeps,
                asked,
                reason,
                dropped,
            } => {
                let keeps = keeps.map_or_else(|| "?".to_owned(), |n| n.to_string());
                write!(
                    f,
                    "refused: {publisher} on {topic} keeps N={keeps}, asked H={asked}: {reason}; \
                     none of its {topic} data is taken ({dropped} dropped so far)"
                )
            }
            Note::NotPublished { publisher, topic } => {
                write!(f, "{publisher} does not publish {topic}")
            }
            Note::Gap {
                publisher,
                topic,
                after,
                next,
            } => write!(
                f,
                "gap from {publisher} on {topic}: seq {next} follows {after}"
            ),
            Note::Overflow {
                publisher,
                topic,
                dropped,
            } => write!(
                f,
                "{publisher} on {topic}: more than {MAX_PENDING} live publications while waiting \
                 for its history; dropped seq {dropped}"
            ),
            Note::Resent {
                publisher,
                topic,
                attempt,
            } => write!(
                f,
                "no history answer from {publisher} on {topic} yet: asking again (try {attempt})"
            ),
        }
    }
}

/// Counters of one (publisher, topic).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// History samples delivered.
    pub history: u64,
    /// Live publications delivered.
    pub live: u64,
    /// Duplicates dropped (seq not above the last delivered).
    pub duplicates: u64,
    /// Publications dropped because the match was refused.
    pub refused: u64,
    /// Live publications dropped from a full buffer.
    pub overflowed: u64,
    /// Gaps seen.
    pub gaps: u64,
}

#[derive(Debug)]
enum State<T> {
    /// Waiting for the history: live publications are buffered.
    Pending {
        since: Instant,
        buffer: VecDeque<(u64, T)>,
        /// When the last request went, and how many went.
        asked: Option<(Instant, u32)>,
    },
    /// Delivering live publications after the last delivered one.
    Live { last: Option<u64> },
    /// Dropping this (publisher, topic).
    Refused,
}

#[derive(Debug)]
struct Series<T> {
    state: State<T>,
    stats: Stats,
}

/// The subscriber's merge of history and live data, per (publisher, topic):
/// `Pending` (live publications buffered, at most [`MAX_PENDING`]) until the
/// publisher's answer, then `Live` (deliver what follows the last delivered
/// sequence number, drop duplicates) or `Refused` (drop, counted).
/// Publications of a (publisher, topic) never [`watch`](Catchup::watch)ed pass through.
#[derive(Debug)]
pub struct Catchup<T> {
    asked: usize,
    timing: Timing,
    series: BTreeMap<(String, String), Series<T>>,
}

impl<T> Catchup<T> {
    /// A subscriber asking each publisher for its last `asked` publications per topic.
    pub fn new(asked: usize, timing: Timing) -> Self {
        Catchup {
            asked,
            timing,
            series: BTreeMap::new(),
        }
    }

    /// Starts waiting for the history of (`publisher`, `topic`), connected at `now`.
    pub fn watch(&mut self, publisher: &str, topic: &str, now: Instant) {
        self.series.insert(
            (publisher.to_owned(), topic.to_owned()),
            Series {
                state: State::Pending {
                    since: now,
                    buffer: VecDeque::new(),
                    asked: None,
                },
                stats: Stats::default(),
            },
        );
    }

    /// The counters of every watched (publisher, topic).
    pub fn stats(&self) -> impl Iterator<Item = (&(String, String), &Stats)> {
        self.series.iter().map(|(k, s)| (k, &s.stats))
    }

    /// The (publisher, topic)s still waiting for their history, with how many
    /// live publications each has buffered.
    pub fn pending(&self) -> Vec<(String, String, usize)> {
        self.series
            .iter()
            .filter_map(|((p, t), s)| match &s.state {
                State::Pending { buffer, .. } => Some((p.clone(), t.clone(), buffer.len())),
                _ => None,
            })
            .collect()
    }

    /// A live publication arrived.
    pub fn on_live(
        &mut self,
        publisher: &str,
        topic: &str,
        seq: u64,
        item: T,
        now: Instant,
    ) -> Vec<Out<T>> {
        let asked = self.asked;
        let key = (publisher.to_owned(), topic.to_owned());
        let Some(series) = self.series.get_mut(&key) else {
            return vec![deliver(&key, seq, item, false)];
        };
        let mut out = Vec::new();
        match &mut series.state {
            State::Pending {
                buffer,
                asked: sent,
                ..
            } => {
                if sent.is_none() {
                    *sent = Some((now, 1));
                    out.push(ask(&key, asked));
                }
                if buffer.len() >= MAX_PENDING {
                    if let Some((dropped, _)) = buffer.pop_front() {
                        series.stats.overflowed += 1;
                        out.push(Out::Note(Note::Overflow {
                            publisher: key.0.clone(),
                            topic: key.1.clone(),
                            dropped,
                        }));
                    }
                }
                buffer.push_back((seq, item));
            }
            State::Live { last } => live(&key, last, &mut series.stats, seq, item, &mut out),
            State::Refused => series.stats.refused += 1,
        }
        out
    }

    /// The publisher's answer for (`publisher`, `topic`): `samples` are
    /// (seq, publication), oldest first. Answers for a (publisher, topic) not
    /// waiting (a late answer to a resent request) are ignored.
    pub fn on_samples(
        &mut self,
        publisher: &str,
        topic: &str,
        keeps: usize,
        samples: Vec<(u64, T)>,
    ) -> Vec<Out<T>> {
        let asked = self.asked;
        let key = (publisher.to_owned(), topic.to_owned());
        let Some(series) = self.series.get_mut(&key) else {
            return Vec::new();
        };
        if !matches!(series.state, State::Pending { .. }) {
            return Vec::new();
        }
        let State::Pending { buffer, .. } =
            std::mem::replace(&mut series.state, State::Live { last: None })
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut last: Option<u64> = None;
        let skip = samples.len().saturating_sub(asked);
        let mut got = 0;
        for (seq, item) in samples.into_iter().skip(skip) {
            if last.is_some_and(|l| seq <= l) {
                series.stats.duplicates += 1;
                continue;
            }
            last = Some(seq);
            got += 1;
            series.stats.history += 1;
            out.push(deliver(&key, seq, item, true));
        }
        out.push(Out::Note(Note::Got {
            publisher: key.0.clone(),
            topic: key.1.clone(),
            got,
            asked,
            keeps,
        }));
        for (seq, item) in buffer {
            live(&key, &mut last, &mut series.stats, seq, item, &mut out);
        }
        series.state = State::Live { last };
        out
    }

    /// The publisher refused (`keeps` its `N` when it said it), or never answered.
    pub fn on_refused(
        &mut self,
        publisher: &str,
        topic: &str,
        keeps: Option<usize>,
        reason: &str,
    ) -> Vec<Out<T>> {
        let key = (publisher.to_owned(), topic.to_owned());
        let Some(series) = self.series.get_mut(&key) else {
            return Vec::new();
        };
        let State::Pending { buffer, .. } = &series.state else {
            return Vec::new();
        };
        series.stats.refused += buffer.len() as u64;
        series.state = State::Refused;
        vec![Out::Note(Note::Refused {
            publisher: key.0,
            topic: key.1,
            keeps,
            asked: self.asked,
            reason: reason.to_owned(),
            dropped: series.stats.refused,
        })]
    }

    /// The publisher does not publish `topic`: nothing will come, nothing is kept.
    pub fn on_not_published(&mut self, publisher: &str, topic: &str) -> Vec<Out<T>> {
        let key = (publisher.to_owned(), topic.to_owned());
        match self.series.get(&key).map(|s| &s.state) {
            Some(State::Pending { .. }) => {}
            _ => return Vec::new(),
        }
        // Whatever arrived anyway is delivered: there is no history to wait for.
        self.on_samples(publisher, topic, 0, Vec::new())
            .into_iter()
            .map(|o| match o {
                Out::Note(Note::Got { .. }) => Out::Note(Note::NotPublished {
                    publisher: key.0.clone(),
                    topic: key.1.clone(),
                }),
                other => other,
            })
            .collect()
    }

    /// Time passed: requests due (no live publication within
    /// `first_live_wait`), resent (no answer within `answer_timeout`) or given up.
    pub fn on_tick(&mut self, now: Instant) -> Vec<Out<T>> {
        let mut out = Vec::new();
        let mut give_up = Vec::new();
        for (key, series) in &mut self.series {
            let State::Pending { since, asked, .. } = &mut series.state else {
                continue;
            };
            match asked {
                None if now.duration_since(*since) >= self.timing.first_live_wait => {
                    *asked = Some((now, 1));
                    out.push(ask(key, self.asked));
                }
                Some((at, tries)) if now.duration_since(*at) >= self.timing.answer_timeout => {
                    if *tries >= self.timing.tries {
                        give_up.push((key.clone(), *tries));
                    } else {
                        *tries += 1;
                        *at = now;
                        out.push(Out::Note(Note::Resent {
                            publisher: key.0.clone(),
                            topic: key.1.clone(),
                            attempt: *tries,
                        }));
                        out.push(ask(key, self.asked));
                    }
                }
                _ => {}
            }
        }
        for ((p, t), tries) in give_up {
            let reason = format!(
                "no history answer ({tries} requests, {} ms each)",
                self.timing.answer_timeout.as_millis()
            );
            out.extend(self.on_refused(&p, &t, None, &reason));
        }
        out
    }
}

fn deliver<T>(key: &(String, String), seq: u64, item: T, history: bool) -> Out<T> {
    Out::Deliver {
        publisher: key.0.clone(),
        topic: key.1.clone(),
        seq,
        item,
        history,
    }
}

fn ask<T>(key: &(String, String), asked: usize) -> Out<T> {
    Out::Ask {
        publisher: key.0.clone(),
        topic: key.1.clone(),
        asked,
    }
}

/// One live publication in state `Live { last }`.
fn live<T>(
    key: &(String, String),
    last: &mut Option<u64>,
    stats: &mut Stats,
    seq: u64,
    item: T,
    out: &mut Vec<Out<T>>,
) {
    match *last {
        Some(l) if seq <= l => {
            stats.duplicates += 1;
            return;
        }
        Some(l) if seq > l + 1 => {
            stats.gaps += 1;
            out.push(Out::Note(Note::Gap {
                publisher: key.0.clone(),
                topic: key.1.clone(),
                after: l,
                next: seq,
            }));
        }
        _ => {}
    }
    *last = Some(seq);
    stats.live += 1;
    out.push(deliver(key, seq, item, false));
}
