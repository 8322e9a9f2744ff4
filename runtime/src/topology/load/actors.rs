//! The `[actors.*]` tables: kinds, parameters (checked by the kind),
//! supervision policy, start order (`after`, with the shortest cycle reported).

use std::collections::HashMap;

use serde::Deserialize;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::binds::param_span;
use super::{names, params_help, suggest_in, valid_name, ActorIn, Loader, NodeIn, ACTOR_KEYS};
use crate::supervision::{ActorPolicy, Restart};
use crate::topology::graph::{shortest_cycle, strongly_connected};
use crate::topology::model::ActorSpec;
use crate::topology::read::{entry, suggest};

impl Loader<'_> {
    pub(super) fn actors(&mut self, root: &DeTable<'_>, nodes: &[NodeIn]) -> Vec<ActorIn> {
        let Some((_, v)) = entry(root, "actors") else {
            return Vec::new();
        };
        let Some(table) = self.r.table(v, "actors", "the topology") else {
            return Vec::new();
        };
        let mut actors = Vec::new();
        for (k, v) in table.iter() {
            let name = k.get_ref().to_string();
            let what = format!("actor `{name}`");
            if !valid_name(&name) {
                self.r.error(Some(k.span()), format!("invalid actor name `{name}`"), Some("use letters, digits, `_` and `-` (a dot separates actor and port in wires)".into()));
            }
            // An actor with errors is still listed (with an empty kind when it
            // has none), so references to it do not report it missing.
            let Some(t) = self.r.table(v, &name, "[actors]") else {
                actors.push(ActorIn {
                    spec: ActorSpec {
                        name,
                        node: String::new(),
                        kind: String::new(),
                        params: toml::Value::Table(toml::Table::new()),
                        policy: ActorPolicy::default(),
                        group: None,
                        after: Vec::new(),
                    },
                    span: k.span(),
                    group_span: None,
                    after_spans: Vec::new(),
                    binds: Vec::new(),
                });
                continue;
            };
            self.r.unknown_keys(t, ACTOR_KEYS, &what);
            let (kind, kind_span) = match self.r.string(t, "kind", &what) {
                Some(k) => k,
                None => {
                    if entry(t, "kind").is_none() {
                        self.r.error(
                            Some(k.span()),
                            format!("{what} has no `kind`"),
                            Some("add kind = \"...\"; `rolecall kinds` lists them".into()),
                        );
                    }
                    (String::new(), k.span())
                }
            };
            let (node, _) = self.node_of(t, nodes, &what, &k.span());
            let mut policy = ActorPolicy::default();
            if let Some((s, span)) = self.r.string(t, "restart", &what) {
                match Restart::from_name(&s) {
                    Some(r) => policy.restart = r,
                    None => self.r.error(
                        Some(span),
                        format!("unknown restart policy `{s}` in {what}"),
                        Some("use never, on-failure or always".into()),
                    ),
                }
            }
            (policy.intensity, policy.backoff) = self.intensity_backoff(t, &what);
            let group = self.r.string(t, "group", &what);
            let after = self.r.strings(t, "after", &what).unwrap_or_default();

            let mut params_ok = true;
            let params_value = match entry(t, "params") {
                Some((_, p)) if matches!(p.get_ref(), DeValue::Table(_)) => p.clone(),
                Some((_, p)) => {
                    self.r.error(
                        Some(p.span()),
                        format!("`params` of {what} must be a table"),
                        Some(
                            "write params = { KEY = VALUE, ... } or an [actors.NAME.params] table"
                                .into(),
                        ),
                    );
                    params_ok = false;
                    Spanned::new(p.span(), DeValue::Table(DeTable::new()))
                }
                None => Spanned::new(k.span(), DeValue::Table(DeTable::new())),
            };
            let mut binds = Vec::new();
            let params = match self.registry.dyn_kind(&kind) {
                _ if kind.is_empty() => None,
                Some(_) if !params_ok => None,
                None => {
                    let known = self.registry.names();
                    let help = match suggest(&kind, known.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`? `rolecall kinds` lists every kind"),
                        None => format!(
                            "registered kinds: {}; register your own with Registry::register",
                            names(known.iter().copied())
                        ),
                    };
                    self.r.error(
                        Some(kind_span.clone()),
                        format!("unknown kind `{kind}` for {what}"),
                        Some(help),
                    );
                    None
                }
                Some(k) => {
                    let info = k.info().clone();
                    match k.check_params(params_value.clone()) {
                        Ok(check) if !check.is_ok() => {
                            for p in check.problems {
                                let span = param_span(&params_value, &p.key, None);
                                self.r.error(
                                    Some(span),
                                    format!(
                                        "{what} (kind `{kind}`), parameter `{}`: {}",
                                        p.key, p.message
                                    ),
                                    p.help,
                                );
                            }
                            None
                        }
                        Ok(check) => {
                            binds = check
                                .binds
                                .iter()
                                .map(|(key, e)| {
                                    (e.clone(), param_span(&params_value, key, Some(e)))
                                })
                                .collect();
                            match toml::Value::deserialize(ValueDeserializer::from(
                                params_value.clone(),
                            )) {
                                Ok(v) => Some(v),
                                Err(e) => {
                                    self.r.error(
                                        Some(params_value.span()),
                                        format!("parameters of {what}: {}", e.message()),
                                        None,
                                    );
                                    None
                                }
                            }
                        }
                        Err(e) => {
                            let span = e.span().unwrap_or_else(|| params_value.span());
                            let help = params_help(&info);
                            self.r.error(
                                Some(span),
                                format!("{what} (kind `{kind}`): {}", e.message().trim()),
                                Some(help),
                            );
                            None
                        }
                    }
                }
            };
            actors.push(ActorIn {
                spec: ActorSpec {
                    name,
                    node,
                    kind,
                    params: params.unwrap_or(toml::Value::Table(toml::Table::new())),
                    policy,
                    group: group.as_ref().map(|g| g.0.clone()),
                    after: after.iter().map(|a| a.0.clone()).collect(),
                },
                span: k.span(),
                group_span: group.map(|g| g.1),
                after_spans: after.into_iter().map(|a| a.1).collect(),
                binds,
            });
        }
        actors
    }

    pub(super) fn check_after(&mut self, actors: &[ActorIn]) {
        for a in actors {
            for (dep, span) in a.spec.after.iter().zip(&a.after_spans) {
                if dep == &a.spec.name {
                    self.r.error(
                        Some(span.clone()),
                        format!("actor `{dep}` cannot start after itself"),
                        None,
                    );
                } else if !self.actor_index.contains_key(dep) {
                    self.r.error(
                        Some(span.clone()),
                        format!("actor `{}` starts after unknown actor `{dep}`", a.spec.name),
                        suggest_in(dep, actors.iter().map(|x| x.spec.name.as_str())),
                    );
                }
            }
        }
        // Cycles through `after`.
        let index: HashMap<&str, usize> = actors
            .iter()
            .enumerate()
            .map(|(i, a)| (a.spec.name.as_str(), i))
            .collect();
        // One report per strongly connected component of the `after` graph
        // (a group of actors each waiting, directly or not, for the others):
        // its shortest cycle through its first actor in file order.
        let deps: Vec<Vec<usize>> = actors
            .iter()
            .enumerate()
            .map(|(i, a)| {
                a.spec
                    .after
                    .iter()
                    .filter_map(|d| index.get(d.as_str()).copied())
                    .filter(|&j| j != i)
                    .collect()
            })
            .collect();
        let mut components = strongly_connected(&deps);
        components.retain(|c| c.len() > 1);
        components.sort();
        for component in components {
            if let Some(cycle) = shortest_cycle(&deps, &component) {
                self.after_cycle(actors, &cycle);
            }
        }
    }

    /// Reports `cycle` (each actor starts after the next, the last after the
    /// first) at the first actor's `after` entry naming the second.
    fn after_cycle(&mut self, actors: &[ActorIn], cycle: &[usize]) {
        let Some(first) = cycle.first().and_then(|&i| actors.get(i)) else {
            return;
        };
        let second = cycle
            .get(1)
            .or(cycle.first())
            .and_then(|&i| actors.get(i))
            .map(|a| a.spec.name.as_str())
            .unwrap_or("");
        let span = first
            .spec
            .after
            .iter()
            .zip(&first.after_spans)
            .find(|(d, _)| d.as_str() == second)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| first.span.clone());
        let mut names: Vec<&str> = cycle
            .iter()
            .filter_map(|&i| actors.get(i))
            .map(|a| a.spec.name.as_str())
            .collect();
        names.push(first.spec.name.as_str());
        self.r.error(
            Some(span),
            format!("`after` forms a cycle: {}", names.join(" after ")),
            Some("remove one of these `after` entries".into()),
        );
    }
}
