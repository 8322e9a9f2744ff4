//! Configuration of a DHT node: the topology's `params` ([`Params`]) and the
//! checked [`Config`] built from them by [`Params::validate`].
//!
//! ```toml
//! [actors.dht1]
//! kind = "dht.node"
//! params = { listen = "/ip4/127.0.0.1/tcp/24001", seed = 1,
//!            bootstrap = ["/ip4/127.0.0.1/tcp/24000/p2p/12D3KooW..."] }
//! ```

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use serde::Deserialize;

/// The Kademlia protocol spoken by every node (the IPFS one, so that other
/// libp2p implementations can join the same ring).
pub const PROTOCOL: &str = "/ipfs/kad/1.0.0";

/// Longest key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Where a node's identity (its ed25519 key, hence its peer id) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A key derived from a number: the same seed always gives the same peer
    /// id (tests, experiments, topology files with fixed bootstrap ids).
    Seed(u64),
    /// A key file: libp2p's protobuf encoding of a key pair, or 32 raw bytes of
    /// an ed25519 secret key.
    KeyFile(PathBuf),
    /// A fresh random key at every start.
    Random,
}

impl Identity {
    /// Builds the key pair.
    pub fn keypair(&self) -> Result<Keypair, ConfigError> {
        match self {
            Identity::Seed(seed) => Ok(seeded_keypair(*seed)),
            Identity::Random => Ok(Keypair::generate_ed25519()),
            Identity::KeyFile(path) => {
                let bytes = std::fs::read(path).map_err(|e| ConfigError::KeyFile {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                Keypair::from_protobuf_encoding(&bytes)
                    .or_else(|_| {
                        let mut raw = bytes.clone();
                        Keypair::ed25519_from_bytes(&mut raw)
                    })
                    .map_err(|_| ConfigError::KeyFile {
                        path: path.clone(),
                        reason: "neither a protobuf-encoded key pair nor 32 bytes of an ed25519 secret key".into(),
                    })
            }
        }
    }
}

/// A new random ed25519 key pair in libp2p's protobuf encoding, the
/// contents of a key file.
pub fn new_key_file_contents() -> Result<Vec<u8>, ConfigError> {
    Keypair::generate_ed25519()
        .to_protobuf_encoding()
        .map_err(|e| ConfigError::KeyFile {
            path: PathBuf::new(),
            reason: e.to_string(),
        })
}

/// The key pair of a seeded identity.
pub fn seeded_keypair(seed: u64) -> Keypair {
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(&seed.to_le_bytes());
    // "rolecall" marks the rest, so seed 0 is not the all-zero key.
    secret[8..16].copy_from_slice(b"rolecall");
    Keypair::ed25519_from_bytes(secret).expect("32 bytes are a valid ed25519 secret key")
}

/// The peer id of a seeded identity.
pub fn seeded_peer_id(seed: u64) -> PeerId {
    seeded_keypair(seed).public().to_peer_id()
}

/// A bootstrap peer: its address and peer id (from the `/p2p/` suffix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The peer id.
    pub id: PeerId,
    /// The address, without the `/p2p/` suffix.
    pub addr: Multiaddr,
}

impl Peer {
    /// Parses `/ip4/127.0.0.1/tcp/24000/p2p/12D3KooW...`.
    pub fn parse(text: &str) -> Result<Peer, ConfigError> {
        let bad = |reason: &str| ConfigError::Bootstrap {
            addr: text.to_owned(),
            reason: reason.to_owned(),
        };
        let mut addr: Multiaddr = text
            .parse()
            .map_err(|e: libp2p::multiaddr::Error| bad(&e.to_string()))?;
        match addr.pop() {
            Some(Protocol::P2p(id)) => Ok(Peer { id, addr }),
            _ => Err(bad(
                "it has no peer id: end it with /p2p/<peer id> (the id a node prints at start)",
            )),
        }
    }

