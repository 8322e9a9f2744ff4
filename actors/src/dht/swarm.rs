//! The libp2p side of a DHT node: the network behaviour (Kademlia and
//! identify) and the swarm over TCP with noise encryption and yamux
//! multiplexing, built on the tokio runtime the actor system runs on.
//!
//! Kademlia speaks [`PROTOCOL`] (`/ipfs/kad/1.0.0`) and is set explicitly to
//! server mode (or client mode for short-lived tools), so any libp2p node of
//! another implementation can join the ring.

use libp2p::identity::Keypair;
use libp2p::kad::store::{MemoryStore, MemoryStoreConfig};
use libp2p::kad::{self, Mode};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{identify, noise, tcp, yamux, StreamProtocol, Swarm};

use super::config::{Config, MAX_KEY_BYTES, PROTOCOL};

/// What every node runs: Kademlia over a memory store, and identify (which
/// tells peers our listen addresses and that we speak Kademlia).
#[derive(NetworkBehaviour)]
#[behaviour(to_swarm = "BehaviourEvent")]
pub struct Behaviour {
    /// The Kademlia DHT.
    pub kad: kad::Behaviour<MemoryStore>,
    /// The identify protocol.
    pub identify: identify::Behaviour,
}

impl std::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Behaviour")
            .field("mode", &self.kad.mode())
            .finish()
    }
}

/// An event of [`Behaviour`].
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum BehaviourEvent {
    /// From Kademlia.
    Kad(kad::Event),
    /// From identify.
    Identify(identify::Event),
}

impl From<kad::Event> for BehaviourEvent {
    fn from(e: kad::Event) -> Self {
        BehaviourEvent::Kad(e)
    }
}

impl From<identify::Event> for BehaviourEvent {
    fn from(e: identify::Event) -> Self {
        BehaviourEvent::Identify(e)
    }
}

/// Why a swarm could not be built or could not listen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwarmError {
    /// The identity could not be loaded.
    #[error(transparent)]
    Identity(#[from] super::config::ConfigError),
    /// The transport could not be set up.
    #[error("dht transport: {0}")]
    Transport(String),
    /// The listen address could not be bound.
    #[error("dht node cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
}

/// Largest Kademlia message: a record at the size limit plus its key and
/// framing, and never less than libp2p's default of 16 KiB.
fn max_packet(config: &Config) -> usize {
    (config.max_record_size + MAX_KEY_BYTES + 4096).max(16 * 1024)
}

/// The Kademlia configuration of `config`.
pub fn kad_config(config: &Config) -> kad::Config {
    let mut kc = kad::Config::new(StreamProtocol::new(PROTOCOL));
    kc.set_replication_factor(config.replication)
        .set_query_timeout(config.query_timeout)
        .set_record_ttl(config.record_ttl)
        .set_publication_interval(config.republish)
        .set_replication_interval(config.replicate)
        .set_provider_record_ttl(config.record_ttl)
        .set_max_packet_size(max_packet(config))
        .set_periodic_bootstrap_interval(config.rebootstrap);
    kc
}

/// Builds the behaviour for `keypair` with `config`.
pub fn behaviour(keypair: &Keypair, config: &Config) -> Behaviour {
    let id = keypair.public().to_peer_id();
    let store = MemoryStore::with_config(
        id,
        MemoryStoreConfig {
            max_records: config.max_records,
            // The store refuses values of `max_value_bytes` and more.
            max_value_bytes: config.max_record_size + 1,
            max_providers_per_key: config.replication.get(),
            max_provided_keys: config.max_records,
        },
    );
    let mut kad = kad::Behaviour::with_config(id, store, kad_config(config));
    kad.set_mode(Some(if config.server {
        Mode::Server
    } else {
        Mode::Client
    }));
    for peer in &config.bootstrap {
        kad.add_address(&peer.id, peer.addr.clone());
    }
    let identify = identify::Behaviour::new(
        identify::Config::new("/ipfs/0.1.0".into(), keypair.public())
            .with_agent_version(format!("rolecall/{}", env!("CARGO_PKG_VERSION"))),
    );
    Behaviour { kad, identify }
}

/// Builds the swarm (TCP, noise, yamux, on the current tokio runtime) and
/// starts listening on `config`'s address. Must run inside that runtime.
pub fn build(keypair: Keypair, config: &Config) -> Result<Swarm<Behaviour>, SwarmError> {
    let transport = |e: &dyn std::fmt::Display| SwarmError::Transport(e.to_string());
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| transport(&e))?
        .with_behaviour(|key| behaviour(key, config))
        .map_err(|e| transport(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(config.idle_timeout))
        .build();
    swarm
        .listen_on(config.listen.clone())
        .map_err(|e| SwarmError::Listen {
            addr: config.listen.to_string(),
            reason: error_chain(&e),
        })?;
    Ok(swarm)
}

/// An error and its sources, `: `-separated (libp2p's transport errors say
/// nothing themselves: the reason, e.g. "Too many open files", is a source).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        format!("{e:?}")
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dht::Params;

    #[actix_rt::test]
    async fn a_listen_address_in_use_is_named_with_the_reason() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = taken.local_addr().expect("addr").port();
        let params = Params {
            listen: format!("/ip4/127.0.0.1/tcp/{port}"),
            seed: Some(3),
            ..Params::default()
        };
        let config = params.validate().expect("valid");
        let keypair = config.identity().keypair().expect("keypair");
        let err = build(keypair, &config).err().expect("the port is taken");
        let text = err.to_string();
        assert!(
            text.contains(&format!("/ip4/127.0.0.1/tcp/{port}"))
                && text.to_lowercase().contains("address already in use"),
            "{text}"
        );
    }
}
