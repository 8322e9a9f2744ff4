//! Planning: which node runs on which host, and the exact `rolecall node`
//! arguments of every node of every variant — before anything starts, so a
//! bad node name or override is reported against the experiment file.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rolecall_runtime::topology::{load_file, Diagnostic, Overrides};

use super::file::FileError;
use super::model::{Experiment, Rule};
use super::shape::{Net, Shape};

/// One node of one variant: where it runs and its `rolecall node` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlan {
    /// The topology node.
    pub node: String,
    /// The host it runs on.
    pub host: String,
    /// Its address (the host's, or 127.0.0.1 with `--local`).
    pub address: Ipv4Addr,
    /// Arguments after `rolecall`: `node TOPOLOGY --node N --seed S --set ...`.
    pub args: Vec<String>,
}

/// Every node of one variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantPlan {
    /// The variant's name.
    pub name: String,
    /// Its nodes, in topology order.
    pub nodes: Vec<NodePlan>,
    /// Nodes stopped once all others have ended.
    pub services: Vec<String>,
    /// Link events of each run.
    pub events: Vec<super::model::Event>,
}

/// A `[[processes]]` entry with addresses filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessPlan {
    /// Its name.
    pub name: String,
    /// Its host.
    pub host: String,
    /// Program and arguments (`{rolecall}` still stands for this binary).
    pub argv: Vec<String>,
    /// Wait after starting it.
    pub wait: std::time::Duration,
}

/// The whole plan: the network and every variant's nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The network (with `--local`: one pseudo host per node, all 127.0.0.1).
    pub net: Net,
    /// The shape it was built from.
    pub shape: Shape,
    /// One per variant, in order.
    pub variants: Vec<VariantPlan>,
    /// Programs started before the nodes of every run.
    pub processes: Vec<ProcessPlan>,
}

/// Puts `nodes` on `hosts`: explicit pairs first, then the rule over all hosts.
pub fn place(
    exp: &Experiment,
    nodes: &[String],
    hosts: &[String],
) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut placed = BTreeMap::new();
    for (node, host, pos) in &exp.placement.nodes {
        if !nodes.contains(node) {
            problems.push(pos.diagnostic(format!(
                "placement names node `{node}`, which no variant's topology has (nodes: {})",
                nodes.join(", ")
            )));
        } else if !hosts.contains(host) {
            problems.push(pos.diagnostic(format!(
                "placement puts `{node}` on host `{host}`, which the network lacks (hosts h1..h{})",
                hosts.len()
            )));
        } else {
            placed.insert(node.clone(), host.clone());
        }
    }
    let mut order: Vec<&String> = hosts.iter().collect();
    if let Rule::Random(seed) = exp.placement.rule {
        order.shuffle(&mut rand::rngs::SmallRng::seed_from_u64(seed));
    }
    let free: Vec<&String> = nodes.iter().filter(|n| !placed.contains_key(*n)).collect();
    for (i, node) in free.into_iter().enumerate() {
        placed.insert(node.clone(), order[i % order.len()].clone());
    }
    if problems.is_empty() {
        Ok(placed)
    } else {
        Err(problems)
    }
}

