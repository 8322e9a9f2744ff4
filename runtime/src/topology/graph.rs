//! The wiring graph of a topology, as indented text and as Graphviz dot.

use std::fmt::Write as _;

use super::model::Topology;

/// Nodes with their actors, then every wire with its settings.
pub fn text(t: &Topology) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "topology {} ({}, {}, {})",
        t.name,
        plural(t.nodes.len(), "node"),
        plural(t.actors.len(), "actor"),
        plural(t.wires.len(), "wire")
    );
    for n in &t.nodes {
        let _ = writeln!(
            s,
            "node {} (address {}, listen {}, base_port {})",
            n.name, n.address, n.listen, n.base_port
        );
        for a in t.actors_on(&n.name) {
            let group = a
                .group
                .as_deref()
                .map(|g| format!(" group={g}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:<16} {:<20} restart={}{group}",
                a.name,
                a.kind,
                a.policy.restart.name()
            );
        }
    }
    let _ = writeln!(s, "wires");
    for w in &t.wires {
        for d in &w.to {
            let remote = d
                .remote
                .as_ref()
                .map(|r| format!(", {} over {} (bind {})", w.codec, r.connect, r.bind))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {} -> {}  [capacity {}, {}{remote}]",
                w.from,
                d.port,
                w.config.capacity(),
                w.config.policy()
            );
        }
    }
    s
}

/// A dot string literal; line breaks become dot's `\n`.
fn quote(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Graphviz: a cluster per node, a box per actor, an edge per wire destination.
pub fn dot(t: &Topology) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "digraph {} {{", quote(&t.name));
    let _ = writeln!(
        s,
        "  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];"
    );
    for (i, n) in t.nodes.iter().enumerate() {
        let _ = writeln!(s, "  subgraph cluster_{i} {{");
        let _ = writeln!(
            s,
            "    label={};",
            quote(&format!("node {} ({})", n.name, n.address))
        );
        for a in t.actors_on(&n.name) {
            let _ = writeln!(
                s,
                "    {} [label={}];",
                quote(&a.name),
                quote(&format!("{}\n{}", a.name, a.kind))
            );
        }
        let _ = writeln!(s, "  }}");
    }
    for w in &t.wires {
        for d in &w.to {
            let mut label = format!(
                "{} -> {}\n{} {}",
                w.from.port,
                d.port.port,
                w.config.capacity(),
                w.config.policy()
            );
            let style = match &d.remote {
                Some(r) => {
                    let _ = write!(label, "\n{} {}", w.codec, r.connect);
                    ", style=dashed"
                }
                None => "",
            };
            let _ = writeln!(
                s,
                "  {} -> {} [label={}{style}];",
                quote(&w.from.actor),
                quote(&d.port.actor),
                quote(&label)
            );
        }
    }
    let _ = writeln!(s, "}}");
    s
}
