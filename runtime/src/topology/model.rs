//! The validated topology: what the loader produces and the node runtime builds.
//!
//! Everything here has passed validation against a kind [`Registry`]: kinds
//! exist, ports exist with matching message types, parameters deserialize,
//! names are unique, references resolve, endpoints do not collide.
//!
//! [`Registry`]: crate::kind::Registry

use crate::supervision::{ActorPolicy, GroupPolicy};
pub use crate::wire::PortRef;
use crate::wire::WireConfig;

/// A whole topology: nodes, actors, groups and wires.
#[derive(Debug, Clone)]
pub struct Topology {
    /// `[topology] name`, or the file stem.
    pub name: String,
    /// Where it was loaded from (for messages).
    pub origin: String,
    /// Nodes in file order.
    pub nodes: Vec<NodeSpec>,
    /// Supervision groups in file order.
    pub groups: Vec<GroupSpec>,
    /// Actors in file order.
    pub actors: Vec<ActorSpec>,
    /// Wires in file order.
    pub wires: Vec<WireSpec>,
    /// Seconds to let wires drain on graceful shutdown.
    pub drain_timeout: std::time::Duration,
    /// The node shuts down gracefully once all of these actors have stopped
    /// for good (`[topology] finish_when`); empty: when every actor has.
    pub finish_when: Vec<String>,
    /// Faults to inject (`[[faults]]`); empty: none.
    pub faults: crate::fault::Faults,
    /// A causal trace of every run of this topology (`[trace]`), unless the
    /// command line asks for its own.
    pub trace: Option<TraceSpec>,
}

/// `[trace]`: where a node writes its causal trace, and how much of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSpec {
    /// The file, as written: `{node}` stands for the node's name (`all`
    /// under `rolecall run`); relative paths are taken from the topology
    /// file's folder.
    pub file: String,
    /// Most events recorded (the rest are counted); `None`: the default.
    pub cap: Option<usize>,
}

impl TraceSpec {
    /// The file for `node` of a topology read from `topology_file`.
    pub fn path_for(&self, node: &str, topology_file: &std::path::Path) -> std::path::PathBuf {
        let file = std::path::PathBuf::from(self.file.replace("{node}", node));
        if file.is_absolute() {
            return file;
        }
        match topology_file.parent() {
            Some(dir) => dir.join(file),
            None => file,
        }
    }
}

/// One node: an OS process when run with `rolecall node`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    /// Node name.
    pub name: String,
    /// Host name or address other nodes use to reach this one.
    pub address: String,
    /// Interface this node binds its incoming wires on.
    pub listen: String,
    /// First TCP port for incoming cross-node wires.
    pub base_port: u16,
    /// CURVE key files of this node (`rolecall keygen NAME`): wires into a
    /// node with keys are encrypted, and admit only their producer's key.
    pub curve: Option<NodeCurve>,
}

/// A node's CURVE key files (Z85 text, as `rolecall keygen` writes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCurve {
    /// The public key file (every node that talks to this one reads it).
    pub public_key: String,
    /// The secret key file (read only on this node's host).
    pub secret_key: String,
}

/// One supervision group on a node.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    /// Group name (unique in the topology).
    pub name: String,
    /// Node the group belongs to.
    pub node: String,
    /// Enclosing group, if any (on the same node).
    pub parent: Option<String>,
    /// Strategy, intensity, backoff.
    pub policy: GroupPolicy,
}

/// One actor.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorSpec {
    /// Actor name (unique in the topology).
    pub name: String,
    /// Node it runs on.
    pub node: String,
    /// Registered kind name.
    pub kind: String,
    /// Parameters, already checked against the kind's parameter type.
    pub params: toml::Value,
    /// Restart policy, intensity, backoff.
    pub policy: ActorPolicy,
    /// Supervision group, if any.
    pub group: Option<String>,
    /// Actors that must be started before this one.
    pub after: Vec<String>,
}

/// One wire: an output port feeding one or more input ports.
#[derive(Debug, Clone, PartialEq)]
pub struct WireSpec {
    /// The output port.
    pub from: PortRef,
    /// The input ports, each with its own queue.
    pub to: Vec<Destination>,
    /// Capacity and overflow policy of each destination's queue.
    pub config: WireConfig,
    /// Codec format for destinations on another node.
    pub codec: String,
    /// What the wire promises across nodes.
    pub delivery: crate::wire::Delivery,
    /// Largest frame a receiving hop accepts, in bytes.
    pub max_message_size: u64,
}

impl WireSpec {
    /// Default of `max_message_size`: 64 MiB.
    pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 64 << 20;
}

/// One input port a wire feeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    /// The input port.
    pub port: PortRef,
    /// For a destination on another node than the producer: the ZeroMQ
    /// endpoint the consumer binds (PULL) and the producer connects to (PUSH).
    pub remote: Option<RemoteRoute>,
}

/// The endpoints of a cross-node hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRoute {
    /// What the consumer's node binds, e.g. `tcp://0.0.0.0:7401`.
    pub bind: String,
    /// What the producer's node connects to, e.g. `tcp://10.0.0.2:7401`.
    pub connect: String,
}

impl Topology {
    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The actor named `name`.
    pub fn actor(&self, name: &str) -> Option<&ActorSpec> {
        self.actors.iter().find(|a| a.name == name)
    }

    /// The actors of node `node`, in file order.
    pub fn actors_on<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a ActorSpec> + 'a {
        self.actors.iter().filter(move |a| a.node == node)
    }
}
