//! The course's PA4 "history" QoS, without I/O.
//!
//! A publisher keeps the last `N` publications of each of its topics
//! ([`History`]); a subscriber asks each publisher it connects to for the last
//! `H` of each topic it wants and merges the answer with the live stream
//! ([`Catchup`](super::catchup::Catchup)), so that it delivers, per (publisher, topic), the history
//! then the live publications that follow it, in order and without
//! duplicates. `H > N` is refused, as the course describes: the subscriber
//! takes none of that publisher's data on that topic.
//!
//! The wire (a ROUTER at the publisher's PUB port + 1, see [`history_port`]),
//! every frame UTF-8:
//!
//! | message | frames |
//! |---|---|
//! | request | `HISTORY`, topic, `H` (decimal) |
//! | samples | `OK`, topic, `N`, then one frame per sample, oldest first, each the text publication ([`Publication::encode`]) |
//! | refusal | `REFUSED`, topic, `N`, reason |
//! | a topic the publisher does not publish | `NOTOPIC`, topic, reason |
//! | a malformed request | `ERROR`, reason |

use std::collections::{BTreeMap, VecDeque};

use thiserror::Error;

use super::publication::Publication;

/// The deepest history a publisher keeps, and the most a subscriber may ask
/// for, per topic (bound).
pub const MAX_HISTORY: usize = 10_000;

/// The most frames a request may have (longer ones are malformed).
const MAX_REQUEST_FRAMES: usize = 3;

/// Deserializes a history depth (the `history` parameter), refusing more
/// than [`MAX_HISTORY`].
pub fn depth<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    use serde::de::Error as _;
    use serde::Deserialize as _;
    let n = usize::deserialize(d)?;
    if n > MAX_HISTORY {
        return Err(D::Error::custom(format!(
            "history must be 0-{MAX_HISTORY}, not {n}"
        )));
    }
    Ok(n)
}

/// The port a publisher registered at `port` serves history on (`port + 1`;
/// `None` past 65535).
pub fn history_port(port: u32) -> Option<u32> {
    port.checked_add(1).filter(|p| *p <= u32::from(u16::MAX))
}

/// The frames of a request for the last `asked` publications of `topic`.
pub fn request(topic: &str, asked: usize) -> Vec<Vec<u8>> {
    vec![
        b"HISTORY".to_vec(),
        topic.as_bytes().to_vec(),
        asked.to_string().into_bytes(),
    ]
}

/// A request that cannot be served.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum RequestError {
    /// Not `HISTORY`, topic, count.
    #[error("a history request is 3 frames (HISTORY, topic, count), not {0}")]
    Frames(usize),
    /// The first frame is not `HISTORY`.
    #[error("unknown request '{0}' (expected HISTORY)")]
    Verb(String),
    /// A frame that is not UTF-8.
    #[error("a history request frame is not UTF-8")]
    NotUtf8,
    /// A count that is not a decimal number up to [`MAX_HISTORY`].
    #[error("history count '{0}' is not a number from 0 to {MAX_HISTORY}")]
    Count(String),
}

/// What a publisher did with one request (for its log and counters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// Samples sent.
    Sent {
        /// The topic.
        topic: String,
        /// How many were asked for.
        asked: usize,
        /// How many were sent (fewer while the history is filling).
        sent: usize,
    },
    /// `asked` is more than this publisher keeps.
    Refused {
        /// The topic.
        topic: String,
        /// What it keeps (`N`).
        keeps: usize,
        /// What was asked (`H`).
        asked: usize,
    },
    /// A topic this publisher does not publish.
    NotPublished(String),
    /// A malformed request (answered `ERROR`).
    Malformed(RequestError),
}

/// A publisher's history: the last `depth` publications of each of its topics.
#[derive(Debug)]
pub struct History {
    depth: usize,
    topics: BTreeMap<String, VecDeque<Vec<u8>>>,
}

impl History {
    /// Keeps the last `depth` (at most [`MAX_HISTORY`]) publications of each of `topics`.
    pub fn new(depth: usize, topics: &[String]) -> Self {
        History {
            depth: depth.min(MAX_HISTORY),
            topics: topics
                .iter()
                .map(|t| (t.clone(), VecDeque::new()))
                .collect(),
        }
    }

    /// How many publications it keeps per topic (`N`).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Records one publication (of a topic given to [`History::new`]; others are ignored).
    pub fn record(&mut self, p: &Publication) {
        if self.depth == 0 {
            return;
        }
        if let Some(ring) = self.topics.get_mut(&p.topic) {
            if ring.len() == self.depth {
                ring.pop_front();
            }
            ring.push_back(p.encode());
        }
    }

