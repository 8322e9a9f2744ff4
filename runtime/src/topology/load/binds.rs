//! Endpoints that would take the same address: what the actors of one node
//! bind (each role declares it in [`Role::check`](crate::kind::Role::check))
//! and the hops' endpoints.

use toml::de::DeValue;
use toml::Spanned;

use super::{ActorIn, Loader, NodeIn};
use crate::topology::model::WireSpec;
use crate::topology::read::{entry, Span};

/// Where parameter `key` (dotted for nested tables: `frontend.bind`) is in
/// `params` (a table): the element equal to
/// `value` when the parameter is an array of strings holding it, else the
/// value; the innermost table present when the key is absent.
pub(super) fn param_span(params: &Spanned<DeValue<'_>>, key: &str, value: Option<&str>) -> Span {
    let mut v = params;
    for part in key.split('.') {
        let DeValue::Table(t) = v.get_ref() else {
            return v.span();
        };
        let Some((_, inner)) = entry(t, part) else {
            return v.span();
        };
        v = inner;
    }
    if let (DeValue::Array(items), Some(value)) = (v.get_ref(), value) {
        let equal =
            |i: &&Spanned<DeValue<'_>>| matches!(i.get_ref(), DeValue::String(s) if s == value);
        if let Some(item) = items.iter().find(equal) {
            return item.span();
        }
    }
    v.span()
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