/// Replaces `{addr:NODE}` in `text` by NODE's address.
pub fn substitute(text: &str, addresses: &BTreeMap<String, Ipv4Addr>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("{addr:") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 6..];
        let end = tail
            .find('}')
            .ok_or_else(|| format!("`{text}`: `{{addr:` without `}}`"))?;
        let node = &tail[..end];
        let ip = addresses
            .get(node)
            .ok_or_else(|| format!("`{text}`: no node `{node}` to take the address of"))?;
        out.push_str(&ip.to_string());
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Loads every variant's topology and plans its nodes. With `local`, every
/// node is its own pseudo host at 127.0.0.1 and the network is not built.
pub fn plan(exp: &Experiment, local: bool) -> Result<Plan, FileError> {
    let registry = crate::default_registry();
    let mut problems = Vec::new();
    let mut topologies = Vec::new();
    for v in &exp.variants {
        match load_file(&v.topology, &registry, &Overrides::new()) {
            Ok(t) => topologies.push(Some(t)),
            Err(e) => {
                problems.push(v.pos.diagnostic(format!(
                    "variant `{}`: topology {} does not load: {}",
                    v.name,
                    v.topology.display(),
                    e.diagnostics
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                )));
                topologies.push(None);
            }
        }
    }
    if !problems.is_empty() {
        return Err(FileError::Invalid(problems));
    }
    let topologies: Vec<_> = topologies.into_iter().flatten().collect();
    let mut all_nodes: Vec<String> = Vec::new();
    for t in &topologies {
        for n in &t.nodes {
            if !all_nodes.contains(&n.name) {
                all_nodes.push(n.name.clone());
            }
        }
    }
    let shape = match &exp.network {
        Some(n) => n.shape,
        None => Shape::Single(all_nodes.len().clamp(1, super::shape::MAX_HOSTS)),
    };
    let net = shape.build();
    let hosts: Vec<String> = net.hosts.iter().map(|h| h.name.clone()).collect();
    let placed = place(exp, &all_nodes, &hosts).map_err(FileError::Invalid)?;
    let mut events: Vec<&super::model::Event> =
        exp.variants.iter().flat_map(|v| &v.events).collect();
    events.extend(&exp.events);
    events.dedup_by(|a, b| a.pos == b.pos);
    let mut seen = Vec::new();
    for e in events {
        if seen.contains(&&e.pos) {
            continue;
        }
        seen.push(&e.pos);
        if !hosts.contains(&e.host) {
            problems.push(e.pos.diagnostic(format!(
                "event on host `{}`, which the network lacks (hosts h1..h{})",
                e.host,
                hosts.len()
            )));
        }
    }
    let mut process_addresses: BTreeMap<String, Ipv4Addr> = BTreeMap::new();
    for p in &exp.processes {
        if all_nodes.contains(&p.name) {
            problems.push(
                p.pos
                    .diagnostic(format!("process `{}` has the name of a node", p.name)),
            );
        }
        match net.host(&p.host) {
            Some(h) => {
                let ip = if local { Ipv4Addr::LOCALHOST } else { h.ip };
                process_addresses.insert(p.name.clone(), ip);
            }
            None => problems.push(p.pos.diagnostic(format!(
                "process `{}` on host `{}`, which the network lacks (hosts h1..h{})",
                p.name,
                p.host,
                hosts.len()
            ))),
        }
    }
    let mut node_addresses: BTreeMap<String, Ipv4Addr> = process_addresses.clone();
    for n in &all_nodes {
        let ip = match placed.get(n).and_then(|h| net.host(h)) {
            Some(h) if !local => h.ip,
            _ => Ipv4Addr::LOCALHOST,
        };
        node_addresses.insert(n.clone(), ip);
    }
    let mut processes = Vec::new();
    for p in &exp.processes {
        let mut argv = Vec::new();
        for a in &p.command {
            match substitute(a, &node_addresses) {
                Ok(a) => argv.push(a),
                Err(e) => problems.push(p.pos.diagnostic(format!("process `{}`: {e}", p.name))),
            }
        }
        processes.push(ProcessPlan {
            name: p.name.clone(),
            host: p.host.clone(),
            argv,
            wait: p.wait,
        });
    }
    let mut variants = Vec::new();
    for (v, topology) in exp.variants.iter().zip(&topologies) {
        let address = |node: &str| -> Ipv4Addr {
            if local {
                return Ipv4Addr::LOCALHOST;
            }
            placed
                .get(node)
                .and_then(|h| net.host(h))
                .map(|h| h.ip)
                .unwrap_or(Ipv4Addr::LOCALHOST)
        };
        let mut addresses: BTreeMap<String, Ipv4Addr> = topology
            .nodes
            .iter()
            .map(|n| (n.name.clone(), address(&n.name)))
            .collect();
        addresses.extend(process_addresses.iter().map(|(k, v)| (k.clone(), *v)));
        let mut sets: Vec<String> = topology
            .nodes
            .iter()
            .map(|n| format!("{}.address={}", n.name, addresses[&n.name]))
            .collect();
        for s in &v.set {
            match substitute(s, &addresses) {
                Ok(s) => sets.push(s),
                Err(e) => problems.push(v.pos.diagnostic(format!("variant `{}`: {e}", v.name))),
            }
        }
        let mut overrides = Overrides::new();
        for s in &sets {
            if let Err(e) = overrides.set(s) {
                problems.push(v.pos.diagnostic(format!("variant `{}`: {e}", v.name)));
            }
        }
        if let Err(e) = load_file(&v.topology, &registry, &overrides) {
            problems.push(v.pos.diagnostic(format!(
                "variant `{}`: {}",
                v.name,
                e.diagnostics
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )));
            continue;
        }
        let topology_path = std::fs::canonicalize(&v.topology).unwrap_or(v.topology.clone());
        let nodes = topology
            .nodes
            .iter()
            .map(|n| NodePlan {
                node: n.name.clone(),
                host: placed[&n.name].clone(),
                address: addresses[&n.name],
                args: node_args(&topology_path, &n.name, exp.seed, &sets),
            })
            .collect();
        for s in &v.services {
            if !topology.nodes.iter().any(|n| &n.name == s) {
                problems.push(v.pos.diagnostic(format!(
                    "variant `{}`: service `{s}` is not a node of {}",
                    v.name,
                    v.topology.display()
                )));
            }
        }
        variants.push(VariantPlan {
            name: v.name.clone(),
            nodes,
            services: v.services.clone(),
            events: v.events.clone(),
        });
    }
    if !problems.is_empty() {
        return Err(FileError::Invalid(problems));
    }
    Ok(Plan {
        net,
        shape,
        variants,
        processes,
    })
}

