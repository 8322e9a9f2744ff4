//! `rolecall check`: validate a topology and print its wiring graph.

use crate::runtime::topology::graph;

use super::{load, TopologyArgs};

/// Output format of the graph.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Indented text.
    Text,
    /// Graphviz dot.
    Dot,
}

pub(super) fn check(kinds: super::Kinds<'_>, args: &TopologyArgs, format: Format) -> i32 {
    let registry = kinds();
    let topology = match load(args, &registry) {
        Ok(t) => t,
        Err(code) => return code,
    };
    for group in graph::closed_cycles(&topology, &registry) {
        eprintln!(
            "warning: actors {} form a wire cycle that no other actor feeds, and each only answers what it receives: they will wait forever",
            group.join(", ")
        );
    }
    match format {
        Format::Text => {
            print!("{}", graph::text(&topology));
            eprintln!(
                "ok: {} node(s), {} actor(s), {} wire(s)",
                topology.nodes.len(),
                topology.actors.len(),
                topology.wires.len()
            );
        }
        Format::Dot => print!("{}", graph::dot(&topology)),
    }
    0
}
