//! The messages of a DHT node: typed requests through its [`Ref`]
//! (`Put`, `Get`, `Provide`, `FindProviders`, `Bootstrap`, `GetInfo`), the same
//! operations as wired [`Request`]s answered by [`Response`]s with the same
//! id, and the [`Event`]s the node reports on its `events` port.
//!
//! Keys and values are bytes; the CLI tools use UTF-8 text for keys.
//!
//! [`Ref`]: rolecall_runtime::Ref

use actix::Message;
use serde::{Deserialize, Serialize};

use super::config::MAX_KEY_BYTES;

/// Store a record (`key` → `value`) at the `replication` closest peers;
/// succeeds once `quorum` of them (default: the node's) acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "Result<Stored, PutError>")]
pub struct Put {
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
    /// Peers that must acknowledge; `None`: the node's default.
    pub quorum: Option<usize>,
}

impl Put {
    /// A put of a text key with the node's default quorum.
    pub fn new(key: &str, value: impl Into<Vec<u8>>) -> Self {
        Put {
            key: key.as_bytes().to_vec(),
            value: value.into(),
            quorum: None,
        }
    }
}

/// Look a record up; succeeds once `quorum` copies were found (default: the
/// node's quorum) and answers with the first value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "Result<Found, GetError>")]
pub struct Get {
    /// The key.
    pub key: Vec<u8>,
    /// Copies to find; `None`: the node's default.
    pub quorum: Option<usize>,
}

impl Get {
    /// A get of a text key with the node's default quorum.
    pub fn new(key: &str) -> Self {
        Get {
            key: key.as_bytes().to_vec(),
            quorum: None,
        }
    }
}

/// Announce this node as a provider of `key`.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "Result<Provided, ProvideError>")]
pub struct Provide {
    /// The key.
    pub key: Vec<u8>,
}

/// Find the peers that provide `key`.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "Result<Providers, FindProvidersError>")]
pub struct FindProviders {
    /// The key.
    pub key: Vec<u8>,
}

/// Reach the bootstrap peers and refresh the routing table.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "Result<Bootstrapped, BootstrapError>")]
pub struct Bootstrap;

/// Ask the node who it is and what it knows.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "Result<Info, NodeDown>")]
pub struct GetInfo;

/// A put was acknowledged by its quorum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// The key.
    pub key: Vec<u8>,
}

/// A record found by a get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// The key.
    pub key: Vec<u8>,
    /// The value of the first copy found.
    pub value: Vec<u8>,
    /// The peer id of the node that answered with it (this node's own id
    /// when the record was in its own store).
    pub from: String,
    /// True when the record came from this node's own store.
    pub local: bool,
    /// Copies found before the quorum was reached.
    pub copies: usize,
}

/// This node now provides a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provided {
    /// The key.
    pub key: Vec<u8>,
}

/// The providers of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Providers {
    /// The key.
    pub key: Vec<u8>,
    /// Their peer ids, sorted.
    pub peers: Vec<String>,
}

/// Bootstrap is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrapped {
    /// Peers in the routing table afterwards.
    pub peers: usize,
}

/// Who a node is and what it knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// Its peer id.
    pub peer_id: String,
    /// Its listen addresses, each with the `/p2p/<peer id>` suffix (ready to
    /// be given to other nodes as a bootstrap address).
    pub listen: Vec<String>,
    /// Peers in its routing table.
    pub routing_peers: usize,
    /// Records in its store.
    pub records: usize,
    /// Kademlia queries in flight: the node's own gets, puts and lookups,
    /// and its bootstrap and refresh lookups (0 once a ring has settled
    /// and nobody asks).
    #[serde(default)]
    pub queries: usize,
    /// Events not reported because the actor was behind.
    pub events_dropped: u64,
}

/// A key that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum KeyError {
    /// An empty key.
    #[error("the key is empty")]
    Empty,
    /// A key over [`MAX_KEY_BYTES`].
    #[error("the key is {len} bytes long, more than the {max} allowed")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Checks a key.
pub fn check_key(key: &[u8]) -> Result<(), KeyError> {
    if key.is_empty() {
        Err(KeyError::Empty)
    } else if key.len() > MAX_KEY_BYTES {
        Err(KeyError::TooLong {
            len: key.len(),
            max: MAX_KEY_BYTES,
        })
    } else {
        Ok(())
    }
}

/// The DHT node's swarm is not running (the actor stopped or is restarting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("the dht node is not running")]
pub struct NodeDown;

fn text(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

/// Why a put failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PutError {
    /// The key is malformed.
    #[error("put rejected: {0}")]
    Key(#[from] KeyError),
    /// The value is over the node's `max_record_size`.
    #[error("put rejected: the value is {size} bytes, more than max_record_size = {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The quorum is 0 or over the replication factor.
    #[error("put rejected: quorum {quorum} is outside 1..={replication}")]
    BadQuorum {
        /// The quorum asked.
        quorum: usize,
        /// The replication factor.
        replication: usize,
    },
    /// The local store refused the record.
    #[error("put of `{}` failed: the local store refused it: {reason}", text(key))]
    Store {
        /// The key.
        key: Vec<u8>,
        /// Why.
        reason: String,
    },
    /// Too few peers acknowledged it.
    #[error(
        "put of `{}` failed: {stored} peers stored it, quorum is {quorum}",
        text(key)
    )]
    QuorumFailed {
        /// The key.
        key: Vec<u8>,
        /// Peers that stored it.
        stored: usize,
        /// The quorum.
        quorum: usize,
    },
    /// The query timed out.
    #[error(
        "put of `{}` timed out after {stored} acknowledgements (quorum {quorum})",
        text(key)
    )]
    Timeout {
        /// The key.
        key: Vec<u8>,
        /// Peers that stored it.
        stored: usize,
        /// The quorum.
        quorum: usize,
    },
    /// The node is down.
    #[error(transparent)]
    NodeDown(#[from] NodeDown),
}

