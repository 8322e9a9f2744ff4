//! Reachability once every node runs on its own host, and the ports each
//! node listens on. Pure functions of a loaded topology.

use rolecall_runtime::topology::Topology;

use super::plan::{NodePlan, PlanError};

/// `tcp://HOST:PORT` → (HOST, PORT); `tcp://*:P` gives host `*`.
pub fn split_tcp(endpoint: &str) -> Option<(&str, u16)> {
    let rest = endpoint.strip_prefix("tcp://")?;
    let (host, port) = rest.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host, port.parse().ok()?))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// The strings of a parameter that is a string or an array of strings.
fn strings(v: Option<&toml::Value>) -> Vec<&str> {
    match v {
        Some(toml::Value::String(s)) => vec![s.as_str()],
        Some(toml::Value::Array(a)) => a.iter().filter_map(|x| x.as_str()).collect(),
        _ => Vec::new(),
    }
}

/// Checks that every cross-node wire connects to the consumer node's host,
/// and that no actor connects to a loopback port that an actor of another
/// node binds (`bind` parameters; each container has its own loopback).
///
/// `text` is the topology's source: errors name `origin:LINE` of the endpoint.
pub fn check(t: &Topology, nodes: &[NodePlan], origin: &str, text: &str) -> Result<(), PlanError> {
    let at = |needle: &str| match text.lines().position(|l| l.contains(needle)) {
        Some(i) => format!("{origin}:{}", i + 1),
        None => origin.to_owned(),
    };
    let host_of = |node: &str| {
        nodes
            .iter()
            .find(|n| n.node == node)
            .map(|n| n.host.as_str())
    };
    for w in &t.wires {
        let producer = t
            .actor(&w.from.actor)
            .map(|a| a.node.as_str())
            .unwrap_or("");
        for d in &w.to {
            let Some(route) = &d.remote else { continue };
            let consumer = t
                .actor(&d.port.actor)
                .map(|a| a.node.as_str())
                .unwrap_or("");
            let expected = host_of(consumer).unwrap_or("");
            let ok = split_tcp(&route.connect).is_some_and(|(h, _)| h == expected);
            if !ok {
                return Err(PlanError::Unreachable {
                    origin: at(&route.connect),
                    what: format!("wire `{}` → `{}`", w.from, d.port),
                    endpoint: route.connect.clone(),
                    node: producer.into(),
                    hint: format!(
                        "remove the wire's `endpoint` so the route follows node `{consumer}`'s address `{expected}`"
                    ),
                });
            }
        }
    }
    for a in &t.actors {
        for c in strings(a.params.get("connect")) {
            let Some((host, port)) = split_tcp(c) else {
                continue;
            };
            if !is_loopback(host) {
                continue;
            }
            let binds = |b: &&rolecall_runtime::topology::ActorSpec| {
                strings(b.params.get("bind"))
                    .iter()
                    .any(|e| split_tcp(e).is_some_and(|(_, p)| p == port))
            };
            // Only a port known to be bound on another node (and not on this
            // one) is an error: other kinds bind under other parameter names.
            if t.actors_on(&a.node).any(|b| binds(&b)) {
                continue;
            }
            let Some(binder) = t.actors.iter().find(binds) else {
                continue;
            };
            {
                let h = host_of(&binder.node).unwrap_or("");
                let hint = format!(
                    "port {port} is bound on node `{}`: connect to `tcp://{h}:{port}` instead, e.g. with --set {}.{}.connect=...",
                    binder.node, a.node, a.name
                );
                return Err(PlanError::Unreachable {
                    origin: at(c),
                    what: format!("actor `{}`", a.name),
                    endpoint: c.into(),
                    node: a.node.clone(),
                    hint,
                });
            }
        }
    }
    Ok(())
}

/// The TCP ports node `node` listens on: its incoming cross-node wires and
/// its actors' `bind` parameters, sorted, without duplicates.
pub fn ports(t: &Topology, node: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = Vec::new();
    for w in &t.wires {
        for d in &w.to {
            let on_node = t.actor(&d.port.actor).is_some_and(|a| a.node == node);
            if let (true, Some(route)) = (on_node, &d.remote) {
                ports.extend(split_tcp(&route.bind).map(|(_, p)| p));
            }
        }
    }
    for a in t.actors_on(node) {
        ports.extend(
            strings(a.params.get("bind"))
                .iter()
                .filter_map(|e| split_tcp(e))
                .map(|(_, p)| p),
        );
    }
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_split() {
        assert_eq!(split_tcp("tcp://a-b:7400"), Some(("a-b", 7400)));
        assert_eq!(split_tcp("tcp://*:15571"), Some(("*", 15571)));
        assert_eq!(split_tcp("tcp://[::1]:5"), Some(("::1", 5)));
        assert_eq!(split_tcp("ipc:///tmp/x"), None);
        assert_eq!(split_tcp("tcp://h:port"), None);
    }
}
