//! Chord nodes, routing and a ring to walk lookups on.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::sha256;

/// The leading `bits` bits (8-64, a multiple of 8) of SHA-256 of `text`,
/// big-endian: the course's node ids (`id:IP:port` for discovery nodes and
/// publishers, `id:IP` for subscribers) and topic keys.
pub fn hash(bits: u32, text: &str) -> u64 {
    let d = sha256::digest(text.as_bytes());
    let bytes = (bits / 8).clamp(1, 8) as usize;
    d[..bytes]
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// One entry of `dht.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhtEntry {
    /// The discovery node's id (`disc1`).
    pub id: String,
    /// Its ring position.
    pub hash: u64,
    /// Its address.
    #[serde(rename = "IP")]
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// Its Mininet host (`h1`).
    pub host: String,
}

/// The course's `dht.json`: `{"dht": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhtJson {
    /// The ring's nodes.
    pub dht: Vec<DhtEntry>,
}

/// A node as others know it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Peer {
    /// Ring position.
    pub hash: u64,
    /// Id.
    pub id: String,
    /// `tcp://IP:port`.
    pub endpoint: String,
}

impl From<&DhtEntry> for Peer {
    fn from(e: &DhtEntry) -> Self {
        Peer {
            hash: e.hash,
            id: e.id.clone(),
            endpoint: format!("tcp://{}:{}", e.ip, e.port),
        }
    }
}

/// Why a ring or a lookup cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ChordError {
    /// `bits` is not 8, 16, ..., 64.
    #[error("bits must be 8, 16, ..., 64, not {0}")]
    Bits(u32),
    /// An empty ring.
    #[error("the ring has no nodes")]
    Empty,
    /// Two nodes at one position.
    #[error("nodes {0} and {1} have the same hash {2}")]
    Collision(String, String, u64),
    /// A hash beyond the ring's size.
    #[error("node {0} has hash {1}, beyond {2} bits")]
    OutOfRange(String, u64, u32),
    /// The node responsible for the key is down.
    #[error("key {key} belongs to {node}, which is down")]
    ResponsibleDown {
        /// The key.
        key: u64,
        /// The responsible node's id.
        node: String,
    },
    /// Every node this one knows is down.
    #[error("{0} knows no live node to route key {1} to")]
    Isolated(String, u64),
    /// A lookup that did not end within the ring's size (a broken ring).
    #[error("lookup of key {0} did not end within {1} hops")]
    Loop(u64, usize),
    /// No node with this id.
    #[error("no node {0} in the ring")]
    NoSuchNode(String),
}

/// One step of a lookup at one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// This node is responsible for the key.
    Here,
    /// This peer (the successor) is responsible: the last hop.
    Responsible(Peer),
    /// Ask this peer (the closest preceding live finger).
    Forward(Peer),
}

/// `x` in the ring interval `(a, b]` (all of the ring when `a == b`).
fn in_open_closed(x: u64, a: u64, b: u64) -> bool {
    match a.cmp(&b) {
        std::cmp::Ordering::Less => a < x && x <= b,
        std::cmp::Ordering::Greater => x > a || x <= b,
        std::cmp::Ordering::Equal => true,
    }
}

/// `x` in the ring interval `(a, b)`.
fn in_open(x: u64, a: u64, b: u64) -> bool {
    match a.cmp(&b) {
        std::cmp::Ordering::Less => a < x && x < b,
        std::cmp::Ordering::Greater => x > a || x < b,
        std::cmp::Ordering::Equal => x != a,
    }
}

/// How many successors each node keeps (to route around nodes that are down).
const SUCCESSORS: usize = 3;

/// One Chord node's routing state.
#[derive(Debug, Clone)]
pub struct Node {
    me: Peer,
    bits: u32,
    predecessor: Peer,
    successors: Vec<Peer>,
    fingers: Vec<Peer>,
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

impl Node {
    /// Joins a ring whose membership is `ring` (as in `dht.json`): builds the
    /// finger table, predecessor and successors of `me`.
    pub fn join(me: &str, ring: &[Peer], bits: u32) -> Result<Node, ChordError> {
        let sorted = Ring::sorted(ring, bits)?;
        let at = sorted
            .iter()
            .position(|p| p.id == me)
            .ok_or_else(|| ChordError::NoSuchNode(me.to_owned()))?;
        let n = sorted.len();
        let succ_of = |key: u64| -> Peer {
            // The first node at or after key, wrapping.
            let i = sorted.partition_point(|p| p.hash < key);
            sorted[i % n].clone()
        };
        let me_peer = sorted[at].clone();
        let fingers = (0..bits)
            .map(|i| succ_of(me_peer.hash.wrapping_add(1u64 << i) & mask(bits)))
            .collect();
        Ok(Node {
            predecessor: sorted[(at + n - 1) % n].clone(),
            successors: (1..=SUCCESSORS.min(n))
                .map(|k| sorted[(at + k) % n].clone())
                .collect(),
            fingers,
            me: me_peer,
            bits,
        })
    }

