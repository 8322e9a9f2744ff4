//! The ZooKeeper strategy (the course's PA3/PA4): where things live in
//! ZooKeeper and what a client concludes from it, as I/O-free functions.
//!
//! Everything lives under one root (default [`ROOT`]; another one keeps
//! separate systems, or tests, apart on one ensemble):
//!
//! ```text
//! /rolecall/pubsub/discovery              election of the discovery replicas (kazoo layout;
//!                                         a contender's data is its REP endpoint)
//! /rolecall/pubsub/brokers/group-K        election of the brokers of topic group K (data: PUB endpoint)
//! /rolecall/pubsub/owners/TOPIC/ID        a publisher of TOPIC, ephemeral, data: its ownership strength
//! ```
//!
//! The elections are `zk.election` contenders; clients follow them, and the
//! owners, with watch-only `zk.membership` actors whose [`Members`] arrive on
//! the client's `zk` port. [`Coordinator`] turns those lists into the
//! [`Directions`] its driver follows: which discovery replica is the primary,
//! which broker serves each topic group, which publisher owns each topic.

use std::collections::BTreeMap;

use crate::zk::contention::contenders;
use crate::zk::Members;

use super::topics;

/// The default parent of everything the strategy keeps in ZooKeeper.
pub const ROOT: &str = "/rolecall/pubsub";

/// The discovery replicas' election under `root`.
pub fn discovery_election(root: &str) -> String {
    format!("{root}/discovery")
}

/// The election of the brokers of topic group `group` under `root`.
pub fn broker_election(root: &str, group: usize) -> String {
    format!("{root}/brokers/group-{group}")
}

/// The parent of `topic`'s publishers' ownership nodes under `root`.
pub fn owners(root: &str, topic: &str) -> String {
    format!("{root}/owners/{topic}")
}

/// The topic group of `topic` among `groups` (at least 1): the topic's
/// position in the course's list of nine ([`topics::TOPICS`]) modulo
/// `groups`, so with two groups `weather`, `airquality`, `light`, `pressure`,
/// `sports` are group 0 and the other four group 1. A topic outside the list
/// goes by the FNV-1a hash of its name. Every process computes the same.
pub fn group_of(topic: &str, groups: usize) -> usize {
    let groups = groups.max(1);
    match topics::TOPICS.iter().position(|t| *t == topic) {
        Some(i) => i % groups,
        None => {
            let h = topic.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            (h % groups as u64) as usize
        }
    }
}

/// The leader of an election, from its contenders' names and data: the data
/// (identifier) of the contender with the lowest sequence, as kazoo decides.
pub fn leader(members: &BTreeMap<String, String>) -> Option<String> {
    let names: Vec<&String> = members.keys().collect();
    contenders(&names)
        .first()
        .and_then(|n| members.get(n))
        .cloned()
}

/// The publisher that owns a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Its id.
    pub id: String,
    /// Its ownership strength.
    pub strength: u32,
}

/// The owner among a topic's publishers (`id` → strength in decimal): the
/// strongest; of equally strong ones the smallest id. Entries whose data is
/// not a strength are returned separately (and never own).
pub fn owner(members: &BTreeMap<String, String>) -> (Option<Owner>, Vec<String>) {
    let mut best: Option<Owner> = None;
    let mut bad = Vec::new();
    // BTreeMap order is by id, so the first of equal strength is the smallest id.
    for (id, data) in members {
        match data.trim().parse::<u32>() {
            Ok(strength) => {
                if best.as_ref().is_none_or(|b| strength > b.strength) {
                    best = Some(Owner {
                        id: id.clone(),
                        strength,
                    });
                }
            }
            Err(_) => bad.push(id.clone()),
        }
    }
    (best, bad)
}

/// What a client's driver follows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directions {
    /// The primary discovery replica's endpoint (`None`: none is elected).
    pub discovery: Option<String>,
    /// A broker: whether it is its group's primary.
    pub leading: bool,
    /// Topic group → its primary broker's endpoint.
    pub brokers: BTreeMap<usize, String>,
    /// Topic → its owner (topics without owners are absent: every publisher is delivered).
    pub owners: BTreeMap<String, Owner>,
}

impl Directions {
    /// Whether a publication of `topic` by `publisher` is to be delivered:
    /// yes when the topic has no owner, or `publisher` owns it.
    pub fn delivers(&self, topic: &str, publisher: &str) -> bool {
        self.owners.get(topic).is_none_or(|o| o.id == publisher)
    }
}

/// A change of [`Directions`], for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The primary discovery replica.
    Discovery(Option<String>),
    /// The primary broker of a group.
    Broker {
        /// The group.
        group: usize,
        /// Its primary's endpoint.
        endpoint: Option<String>,
    },
    /// The owner of a topic.
    Owner {
        /// The topic.
        topic: String,
        /// Its owner.
        owner: Option<Owner>,
        /// Publishers whose data is not a strength (ignored).
        ignored: Vec<String>,
    },
    /// This broker's leadership.
    Leading(bool),
}

/// Turns what the ZooKeeper actors report into [`Directions`].
#[derive(Debug)]
pub struct Coordinator {
    root: String,
    directions: Directions,
}

impl Coordinator {
    /// A coordinator of the layout under `root` that knows nothing yet.
    pub fn new(root: &str) -> Self {
        Coordinator {
            root: root.trim_end_matches('/').to_owned(),
            directions: Directions::default(),
        }
    }

    /// The current directions.
    pub fn directions(&self) -> &Directions {
        &self.directions
    }

