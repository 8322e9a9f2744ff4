//! Steps two and three of [`Node::start`]: the supervision tree of the
//! hosted groups and actors, each actor's factory with its wires, and the
//! order in which they start.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{BuildError, Incoming, Node, Outgoing};
use crate::node::supervisor::Child;
use crate::supervision::{MemberId, Tree};
use crate::topology::{start_order, Topology};
use crate::wire::erased::AnyWire;

/// The hosted actors, ready for the supervisor.
pub(super) struct Members<'t> {
    pub(super) children: Vec<Child>,
    /// Actor name → position in `children`.
    pub(super) index: HashMap<&'t str, usize>,
    /// Actor name → its actor type and typed reference (`Ref<A>`).
    pub(super) refs: HashMap<String, (TypeId, Arc<dyn Any + Send + Sync>)>,
}

/// The tree of the hosted groups (parents first); actors are added with
/// their factories.
pub(super) fn supervision_tree<'t>(
    topology: &'t Topology,
    hosted: &HashSet<&str>,
    seed: u64,
) -> (Tree, HashMap<&'t str, MemberId>) {
    let mut tree = Tree::new(seed);
    let mut groups: HashMap<&str, MemberId> = HashMap::new();
    let hosted_groups: Vec<_> = topology
        .groups
        .iter()
        .filter(|g| hosted.contains(g.node.as_str()))
        .collect();
    while groups.len() < hosted_groups.len() {
        let before = groups.len();
        for g in &hosted_groups {
            if groups.contains_key(g.name.as_str()) {
                continue;
            }
            let parent = match &g.parent {
                None => None,
                Some(p) => match groups.get(p.as_str()) {
                    Some(id) => Some(*id),
                    None => continue,
                },
            };
            groups.insert(&g.name, tree.add_group(&g.name, parent, g.policy));
        }
        if groups.len() == before {
            break; // a parent cycle; the loader rejects these
        }
    }
    (tree, groups)
}

impl Node {
    /// A supervised child per hosted actor: its factory, input wires and
    /// outputs, added to `tree` under its group.
    pub(super) fn children<'t>(
        &'t self,
        hosted: &HashSet<&str>,
        tree: &mut Tree,
        groups: &HashMap<&str, MemberId>,
        mut incoming: Incoming,
        mut outgoing: Outgoing,
    ) -> Result<Members<'t>, BuildError> {
        let mut members = Members {
            children: Vec::new(),
            index: HashMap::new(),
            refs: HashMap::new(),
        };
        for spec in self
            .topology
            .actors
            .iter()
            .filter(|a| hosted.contains(a.node.as_str()))
        {
            let kind = self
                .registry
                .dyn_kind(&spec.kind)
                .ok_or_else(|| BuildError::UnknownKind(spec.kind.clone()))?;
            let factory = kind
                .factory(&spec.params)
                .map_err(|error| BuildError::Params {
                    actor: spec.name.clone(),
                    error,
                })?;
            let parent = spec.group.as_deref().and_then(|g| groups.get(g).copied());
            let member = tree.add_actor(&spec.name, parent, spec.policy);
            let out_wires = outgoing.remove(&spec.name).unwrap_or_default();
            let by_port: HashMap<&str, Vec<Arc<dyn AnyWire>>> = out_wires
                .iter()
                .map(|(p, w)| (p.as_str(), w.clone()))
                .collect();
            let outputs = factory.outputs(&by_port);
            let input_ports = factory.input_ports();
            let inputs = incoming
                .remove(&spec.name)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(port, wire)| {
                    input_ports.iter().find(|p| **p == port).map(|p| (*p, wire))
                })
                .collect();
            let all_out: Vec<Arc<dyn AnyWire>> = out_wires.into_values().flatten().collect();
            members
                .refs
                .insert(spec.name.clone(), (kind.actor_type(), factory.reference()));
            members.index.insert(&spec.name, members.children.len());
            members.children.push(Child::new(
                spec.name.clone(),
                member,
                factory,
                inputs,
                outputs,
                all_out,
            ));
        }
        Ok(members)
    }

    /// Positions in the children in start order: each hosted node's
    /// [`start_order`], then anything it missed, in file order.
    pub(super) fn start_order(&self, index: &HashMap<&str, usize>, children: usize) -> Vec<usize> {
        let mut order = Vec::with_capacity(children);
        let mut placed = vec![false; children];
        for node in &self.hosted {
            for name in start_order(&self.topology, node) {
                if let Some(&i) = index.get(name.as_str()) {
                    if !std::mem::replace(&mut placed[i], true) {
                        order.push(i);
                    }
                }
            }
        }
        order.extend((0..children).filter(|&i| !placed[i]));
        order
    }
}