    /// This node.
    pub fn me(&self) -> &Peer {
        &self.me
    }

    /// The finger table: `finger[i] = successor(id + 2^i)`.
    pub fn fingers(&self) -> &[Peer] {
        &self.fingers
    }

    /// Ring size in bits.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// One lookup step for `key`; `down` tells which peers are known to be down.
    pub fn route(&self, key: u64, down: &dyn Fn(&Peer) -> bool) -> Result<Route, ChordError> {
        let key = key & mask(self.bits);
        if in_open_closed(key, self.predecessor.hash, self.me.hash) {
            return Ok(Route::Here);
        }
        let succ = &self.successors[0];
        if in_open_closed(key, self.me.hash, succ.hash) {
            if down(succ) {
                return Err(ChordError::ResponsibleDown {
                    key,
                    node: succ.id.clone(),
                });
            }
            return Ok(Route::Responsible(succ.clone()));
        }
        // The closest preceding live finger, then the live successors.
        let next = self
            .fingers
            .iter()
            .rev()
            .find(|f| in_open(f.hash, self.me.hash, key) && !down(f))
            .or_else(|| self.successors.iter().find(|s| !down(s)));
        match next {
            Some(p) => Ok(Route::Forward(p.clone())),
            None => Err(ChordError::Isolated(self.me.id.clone(), key)),
        }
    }
}

/// Every node of a ring, to walk lookups as the network would.
#[derive(Debug, Clone)]
pub struct Ring {
    nodes: Vec<Node>,
    down: BTreeSet<String>,
}

impl Ring {
    fn sorted(ring: &[Peer], bits: u32) -> Result<Vec<Peer>, ChordError> {
        if !(8..=64).contains(&bits) || bits % 8 != 0 {
            return Err(ChordError::Bits(bits));
        }
        if ring.is_empty() {
            return Err(ChordError::Empty);
        }
        let mut sorted = ring.to_vec();
        sorted.sort();
        for p in &sorted {
            if p.hash & !mask(bits) != 0 {
                return Err(ChordError::OutOfRange(p.id.clone(), p.hash, bits));
            }
        }
        for w in sorted.windows(2) {
            if w[0].hash == w[1].hash {
                return Err(ChordError::Collision(
                    w[0].id.clone(),
                    w[1].id.clone(),
                    w[0].hash,
                ));
            }
        }
        Ok(sorted)
    }

    /// Every node of `ring` joined.
    pub fn new(ring: &[Peer], bits: u32) -> Result<Ring, ChordError> {
        let sorted = Self::sorted(ring, bits)?;
        let nodes = sorted
            .iter()
            .map(|p| Node::join(&p.id, &sorted, bits))
            .collect::<Result<_, _>>()?;
        Ok(Ring {
            nodes,
            down: BTreeSet::new(),
        })
    }

    /// From `dht.json`.
    pub fn from_json(dht: &DhtJson, bits: u32) -> Result<Ring, ChordError> {
        let peers: Vec<Peer> = dht.dht.iter().map(Peer::from).collect();
        Self::new(&peers, bits)
    }

    /// Marks a node down (or up again).
    pub fn set_down(&mut self, id: &str, down: bool) {
        if down {
            self.down.insert(id.to_owned());
        } else {
            self.down.remove(id);
        }
    }

    /// The nodes, in ring order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Looks `key` up starting at node `from`; the responsible node and the
    /// number of hops (messages between nodes) it took.
    pub fn lookup(&self, from: &str, key: u64) -> Result<(Peer, usize), ChordError> {
        let node_of = |id: &str| {
            self.nodes
                .iter()
                .find(|n| n.me.id == id)
                .ok_or_else(|| ChordError::NoSuchNode(id.to_owned()))
        };
        let down = |p: &Peer| self.down.contains(&p.id);
        let mut at = node_of(from)?;
        let limit = self.nodes.len() + 1;
        for hops in 0..limit {
            match at.route(key, &down)? {
                Route::Here => return Ok((at.me.clone(), hops)),
                Route::Responsible(p) => return Ok((p, hops + 1)),
                Route::Forward(p) => at = node_of(&p.id)?,
            }
        }
        Err(ChordError::Loop(key, limit))
    }

    /// The responsible node computed by brute force: the first node at or
    /// after `key`, wrapping (for tests and checks).
    pub fn brute_force_successor(&self, key: u64) -> &Peer {
        self.nodes
            .iter()
            .map(|n| &n.me)
            .find(|p| p.hash >= key)
            .unwrap_or(&self.nodes[0].me)
    }
}

#[cfg(test)]
#[path = "ring_tests.rs"]
mod tests;
