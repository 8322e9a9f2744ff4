//! Overrides (`--set`, `ROLECALL_*`) applied to the parsed TOML before it is
//! read: values re-spanned into the combined text, tables created where
//! missing, unknown nodes reported.

use std::borrow::Cow;

use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

use super::{names, ActorIn, Loader, DEFAULT_NODE, NODE_KEYS};
use crate::topology::overrides::Assignment;
use crate::topology::read::{entry, suggest, Span};
use crate::topology::source::SourceMap;

/// Re-spans an override value parsed on its own into the combined text.
fn shift<'i>(v: Spanned<DeValue<'i>>, by: usize) -> Spanned<DeValue<'i>> {
    let span = v.span();
    let span = span.start + by..span.end + by;
    let inner = match v.into_inner() {
        DeValue::Array(items) => {
            let mut out = DeArray::new();
            for item in items.iter() {
                out.push(shift(item.clone(), by));
            }
            DeValue::Array(out)
        }
        DeValue::Table(table) => {
            let mut out = DeTable::new();
            for (k, val) in table {
                let ks = k.span();
                out.insert(
                    Spanned::new(ks.start + by..ks.end + by, k.into_inner()),
                    shift(val, by),
                );
            }
            DeValue::Table(out)
        }
        other => other,
    };
    Spanned::new(span, inner)
}

/// Finds (creating when missing) the table at `path` under `table`.
fn table_at<'t, 'i>(
    table: &'t mut DeTable<'i>,
    path: &[&str],
    span: &Span,
) -> Option<&'t mut DeTable<'i>> {
    let Some((first, rest)) = path.split_first() else {
        return Some(table);
    };
    let exists = table.iter().any(|(k, _)| k.get_ref().as_ref() == *first);
    if !exists {
        table.insert(
            Spanned::new(span.clone(), Cow::Owned((*first).to_owned())),
            Spanned::new(span.clone(), DeValue::Table(DeTable::new())),
        );
    }
    let (_, v) = table
        .iter_mut()
        .find(|(k, _)| k.get_ref().as_ref() == *first)?;
    match v.get_mut() {
        DeValue::Table(t) => table_at(t, rest, span),
        _ => None,
    }
}

fn set_value<'i>(table: &mut DeTable<'i>, key: &str, span: &Span, value: Spanned<DeValue<'i>>) {
    if let Some((_, v)) = table.iter_mut().find(|(k, _)| k.get_ref().as_ref() == key) {
        *v = value;
    } else {
        table.insert(
            Spanned::new(span.clone(), Cow::Owned(key.to_owned())),
            value,
        );
    }
}

impl<'s> Loader<'s> {
    pub(super) fn apply_override(&mut self, root: &mut DeTable<'s>, a: &Assignment, span: Span) {
        let src: &'s SourceMap = self.r.src;
        let Some(text) = src.text.get(span.clone()) else {
            return;
        };
        let value = match DeValue::parse(text) {
            Ok(v) => shift(v, span.start),
            Err(_) => Spanned::new(span.clone(), DeValue::String(Cow::Borrowed(text))),
        };
        let path: Vec<&str> = a.path.iter().map(String::as_str).collect();
        match path.as_slice() {
            [node, field] => {
                if !NODE_KEYS.contains(field) {
                    let help = suggest(field, NODE_KEYS.iter().copied())
                        .map(|s| format!("did you mean `{node}.{s}`?"));
                    self.r.error(
                        Some(span),
                        format!("`{field}` is not a node field ({}); an actor parameter is NODE.ACTOR.PARAM", NODE_KEYS.join(", ")),
                        help,
                    );
                    return;
                }
                let known: Option<Vec<String>> =
                    entry(root, "nodes").map(|(_, v)| match v.get_ref() {
                        DeValue::Table(t) => {
                            t.iter().map(|(k, _)| k.get_ref().to_string()).collect()
                        }
                        _ => Vec::new(),
                    });
                let exists = match &known {
                    Some(names) => names.iter().any(|n| n == node),
                    None => *node == DEFAULT_NODE,
                };
                if !exists {
                    let known: Vec<String> = known.unwrap_or_else(|| vec![DEFAULT_NODE.to_owned()]);
                    let help = suggest(node, known.iter().map(String::as_str))
                        .map(|s| format!("did you mean `{s}.{field}`?"))
                        .unwrap_or_else(|| {
                            format!("nodes: {}", names(known.iter().map(String::as_str)))
                        });
                    self.r.error(
                        Some(span),
                        format!("there is no node `{node}` to override"),
                        Some(help),
                    );
                    return;
                }
                match table_at(root, &["nodes", node], &span) {
                    Some(t) => set_value(t, field, &span, value),
                    None => {
                        self.r
                            .error(Some(span), format!("`nodes.{node}` is not a table"), None)
                    }
                }
            }
            [node, actor, param @ ..] => {
                let exists = entry(root, "actors")
                    .and_then(|(_, v)| match v.get_ref() {
                        DeValue::Table(t) => Some(entry(t, actor).is_some()),
                        _ => None,
                    })
                    .unwrap_or(false);
                if !exists {
                    self.r.error(
                        Some(span),
                        format!("there is no actor `{actor}` to override"),
                        None,
                    );
                    return;
                }
                self.overrides
                    .push(((*actor).to_owned(), (*node).to_owned(), span.clone()));
                let Some((last, parents)) = param.split_last() else {
                    return;
                };
                let mut path = vec!["actors", *actor, "params"];
                path.extend_from_slice(parents);
                match table_at(root, &path, &span) {
                    Some(t) => set_value(t, last, &span, value),
                    None => self.r.error(
                        Some(span),
                        format!("`{}` is not a table", path.join(".")),
                        None,
                    ),
                }
            }
            _ => {}
        }
    }

    pub(super) fn check_override_nodes(&mut self, actors: &[ActorIn]) {
        for (actor, node, span) in std::mem::take(&mut self.overrides) {
            if let Some(a) = actors.iter().find(|a| a.spec.name == actor) {
                if !a.spec.node.is_empty() && a.spec.node != node {
                    self.r.error(
                        Some(span),
                        format!(
                            "actor `{actor}` runs on node `{}`, not `{node}`",
                            a.spec.node
                        ),
                        Some(format!("write {}.{actor}.PARAM=VALUE", a.spec.node)),
                    );
                }
            }
        }
    }
}
