//! What one ring node holds for discovery, and the operations other nodes
//! ask of it once a lookup has routed a key to it.
//!
//! Two kinds of keys:
//!
//! * a topic `T` (key `hash(T)`): the publishers of `T`, by id;
//! * the registry ([`REGISTRY_KEY`], key `hash("rolecall/registry")`): every
//!   registrant's id and role, the broker, and how many lookups were answered:
//!   the counters `isready` and "may lookups be answered yet" need, kept at
//!   one well-known key so that they are consistent.
//!
//! Every operation is idempotent for a registrant that sends the same
//! registration again (a client resends when an answer is late).

use std::collections::BTreeMap;

use rolecall_codecs::pb::discovery::{RegistrantInfo, Role};
use serde::{Deserialize, Serialize};

use crate::pubsub::directory::Dissemination;

/// The text hashed to the registry's key.
pub const REGISTRY_KEY: &str = "rolecall/registry";

/// A registrant as the nodes pass it around (`RegistrantInfo`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Registrant {
    /// Its unique id.
    pub id: String,
    /// Address (publishers and the broker).
    pub addr: Option<String>,
    /// Port (publishers and the broker).
    pub port: Option<u32>,
}

impl From<RegistrantInfo> for Registrant {
    fn from(i: RegistrantInfo) -> Self {
        Registrant {
            id: i.id,
            addr: i.addr,
            port: i.port,
        }
    }
}

impl From<Registrant> for RegistrantInfo {
    fn from(r: Registrant) -> Self {
        RegistrantInfo {
            id: r.id,
            addr: r.addr,
            port: r.port,
        }
    }
}

/// An operation for the node responsible for a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Registry: record a registrant's id and role (refused for a duplicate
    /// id, a second broker, a broker under Direct, a full registry). A
    /// publisher is counted only once [`Op::Confirm`]ed (after its topics are
    /// stored).
    Claim {
        /// `Role` as its protobuf number.
        role: i32,
        /// Who.
        who: Registrant,
    },
    /// Registry: a claimed publisher's topics are stored; count it.
    Confirm {
        /// Its id.
        id: String,
    },
    /// Topic: add a publisher of `topic`.
    Store {
        /// The topic.
        topic: String,
        /// The publisher.
        who: Registrant,
    },
    /// Registry: the counters.
    Status,
    /// Topic: the publishers of `topic`.
    Publishers {
        /// The topic.
        topic: String,
    },
    /// Registry: a lookup was answered (`all`: the broker's lookup of every publisher).
    Looked {
        /// The broker's.
        all: bool,
    },
}

/// The registry's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Confirmed publishers.
    pub publishers: usize,
    /// Subscribers.
    pub subscribers: usize,
    /// The broker, once registered.
    pub broker: Option<Registrant>,
    /// Subscribers' lookups answered.
    pub lookups: usize,
    /// Whether the broker looked every publisher up.
    pub broker_looked_up: bool,
}

/// An operation's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// Done, nothing to report.
    Done,
    /// Refused, with the reason the client is told.
    Refused(String),
    /// The registry's counters.
    Counts(Counts),
    /// Publishers of a topic.
    Publishers(Vec<Registrant>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Claimed {
    role: i32,
    who: Registrant,
    confirmed: bool,
}

/// The records of one node (for the keys it is responsible for).
#[derive(Debug)]
pub struct Store {
    dissemination: Dissemination,
    capacity: usize,
    registry: BTreeMap<String, Claimed>,
    broker: Option<Registrant>,
    lookups: usize,
    broker_looked_up: bool,
    topics: BTreeMap<String, BTreeMap<String, Registrant>>,
    stored: usize,
}

impl Store {
    /// An empty store; at most `capacity` registrants and `capacity` topic entries.
    pub fn new(dissemination: Dissemination, capacity: usize) -> Self {
        Store {
            dissemination,
            capacity,
            registry: BTreeMap::new(),
            broker: None,
            lookups: 0,
            broker_looked_up: false,
            topics: BTreeMap::new(),
            stored: 0,
        }
    }

    /// Applies `op` (this node is responsible for its key).
    pub fn apply(&mut self, op: Op) -> Answer {
        match op {
            Op::Claim { role, who } => self.claim(role, who),
            Op::Confirm { id } => match self.registry.get_mut(&id) {
                Some(c) => {
                    c.confirmed = true;
                    Answer::Done
                }
                None => Answer::Refused(format!("{id} confirmed without a claim")),
            },
            Op::Store { topic, who } => self.store(topic, who),
            Op::Status => Answer::Counts(self.counts()),
            Op::Publishers { topic } => Answer::Publishers(self.publishers(&topic)),
            Op::Looked { all } => {
                if all {
                    self.broker_looked_up = true;
                } else {
                    self.lookups += 1;
                }
                Answer::Done
            }
        }
    }

    fn claim(&mut self, role: i32, who: Registrant) -> Answer {
        if let Some(c) = self.registry.get(&who.id) {
            return if c.role == role && c.who == who {
                Answer::Done
            } else {
                Answer::Refused(format!("{} needs to have unique id", who.id))
            };
        }
        if self.registry.len() >= self.capacity {
            return Answer::Refused(format!("directory is full ({} registrants)", self.capacity));
        }
        let confirmed = match Role::try_from(role).unwrap_or(Role::Unknown) {
            Role::Publisher => false,
            Role::Subscriber => true,
            Role::Both => {
                if self.dissemination != Dissemination::Broker {
                    return Answer::Refused(
                        "a broker registered, but dissemination is Direct".into(),
                    );
                }
                if let Some(b) = &self.broker {
                    return Answer::Refused(format!("broker {} is already registered", b.id));
                }
                self.broker = Some(who.clone());
                true
            }
            Role::Unknown => return Answer::Refused("registrant with ROLE_UNKNOWN".into()),
        };
        self.registry.insert(
            who.id.clone(),
            Claimed {
                role,
                who,
                confirmed,
            },
        );
        Answer::Done
    }

    fn store(&mut self, topic: String, who: Registrant) -> Answer {
        let full = self.stored >= self.capacity;
        let entries = self.topics.entry(topic).or_default();
        match entries.get(&who.id) {
            Some(known) if *known == who => Answer::Done,
            Some(_) => Answer::Refused(format!("{} needs to have unique id", who.id)),
            None if full => {
                Answer::Refused(format!("topic index is full ({} entries)", self.capacity))
            }
            None => {
                entries.insert(who.id.clone(), who);
                self.stored += 1;
                Answer::Done
            }
        }
    }

    /// The registry's counters (meaningful at the registry's node).
    pub fn counts(&self) -> Counts {
        let count = |r: Role| {
            self.registry
                .values()
                .filter(|c| c.confirmed && c.role == r as i32)
                .count()
        };
        Counts {
            publishers: count(Role::Publisher),
            subscribers: count(Role::Subscriber),
            broker: self.broker.clone(),
            lookups: self.lookups,
            broker_looked_up: self.broker_looked_up,
        }
    }

    /// The publishers of `topic` held here.
    pub fn publishers(&self, topic: &str) -> Vec<Registrant> {
        self.topics
            .get(topic)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Topic entries held (publisher × topic).
    pub fn entries(&self) -> usize {
        self.stored
    }
}
