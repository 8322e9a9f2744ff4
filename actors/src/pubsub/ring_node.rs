//! `pubsub.chord_node`: one node of the course's Chord ring serving
//! discovery. It joins the ring of a `dht.json` (by its id there), binds its
//! endpoint and serves the course's `DiscoveryReq`s on it, storing
//! registrations at the node responsible for each topic
//! ([`chord::Service`](super::chord::Service), I/O on a
//! [`chord::serve`](super::chord::serve) thread). Publishers, subscribers
//! and brokers talk to any ring node as to the centralized discovery.

use std::path::PathBuf;
use std::time::Duration;

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, ParamCheck, Ports, Role};
use serde::Deserialize;

use super::chord::serve::{Bound, Serving};
use super::chord::{Config, DhtJson, Node, Peer, Service};
use super::directory::{Dissemination, Expect};

/// Parameters of `pubsub.chord_node`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChordParams {
    /// The ring: the course's `dht.json`.
    pub dht_json: PathBuf,
    /// This node's id in it (`disc3`).
    pub name: String,
    /// Bits of the ring (default 48, as `dht-json`).
    #[serde(default = "default_bits")]
    pub bits: u32,
    /// The address to bind, with the node's port from `dht.json` (default `*`).
    #[serde(default = "default_addr")]
    pub addr: String,
    /// Publishers expected before lookups are answered (`-P`).
    pub publishers: usize,
    /// Subscribers expected before the system is ready (`-S`).
    pub subscribers: usize,
    /// `direct` (default) or `broker`.
    #[serde(default)]
    pub dissemination: Dissemination,
    /// A hop not acknowledged within this marks the peer down (default 500).
    #[serde(default = "default_hop")]
    pub hop_timeout_ms: u64,
    /// How long a peer stays marked down (default 5000).
    #[serde(default = "default_down")]
    pub down_for_ms: u64,
    /// A client request not answered within this fails (default 3000).
    #[serde(default = "default_request")]
    pub request_timeout_ms: u64,
}

fn default_addr() -> String {
    "*".into()
}
fn default_bits() -> u32 {
    48
}
fn default_hop() -> u64 {
    500
}
fn default_down() -> u64 {
    5000
}
fn default_request() -> u64 {
    3000
}

impl ChordParams {
    /// The service this node runs and where it binds.
    pub fn service(&self) -> Result<(Service, String), String> {
        let path = self.dht_json.display();
        let text = std::fs::read_to_string(&self.dht_json)
            .map_err(|e| format!("{path}: cannot read: {e}"))?;
        let dht: DhtJson = serde_json::from_str(&text)
            .map_err(|e| format!("{path}:{}:{}: {e}", e.line(), e.column()))?;
        let peers: Vec<Peer> = dht.dht.iter().map(Peer::from).collect();
        let node = Node::join(&self.name, &peers, self.bits).map_err(|e| format!("{path}: {e}"))?;
        let port = dht
            .dht
            .iter()
            .find(|e| e.id == self.name)
            .map(|e| e.port)
            .unwrap_or_default();
        let bind = format!("tcp://{}:{port}", self.addr);
        let mut cfg = Config::new(Expect::new(
            self.publishers,
            self.subscribers,
            self.dissemination,
        ));
        cfg.hop_timeout = Duration::from_millis(self.hop_timeout_ms.max(1));
        cfg.down_for = Duration::from_millis(self.down_for_ms);
        cfg.request_timeout = Duration::from_millis(self.request_timeout_ms.max(1));
        Ok((Service::new(node, cfg), bind))
    }
}

/// The actor; see the module docs.
#[derive(Debug)]
pub struct ChordNode {
    name: String,
    serving: Option<Serving>,
}

impl Actor for ChordNode {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // The thread ends on its own only on an I/O error (it logged it).
        ctx.run_interval(Duration::from_millis(200), |this, ctx| {
            if this.serving.as_ref().is_none_or(Serving::is_finished) {
                tracing::error!(actor = %this.name, "the ring node's thread ended");
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        drop(self.serving.take());
    }
}

impl Role for ChordNode {
    type Params = ChordParams;
    const ABOUT: &'static str =
        "a node of the course's Chord ring (dht.json) serving discovery: DiscoveryReq on its endpoint, registrations stored at the node responsible for each topic";

    fn ports(_: &mut Ports<Self>) {}

    fn check(p: &ChordParams, check: &mut ParamCheck) {
        // A ring that does not read (a missing dht.json) is reported by
        // `build`, with the file's own error.
        if let Ok((_, bind)) = p.service() {
            check.binds("dht_json", bind);
        }
    }

    fn build(p: &ChordParams, io: &mut Io) -> Result<Self, CreateError> {
        let bad = |e: String| CreateError::from(format!("pubsub.chord_node: {e}"));
        let (service, bind) = p.service().map_err(bad)?;
        let bound = Bound::bind(io.zmq(), &bind).map_err(|e| bad(e.to_string()))?;
        tracing::info!(
            actor = %io.actor_name(),
            node = %service.node().me().id,
            hash = service.node().me().hash,
            endpoint = %bind,
            "ring node serving discovery"
        );
        let serving = Serving::start(service, bound).map_err(|e| bad(e.to_string()))?;
        Ok(ChordNode {
            name: io.actor_name().to_owned(),
            serving: Some(serving),
        })
    }
}
