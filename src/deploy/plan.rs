//! A deployment plan: which host name each node gets, which overrides make
//! the topology use them, which state needs a volume, which ports each node
//! listens on, whether ZooKeeper is needed. Pure: no Docker, no files written.
//!
//! The topology itself is never rewritten. Each node runs the same file with
//! `ROLECALL_SET_*` assignments (see `runtime::topology::Overrides`): every
//! node's `address` becomes its container (or Service) name, `listen` becomes
//! `0.0.0.0`, durable files move onto a volume, ZooKeeper clients get the
//! ZooKeeper servers. The plan reloads the topology with those assignments
//! through the ordinary loader and checks that every cross-node wire then
//! connects to the host of the node that binds it.

use std::path::Path;

use rolecall_runtime::topology::{self, Overrides, Topology};
use rolecall_runtime::Registry;

/// Kinds with durable state: (kind, parameter naming the file).
pub const DURABLE: &[(&str, &str)] = &[("paxos.acceptor", "path")];
/// Where durable files live inside a container (a volume is mounted there).
pub const STATE_DIR: &str = "/state";
/// Where the topology file is inside a container.
pub const TOPOLOGY_PATH: &str = "/etc/rolecall/topology.toml";
/// The port of `rolecall node --health` inside a container.
pub const HEALTH_PORT: u16 = 8558;
/// ZooKeeper's client port.
pub const ZK_PORT: u16 = 2181;

/// Where the plan is for: decides the host names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Docker containers named `PREFIX` + topology + `-` + node on one network.
    Docker {
        /// Prefix of every container, network and volume name.
        prefix: String,
    },
    /// Kubernetes: one headless Service per node, named after the node, in
    /// the topology's namespace.
    Kubernetes,
}

/// How many ZooKeeper servers to run beside the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZkMode {
    /// One standalone server.
    #[default]
    Standalone,
    /// A 3-server ensemble.
    Ensemble,
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The topology does not load (the loader's diagnostics, file:line).
    #[error("{0}")]
    Load(#[from] topology::LoadError),
    /// A `--set` assignment is malformed.
    #[error("{0}")]
    Override(#[from] topology::OverrideError),
    /// Two nodes map to the same DNS name.
    #[error("{origin}: nodes `{a}` and `{b}` both become the host name `{host}` (names are lowercased and `_` becomes `-`); rename one")]
    NameClash {
        /// The topology file.
        origin: String,
        /// First node.
        a: String,
        /// Second node.
        b: String,
        /// The shared host name.
        host: String,
    },
    /// A node name that cannot become a DNS label.
    #[error("{origin}: node `{node}` cannot become a host name (`{host}`): use letters, digits and `-`, at most 63 characters")]
    BadName {
        /// The topology file.
        origin: String,
        /// The node.
        node: String,
        /// What it became.
        host: String,
    },
    /// Something connects to an address that does not exist once every node
    /// runs on its own host.
    #[error("{origin}: {what} connects to `{endpoint}`, which node `{node}` cannot reach when every node runs on its own host ({hint})")]
    Unreachable {
        /// The topology file.
        origin: String,
        /// The wire or actor that connects.
        what: String,
        /// The endpoint.
        endpoint: String,
        /// The node that connects.
        node: String,
        /// What to do.
        hint: String,
    },
}

/// A durable file moved onto a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFile {
    /// The actor.
    pub actor: String,
    /// Its parameter naming the file.
    pub param: String,
    /// The path inside the container (under [`STATE_DIR`]).
    pub path: String,
}

/// One node of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlan {
    /// The node's name in the topology.
    pub node: String,
    /// Its DNS label (node name, lowercased, `_` → `-`).
    pub label: String,
    /// The host name other nodes reach it at (container or Service name).
    pub host: String,
    /// Durable files; non-empty means the node needs a volume.
    pub state: Vec<StateFile>,
    /// TCP ports it listens on (incoming wires and `bind` parameters).
    pub ports: Vec<u16>,
}

/// ZooKeeper beside the nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkPlan {
    /// Host names of the servers (1 or 3).
    pub hosts: Vec<String>,
}

impl ZkPlan {
    /// The connect string, e.g. `zk1:2181,zk2:2181,zk3:2181`.
    pub fn connect(&self) -> String {
        self.hosts
            .iter()
            .map(|h| format!("{h}:{ZK_PORT}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Everything needed to run a topology with one container (or pod) per node.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The topology's DNS label (its name, lowercased, `_` → `-`).
    pub name: String,
    /// The topology as the nodes will load it (with every override).
    pub topology: Topology,
    /// One entry per node, in file order.
    pub nodes: Vec<NodePlan>,
    /// ZooKeeper, when an actor's kind is `zk.*`.
    pub zk: Option<ZkPlan>,
    /// Environment of every node: `ROLECALL_SET_*` assignments (the plan's
    /// first, then the user's, which win) and `ROLECALL_ZK`.
    pub env: Vec<(String, String)>,
}

/// A DNS label from a name: lowercase, `_` → `-`.
pub fn label(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// True when `l` is a DNS label (what Kubernetes names need).
pub fn valid_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !l.starts_with('-')
        && !l.ends_with('-')
}

impl Plan {
    /// Plans `path` (with the user's `--set` assignments `user`) for `target`.
    pub fn new(
        path: &Path,
        registry: &Registry,
        user: &[String],
        target: &Target,
        zk_mode: ZkMode,
    ) -> Result<Plan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            topology::LoadError::new(vec![topology::Diagnostic {
                origin: path.display().to_string(),
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
                help: None,
            }])
        })?;
        Plan::from_str(
            &text,
            &path.display().to_string(),
            registry,
            user,
            target,
            zk_mode,
        )
    }

