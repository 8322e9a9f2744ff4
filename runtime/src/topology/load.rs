//! Loading a topology: parse, apply overrides, read every table with its
//! position, validate against the kind registry, and build the model.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use toml::de::{DeArray, DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::model::{
    ActorSpec, Destination, GroupSpec, NodeCurve, NodeSpec, PortRef, RemoteRoute, Topology,
    WireSpec,
};
use super::overrides::{Assignment, Overrides};
use super::read::{entry, suggest, Reader, Span};
use super::source::{Diagnostic, LoadError, SourceMap};
use crate::kind::{Direction, KindInfo, Registry};
use crate::supervision::{ActorPolicy, Backoff, GroupPolicy, Intensity, Restart, Strategy};
use crate::wire::{Delivery, Policy, WireConfig};

const TOP_KEYS: &[&str] = &["topology", "nodes", "groups", "actors", "wires", "faults"];
const TOPOLOGY_KEYS: &[&str] = &["name", "drain_timeout", "finish_when"];
const NODE_KEYS: &[&str] = &[
    "address",
    "listen",
    "base_port",
    "curve_public_key",
    "curve_secret_key",
];
const GROUP_KEYS: &[&str] = &[
    "node",
    "strategy",
    "parent",
    "max_restarts",
    "within",
    "backoff",
];
const ACTOR_KEYS: &[&str] = &[
    "kind",
    "node",
    "group",
    "after",
    "restart",
    "max_restarts",
    "within",
    "backoff",
    "params",
];
const WIRE_KEYS: &[&str] = &[
    "from",
    "to",
    "capacity",
    "policy",
    "codec",
    "endpoint",
    "delivery",
    "max_message_size",
];
const BACKOFF_KEYS: &[&str] = &["min", "max", "factor", "jitter"];
const DEFAULT_NODE: &str = "main";
const DEFAULT_CODEC: &str = "binary";

// Fault injection tables: their own file.
mod faults;

/// Loads and validates the topology file at `path`.
pub fn load_file(
    path: &Path,
    registry: &Registry,
    overrides: &Overrides,
) -> Result<Topology, LoadError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        LoadError::new(vec![Diagnostic {
            origin: origin.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read the topology file: {e}"),
            help: Some("check the path (and that the file is UTF-8 text)".into()),
        }])
    })?;
    load_str(&text, &origin, registry, overrides)
}

/// Loads and validates a topology from `text`; `origin` names it in messages.
pub fn load_str(
    text: &str,
    origin: &str,
    registry: &Registry,
    overrides: &Overrides,
) -> Result<Topology, LoadError> {
    let mut src = SourceMap::new(text, origin);
    let ranges: Vec<(Assignment, Span)> = overrides
        .assignments
        .iter()
        .map(|a| (a.clone(), src.add_override(&a.value, &a.origin)))
        .collect();
    let stem = Path::new(origin)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("topology")
        .to_owned();
    let mut loader = Loader {
        r: Reader::new(&src),
        registry,
        overrides: Vec::new(),
    };
    let topology = loader.load(&ranges, stem);
    match (topology, loader.r.diagnostics.is_empty()) {
        (Some(t), true) => Ok(t),
        _ => Err(src.error(loader.r.diagnostics)),
    }
}

struct Loader<'s> {
    r: Reader<'s>,
    registry: &'s Registry,
    /// Overrides that named a node for an actor: (actor, node, origin span).
    overrides: Vec<(String, String, Span)>,
}

struct NodeIn {
    spec: NodeSpec,
    span: Option<Span>,
}

struct GroupIn {
    spec: GroupSpec,
    span: Span,
    parent_span: Option<Span>,
}

struct ActorIn {
    spec: ActorSpec,
    span: Span,
    group_span: Option<Span>,
    after_spans: Vec<Span>,
    /// Values of a `bind` parameter, for address collisions.
    binds: Vec<(String, Span)>,
}

