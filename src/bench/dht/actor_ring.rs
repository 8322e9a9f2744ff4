//! The ring of `dht.node` actors, each in a node of its own, all in this
//! process on its single-threaded actix system.

use std::time::Duration;

use rolecall_actors::dht::{self, Get, GetInfo, Params, Put};
use rolecall_runtime::{Node, Ref, Running};

use super::{params, NodeState, Ring};

pub(super) struct ActorRing {
    nodes: Vec<(Running, Ref<dht::Node>)>,
}

impl ActorRing {
    pub(super) async fn start(n: usize, port: u16, seed: u64) -> Result<Self, String> {
        let mut nodes = Vec::with_capacity(n);
        let first = format!(
            "/ip4/127.0.0.1/tcp/{port}/p2p/{}",
            dht::seeded_peer_id(seed)
        );
        for i in 0..n {
            let p = params(
                if i == 0 { port } else { 0 },
                seed + i as u64,
                (i > 0).then(|| first.clone()),
            );
            let text = format!(
                "[actors.dht]\nkind = \"dht.node\"\nparams = {}\n",
                toml_inline(&p)
            );
            let registry = rolecall::default_registry();
            let topology = super::super::load(&text, &registry)?;
            let running = Node::all(topology, registry)
                .with_seed(1)
                .start()
                .await
                .map_err(|e| e.to_string())?;
            let node = running
                .actor::<dht::Node>("dht")
                .map_err(|e| e.to_string())?;
            nodes.push((running, node));
        }
        Ok(ActorRing { nodes })
    }

    pub(super) async fn stop(self) {
        for (running, _) in self.nodes {
            running.shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(5), running.wait()).await;
        }
    }
}

fn toml_inline(p: &Params) -> String {
    let boot = p
        .bootstrap
        .iter()
        .map(|b| format!("\"{b}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{{ listen = \"{}\", seed = {}, bootstrap = [{boot}], replication = {}, rebootstrap = \"{}\", query_timeout = \"{}\", idle_timeout = \"{}\" }}",
        p.listen,
        p.seed.unwrap_or(0),
        p.replication,
        p.rebootstrap,
        p.query_timeout,
        p.idle_timeout
    )
}

impl Ring for ActorRing {
    async fn put(&self, node: usize, key: String, value: Vec<u8>) -> Result<(), String> {
        let put = Put::new(&key, value);
        match self.nodes[node].1.send(put).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
    async fn get(&self, node: usize, key: String) -> bool {
        matches!(self.nodes[node].1.send(Get::new(&key)).await, Ok(Ok(_)))
    }
    async fn state(&self, node: usize) -> NodeState {
        match self.nodes[node].1.send(GetInfo).await {
            Ok(Ok(info)) => NodeState {
                peers: info.routing_peers,
                queries: info.queries,
            },
            _ => NodeState::default(),
        }
    }
    fn len(&self) -> usize {
        self.nodes.len()
    }
}