    /// The full address, with its `/p2p/` suffix.
    pub fn full(&self) -> Multiaddr {
        self.addr.clone().with(Protocol::P2p(self.id))
    }
}

/// Parameters of `dht.node` as written in a topology.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Listen address (default `/ip4/127.0.0.1/tcp/0`: a free port).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Deterministic identity from this seed (exclusive with `key_file`).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Identity from a key file (exclusive with `seed`).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Bootstrap peers, each a multiaddr ending in `/p2p/<peer id>`.
    #[serde(default)]
    pub bootstrap: Vec<String>,
    /// Replication factor k: how many closest peers hold each record (default 20).
    #[serde(default = "default_replication")]
    pub replication: usize,
    /// Default quorum of puts and gets (default 1).
    #[serde(default = "one")]
    pub quorum: usize,
    /// Record time to live, e.g. `"36h"` (default); `"0s"` for never.
    #[serde(default = "default_ttl")]
    pub record_ttl: String,
    /// Interval of republication by the publisher, e.g. `"24h"` (default); `"0s"` for never.
    #[serde(default = "default_republish")]
    pub republish: String,
    /// Interval of replication by every holder, e.g. `"1h"` (default); `"0s"` for never.
    #[serde(default = "default_replicate")]
    pub replicate: String,
    /// Largest record value accepted, in bytes (default 65536).
    #[serde(default = "default_max_record")]
    pub max_record_size: usize,
    /// Most records held by this node (default 65536).
    #[serde(default = "default_max_records")]
    pub max_records: usize,
    /// Interval of periodic re-bootstrap (default `"5m"`; `"0s"` for never).
    #[serde(default = "default_rebootstrap")]
    pub rebootstrap: String,
    /// Time allowed to reach a bootstrap peer at start (default `"10s"`).
    #[serde(default = "default_bootstrap_timeout")]
    pub bootstrap_timeout: String,
    /// Timeout of one Kademlia query (default `"30s"`).
    #[serde(default = "default_query_timeout")]
    pub query_timeout: String,
    /// How long a connection with no open stream is kept (default `"300s"`).
    /// Each one is a file descriptor at both ends: many nodes in one process
    /// that keep every peer connected run out of them (see docs/dht.md).
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: String,
    /// Capacity of the command queue between the actor and its swarm (default 1024).
    #[serde(default = "default_commands")]
    pub command_capacity: usize,
    /// `server` (default: answers other peers' queries) or `client`.
    #[serde(default = "default_mode")]
    pub mode: String,
    /// Bootstrap at start, crashing (for the supervisor to retry) when no
    /// bootstrap peer answers (default true). Tools that bootstrap through
    /// [`Bootstrap`](super::Bootstrap) themselves set it to false.
    #[serde(default = "yes")]
    pub join: bool,
}

fn default_listen() -> String {
    "/ip4/127.0.0.1/tcp/0".into()
}
fn default_replication() -> usize {
    20
}
fn one() -> usize {
    1
}
fn default_ttl() -> String {
    "36h".into()
}
fn default_republish() -> String {
    "24h".into()
}
fn default_replicate() -> String {
    "1h".into()
}
fn default_max_record() -> usize {
    65536
}
fn default_max_records() -> usize {
    65536
}
fn default_rebootstrap() -> String {
    "5m".into()
}
fn default_bootstrap_timeout() -> String {
    "10s".into()
}
fn default_query_timeout() -> String {
    "30s".into()
}
fn default_idle_timeout() -> String {
    "300s".into()
}
fn default_commands() -> usize {
    1024
}
fn yes() -> bool {
    true
}
fn default_mode() -> String {
    "server".into()
}

impl Default for Params {
    fn default() -> Self {
        Params {
            listen: default_listen(),
            seed: None,
            key_file: None,
            bootstrap: Vec::new(),
            replication: default_replication(),
            quorum: one(),
            record_ttl: default_ttl(),
            republish: default_republish(),
            replicate: default_replicate(),
            max_record_size: default_max_record(),
            max_records: default_max_records(),
            rebootstrap: default_rebootstrap(),
            bootstrap_timeout: default_bootstrap_timeout(),
            query_timeout: default_query_timeout(),
            idle_timeout: default_idle_timeout(),
            command_capacity: default_commands(),
            mode: default_mode(),
            join: true,
        }
    }
}

