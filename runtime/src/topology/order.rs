//! Start order: `after` edges, then consumers before their producers.

use std::collections::{BTreeSet, HashMap};

use super::model::Topology;

/// Actor names of `node` in start order: each after the actors in its `after`
/// list (same node), and after the consumers its outputs feed on the same node,
/// so nothing is sent into an actor that is not running. Wire edges that would
/// close a cycle are skipped (wires in a loop start in file order). Ties go by
/// file order.
pub fn start_order(t: &Topology, node: &str) -> Vec<String> {
    let actors: Vec<&str> = t.actors_on(node).map(|a| a.name.as_str()).collect();
    let index: HashMap<&str, usize> = actors.iter().enumerate().map(|(i, a)| (*a, i)).collect();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); actors.len()];
    let add = |edges: &mut Vec<Vec<usize>>, before: usize, after: usize| {
        if before != after && !edges[before].contains(&after) {
            edges[before].push(after);
        }
    };
    for a in t.actors_on(node) {
        let Some(&i) = index.get(a.name.as_str()) else {
            continue;
        };
        for dep in &a.after {
            if let Some(&j) = index.get(dep.as_str()) {
                add(&mut edges, j, i);
            }
        }
    }
    let mut reach = Reach::new(actors.len());
    for w in &t.wires {
        let Some(&producer) = index.get(w.from.actor.as_str()) else {
            continue;
        };
        for d in &w.to {
            let Some(&consumer) = index.get(d.port.actor.as_str()) else {
                continue;
            };
            // consumer before producer, unless producer already precedes consumer.
            if consumer != producer && !reach.reaches(&edges, producer, consumer) {
                add(&mut edges, consumer, producer);
            }
        }
    }
    let mut indegree = vec![0usize; actors.len()];
    for outs in &edges {
        for &j in outs {
            indegree[j] += 1;
        }
    }
    let mut ready: BTreeSet<usize> = (0..actors.len()).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(actors.len());
    while let Some(i) = ready.pop_first() {
        order.push(actors[i].to_owned());
        for &j in &edges[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.insert(j);
            }
        }
    }
    // A cycle in `after` is rejected by the loader; should one remain, append the rest.
    let mut placed = vec![false; actors.len()];
    for name in &order {
        if let Some(&i) = index.get(name.as_str()) {
            placed[i] = true;
        }
    }
    for (i, a) in actors.iter().enumerate() {
        if !placed[i] {
            order.push((*a).to_owned());
        }
    }
    order
}

/// Depth-first reachability over `edges`, reusing one visit marker per
/// search (a generation number), so a search costs what it visits, not the
/// graph's size.
struct Reach {
    seen: Vec<u32>,
    generation: u32,
    stack: Vec<usize>,
}

impl Reach {
    fn new(n: usize) -> Self {
        Reach {
            seen: vec![0; n],
            generation: 0,
            stack: Vec::new(),
        }
    }

    fn reaches(&mut self, edges: &[Vec<usize>], from: usize, to: usize) -> bool {
        self.generation += 1;
        self.stack.clear();
        self.stack.push(from);
        while let Some(i) = self.stack.pop() {
            if i == to {
                return true;
            }
            if std::mem::replace(&mut self.seen[i], self.generation) == self.generation {
                continue;
            }
            self.stack.extend(edges[i].iter().copied());
        }
        false
    }
}