struct PortIn {
    port: PortRef,
    span: Span,
}

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

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
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
    fn load(&mut self, overrides: &[(Assignment, Span)], stem: String) -> Option<Topology> {
        let src: &'s SourceMap = self.r.src;
        let (root, mut syntax) = DeTable::parse_recoverable(src.file());
        if !syntax.is_empty() {
            // Every syntax error, but one per line: the rest of a broken line
            // only produces follow-on errors.
            // A table defined twice reports each of its keys again: keep the
            // table's error only.
            syntax.sort_by_key(|e| e.span().map(|s| s.start));
            let file = src.file();
            let lines: Vec<&str> = file.split('\n').collect();
            let mut reported = HashSet::new();
            let mut duplicate_headers = HashSet::new();
            for e in syntax {
                let message = e.message().trim();
                let duplicate = message.starts_with("duplicate key");
                let d = src.diagnostic(e.span(), String::new(), None);
                let text = lines.get(d.line.wrapping_sub(1)).map_or("", |l| l.trim());
                let is_header = text.starts_with('[');
                if duplicate && !is_header {
                    let header = lines
                        .iter()
                        .take(d.line.saturating_sub(1))
                        .rposition(|l| l.trim_start().starts_with('['));
                    if header.is_some_and(|h| duplicate_headers.contains(&(h + 1))) {
                        continue;
                    }
                }
                if !reported.insert(d.line) {
                    continue;
                }
                let key = e
                    .span()
                    .and_then(|s| file.get(s))
                    .map(str::trim)
                    .unwrap_or("");
                let (message, help) = if duplicate && is_header {
                    duplicate_headers.insert(d.line);
                    let table = text
                        .split(']')
                        .next()
                        .unwrap_or(text)
                        .trim_start_matches('[');
                    (
                        format!("invalid TOML: table `[{}]` is defined twice", table.trim()),
                        Some(
                            "each node, group and actor is defined once: rename one or merge them"
                                .into(),
                        ),
                    )
                } else if duplicate && !key.is_empty() {
                    (
                        format!("invalid TOML: duplicate key `{key}`"),
                        Some("each key is given once per table: remove one".into()),
                    )
                } else {
                    (format!("invalid TOML: {message}"), syntax_help(message))
                };
                self.r.error(e.span(), message, help);
            }
            return None;
        }
        let mut root = root.into_inner();
        for (a, span) in overrides {
            self.apply_override(&mut root, a, span.clone());
        }
        self.r.unknown_keys(&root, TOP_KEYS, "the topology");

        let mut name = stem;
        let mut drain_timeout = std::time::Duration::from_secs(5);
        let mut finish_when = Vec::new();
        if let Some((_, v)) = entry(&root, "topology") {
            if let Some(t) = self.r.table(v, "topology", "the topology") {
                self.r.unknown_keys(t, TOPOLOGY_KEYS, "[topology]");
                if let Some((n, _)) = self.r.string(t, "name", "[topology]") {
                    name = n;
                }
                if let Some(d) = self.r.duration(t, "drain_timeout", "[topology]") {
                    drain_timeout = d;
                }
                finish_when = self
                    .r
                    .strings(t, "finish_when", "[topology]")
                    .unwrap_or_default();
            }
        }

        let nodes = self.nodes(&root);
        let groups = self.groups(&root, &nodes);
        let actors = self.actors(&root, &nodes);
        self.check_override_nodes(&actors);
        self.check_groups(&groups, &actors);
        self.check_after(&actors);
        for (name, span) in &finish_when {
            if !actors.iter().any(|a| &a.spec.name == name) {
                self.r.error(
                    Some(span.clone()),
                    format!("`finish_when` names unknown actor `{name}`"),
                    suggest_in(name, actors.iter().map(|a| a.spec.name.as_str())),
                );
            }
        }
        let wires = self.wires(&root, &actors, &nodes);
        self.check_binds(&actors, &wires, &nodes);
        let faults = self.faults(&root, &actors, &nodes);

        Some(Topology {
            name,
            origin: String::new(),
            nodes: nodes.into_iter().map(|n| n.spec).collect(),
            groups: groups.into_iter().map(|g| g.spec).collect(),
            actors: actors.into_iter().map(|a| a.spec).collect(),
            wires: wires.into_iter().map(|(w, _)| w).collect(),
            drain_timeout,
            finish_when: finish_when.into_iter().map(|(n, _)| n).collect(),
            faults,
        })
        .map(|mut t| {
            t.origin = src.diagnostic(None, String::new(), None).origin;
            t
        })
    }

    fn apply_override(&mut self, root: &mut DeTable<'s>, a: &Assignment, span: Span) {
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
                    let names: Vec<String> = known.unwrap_or_else(|| vec![DEFAULT_NODE.to_owned()]);
                    let help = suggest(node, names.iter().map(String::as_str))
                        .map(|s| format!("did you mean `{s}.{field}`?"))
                        .unwrap_or_else(|| {
                            format!("nodes: {}", self::names(names.iter().map(String::as_str)))
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

    fn check_override_nodes(&mut self, actors: &[ActorIn]) {
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

    fn nodes(&mut self, root: &DeTable<'_>) -> Vec<NodeIn> {
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
    fn node_of(
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

    fn intensity_backoff(&mut self, t: &DeTable<'_>, what: &str) -> (Intensity, Backoff) {
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

    fn groups(&mut self, root: &DeTable<'_>, nodes: &[NodeIn]) -> Vec<GroupIn> {
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

    fn actors(&mut self, root: &DeTable<'_>, nodes: &[NodeIn]) -> Vec<ActorIn> {
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
            let binds = bind_params(&params_value);
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
                        Ok(()) => match toml::Value::deserialize(ValueDeserializer::from(
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
                        },
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

    fn check_groups(&mut self, groups: &[GroupIn], actors: &[ActorIn]) {
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

    fn check_after(&mut self, actors: &[ActorIn]) {
        for a in actors {
            for (dep, span) in a.spec.after.iter().zip(&a.after_spans) {
                if dep == &a.spec.name {
                    self.r.error(
                        Some(span.clone()),
                        format!("actor `{dep}` cannot start after itself"),
                        None,
                    );
                } else if !actors.iter().any(|x| &x.spec.name == dep) {
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

    fn port(
        &mut self,
        text: &str,
        span: &Span,
        actors: &[ActorIn],
        direction: Direction,
    ) -> Option<(PortIn, usize, KindInfo)> {
        let Some((actor, port)) = text.split_once('.') else {
            self.r.error(
                Some(span.clone()),
                format!("`{text}` is not a port: write ACTOR.PORT"),
                None,
            );
            return None;
        };
        let Some(i) = actors.iter().position(|a| a.spec.name == actor) else {
            self.r.error(
                Some(span.clone()),
                format!("wire refers to unknown actor `{actor}`"),
                suggest_in(actor, actors.iter().map(|a| a.spec.name.as_str())),
            );
            return None;
        };
        let info = self.registry.kind(&actors[i].spec.kind)?.clone();
        let same_dir: Vec<String> = info
            .ports
            .iter()
            .filter(|p| p.direction == direction)
            .map(|p| format!("`{}` ({})", p.name, p.message))
            .collect();
        let listing = if same_dir.is_empty() {
            format!("kind `{}` has no {direction} ports", info.name)
        } else {
            format!(
                "{direction} ports of `{}`: {}",
                info.name,
                same_dir.join(", ")
            )
        };
        match info.port(port) {
            None => {
                let help = match suggest(
                    port,
                    info.ports
                        .iter()
                        .filter(|p| p.direction == direction)
                        .map(|p| p.name),
                ) {
                    Some(s) => format!("did you mean `{actor}.{s}`? {listing}"),
                    None => listing,
                };
                self.r.error(
                    Some(span.clone()),
                    format!(
                        "actor `{actor}` (kind `{}`) has no port `{port}`",
                        info.name
                    ),
                    Some(help),
                );
                None
            }
            Some(p) if p.direction != direction => {
                let role = if direction == Direction::Output {
                    "`from` must name an output port"
                } else {
                    "`to` must name input ports"
                };
                self.r.error(
                    Some(span.clone()),
                    format!("`{text}` is an {} port; {role}", p.direction),
                    Some(listing),
                );
                None
            }
            Some(_) => Some((
                PortIn {
                    port: PortRef {
                        actor: actor.to_owned(),
                        port: port.to_owned(),
                    },
                    span: span.clone(),
                },
                i,
                info,
            )),
        }
    }

    fn wires(
        &mut self,
        root: &DeTable<'_>,
        actors: &[ActorIn],
        nodes: &[NodeIn],
    ) -> Vec<(WireSpec, Vec<Span>)> {
        let Some((_, v)) = entry(root, "wires") else {
            return Vec::new();
        };
        let items: Vec<Spanned<DeValue<'_>>> = match v.get_ref() {
            DeValue::Array(a) => a.iter().cloned().collect(),
            _ => {
                self.r.error(
                    Some(v.span()),
                    "`wires` must be an array of tables: write [[wires]]".into(),
                    None,
                );
                return Vec::new();
            }
        };
        let mut wires = Vec::new();
        let mut seen: HashSet<(PortRef, PortRef)> = HashSet::new();
        let mut next_port: HashMap<String, u32> = HashMap::new();
        let mut endpoints: Vec<(String, String, Span)> = Vec::new(); // (node, bind, span)
        for (n, item) in items.iter().enumerate() {
            let what = format!("wire #{}", n + 1);
            let Some(t) = self.r.table(item, "wires", "the topology") else {
                continue;
            };
            self.r.unknown_keys(t, WIRE_KEYS, &what);
            let from = match self.r.string(t, "from", &what) {
                Some((text, span)) => self.port(&text, &span, actors, Direction::Output),
                None => {
                    if entry(t, "from").is_none() {
                        self.r.error(
                            Some(item.span()),
                            format!("{what} has no `from`"),
                            Some("add from = \"ACTOR.PORT\" (an output port)".into()),
                        );
                    }
                    None
                }
            };
            let to_texts = self.r.strings(t, "to", &what).unwrap_or_default();
            if to_texts.is_empty() && entry(t, "to").is_none() {
                self.r.error(
                    Some(item.span()),
                    format!("{what} has no `to`"),
                    Some("add to = \"ACTOR.PORT\" or an array of input ports".into()),
                );
            }
            let capacity = self
                .r
                .integer(t, "capacity", &what, 1..=16_777_216)
                .map(|c| c.0 as usize)
                .unwrap_or(WireConfig::DEFAULT_CAPACITY);
            let policy = match self.r.string(t, "policy", &what) {
                Some((p, span)) => match p.parse::<Policy>() {
                    Ok(p) => p,
                    Err(e) => {
                        self.r.error(Some(span), e.to_string(), None);
                        Policy::Block
                    }
                },
                None => Policy::Block,
            };
            let delivery = match self.r.string(t, "delivery", &what) {
                Some((d, span)) => Delivery::parse(&d).unwrap_or_else(|| {
                    self.r.error(
                        Some(span),
                        format!("unknown delivery `{d}` in {what}"),
                        Some("use \"at-least-once\" (the default) or \"at-most-once\"".into()),
                    );
                    Delivery::AtLeastOnce
                }),
                None => Delivery::AtLeastOnce,
            };
            let max_message_size = self
                .r
                .integer(t, "max_message_size", &what, 16..=(1 << 40))
                .map(|m| m.0 as u64)
                .unwrap_or(WireSpec::DEFAULT_MAX_MESSAGE_SIZE);
            let codec = self.r.string(t, "codec", &what);
            let endpoint = self.r.string(t, "endpoint", &what);
            let Some((from, from_actor, from_kind)) = from else {
                // Still check the destinations' names.
                for (text, span) in &to_texts {
                    self.port(text, span, actors, Direction::Input);
                }
                continue;
            };
            let from_info = from_kind.port(&from.port.port).cloned();
            let mut to = Vec::new();
            let mut spans = Vec::new();
            let mut remote_count = 0;
            let mut wire_endpoints = Vec::new();
            for (text, span) in &to_texts {
                let Some((dest, dest_actor, dest_kind)) =
                    self.port(text, span, actors, Direction::Input)
                else {
                    continue;
                };
                let dest_info = dest_kind.port(&dest.port.port).cloned();
                if let (Some(f), Some(d)) = (&from_info, &dest_info) {
                    if f.type_id() != d.type_id() {
                        self.r.error(
                            Some(dest.span.clone()),
                            format!("wire `{} -> {}` connects mismatched message types: `{}` sends `{}` but `{}` takes `{}`", from.port, dest.port, from.port, f.message, dest.port, d.message),
                            Some("wire an output to an input of the same message type, or put a converting actor between them".into()),
                        );
                        continue;
                    }
                }
                if !seen.insert((from.port.clone(), dest.port.clone())) {
                    self.r.error(
                        Some(dest.span.clone()),
                        format!("`{} -> {}` is wired twice", from.port, dest.port),
                        Some("remove the duplicate".into()),
                    );
                    continue;
                }
                let from_node = &actors[from_actor].spec.node;
                let to_node = &actors[dest_actor].spec.node;
                let remote = if from_node != to_node {
                    remote_count += 1;
                    let curve_of = |name: &str| {
                        nodes
                            .iter()
                            .find(|n| n.spec.name == name)
                            .is_some_and(|n| n.spec.curve.is_some())
                    };
                    if curve_of(to_node) && !curve_of(from_node) {
                        self.r.error(
                            Some(dest.span.clone()),
                            format!("wire `{} -> {}` crosses into node `{to_node}`, which takes CURVE-encrypted wires only, but node `{from_node}` has no CURVE keys", from.port, dest.port),
                            Some(format!("give [nodes.{from_node}] curve_public_key and curve_secret_key (`rolecall keygen {from_node}`)")),
                        );
                    }
                    if let Some(f) = &from_info {
                        let format = codec
                            .as_ref()
                            .map(|c| c.0.as_str())
                            .unwrap_or(DEFAULT_CODEC);
                        let formats = self.registry.formats(f);
                        if !formats.contains(&format) {
                            let at = codec
                                .as_ref()
                                .map(|c| c.1.clone())
                                .unwrap_or_else(|| dest.span.clone());
                            self.r.error(
                                Some(at),
                                format!("wire `{} -> {}` crosses from node `{from_node}` to `{to_node}` but message type `{}` has no `{format}` codec", from.port, dest.port, f.message),
                                Some(if formats.is_empty() {
                                    "give the type serde Serialize/Deserialize or register a codec for it".into()
                                } else {
                                    format!("available codecs: {}", formats.join(", "))
                                }),
                            );
                        }
                    }
                    Some(self.route(to_node, nodes, &endpoint, &mut next_port, &dest.span))
                } else {
                    None
                };
                if let Some(Some(r)) = &remote {
                    wire_endpoints.push((
                        to_node.clone(),
                        r.bind.clone(),
                        endpoint
                            .as_ref()
                            .map(|e| e.1.clone())
                            .unwrap_or_else(|| dest.span.clone()),
                    ));
                }
                spans.push(dest.span.clone());
                to.push(Destination {
                    port: dest.port,
                    remote: remote.flatten(),
                });
            }
            match &endpoint {
                Some((_, span)) if remote_count != 1 => {
                    // Reported once here, not again as destinations sharing it.
                    self.r.error(
                        Some(span.clone()),
                        format!("`endpoint` in {what} needs exactly one destination on another node (it has {remote_count})"),
                        Some("split the wire: one [[wires]] per cross-node destination with its own endpoint".into()),
                    );
                }
                _ => endpoints.extend(wire_endpoints),
            }
            wires.push((
                WireSpec {
                    from: from.port,
                    to,
                    config: WireConfig::new(capacity, policy),
                    codec: codec
                        .map(|c| c.0)
                        .unwrap_or_else(|| DEFAULT_CODEC.to_owned()),
                    delivery,
                    max_message_size,
                },
                spans,
            ));
        }
        // Two hops binding the same endpoint on one node.
        for (i, (node, bind, span)) in endpoints.iter().enumerate() {
            if let Some((_, _, first)) = endpoints[..i]
                .iter()
                .find(|(n, b, _)| n == node && binds_collide(b, bind))
            {
                let line = self
                    .r
                    .src
                    .diagnostic(Some(first.clone()), String::new(), None)
                    .line;
                self.r.error(
                    Some(span.clone()),
                    format!("two wires bind `{bind}` on node `{node}`"),
                    Some(format!(
                        "the other one is at line {line}; give each wire its own endpoint or port"
                    )),
                );
            }
        }
        wires
    }

    fn route(
        &mut self,
        node: &str,
        nodes: &[NodeIn],
        endpoint: &Option<(String, Span)>,
        next_port: &mut HashMap<String, u32>,
        at: &Span,
    ) -> Option<RemoteRoute> {
        let n = nodes.iter().find(|x| x.spec.name == node)?;
        if let Some((e, span)) = endpoint {
            if let Some(rest) = e.strip_prefix("tcp://") {
                let Some((_, port)) = rest.rsplit_once(':') else {
                    self.r.error(
                        Some(span.clone()),
                        format!("endpoint `{e}` has no port"),
                        Some("write tcp://HOST:PORT".into()),
                    );
                    return None;
                };
                return Some(RemoteRoute {
                    bind: format!("tcp://{}:{port}", n.spec.listen),
                    connect: e.clone(),
                });
            }
            if e.starts_with("ipc://") {
                return Some(RemoteRoute {
                    bind: e.clone(),
                    connect: e.clone(),
                });
            }
            self.r.error(
                Some(span.clone()),
                format!("endpoint `{e}` must be tcp://HOST:PORT or ipc://PATH"),
                None,
            );
            return None;
        }
        let k = next_port.entry(node.to_owned()).or_insert(0);
        let port = u32::from(n.spec.base_port) + *k;
        *k += 1;
        if port > 65535 {
            self.r.error(
                n.span.clone().or(Some(at.clone())),
                format!(
                    "node `{node}` needs more ports than base_port {} leaves (up to 65535)",
                    n.spec.base_port
                ),
                Some("lower base_port".into()),
            );
            return None;
        }
        Some(RemoteRoute {
            bind: format!("tcp://{}:{port}", n.spec.listen),
            connect: format!("tcp://{}:{port}", n.spec.address),
        })
    }

    fn check_binds(
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

/// The strongly connected components of a graph given as successor lists
/// (iterative Tarjan), each sorted; any graph size, no recursion.
fn strongly_connected(succ: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = succ.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0usize;
    let mut out = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (vertex, position in its successor list)
        let mut work = vec![(root, 0usize)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&(v, i)) = work.last() {
            match succ.get(v).and_then(|s| s.get(i)).copied() {
                Some(w) => {
                    if let Some(top) = work.last_mut() {
                        top.1 += 1;
                    }
                    if w >= n {
                        continue;
                    }
                    if index[w] == usize::MAX {
                        index[w] = next;
                        low[w] = next;
                        next += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                }
                None => {
                    work.pop();
                    if let Some(&(parent, _)) = work.last() {
                        low[parent] = low[parent].min(low[v]);
                    }
                    if low[v] == index[v] {
                        let mut component = Vec::new();
                        while let Some(w) = stack.pop() {
                            on_stack[w] = false;
                            component.push(w);
                            if w == v {
                                break;
                            }
                        }
                        component.sort_unstable();
                        out.push(component);
                    }
                }
            }
        }
    }
    out
}

/// A shortest cycle through the first vertex of `component` staying inside it
/// (breadth-first), as the list of vertices without repeating the first.
fn shortest_cycle(succ: &[Vec<usize>], component: &[usize]) -> Option<Vec<usize>> {
    let &start = component.first()?;
    let inside = |v: usize| component.binary_search(&v).is_ok();
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in succ.get(v).into_iter().flatten() {
            if !inside(w) {
                continue;
            }
            if w == start {
                let mut cycle = vec![v];
                let mut cur = v;
                while cur != start {
                    cur = *parent.get(&cur)?;
                    cycle.push(cur);
                }
                cycle.reverse();
                return Some(cycle);
            }
            if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(w) {
                e.insert(v);
                queue.push_back(w);
            }
        }
    }
    None
}

/// The values of a `bind` parameter (a string or an array of strings); other
/// types are left to the kind's parameter check.
fn bind_params(params: &Spanned<DeValue<'_>>) -> Vec<(String, Span)> {
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
fn binds_collide(a: &str, b: &str) -> bool {
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

/// A hint for the TOML errors people make most in topology files.
fn syntax_help(message: &str) -> Option<String> {
    if message.contains("string") {
        Some("strings are written in double quotes, e.g. kind = \"demo.counter\"".into())
    } else {
        None
    }
}

fn names<'a>(it: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<String> = it.into_iter().map(|s| format!("`{s}`")).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn suggest_in<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    suggest(word, known).map(|s| format!("did you mean `{s}`?"))
}

fn params_help(info: &KindInfo) -> String {
    if info.params.is_empty() {
        format!("see `rolecall kinds` for the parameters of `{}`", info.name)
    } else {
        format!(
            "`{}` takes parameters: {} (see `rolecall kinds`)",
            info.name,
            info.params.join(", ")
        )
    }
}