fn node_args(topology: &std::path::Path, node: &str, seed: u64, sets: &[String]) -> Vec<String> {
    let mut args = vec![
        "node".to_owned(),
        topology.display().to_string(),
        "--node".to_owned(),
        node.to_owned(),
        "--seed".to_owned(),
        seed.to_string(),
    ];
    for s in sets {
        args.push("--set".to_owned());
        args.push(s.clone());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::super::file::parse;
    use super::*;

    fn exp(placement: &str) -> Experiment {
        parse(
            &format!("[experiment]\ntopology = \"t.toml\"\n[placement]\n{placement}\n"),
            std::path::Path::new("e.toml"),
        )
        .unwrap()
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn round_robin_after_explicit_pairs() {
        let e = exp("nodes = { c = \"h3\" }");
        let p = place(
            &e,
            &names(&["a", "b", "c", "d"]),
            &names(&["h1", "h2", "h3"]),
        )
        .unwrap();
        assert_eq!(p["c"], "h3");
        assert_eq!(p["a"], "h1");
        assert_eq!(p["b"], "h2");
        assert_eq!(p["d"], "h3");
    }

    #[test]
    fn random_is_seeded() {
        let hosts = names(&["h1", "h2", "h3", "h4", "h5", "h6"]);
        let nodes = names(&["a", "b", "c", "d", "e", "f"]);
        let a = place(&exp("rule = \"random\"\nseed = 3"), &nodes, &hosts).unwrap();
        let b = place(&exp("rule = \"random\"\nseed = 3"), &nodes, &hosts).unwrap();
        let c = place(&exp("rule = \"random\"\nseed = 4"), &nodes, &hosts).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        // a permutation: every host used once
        let mut used: Vec<_> = a.values().cloned().collect();
        used.sort();
        assert_eq!(used, hosts);
    }

    #[test]
    fn unknown_node_or_host_points_into_the_file() {
        let e = exp("nodes = { x = \"h1\", a = \"h9\" }");
        let errs = place(&e, &names(&["a"]), &names(&["h1", "h2"])).unwrap_err();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert!(text[0].starts_with("e.toml:4:"), "{text:?}");
        assert!(text.iter().any(|t| t.contains("host `h9`")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("node `x`")), "{text:?}");
    }

    #[test]
    fn substitutes_addresses() {
        let mut a = BTreeMap::new();
        a.insert("b".to_owned(), Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(
            substitute("s.sub.connect=[\"tcp://{addr:b}:1\"]", &a).unwrap(),
            "s.sub.connect=[\"tcp://10.0.0.2:1\"]"
        );
        assert!(substitute("{addr:z}", &a)
            .unwrap_err()
            .contains("no node `z`"));
        assert!(substitute("{addr:b", &a).is_err());
    }
}