/// Why a get failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum GetError {
    /// The key is malformed.
    #[error("get rejected: {0}")]
    Key(#[from] KeyError),
    /// The quorum is 0 or over the replication factor.
    #[error("get rejected: quorum {quorum} is outside 1..={replication}")]
    BadQuorum {
        /// The quorum asked.
        quorum: usize,
        /// The replication factor.
        replication: usize,
    },
    /// No peer has it.
    #[error("`{}` was not found", text(key))]
    NotFound {
        /// The key.
        key: Vec<u8>,
    },
    /// Fewer copies than the quorum.
    #[error("get of `{}` found {found} copies, quorum is {quorum}", text(key))]
    QuorumFailed {
        /// The key.
        key: Vec<u8>,
        /// Copies found.
        found: usize,
        /// The quorum.
        quorum: usize,
    },
    /// The query timed out.
    #[error("get of `{}` timed out", text(key))]
    Timeout {
        /// The key.
        key: Vec<u8>,
    },
    /// The node is down.
    #[error(transparent)]
    NodeDown(#[from] NodeDown),
}

/// Why providing failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ProvideError {
    /// The key is malformed.
    #[error("provide rejected: {0}")]
    Key(#[from] KeyError),
    /// The local store refused the provider record.
    #[error("provide of `{}` failed: {reason}", text(key))]
    Store {
        /// The key.
        key: Vec<u8>,
        /// Why.
        reason: String,
    },
    /// The announcement timed out.
    #[error("provide of `{}` timed out", text(key))]
    Timeout {
        /// The key.
        key: Vec<u8>,
    },
    /// The node is down.
    #[error(transparent)]
    NodeDown(#[from] NodeDown),
}

/// Why finding providers failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum FindProvidersError {
    /// The key is malformed.
    #[error("find-providers rejected: {0}")]
    Key(#[from] KeyError),
    /// The query timed out before finding any.
    #[error("finding providers of `{}` timed out", text(key))]
    Timeout {
        /// The key.
        key: Vec<u8>,
    },
    /// The node is down.
    #[error(transparent)]
    NodeDown(#[from] NodeDown),
}

/// Why bootstrap failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum BootstrapError {
    /// No bootstrap peer could be reached.
    #[error("dht bootstrap failed: no bootstrap peer reachable ({})", failures.join("; "))]
    Unreachable {
        /// One line per peer: its address and the dial error.
        failures: Vec<String>,
    },
    /// Nothing happened in time.
    #[error("dht bootstrap failed: no answer from {peers:?} within {after_ms} ms")]
    Timeout {
        /// The bootstrap peers.
        peers: Vec<String>,
        /// The time allowed.
        after_ms: u64,
    },
    /// No bootstrap peer is configured and the routing table is empty.
    #[error("dht bootstrap: no bootstrap peer configured and no peer known")]
    NoPeers,
    /// The node is down.
    #[error(transparent)]
    NodeDown(#[from] NodeDown),
}

/// One operation of a wired [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// See [`Put`].
    Put(Put),
    /// See [`Get`].
    Get(Get),
    /// See [`Provide`].
    Provide(Provide),
    /// See [`FindProviders`].
    FindProviders(FindProviders),
    /// See [`Bootstrap`].
    Bootstrap,
}

/// A request arriving on the node's `requests` port; its [`Response`] leaves
/// on `responses` with the same `id`. Requests run concurrently: responses
/// come in completion order, not request order.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct Request {
    /// Chosen by the requester, copied into the response.
    pub id: u64,
    /// What to do.
    pub op: Op,
}

/// The outcome of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Of a put.
    Put(Result<Stored, PutError>),
    /// Of a get.
    Get(Result<Found, GetError>),
    /// Of a provide.
    Provide(Result<Provided, ProvideError>),
    /// Of a find-providers.
    FindProviders(Result<Providers, FindProvidersError>),
    /// Of a bootstrap.
    Bootstrap(Result<Bootstrapped, BootstrapError>),
}

/// The answer to the [`Request`] with the same `id`.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct Response {
    /// The request's id.
    pub id: u64,
    /// What happened.
    pub outcome: Outcome,
}

/// What a node reports on its `events` port.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub enum Event {
    /// A peer was added to (or updated in) the routing table.
    RoutingUpdated {
        /// Its peer id.
        peer: String,
        /// True when it was not in the table before.
        new: bool,
        /// Peers in the table now.
        peers: usize,
    },
    /// A bootstrap (at start, periodic or asked) finished.
    BootstrapDone {
        /// Peers in the routing table now.
        peers: usize,
    },
}