    /// A member list of one of the followed nodes; the change it makes, if
    /// any (`None` also for a path the strategy does not use).
    pub fn on_members(&mut self, m: &Members) -> Option<Change> {
        let d = &mut self.directions;
        let root = &self.root;
        if m.path == discovery_election(root) {
            let now = leader(&m.members);
            return (d.discovery != now).then(|| {
                d.discovery = now.clone();
                Change::Discovery(now)
            });
        }
        if let Some(group) = m
            .path
            .strip_prefix(&format!("{root}/brokers/group-"))
            .and_then(|g| g.parse::<usize>().ok())
        {
            let now = leader(&m.members);
            if d.brokers.get(&group) == now.as_ref() {
                return None;
            }
            match &now {
                Some(ep) => d.brokers.insert(group, ep.clone()),
                None => d.brokers.remove(&group),
            };
            return Some(Change::Broker {
                group,
                endpoint: now,
            });
        }
        if let Some(topic) = m.path.strip_prefix(&format!("{root}/owners/")) {
            let (now, ignored) = owner(&m.members);
            if d.owners.get(topic) == now.as_ref() && ignored.is_empty() {
                return None;
            }
            match &now {
                Some(o) => d.owners.insert(topic.to_owned(), o.clone()),
                None => d.owners.remove(topic),
            };
            return Some(Change::Owner {
                topic: topic.to_owned(),
                owner: now,
                ignored,
            });
        }
        None
    }

    /// This broker was elected (`true`) or follows another (`false`).
    pub fn on_leadership(&mut self, leading: bool) -> Option<Change> {
        (self.directions.leading != leading).then(|| {
            self.directions.leading = leading;
            Change::Leading(leading)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(path: &str, pairs: &[(&str, &str)]) -> Members {
        Members {
            path: path.to_owned(),
            members: pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        }
    }

    fn contender(seq: u32) -> String {
        format!("{:032x}__lock__{seq:010}", u128::from(seq) * 7919)
    }

    #[test]
    fn groups_are_stable_and_cover_every_topic() {
        assert_eq!(group_of("weather", 1), 0);
        assert_eq!(group_of("weather", 2), 0);
        assert_eq!(group_of("humidity", 2), 1);
        assert_eq!(group_of("weather", 0), 0);
        for g in 1..=9 {
            let mut seen = vec![0; g];
            for t in topics::TOPICS {
                seen[group_of(t, g)] += 1;
            }
            // Round robin over the nine: sizes differ by at most one.
            let (lo, hi) = (seen.iter().min().unwrap(), seen.iter().max().unwrap());
            assert!(hi - lo <= 1, "{g} groups: {seen:?}");
        }
        assert_eq!(group_of("unknown", 3), group_of("unknown", 3));
        assert!(group_of("unknown", 3) < 3);
    }

    #[test]
    fn the_leader_is_the_lowest_sequence() {
        let m = members(
            "/x",
            &[
                (&contender(12), "tcp://b:1"),
                (&contender(3), "tcp://a:1"),
                ("not-a-contender", "tcp://c:1"),
            ],
        );
        assert_eq!(leader(&m.members).as_deref(), Some("tcp://a:1"));
        assert_eq!(leader(&BTreeMap::new()), None);
    }

    #[test]
    fn the_strongest_owns_and_ties_go_to_the_smallest_id() {
        let m = members(
            "/x",
            &[("p2", "5"), ("p1", "10"), ("p3", "10"), ("p4", "x")],
        );
        let (o, bad) = owner(&m.members);
        assert_eq!(
            o,
            Some(Owner {
                id: "p1".into(),
                strength: 10
            })
        );
        assert_eq!(bad, vec!["p4".to_owned()]);
        assert_eq!(owner(&BTreeMap::new()), (None, vec![]));
    }

    #[test]
    fn member_lists_become_directions() {
        let mut c = Coordinator::new("/t/");
        let d = discovery_election("/t");
        assert_eq!(
            c.on_members(&members(&d, &[(&contender(1), "tcp://d1:5555")])),
            Some(Change::Discovery(Some("tcp://d1:5555".into())))
        );
        // A backup joining changes nothing.
        assert_eq!(
            c.on_members(&members(
                &d,
                &[
                    (&contender(1), "tcp://d1:5555"),
                    (&contender(2), "tcp://d2:5555")
                ]
            )),
            None
        );
        assert_eq!(
            c.on_members(&members(&d, &[(&contender(2), "tcp://d2:5555")])),
            Some(Change::Discovery(Some("tcp://d2:5555".into())))
        );
        let b = broker_election("/t", 1);
        assert_eq!(
            c.on_members(&members(&b, &[(&contender(4), "tcp://b:6000")])),
            Some(Change::Broker {
                group: 1,
                endpoint: Some("tcp://b:6000".into())
            })
        );
        assert_eq!(
            c.directions().brokers.get(&1).map(String::as_str),
            Some("tcp://b:6000")
        );
        let o = owners("/t", "weather");
        assert!(c.directions().delivers("weather", "p2"));
        c.on_members(&members(&o, &[("p1", "10"), ("p2", "5")]));
        assert!(c.directions().delivers("weather", "p1"));
        assert!(!c.directions().delivers("weather", "p2"));
        assert!(c.directions().delivers("humidity", "p2"));
        // The owner's node is gone (its session ended): the next strongest owns.
        assert_eq!(
            c.on_members(&members(&o, &[("p2", "5")])),
            Some(Change::Owner {
                topic: "weather".into(),
                owner: Some(Owner {
                    id: "p2".into(),
                    strength: 5
                }),
                ignored: vec![]
            })
        );
        assert!(c.directions().delivers("weather", "p2"));
        assert_eq!(c.on_members(&members("/elsewhere", &[])), None);
        assert_eq!(c.on_members(&members(&discovery_election(ROOT), &[])), None);
        assert_eq!(c.on_leadership(true), Some(Change::Leading(true)));
        assert_eq!(c.on_leadership(true), None);
    }
}