/// A parameter that is not valid; the message names it and says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `listen` is not a multiaddr.
    #[error(
        "dht `listen` = `{addr}` is not a multiaddr: {reason} (e.g. \"/ip4/127.0.0.1/tcp/24000\")"
    )]
    Listen {
        /// The text.
        addr: String,
        /// Why.
        reason: String,
    },
    /// A bootstrap address is wrong.
    #[error("dht bootstrap peer `{addr}` is not valid: {reason}")]
    Bootstrap {
        /// The text.
        addr: String,
        /// Why.
        reason: String,
    },
    /// Both `seed` and `key_file`.
    #[error("dht identity: give `seed` or `key_file`, not both")]
    TwoIdentities,
    /// The key file cannot be used.
    #[error("dht key file `{}`: {reason}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A number out of range.
    #[error("dht `{param}` = {value} is outside {range}")]
    OutOfRange {
        /// The parameter.
        param: &'static str,
        /// Its value.
        value: usize,
        /// What is accepted.
        range: &'static str,
    },
    /// A duration that does not parse.
    #[error("dht `{param}` = `{text}`: {reason}")]
    Duration {
        /// The parameter.
        param: &'static str,
        /// The text.
        text: String,
        /// Why.
        reason: String,
    },
    /// `mode` is not `server` or `client`.
    #[error("dht `mode` = `{0}`: use `server` or `client`")]
    Mode(String),
}

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) identity: Identity,
    pub(crate) listen: Multiaddr,
    pub(crate) bootstrap: Vec<Peer>,
    pub(crate) replication: NonZeroUsize,
    pub(crate) quorum: NonZeroUsize,
    pub(crate) record_ttl: Option<Duration>,
    pub(crate) republish: Option<Duration>,
    pub(crate) replicate: Option<Duration>,
    pub(crate) max_record_size: usize,
    pub(crate) max_records: usize,
    pub(crate) rebootstrap: Option<Duration>,
    pub(crate) bootstrap_timeout: Duration,
    pub(crate) query_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) command_capacity: usize,
    pub(crate) server: bool,
    pub(crate) join: bool,
}

impl Config {
    /// The identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }
    /// The listen address.
    pub fn listen(&self) -> &Multiaddr {
        &self.listen
    }
    /// The bootstrap peers.
    pub fn bootstrap(&self) -> &[Peer] {
        &self.bootstrap
    }
    /// The replication factor.
    pub fn replication(&self) -> NonZeroUsize {
        self.replication
    }
    /// The default quorum.
    pub fn quorum(&self) -> NonZeroUsize {
        self.quorum
    }
    /// The largest record value accepted.
    pub fn max_record_size(&self) -> usize {
        self.max_record_size
    }
    /// Time allowed to reach a bootstrap peer.
    pub fn bootstrap_timeout(&self) -> Duration {
        self.bootstrap_timeout
    }
    /// Timeout of one query.
    pub fn query_timeout(&self) -> Duration {
        self.query_timeout
    }
    /// True when the node bootstraps at start.
    pub fn joins_at_start(&self) -> bool {
        self.join
    }
    /// True in server mode.
    pub fn is_server(&self) -> bool {
        self.server
    }
}

/// Parses `250ms`, `5s`, `2m`, `36h`; `0s` means "never" (`None`).
fn duration(param: &'static str, text: &str) -> Result<Option<Duration>, ConfigError> {
    let bad = |reason: &str| ConfigError::Duration {
        param,
        text: text.to_owned(),
        reason: reason.to_owned(),
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| bad("not a duration: write a number with a unit, e.g. \"5s\""))?;
    let secs = match unit.trim() {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "" => return Err(bad("no unit: use ms, s, m or h")),
        _ => return Err(bad("unknown unit: use ms, s, m or h")),
    };
    if !secs.is_finite() || !(0.0..=1e8).contains(&secs) {
        return Err(bad("out of range"));
    }
    Ok((secs > 0.0).then(|| Duration::from_secs_f64(secs)))
}