    /// Plans topology text `text` read from `origin`.
    pub fn from_str(
        text: &str,
        origin: &str,
        registry: &Registry,
        user: &[String],
        target: &Target,
        zk_mode: ZkMode,
    ) -> Result<Plan, PlanError> {
        let mut user_overrides = Overrides::new();
        for s in user {
            user_overrides.set(s)?;
        }
        let first = topology::load_str(text, origin, registry, &user_overrides)?;
        let name = label(&first.name);
        let host_of = |node_label: &str| match target {
            Target::Docker { prefix } => format!("{prefix}{name}-{node_label}"),
            Target::Kubernetes => node_label.to_owned(),
        };
        let mut nodes: Vec<NodePlan> = Vec::new();
        for n in &first.nodes {
            let l = label(&n.name);
            if !valid_label(&l) {
                return Err(PlanError::BadName {
                    origin: origin.into(),
                    node: n.name.clone(),
                    host: l,
                });
            }
            if let Some(other) = nodes.iter().find(|p| p.label == l) {
                return Err(PlanError::NameClash {
                    origin: origin.into(),
                    a: other.node.clone(),
                    b: n.name.clone(),
                    host: l,
                });
            }
            let state = first
                .actors_on(&n.name)
                .filter_map(|a| {
                    let (_, param) = DURABLE.iter().find(|(k, _)| *k == a.kind)?;
                    a.params.get(*param)?.as_str()?;
                    Some(StateFile {
                        actor: a.name.clone(),
                        param: (*param).to_owned(),
                        path: format!("{STATE_DIR}/{}.state", a.name),
                    })
                })
                .collect();
            nodes.push(NodePlan {
                node: n.name.clone(),
                host: host_of(&l),
                label: l,
                state,
                ports: Vec::new(),
            });
        }
        let zk = first
            .actors
            .iter()
            .any(|a| a.kind.starts_with("zk."))
            .then(|| {
                let names: Vec<String> = match zk_mode {
                    ZkMode::Standalone => vec!["zk1".into()],
                    ZkMode::Ensemble => vec!["zk1".into(), "zk2".into(), "zk3".into()],
                };
                let hosts = match target {
                    Target::Docker { .. } => names.iter().map(|z| host_of(z)).collect(),
                    Target::Kubernetes => (0..names.len()).map(|i| format!("zk-{i}.zk")).collect(),
                };
                ZkPlan { hosts }
            });

        let mut assignments = Vec::new();
        for n in &nodes {
            assignments.push(format!("{}.address={}", n.node, n.host));
            assignments.push(format!("{}.listen=0.0.0.0", n.node));
            for s in &n.state {
                assignments.push(format!("{}.{}.{}={}", n.node, s.actor, s.param, s.path));
            }
        }
        if let Some(zk) = &zk {
            for a in &first.actors {
                if a.kind.starts_with("zk.") && a.params.get("servers").is_some() {
                    assignments.push(format!("{}.{}.servers={}", a.node, a.name, zk.connect()));
                }
            }
        }
        let mut all = Overrides::new();
        for s in assignments.iter().chain(user) {
            all.set(s)?;
        }
        let topology = topology::load_str(text, origin, registry, &all)?;
        super::reach::check(&topology, &nodes, origin, text)?;
        for n in &mut nodes {
            n.ports = super::reach::ports(&topology, &n.node);
        }

        let mut env = Vec::new();
        for (i, a) in assignments.iter().enumerate() {
            env.push((format!("ROLECALL_SET_DEPLOY_{i:03}"), a.clone()));
        }
        for (i, a) in user.iter().enumerate() {
            env.push((format!("ROLECALL_SET_USER_{i:03}"), a.clone()));
        }
        if let Some(zk) = &zk {
            env.push(("ROLECALL_ZK".into(), zk.connect()));
        }
        Ok(Plan {
            name,
            topology,
            nodes,
            zk,
            env,
        })
    }

    /// The arguments of `rolecall` that run `node` in a container.
    pub fn node_args(&self, node: &NodePlan) -> Vec<String> {
        vec![
            "node".into(),
            TOPOLOGY_PATH.into(),
            "--node".into(),
            node.node.clone(),
            "--health".into(),
            format!("0.0.0.0:{HEALTH_PORT}"),
        ]
    }
}
