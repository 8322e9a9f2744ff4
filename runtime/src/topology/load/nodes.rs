//! The `[nodes.*]` and `[groups.*]` tables: names, addresses, keys, restart
//! intensity and backoff, group parents and members.

use toml::de::DeTable;

use super::{
    names, suggest_in, valid_name, ActorIn, GroupIn, Loader, NodeIn, BACKOFF_KEYS, DEFAULT_NODE,
    GROUP_KEYS, NODE_KEYS,
};
use crate::supervision::{Backoff, GroupPolicy, Intensity, Strategy};
use crate::topology::model::{GroupSpec, NodeCurve, NodeSpec};
use crate::topology::read::{entry, suggest, Span};

impl Loader<'_> {
    pub(super) fn nodes(&mut self, root: &DeTable<'_>) -> Vec<NodeIn> {
        let default = |name: &str| NodeSpec {
            name: name.to_owned(),
            address: "127.0.0.1".into(),
            listen: "0.0.0.0".into(),
            base_port: 7400,
            curve: None,
        };
        let Some((_, v)) = entry(root, "nodes") else {
            return vec![NodeIn {
                spec: default(DEFAULT_NODE),
                span: None,
            }];
        };
        let Some(table) = self.r.table(v, "nodes", "the topology") else {
            return vec![NodeIn {
                spec: default(DEFAULT_NODE),
                span: None,
            }];
        };
        let mut nodes = Vec::new();
        for (k, v) in table.iter() {
            let name = k.get_ref().to_string();
            let what = format!("node `{name}`");
            if !valid_name(&name) {
                self.r.error(
                    Some(k.span()),
                    format!("invalid node name `{name}`"),
                    Some("use letters, digits, `_` and `-`".into()),
                );
            }
            let mut spec = default(&name);
            if let Some(t) = self.r.table(v, &name, "[nodes]") {
                self.r.unknown_keys(t, NODE_KEYS, &what);
                if let Some((a, _)) = self.r.string(t, "address", &what) {
                    spec.address = a;
                }
                if let Some((l, _)) = self.r.string(t, "listen", &what) {
                    spec.listen = l;
                }
                if let Some((p, _)) = self.r.integer(t, "base_port", &what, 1..=65535) {
                    spec.base_port = p as u16;
                }
                let public = self.r.string(t, "curve_public_key", &what);
                let secret = self.r.string(t, "curve_secret_key", &what);
                match (public, secret) {
                    (Some((public_key, _)), Some((secret_key, _))) => {
                        spec.curve = Some(NodeCurve {
                            public_key,
                            secret_key,
                        })
                    }
                    (Some((_, span)), None) | (None, Some((_, span))) => self.r.error(
                        Some(span),
                        format!("{what} has only one of curve_public_key and curve_secret_key"),
                        Some(format!(
                            "give both key files, as `rolecall keygen {name}` writes them"
                        )),
                    ),
                    (None, None) => {}
                }
            }
            nodes.push(NodeIn {
                spec,
                span: Some(k.span()),
            });
        }
        if nodes.is_empty() {
            self.r.error(
                Some(v.span()),
                "`nodes` is empty".into(),
                Some(
                    "declare at least one [nodes.NAME], or leave `nodes` out for one node `main`"
                        .into(),
                ),
            );
            nodes.push(NodeIn {
                spec: default(DEFAULT_NODE),
                span: None,
            });
        }
        nodes
    }

    /// The node an actor or group belongs to.
    pub(super) fn node_of(
        &mut self,
        t: &DeTable<'_>,
        nodes: &[NodeIn],
        what: &str,
        at: &Span,
    ) -> (String, Option<Span>) {
        match self.r.string(t, "node", what) {
            Some((n, span)) => {
                if !nodes.iter().any(|x| x.spec.name == n) {
                    let help = suggest(&n, nodes.iter().map(|x| x.spec.name.as_str()))
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| {
                            format!(
                                "nodes: {}",
                                names(nodes.iter().map(|x| x.spec.name.as_str()))
                            )
                        });
                    self.r.error(
                        Some(span.clone()),
                        format!("{what} is placed on unknown node `{n}`"),
                        Some(help),
                    );
                }
                (n, Some(span))
            }
            None => {
                if nodes.len() > 1 {
                    self.r.error(
                        Some(at.clone()),
                        format!(
                            "{what} has no `node` and the topology has {} nodes",
                            nodes.len()
                        ),
                        Some(format!(
                            "add node = \"...\" (one of {})",
                            names(nodes.iter().map(|x| x.spec.name.as_str()))
                        )),
                    );
                }
                (
                    nodes
                        .first()
                        .map(|x| x.spec.name.clone())
                        .unwrap_or_default(),
                    None,
                )
            }
        }
    }

    pub(super) fn intensity_backoff(
        &mut self,
        t: &DeTable<'_>,
        what: &str,
    ) -> (Intensity, Backoff) {
        let mut intensity = Intensity::default();
        let mut backoff = Backoff::default();
        if let Some((n, _)) = self.r.integer(t, "max_restarts", what, 0..=1_000_000) {
            intensity.max_restarts = n as u32;
        }
        if let Some(d) = self.r.duration(t, "within", what) {
            intensity.within = d;
        }
        if let Some((_, v)) = entry(t, "backoff") {
            let bwhat = format!("the backoff of {what}");
            if let Some(b) = self.r.table(v, "backoff", what) {
                self.r.unknown_keys(b, BACKOFF_KEYS, &bwhat);
                if let Some(d) = self.r.duration(b, "min", &bwhat) {
                    backoff.min = d;
                }
                if let Some(d) = self.r.duration(b, "max", &bwhat) {
                    backoff.max = d;
                }
                if let Some(f) = self.r.number(b, "factor", &bwhat, 1.0..=100.0) {
                    backoff.factor = f;
                }
                if let Some(j) = self.r.number(b, "jitter", &bwhat, 0.0..=1.0) {
                    backoff.jitter = j;
                }
                if backoff.min > backoff.max {
                    self.r.error(
                        Some(v.span()),
                        format!("in {bwhat}, `min` is larger than `max`"),
                        None,
                    );
                }
            }
        }
        (intensity, backoff)
    }

    pub(super) fn groups(&mut self, root: &DeTable<'_>, nodes: &[NodeIn]) -> Vec<GroupIn> {
        let Some((_, v)) = entry(root, "groups") else {
            return Vec::new();
        };
        let Some(table) = self.r.table(v, "groups", "the topology") else {
            return Vec::new();
        };
        let mut groups = Vec::new();
        for (k, v) in table.iter() {
            let name = k.get_ref().to_string();
            let what = format!("group `{name}`");
            if !valid_name(&name) {
                self.r.error(
                    Some(k.span()),
                    format!("invalid group name `{name}`"),
                    Some("use letters, digits, `_` and `-`".into()),
                );
            }
            let Some(t) = self.r.table(v, &name, "[groups]") else {
                continue;
            };
            self.r.unknown_keys(t, GROUP_KEYS, &what);
            let (node, _) = self.node_of(t, nodes, &what, &k.span());
            let mut policy = GroupPolicy::default();
            if let Some((s, span)) = self.r.string(t, "strategy", &what) {
                match Strategy::from_name(&s) {
                    Some(st) => policy.strategy = st,
                    None => self.r.error(
                        Some(span),
                        format!("unknown strategy `{s}` in {what}"),
                        Some("use one-for-one or one-for-all".into()),
                    ),
                }
            }
            (policy.intensity, policy.backoff) = self.intensity_backoff(t, &what);
            let parent = self.r.string(t, "parent", &what);
            groups.push(GroupIn {
                spec: GroupSpec {
                    name,
                    node,
                    parent: parent.as_ref().map(|p| p.0.clone()),
                    policy,
                },
                span: k.span(),
                parent_span: parent.map(|p| p.1),
            });
        }
        groups
    }

    pub(super) fn check_groups(&mut self, groups: &[GroupIn], actors: &[ActorIn]) {
        for g in groups {
            if let Some(a) = actors.iter().find(|a| a.spec.name == g.spec.name) {
                self.r.error(
                    Some(g.span.clone()),
                    format!("group `{}` has the same name as an actor", g.spec.name),
                    Some(format!(
                        "rename one of them (the actor is at line {})",
                        self.r
                            .src
                            .diagnostic(Some(a.span.clone()), String::new(), None)
                            .line
                    )),
                );
            }
            if let Some(parent) = &g.spec.parent {
                match groups.iter().find(|p| &p.spec.name == parent) {
                    None => self.r.error(
                        g.parent_span.clone(),
                        format!(
                            "group `{}` has unknown parent group `{parent}`",
                            g.spec.name
                        ),
                        suggest_in(parent, groups.iter().map(|g| g.spec.name.as_str())),
                    ),
                    Some(p) if p.spec.node != g.spec.node => self.r.error(
                        g.parent_span.clone(),
                        format!(
                            "group `{}` is on node `{}` but its parent `{parent}` is on node `{}`",
                            g.spec.name, g.spec.node, p.spec.node
                        ),
                        None,
                    ),
                    Some(_) => {}
                }
            }
            // Parent cycles.
            let mut seen = vec![g.spec.name.as_str()];
            let mut cur = g.spec.parent.as_deref();
            while let Some(p) = cur {
                if seen.contains(&p) {
                    if p == g.spec.name {
                        seen.push(p);
                        self.r.error(
                            g.parent_span.clone(),
                            format!("group parents form a cycle: {}", seen.join(" -> ")),
                            None,
                        );
                    }
                    break;
                }
                seen.push(p);
                cur = groups
                    .iter()
                    .find(|x| x.spec.name == p)
                    .and_then(|x| x.spec.parent.as_deref());
            }
        }
        for a in actors {
            let Some(group) = &a.spec.group else { continue };
            match groups.iter().find(|g| &g.spec.name == group) {
                None => self.r.error(
                    a.group_span.clone(),
                    format!("actor `{}` is in unknown group `{group}`", a.spec.name),
                    suggest_in(group, groups.iter().map(|g| g.spec.name.as_str())),
                ),
                Some(g) if g.spec.node != a.spec.node => self.r.error(
                    a.group_span.clone(),
                    format!(
                        "actor `{}` is on node `{}` but its group `{group}` is on node `{}`",
                        a.spec.name, a.spec.node, g.spec.node
                    ),
                    Some("a group supervises actors of one node".into()),
                ),
                Some(_) => {}
            }
        }
    }
}
