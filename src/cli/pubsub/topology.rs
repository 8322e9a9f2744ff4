//! The parameters and topologies `rolecall pubsub …` builds from its flags.

use rolecall::actors::pubsub::config::{DiscoveryStrategy, Strategies};
use rolecall::actors::pubsub::kinds::ClientParams;
use rolecall::actors::pubsub::Dissemination;

use super::{ClientArgs, DiscoveryArgs};

pub(super) fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

pub(super) fn client_params(c: &ClientArgs, default_name: &str, s: &Strategies) -> String {
    let mut p = format!(
        "id = {}, addr = {}, discovery = {}, pause_ms = {}, request_timeout_ms = {}",
        quote(c.name.as_deref().unwrap_or(default_name)),
        quote(&c.addr),
        quote(&c.discovery),
        c.pause_ms,
        c.timeout_ms
    );
    if let Some(seed) = c.seed {
        p.push_str(&format!(", seed = {seed}"));
    }
    if !c.topics.is_empty() {
        let list: Vec<String> = c.topics.iter().map(|t| quote(t)).collect();
        p.push_str(&format!(", topics = [{}]", list.join(", ")));
    }
    let (h, broker) = (c.history, s.dissemination == Dissemination::Broker);
    let d = if broker { "broker" } else { "direct" };
    p.push_str(&format!(", history = {h}, dissemination = \"{d}\""));
    if s.discovery == DiscoveryStrategy::ZooKeeper {
        p.push_str(&format!(", {}", c.zk.client_params()));
        if s.dissemination == rolecall::actors::pubsub::Dissemination::Broker {
            p.push_str(&format!(", groups = {}", s.groups));
        }
    }
    p
}

/// The client's parameters as its kind reads them (for its topics).
pub(super) fn parsed(params: &str) -> Result<ClientParams, String> {
    let table: toml::Table =
        toml::from_str(&format!("p = {{ {params} }}")).map_err(|e| e.to_string())?;
    table
        .get("p")
        .cloned()
        .ok_or_else(|| "no parameters".to_owned())?
        .try_into()
        .map_err(|e: toml::de::Error| e.to_string())
}

/// The topics a client's parameters choose.
pub(super) fn topics_of(params: &str) -> Result<Vec<String>, String> {
    parsed(params)?.topics().map_err(|e| e.to_string())
}

/// The host others reach a bind address at.
pub(super) fn advertised(addr: &str) -> &str {
    match addr {
        "*" | "0.0.0.0" => "localhost",
        a => a,
    }
}

/// The topology of a Kademlia discovery front-end: a `dht.node`, the
/// `pubsub.kad_discovery` on it, a `zmq.rep` on `-a:-p`.
pub(super) fn kademlia_topology(a: &DiscoveryArgs, dissemination: &str) -> Result<String, String> {
    let name = a
        .name
        .clone()
        .ok_or("`[Discovery] Strategy = Kademlia` needs -n/--name (this front-end's name)")?;
    let mut frontends = a.frontends.clone();
    if frontends.is_empty() {
        frontends.push(name.clone());
    }
    if !frontends.contains(&name) {
        return Err(format!(
            "--frontends {frontends:?} must name this front-end ({name})"
        ));
    }
    if a.replication == 0 {
        return Err("--replication must be at least 1".into());
    }
    let list = |v: &[String]| v.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ");
    let identity = a.seed.map(|s| format!(", seed = {s}")).unwrap_or_default();
    Ok(format!(
        r#"
        [topology]
        name = "pubsub-kad-discovery"
        [actors.dht]
        kind = "dht.node"
        params = {{ listen = {}, replication = {r}, quorum = {r}, bootstrap = [{}]{identity} }}
        [actors.discovery]
        kind = "pubsub.kad_discovery"
        restart = "never"
        params = {{ name = {}, frontends = [{}], publishers = {}, subscribers = {}, dissemination = "{dissemination}", min_peers = {r} }}
        [actors.rep]
        kind = "zmq.rep"
        restart = "never"
        params = {{ bind = [{}] }}
        [[wires]]
        from = "rep.out"
        to = "discovery.in"
        [[wires]]
        from = "discovery.out"
        to = "rep.in"
        [[wires]]
        from = "discovery.requests"
        to = "dht.requests"
        [[wires]]
        from = "dht.responses"
        to = "discovery.responses"
        [[wires]]
        from = "dht.events"
        to = "discovery.events"
        "#,
        quote(&a.dht_listen),
        list(&a.bootstrap),
        quote(&name),
        list(&frontends),
        a.publishers,
        a.subscribers,
        quote(&format!("tcp://{}:{}", a.addr, a.port)),
        r = a.replication,
    ))
}
