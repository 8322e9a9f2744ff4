//! Endpoints that would take the same address: the `bind` parameters of actors
//! on one node, and the hops' endpoints.

use toml::de::DeValue;
use toml::Spanned;

use super::{ActorIn, Loader, NodeIn};
use crate::topology::model::WireSpec;
use crate::topology::read::{entry, Span};

/// The values of a `bind` parameter (a string or an array of strings); other
/// types are left to the kind's parameter check.
pub(super) fn bind_params(params: &Spanned<DeValue<'_>>) -> Vec<(String, Span)> {
    let DeValue::Table(p) = params.get_ref() else {
        return Vec::new();
    };
    let Some((_, v)) = entry(p, "bind") else {
        return Vec::new();
    };
    match v.get_ref() {
        DeValue::String(s) => vec![(s.to_string(), v.span())],
        DeValue::Array(items) => items
            .iter()
            .filter_map(|i| match i.get_ref() {
                DeValue::String(s) => Some((s.to_string(), i.span())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether two bind endpoints take the same address (`*` and `0.0.0.0` take every host).
pub(super) fn binds_collide(a: &str, b: &str) -> bool {
    fn split(e: &str) -> Option<(&str, &str, &str)> {
        let (scheme, rest) = e.split_once("://")?;
        match rest.rsplit_once(':') {
            Some((host, port)) if scheme == "tcp" => Some((scheme, host, port)),
            _ => Some((scheme, rest, "")),
        }
    }
    match (split(a), split(b)) {
        (Some((sa, ha, pa)), Some((sb, hb, pb))) if sa == "tcp" && sb == "tcp" => {
            let wild = |h: &str| h == "*" || h == "0.0.0.0";
            pa == pb && (ha == hb || wild(ha) || wild(hb))
        }
        _ => a == b,
    }
}

impl Loader<'_> {
    pub(super) fn check_binds(
        &mut self,
        actors: &[ActorIn],
        wires: &[(WireSpec, Vec<Span>)],
        _nodes: &[NodeIn],
    ) {
        let mut taken: Vec<(String, String, Span, String)> = Vec::new(); // node, bind, span, owner
        for w in wires {
            for d in &w.0.to {
                if let Some(r) = &d.remote {
                    let node = actors
                        .iter()
                        .find(|a| a.spec.name == d.port.actor)
                        .map(|a| a.spec.node.clone())
                        .unwrap_or_default();
                    taken.push((
                        node,
                        r.bind.clone(),
                        0..0,
                        format!("wire {} -> {}", w.0.from, d.port),
                    ));
                }
            }
        }
        for a in actors {
            for (bind, span) in &a.binds {
                let clash = taken
                    .iter()
                    .find(|(n, b, _, _)| *n == a.spec.node && binds_collide(b, bind))
                    .map(|(_, _, _, owner)| owner.clone());
                if let Some(owner) = clash {
                    self.r.error(
                        Some(span.clone()),
                        format!(
                            "actor `{}` binds `{bind}`, which {owner} on node `{}` already binds",
                            a.spec.name, a.spec.node
                        ),
                        Some(
                            "two sockets cannot bind one address on one host: change one of them"
                                .into(),
                        ),
                    );
                } else {
                    taken.push((
                        a.spec.node.clone(),
                        bind.clone(),
                        span.clone(),
                        format!("actor `{}`", a.spec.name),
                    ));
                }
            }
        }
    }
}
