//! Loading a topology: parse, apply overrides, read every table with its
//! position, validate against the kind registry, and build the model.
//!
//! This file holds the entry points and [`Loader::load`], the order of the
//! steps; each concern is an `impl Loader` block in its own file under
//! `load/`: `overrides.rs` (`--set`, `ROLECALL_*`), `nodes.rs` (nodes and
//! groups), `actors.rs` (actors, parameters, start order), `wires.rs` (ports,
//! wires, cross-node routes), `binds.rs` (endpoints that collide) and
//! `faults.rs` (`[[faults]]`). Graph algorithms are in `topology/graph.rs`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use toml::de::DeTable;

use super::model::{ActorSpec, GroupSpec, NodeSpec, PortRef, Topology, TraceSpec};
use super::overrides::{Assignment, Overrides};
use super::read::{entry, suggest, Reader, Span};
use super::source::{Diagnostic, LoadError, SourceMap};
use crate::kind::{KindInfo, Registry};

const TOP_KEYS: &[&str] = &[
    "topology", "nodes", "groups", "actors", "wires", "faults", "trace",
];
const TOPOLOGY_KEYS: &[&str] = &["name", "drain_timeout", "finish_when"];
const TRACE_KEYS: &[&str] = &["file", "cap"];
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

// Each concern of the loader in its own file, as `impl Loader` blocks.
mod actors;
mod binds;
mod faults;
mod nodes;
mod overrides;
mod wires;

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
        actor_index: HashMap::new(),
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
    /// Actor name → position in the actors read, once they are read: every
    /// lookup by name is O(1), so checking stays linear in the topology's size.
    actor_index: HashMap<String, usize>,
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

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
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

        let trace = self.trace(&root);
        let nodes = self.nodes(&root);
        let groups = self.groups(&root, &nodes);
        let actors = self.actors(&root, &nodes);
        self.actor_index = actors
            .iter()
            .enumerate()
            .map(|(i, a)| (a.spec.name.clone(), i))
            .collect();
        self.check_override_nodes(&actors);
        self.check_groups(&groups, &actors);
        self.check_after(&actors);
        for (name, span) in &finish_when {
            if !self.actor_index.contains_key(name) {
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
            trace,
        })
        .map(|mut t| {
            t.origin = src.diagnostic(None, String::new(), None).origin;
            t
        })
    }
}

impl Loader<'_> {
    /// `[trace] file = "…", cap = N`.
    fn trace(&mut self, root: &DeTable<'_>) -> Option<TraceSpec> {
        let (_, v) = entry(root, "trace")?;
        let t = self.r.table(v, "trace", "the topology")?;
        self.r.unknown_keys(t, TRACE_KEYS, "[trace]");
        let cap = self
            .r
            .integer(t, "cap", "[trace]", 1..=i64::MAX)
            .and_then(|(n, _)| usize::try_from(n).ok());
        match self.r.string(t, "file", "[trace]") {
            Some((file, span)) if file.trim().is_empty() => {
                self.r.error(
                    Some(span),
                    "`file` in [trace] is empty".into(),
                    Some("name the trace file, e.g. file = \"{node}.jsonl\"".into()),
                );
                None
            }
            Some((file, _)) => Some(TraceSpec { file, cap }),
            None => {
                if entry(t, "file").is_none() {
                    self.r.error(
                        Some(v.span()),
                        "[trace] needs `file`".into(),
                        Some("e.g. file = \"{node}.jsonl\" ({node}: the node's name, one file per node)".into()),
                    );
                }
                None
            }
        }
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