fn range(
    param: &'static str,
    value: usize,
    lo: usize,
    hi: usize,
    text: &'static str,
) -> Result<usize, ConfigError> {
    if (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::OutOfRange {
            param,
            value,
            range: text,
        })
    }
}

fn nonzero(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN)
}

impl Params {
    /// Checks every parameter and builds the [`Config`].
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let identity = match (self.seed, &self.key_file) {
            (Some(_), Some(_)) => return Err(ConfigError::TwoIdentities),
            (Some(seed), None) => Identity::Seed(seed),
            (None, Some(path)) => Identity::KeyFile(path.clone()),
            (None, None) => Identity::Random,
        };
        let listen =
            self.listen
                .parse()
                .map_err(|e: libp2p::multiaddr::Error| ConfigError::Listen {
                    addr: self.listen.clone(),
                    reason: e.to_string(),
                })?;
        let bootstrap = self
            .bootstrap
            .iter()
            .map(|b| Peer::parse(b))
            .collect::<Result<Vec<_>, _>>()?;
        let replication = range("replication", self.replication, 1, 200, "1..=200")?;
        let quorum = range("quorum", self.quorum, 1, replication, "1..=replication")?;
        let max_record_size = range(
            "max_record_size",
            self.max_record_size,
            1,
            1 << 20,
            "1..=1048576",
        )?;
        let max_records = range("max_records", self.max_records, 1, 1 << 24, "1..=16777216")?;
        let command_capacity = range(
            "command_capacity",
            self.command_capacity,
            1,
            1 << 20,
            "1..=1048576",
        )?;
        let server = match self.mode.as_str() {
            "server" => true,
            "client" => false,
            other => return Err(ConfigError::Mode(other.to_owned())),
        };
        let must = |param: &'static str, text: &str| -> Result<Duration, ConfigError> {
            duration(param, text)?.ok_or_else(|| ConfigError::Duration {
                param,
                text: text.to_owned(),
                reason: "must be more than zero".into(),
            })
        };
        Ok(Config {
            identity,
            listen,
            bootstrap,
            replication: nonzero(replication),
            quorum: nonzero(quorum),
            record_ttl: duration("record_ttl", &self.record_ttl)?,
            republish: duration("republish", &self.republish)?,
            replicate: duration("replicate", &self.replicate)?,
            max_record_size,
            max_records,
            rebootstrap: duration("rebootstrap", &self.rebootstrap)?,
            bootstrap_timeout: must("bootstrap_timeout", &self.bootstrap_timeout)?,
            query_timeout: must("query_timeout", &self.query_timeout)?,
            idle_timeout: must("idle_timeout", &self.idle_timeout)?,
            command_capacity,
            server,
            join: self.join,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_give_stable_distinct_peer_ids() {
        assert_eq!(seeded_peer_id(1), seeded_peer_id(1));
        assert_ne!(seeded_peer_id(1), seeded_peer_id(2));
    }

    #[test]
    fn bad_parameters_are_named() {
        let p = Params {
            bootstrap: vec!["/ip4/127.0.0.1/tcp/24000".into()],
            ..Params::default()
        };
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("/p2p/"), "{e}");
        let p = Params {
            quorum: 5,
            replication: 3,
            ..Params::default()
        };
        assert!(matches!(
            p.validate(),
            Err(ConfigError::OutOfRange {
                param: "quorum",
                ..
            })
        ));
        let p = Params {
            record_ttl: "10".into(),
            ..Params::default()
        };
        assert!(p.validate().unwrap_err().to_string().contains("record_ttl"));
        let p = Params {
            listen: "127.0.0.1:80".into(),
            ..Params::default()
        };
        assert!(matches!(p.validate(), Err(ConfigError::Listen { .. })));
    }

    #[test]
    fn bootstrap_addresses_keep_their_peer_id() {
        let id = seeded_peer_id(3);
        let text = format!("/ip4/127.0.0.1/tcp/24003/p2p/{id}");
        let peer = Peer::parse(&text).unwrap();
        assert_eq!(peer.id, id);
        assert_eq!(peer.addr.to_string(), "/ip4/127.0.0.1/tcp/24003");
        assert_eq!(peer.full().to_string(), text);
    }
}
