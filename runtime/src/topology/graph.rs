//! The wiring graph of a topology, as indented text and as Graphviz dot, and
//! the graph algorithms the loader uses (strongly connected components,
//! shortest cycles).

use std::collections::HashMap;
use std::fmt::Write as _;

use super::model::Topology;
use crate::kind::Registry;

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

/// Groups of actors whose wires form a cycle that no actor outside the group
/// feeds and whose kinds are all reactive ([`Role::REACTIVE`](crate::kind::Role::REACTIVE):
/// they send only in answer to what they receive), so the group can never
/// do anything (each sorted by name; groups in name order). A loop with one
/// actor that may send on its own (a source, a timer, a socket endpoint, a
/// role that starts itself, like ping-pong) is not one. `rolecall check`
/// warns about these rather than refusing them. Kinds `registry` does not
/// know count as not reactive.
pub fn closed_cycles(t: &Topology, registry: &Registry) -> Vec<Vec<String>> {
    let index: HashMap<&str, usize> = t
        .actors
        .iter()
        .enumerate()
        .map(|(i, a)| (a.name.as_str(), i))
        .collect();
    let mut succ = vec![Vec::new(); t.actors.len()];
    for w in &t.wires {
        let Some(&from) = index.get(w.from.actor.as_str()) else {
            continue;
        };
        for d in &w.to {
            if let Some(&to) = index.get(d.port.actor.as_str()) {
                succ[from].push(to);
            }
        }
    }
    let components = strongly_connected(&succ);
    let mut of = vec![0usize; succ.len()];
    for (c, members) in components.iter().enumerate() {
        for &a in members {
            of[a] = c;
        }
    }
    // A component is fed when a wire reaches it from another one.
    let mut fed = vec![false; components.len()];
    for (a, targets) in succ.iter().enumerate() {
        for &b in targets {
            if of[a] != of[b] {
                fed[of[b]] = true;
            }
        }
    }
    let mut out = Vec::new();
    for (c, members) in components.iter().enumerate() {
        let looped = members.len() > 1 || succ[members[0]].contains(&members[0]);
        let reactive = members
            .iter()
            .all(|&i| registry.kind(&t.actors[i].kind).is_some_and(|k| k.reactive));
        if looped && !fed[c] && reactive {
            let mut names: Vec<String> =
                members.iter().map(|&i| t.actors[i].name.clone()).collect();
            names.sort();
            out.push(names);
        }
    }
    out.sort();
    out
}

/// The strongly connected components of a graph given as successor lists
/// (iterative Tarjan), each sorted; any graph size, no recursion.
pub(super) fn strongly_connected(succ: &[Vec<usize>]) -> Vec<Vec<usize>> {
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
pub(super) fn shortest_cycle(succ: &[Vec<usize>], component: &[usize]) -> Option<Vec<usize>> {
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
