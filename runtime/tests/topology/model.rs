//! Valid topologies load into the expected model.

use rolecall_runtime::supervision::{Restart, Strategy};
use rolecall_runtime::topology::{graph, load_str, start_order, Overrides, RemoteRoute};
use rolecall_runtime::wire::Policy;

use crate::roles::registry;

pub(crate) const TWO_NODES: &str = r#"
[topology]
name = "pair"
drain_timeout = "250ms"

[nodes.edge]
address = "10.0.0.1"
base_port = 7000

[nodes.core]
address = "10.0.0.2"
listen = "0.0.0.0"
base_port = 7100

[groups.g]
node = "core"
strategy = "one-for-all"
max_restarts = 7
within = "1m"
backoff = { min = "10ms", max = "2s", factor = 3, jitter = 0.5 }

[actors.sensor]
kind = "t.sensor"
node = "edge"
restart = "always"
params = { rate = 5 }

[actors.relay]
kind = "t.relay"
node = "core"
group = "g"

[actors.screen]
kind = "t.display"
node = "core"
group = "g"
after = ["relay"]

[[wires]]
from = "sensor.out"
to = ["relay.in", "screen.in"]
capacity = 64
policy = "drop-oldest"
codec = "json"

[[wires]]
from = "relay.out"
to = "screen.in"
"#;

#[test]
fn a_two_node_topology_loads_with_routes_and_defaults() {
    let t = load_str(TWO_NODES, "pair.toml", &registry(), &Overrides::new()).expect("loads");
    assert_eq!(t.name, "pair");
    assert_eq!(t.drain_timeout.as_millis(), 250);
    assert_eq!(t.nodes.len(), 2);
    let sensor = t.actor("sensor").expect("sensor");
    assert_eq!(sensor.policy.restart, Restart::Always);
    assert_eq!(
        sensor.params.get("rate").and_then(|v| v.as_integer()),
        Some(5)
    );
    let relay = t.actor("relay").expect("relay");
    assert_eq!(relay.policy.restart, Restart::OnFailure);
    assert_eq!(t.groups[0].policy.strategy, Strategy::OneForAll);
    assert_eq!(t.groups[0].policy.intensity.max_restarts, 7);
    assert_eq!(t.groups[0].policy.backoff.factor, 3.0);

    let w = &t.wires[0];
    assert_eq!(w.config.capacity(), 64);
    assert_eq!(w.config.policy(), Policy::DropOldest);
    assert_eq!(w.codec, "json");
    let routes: Vec<Option<RemoteRoute>> = w.to.iter().map(|d| d.remote.clone()).collect();
    assert_eq!(
        routes,
        vec![
            Some(RemoteRoute {
                bind: "tcp://0.0.0.0:7100".into(),
                connect: "tcp://10.0.0.2:7100".into()
            }),
            Some(RemoteRoute {
                bind: "tcp://0.0.0.0:7101".into(),
                connect: "tcp://10.0.0.2:7101".into()
            }),
        ]
    );
    assert_eq!(t.wires[1].to[0].remote, None, "same node");
    assert_eq!(t.wires[1].config.capacity(), 1024);
    assert_eq!(t.wires[1].codec, "binary");
}

#[test]
fn without_nodes_there_is_one_node_main() {
    let t = load_str(
        "[actors.s]\nkind = \"t.sensor\"\nparams = { rate = 1 }\n",
        "x.toml",
        &registry(),
        &Overrides::new(),
    )
    .expect("loads");
    assert_eq!(t.nodes.len(), 1);
    assert_eq!(t.nodes[0].name, "main");
    assert_eq!(t.nodes[0].base_port, 7400);
    assert_eq!(t.name, "x");
}

#[test]
fn start_order_puts_consumers_first_and_respects_after() {
    let t = load_str(TWO_NODES, "pair.toml", &registry(), &Overrides::new()).expect("loads");
    // relay feeds screen, so screen would go first, but screen starts after relay.
    assert_eq!(start_order(&t, "core"), vec!["relay", "screen"]);
    assert_eq!(start_order(&t, "edge"), vec!["sensor"]);

    let chain = r#"
        [actors.a]
        kind = "t.relay"
        [actors.b]
        kind = "t.relay"
        [actors.c]
        kind = "t.display"
        [[wires]]
        from = "a.out"
        to = "b.in"
        [[wires]]
        from = "b.out"
        to = "c.in"
        [[wires]]
        from = "b.out"
        to = "a.in"
    "#;
    let t = load_str(chain, "chain.toml", &registry(), &Overrides::new()).expect("loads");
    // b -> a closes a cycle with a -> b and is ignored for ordering.
    assert_eq!(start_order(&t, "main"), vec!["c", "b", "a"]);
}

#[test]
fn the_graph_shows_nodes_actors_and_wires() {
    let t = load_str(TWO_NODES, "pair.toml", &registry(), &Overrides::new()).expect("loads");
    let text = graph::text(&t);
    assert!(text.contains("node core (address 10.0.0.2"), "{text}");
    assert!(
        text.contains(
            "sensor.out -> relay.in  [capacity 64, drop-oldest, json over tcp://10.0.0.2:7100 (bind tcp://0.0.0.0:7100)]"
        ),
        "{text}"
    );
    let dot = graph::dot(&t);
    assert!(dot.starts_with("digraph \"pair\" {"), "{dot}");
    assert!(dot.contains("subgraph cluster_0"), "{dot}");
    assert!(dot.contains("\"sensor\" -> \"relay\""), "{dot}");
    assert!(
        dot.contains("style=dashed"),
        "cross-node edges are dashed: {dot}"
    );
}