    /// The reply to one request, and what was done.
    pub fn serve(&self, frames: &[Vec<u8>]) -> (Vec<Vec<u8>>, Served) {
        let (topic, asked) = match parse_request(frames) {
            Ok(r) => r,
            Err(e) => {
                let reply = vec![b"ERROR".to_vec(), e.to_string().into_bytes()];
                return (reply, Served::Malformed(e));
            }
        };
        let Some(ring) = self.topics.get(&topic) else {
            let reason = format!("this publisher does not publish {topic}");
            let reply = vec![
                b"NOTOPIC".to_vec(),
                topic.clone().into_bytes(),
                reason.into(),
            ];
            return (reply, Served::NotPublished(topic));
        };
        let keeps = self.depth.to_string().into_bytes();
        if asked > self.depth {
            let reason = format!(
                "asked for the last {asked} publications of {topic}; this publisher keeps {}",
                self.depth
            );
            let reply = vec![
                b"REFUSED".to_vec(),
                topic.clone().into_bytes(),
                keeps,
                reason.into_bytes(),
            ];
            let served = Served::Refused {
                topic,
                keeps: self.depth,
                asked,
            };
            return (reply, served);
        }
        let skip = ring.len().saturating_sub(asked);
        let mut reply = vec![b"OK".to_vec(), topic.clone().into_bytes(), keeps];
        reply.extend(ring.iter().skip(skip).cloned());
        let sent = reply.len() - 3;
        (reply, Served::Sent { topic, asked, sent })
    }
}

fn parse_request(frames: &[Vec<u8>]) -> Result<(String, usize), RequestError> {
    if frames.len() != MAX_REQUEST_FRAMES {
        return Err(RequestError::Frames(frames.len()));
    }
    fn text(f: &[u8]) -> Result<&str, RequestError> {
        std::str::from_utf8(f).map_err(|_| RequestError::NotUtf8)
    }
    let verb = text(&frames[0])?;
    if verb != "HISTORY" {
        return Err(RequestError::Verb(verb.chars().take(32).collect()));
    }
    let topic = text(&frames[1])?.to_owned();
    let count = text(&frames[2])?;
    let asked = count
        .parse::<usize>()
        .ok()
        .filter(|n| *n <= MAX_HISTORY)
        .ok_or_else(|| RequestError::Count(count.chars().take(32).collect()))?;
    Ok((topic, asked))
}

/// A publisher's answer, as the subscriber reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The samples, oldest first.
    Samples {
        /// The topic.
        topic: String,
        /// What the publisher keeps (`N`).
        keeps: usize,
        /// The publications.
        samples: Vec<Publication>,
    },
    /// `H > N`.
    Refused {
        /// The topic.
        topic: String,
        /// What the publisher keeps (`N`).
        keeps: usize,
        /// Its reason.
        reason: String,
    },
    /// The publisher does not publish the topic.
    NotPublished {
        /// The topic.
        topic: String,
    },
    /// The publisher found the request malformed.
    Error(String),
}

/// A reply that does not parse.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("malformed history reply: {0}")]
pub struct ReplyError(pub String);

/// Parses a publisher's reply (never panics).
pub fn parse_reply(frames: &[Vec<u8>]) -> Result<Reply, ReplyError> {
    let text = |i: usize| -> Result<&str, ReplyError> {
        let f = frames
            .get(i)
            .ok_or_else(|| ReplyError(format!("{} frames", frames.len())))?;
        std::str::from_utf8(f).map_err(|_| ReplyError(format!("frame {i} is not UTF-8")))
    };
    let keeps = |i: usize| -> Result<usize, ReplyError> {
        text(i)?
            .parse()
            .map_err(|_| ReplyError("the history depth is not a number".into()))
    };
    match text(0)? {
        "OK" => {
            let (topic, keeps) = (text(1)?.to_owned(), keeps(2)?);
            let samples = frames.get(3..).unwrap_or_default();
            if samples.len() > MAX_HISTORY {
                return Err(ReplyError(format!("{} samples", samples.len())));
            }
            let samples = samples
                .iter()
                .map(|f| Publication::decode(f).map_err(|e| ReplyError(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Reply::Samples {
                topic,
                keeps,
                samples,
            })
        }
        "REFUSED" => Ok(Reply::Refused {
            topic: text(1)?.to_owned(),
            keeps: keeps(2)?,
            reason: text(3)?.to_owned(),
        }),
        "NOTOPIC" => Ok(Reply::NotPublished {
            topic: text(1)?.to_owned(),
        }),
        "ERROR" => Ok(Reply::Error(text(1)?.to_owned())),
        other => Err(ReplyError(format!(
            "unknown reply '{}'",
            other.chars().take(32).collect::<String>()
        ))),
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
