//! Rings of DHT nodes in this process, each node in its own `Node` so that
//! a test can kill any of them.

use std::time::Duration;

use rolecall_actors::dht::{self, GetInfo, Info};
use rolecall_runtime::topology::{load_str, Overrides};
use rolecall_runtime::{Node, Ref, Registry, Running};

pub(crate) fn registry() -> Registry {
    let mut r = Registry::new();
    rolecall_actors::register_all(&mut r).expect("kinds register");
    r
}

/// Loads a topology text for the tests.
pub(crate) fn node(text: &str) -> Node {
    let t = load_str(text, "dht-test.toml", &registry(), &Overrides::new())
        .unwrap_or_else(|e| panic!("{e}"));
    Node::all(t, registry()).with_seed(7)
}

/// One running DHT node.
pub(crate) struct Member {
    pub(crate) running: Option<Running>,
    pub(crate) dht: Ref<dht::Node>,
    pub(crate) info: Info,
}

impl Member {
    /// Its first listen address with `/p2p/<id>`.
    pub(crate) fn addr(&self) -> String {
        self.info.listen[0].clone()
    }

    /// Stops it (its swarm closes every connection).
    pub(crate) async fn kill(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(5), running.wait()).await;
        }
    }

    pub(crate) fn alive(&self) -> bool {
        self.running.is_some()
    }
}

/// Asks a node for its info, with a deadline.
pub(crate) async fn info(dht: &Ref<dht::Node>) -> Info {
    tokio::time::timeout(Duration::from_secs(10), dht.send(GetInfo))
        .await
        .expect("info within 10 s")
        .expect("the node runs")
        .expect("the swarm runs")
}

/// Starts a node with `seed`, bootstrapping from `bootstrap`, with extra
/// inline params (e.g. `replication = 3`).
pub(crate) async fn start(seed: u64, bootstrap: &[String], extra: &str) -> Member {
    let list = bootstrap
        .iter()
        .map(|b| format!("\"{b}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let sep = if extra.is_empty() { "" } else { ", " };
    let text = format!(
        r#"
        [actors.dht]
        kind = "dht.node"
        params = {{ seed = {seed}, bootstrap = [{list}]{sep}{extra} }}
        "#
    );
    let running = node(&text).start().await.expect("node starts");
    let dht = running.actor::<dht::Node>("dht").expect("dht actor");
    let info = info(&dht).await;
    assert!(!info.listen.is_empty(), "node {seed} listens");
    Member {
        running: Some(running),
        dht,
        info,
    }
}

/// `n` nodes (seeds `base..base+n`): the first starts the ring, the others
/// bootstrap from it; returns once every routing table has `min_peers`.
pub(crate) async fn ring(base: u64, n: usize, extra: &str, min_peers: usize) -> Vec<Member> {
    let first = start(base, &[], extra).await;
    let boot = vec![first.addr()];
    let mut members = vec![first];
    for i in 1..n {
        members.push(start(base + i as u64, &boot, extra).await);
    }
    wait_routing(&members, min_peers).await;
    members
}

/// Waits until every live node knows at least `min` peers.
pub(crate) async fn wait_routing(members: &[Member], min: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut least = usize::MAX;
        for m in members.iter().filter(|m| m.alive()) {
            least = least.min(info(&m.dht).await.routing_peers);
        }
        if least >= min {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "routing tables stayed below {min} peers (least: {least})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Shuts every node down.
pub(crate) async fn stop_all(members: &mut [Member]) {
    for m in members {
        m.kill().await;
    }
}
