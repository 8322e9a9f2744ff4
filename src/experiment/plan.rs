//! Planning: which node runs on which host, and the exact `rolecall node`
//! arguments of every node of every variant — before anything starts, so a
//! bad node name or override is reported against the experiment file.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rolecall_runtime::topology::{load_file, Diagnostic, Overrides};

use super::apps::{expand, ZOOKEEPER};
use super::file::FileError;
use super::model::{Experiment, Rule};
use super::shape::{Net, Shape};
use super::zookeeper::zk_plan;
pub use super::zookeeper::{ZkPlan, ZkServer};

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

/// One app of an app-set variant, its placeholders filled in but `{dir}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPlan {
    /// Its name (and folder).
    pub name: String,
    /// The host it runs on.
    pub host: String,
    /// Arguments after `rolecall`; `{dir}` still stands for its folder.
    pub args: Vec<String>,
    /// The run waits for it to exit (status 0).
    pub wait: bool,
    /// Delay before it starts.
    pub after: std::time::Duration,
}

/// Every node (or app) of one variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantPlan {
    /// The variant's name.
    pub name: String,
    /// Its nodes, in topology order (none for an app set).
    pub nodes: Vec<NodePlan>,
    /// Its apps, in start order (none for a topology).
    pub apps: Vec<AppPlan>,
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
    /// The ZooKeeper server started before everything else of every run.
    pub zookeeper: Option<ZkPlan>,
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
pub fn substitute(text: &str, addresses: &BTreeMap<String, String>) -> Result<String, String> {
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
        out.push_str(ip);
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
        let Some(path) = &v.topology else {
            topologies.push(None);
            continue;
        };
        match load_file(path, &registry, &Overrides::new()) {
            Ok(t) => topologies.push(Some(t)),
            Err(e) => {
                problems.push(v.pos.diagnostic(format!(
                    "variant `{}`: topology {} does not load: {}",
                    v.name,
                    path.display(),
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
    let mut all_nodes: Vec<String> = Vec::new();
    for t in topologies.iter().flatten() {
        for n in &t.nodes {
            if !all_nodes.contains(&n.name) {
                all_nodes.push(n.name.clone());
            }
        }
    }
    let shape = match &exp.network {
        Some(n) => n.shape,
        None => {
            if let Some(v) = exp.variants.iter().find(|v| !v.apps.is_empty()) {
                problems.push(v.pos.diagnostic(format!(
                    "variant `{}` runs apps on named hosts: give `[network] shape`",
                    v.name
                )));
            }
            Shape::Single(all_nodes.len().clamp(1, super::shape::MAX_HOSTS))
        }
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
    let zookeeper = exp
        .zookeeper
        .as_ref()
        .and_then(|z| zk_plan(z, &net, local, hosts.len(), &mut problems));
    let mut process_addresses: BTreeMap<String, String> = BTreeMap::new();
    if let Some(z) = &zookeeper {
        process_addresses.insert(ZOOKEEPER.to_owned(), z.connect());
    }
    for p in &exp.processes {
        if p.name == ZOOKEEPER {
            problems.push(p.pos.diagnostic(format!(
                "process `{ZOOKEEPER}`: the name is taken by `{{addr:{ZOOKEEPER}}}`"
            )));
        }
        if all_nodes.contains(&p.name) {
            problems.push(
                p.pos
                    .diagnostic(format!("process `{}` has the name of a node", p.name)),
            );
        }
        match net.host(&p.host) {
            Some(h) => {
                let ip = if local { Ipv4Addr::LOCALHOST } else { h.ip };
                process_addresses.insert(p.name.clone(), ip.to_string());
            }
            None => problems.push(p.pos.diagnostic(format!(
                "process `{}` on host `{}`, which the network lacks (hosts h1..h{})",
                p.name,
                p.host,
                hosts.len()
            ))),
        }
    }
    let mut node_addresses: BTreeMap<String, String> = process_addresses.clone();
    for n in &all_nodes {
        let ip = match placed.get(n).and_then(|h| net.host(h)) {
            Some(h) if !local => h.ip,
            _ => Ipv4Addr::LOCALHOST,
        };
        node_addresses.insert(n.clone(), ip.to_string());
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
    let here = exp
        .path
        .parent()
        .map(|d| std::fs::canonicalize(d).unwrap_or(d.to_owned()))
        .unwrap_or_default();
    for (v, topology) in exp.variants.iter().zip(&topologies) {
        let Some(topology) = topology else {
            match plan_apps(v, &net, local, &process_addresses, &here) {
                Ok(apps) => variants.push(VariantPlan {
                    name: v.name.clone(),
                    nodes: Vec::new(),
                    apps,
                    services: Vec::new(),
                    events: v.events.clone(),
                }),
                Err(mut e) => problems.append(&mut e),
            }
            continue;
        };
        let Some(topology_file) = &v.topology else {
            continue;
        };
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
        let mut addresses: BTreeMap<String, String> = topology
            .nodes
            .iter()
            .map(|n| (n.name.clone(), address(&n.name).to_string()))
            .collect();
        addresses.extend(
            process_addresses
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
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
        if let Err(e) = load_file(topology_file, &registry, &overrides) {
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
        let topology_path = std::fs::canonicalize(topology_file).unwrap_or(topology_file.clone());
        let nodes = topology
            .nodes
            .iter()
            .map(|n| NodePlan {
                node: n.name.clone(),
                host: placed[&n.name].clone(),
                address: address(&n.name),
                args: node_args(&topology_path, &n.name, exp.seed, &sets),
            })
            .collect();
        for s in &v.services {
            if !topology.nodes.iter().any(|n| &n.name == s) {
                problems.push(v.pos.diagnostic(format!(
                    "variant `{}`: service `{s}` is not a node of {}",
                    v.name,
                    topology_file.display()
                )));
            }
        }
        variants.push(VariantPlan {
            name: v.name.clone(),
            nodes,
            apps: Vec::new(),
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
        zookeeper,
    })
}

/// Plans the apps of app-set variant `v`: hosts checked, placeholders
/// (`{addr:APP}`, `{addr:zookeeper}`, a process's `{addr:NAME}`, `{here}`)
/// filled in; `{dir}` is left for the run.
fn plan_apps(
    v: &super::model::Variant,
    net: &Net,
    local: bool,
    others: &BTreeMap<String, String>,
    here: &std::path::Path,
) -> Result<Vec<AppPlan>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut addresses = others.clone();
    for a in &v.apps {
        match net.host(&a.host) {
            Some(h) => {
                let ip = if local { Ipv4Addr::LOCALHOST } else { h.ip };
                if addresses.insert(a.name.clone(), ip.to_string()).is_some() {
                    problems.push(
                        a.pos
                            .diagnostic(format!("app `{}` has the name of a process", a.name)),
                    );
                }
            }
            None => problems.push(a.pos.diagnostic(format!(
                "app `{}` on host `{}`, which the network lacks (hosts h1..h{})",
                a.name,
                a.host,
                net.hosts.len()
            ))),
        }
    }
    let mut apps = Vec::new();
    for a in &v.apps {
        let mut args = Vec::new();
        for arg in &a.args {
            match expand(arg, &addresses, here) {
                Ok(x) => args.push(x),
                Err(e) => problems.push(
                    a.pos
                        .diagnostic(format!("variant `{}`, app `{}`: {e}", v.name, a.name)),
                ),
            }
        }
        apps.push(AppPlan {
            name: a.name.clone(),
            host: a.host.clone(),
            args,
            wait: a.wait,
            after: a.after,
        });
    }
    if problems.is_empty() {
        Ok(apps)
    } else {
        Err(problems)
    }
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
        a.insert("b".to_owned(), "10.0.0.2".to_owned());
        assert_eq!(
            substitute("s.sub.connect=[\"tcp://{addr:b}:1\"]", &a).unwrap(),
            "s.sub.connect=[\"tcp://10.0.0.2:1\"]"
        );
        assert!(substitute("{addr:z}", &a)
            .unwrap_err()
            .contains("no node `z`"));
        assert!(substitute("{addr:b", &a).is_err());
    }

    #[test]
    fn plans_an_app_set_with_addresses_and_zookeeper() {
        let e = parse(
            r#"[experiment]
[network]
shape = "single,3"
[zookeeper]
host = "h1"
[[variants]]
name = "v"
apps = [
  { name = "b", host = "h2", args = ["pubsub", "broker", "-z", "{addr:zookeeper}", "-a", "{addr:b}"] },
  { name = "s", host = "h3", wait = true, after = "1s", args = ["x={addr:b}", "{dir}/l.lp", "{here}"] },
]
"#,
            std::path::Path::new("/nowhere/e.toml"),
        )
        .unwrap();
        let p = plan(&e, false).unwrap();
        let z = p.zookeeper.as_ref().unwrap();
        assert_eq!(z.connect(), "10.0.0.1:2181");
        let v = &p.variants[0];
        assert!(v.nodes.is_empty());
        assert_eq!(
            v.apps[0].args,
            ["pubsub", "broker", "-z", "10.0.0.1:2181", "-a", "10.0.0.2"]
        );
        assert_eq!(v.apps[1].args, ["x=10.0.0.2", "{dir}/l.lp", "/nowhere"]);
        assert!(v.apps[1].wait && !v.apps[0].wait);
        let local = plan(&e, true).unwrap();
        let z = &local.zookeeper.as_ref().unwrap().servers[0];
        assert_eq!(z.ip, Ipv4Addr::LOCALHOST);
        assert_ne!(z.port, 0);
        assert_eq!(local.variants[0].apps[1].args[0], "x=127.0.0.1");
    }

    #[test]
    fn plans_a_zookeeper_ensemble_on_hosts_and_on_loopback() {
        let e = parse(
            r#"[experiment]
[network]
shape = "single,4"
[zookeeper]
hosts = ["h1", "h2", "h3"]
port = 2182
[[variants]]
name = "v"
apps = [{ name = "s", host = "h4", wait = true, args = ["pubsub", "subscriber", "-z", "{addr:zookeeper}"] }]
"#,
            std::path::Path::new("/nowhere/e.toml"),
        )
        .unwrap();
        let p = plan(&e, false).unwrap();
        let z = p.zookeeper.as_ref().unwrap();
        assert!(z.is_ensemble());
        assert_eq!(z.connect(), "10.0.0.1:2182,10.0.0.2:2182,10.0.0.3:2182");
        assert_eq!(p.variants[0].apps[0].args[3], z.connect());
        let names: Vec<String> = z.servers.iter().map(|s| s.name(true)).collect();
        assert_eq!(names, ["zookeeper1", "zookeeper2", "zookeeper3"]);
        assert!(z.servers.iter().all(|s| s.peer_ports == (2888, 3888)));
        // On loopback every server needs ports of its own.
        let local = plan(&e, true).unwrap();
        let mut ports: Vec<u16> = local
            .zookeeper
            .as_ref()
            .unwrap()
            .servers
            .iter()
            .flat_map(|s| [s.port, s.peer_ports.0, s.peer_ports.1])
            .collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 9);
    }
}
