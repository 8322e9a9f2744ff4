//! The wiring graph, as text and as Graphviz dot: exact, deterministic output.

use rolecall_runtime::topology::graph;

use crate::fixtures::load;

#[test]
fn text_lists_nodes_actors_and_every_wire_destination() {
    let t = load("three_nodes.toml");
    let expected = "\
topology fanout (3 nodes, 5 actors, 4 wires)
node edge (address edge.local, listen 0.0.0.0, base_port 7000)
  sensor           t.sensor             restart=on-failure
node core (address core.local, listen 10.0.0.2, base_port 7100)
  relay            t.relay              restart=on-failure
  screen           t.display            restart=on-failure
node archive (address archive.local, listen 0.0.0.0, base_port 7200)
  store            t.display            restart=on-failure
  mirror           t.display            restart=on-failure
wires
  sensor.out -> relay.in  [capacity 1024, block, json over tcp://core.local:7100 (bind tcp://10.0.0.2:7100)]
  sensor.out -> store.in  [capacity 1024, block, json over tcp://archive.local:7200 (bind tcp://0.0.0.0:7200)]
  sensor.out -> screen.in  [capacity 1024, block, json over tcp://core.local:7101 (bind tcp://10.0.0.2:7101)]
  relay.out -> mirror.in  [capacity 1024, block, binary over tcp://archive.example:9000 (bind tcp://0.0.0.0:9000)]
  relay.out -> store.in  [capacity 1024, block, binary over tcp://archive.local:7201 (bind tcp://0.0.0.0:7201)]
  relay.out -> screen.in  [capacity 1024, block]
  sensor.out -> mirror.in  [capacity 1024, block, binary over ipc:///tmp/rolecall-mirror (bind ipc:///tmp/rolecall-mirror)]
";
    assert_eq!(graph::text(&t), expected);
    assert_eq!(graph::text(&t), graph::text(&load("three_nodes.toml")));
}

#[test]
fn text_shows_groups_and_restart_policies() {
    let text = graph::text(&load("pipeline.toml"));
    assert!(
        text.starts_with("topology pipeline (1 node, 4 actors, 3 wires)\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  sensor           t.sensor             restart=never group=outer\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  sensor.out -> log.in  [capacity 16, drop-newest]\n"),
        "{text}"
    );
}

#[test]
fn dot_has_a_cluster_per_node_and_dashed_cross_node_edges() {
    let t = load("pipeline.toml");
    let expected = r#"digraph "pipeline" {
  rankdir=LR;
  node [shape=box, fontname="monospace"];
  subgraph cluster_0 {
    label="node main (127.0.0.1)";
    "sensor" [label="sensor\nt.sensor"];
    "relay" [label="relay\nt.relay"];
    "screen" [label="screen\nt.display"];
    "log" [label="log\nt.display"];
  }
  "sensor" -> "relay" [label="out -> in\n16 drop-newest"];
  "sensor" -> "log" [label="out -> in\n16 drop-newest"];
  "relay" -> "screen" [label="out -> in\n1024 block"];
  "sensor" -> "screen" [label="local -> local\n1024 block"];
}
"#;
    assert_eq!(graph::dot(&t), expected);

    let dot = graph::dot(&load("three_nodes.toml"));
    assert_eq!(dot.matches("subgraph cluster_").count(), 3, "{dot}");
    assert!(
        dot.contains(
            "  \"sensor\" -> \"relay\" [label=\"out -> in\\n1024 block\\njson tcp://core.local:7100\", style=dashed];\n"
        ),
        "{dot}"
    );
    assert!(
        dot.contains("  \"relay\" -> \"screen\" [label=\"out -> in\\n1024 block\"];\n"),
        "same-node edges are solid: {dot}"
    );
}

#[test]
fn closed_cycles_are_the_loops_nothing_outside_feeds() {
    let load = |text: &str| {
        rolecall_runtime::topology::load_str(
            text,
            "t.toml",
            &crate::roles::registry(),
            &rolecall_runtime::topology::Overrides::new(),
        )
        .expect("loads")
    };
    let relays = "[actors.a]\nkind = \"t.relay\"\n[actors.b]\nkind = \"t.relay\"\n[actors.c]\nkind = \"t.relay\"\n\
                  [[wires]]\nfrom = \"a.out\"\nto = \"b.in\"\n[[wires]]\nfrom = \"b.out\"\nto = \"a.in\"\n";
    // a <-> b with nothing feeding them; c alone is no cycle.
    assert_eq!(
        graph::closed_cycles(&load(relays), &crate::roles::registry()),
        vec![vec!["a".to_owned(), "b".to_owned()]]
    );
    // A sensor feeding the loop: fed, no warning.
    let fed = format!("{relays}[actors.s]\nkind = \"t.sensor\"\nparams = {{ rate = 1 }}\n[[wires]]\nfrom = \"s.out\"\nto = \"a.in\"\n");
    assert!(graph::closed_cycles(&load(&fed), &crate::roles::registry()).is_empty());
    // A loop with an actor that may send on its own (a sensor) is no warning.
    let ticking = relays.replace(
        "[actors.b]\nkind = \"t.relay\"",
        "[actors.b]\nkind = \"t.ticker\"",
    );
    assert!(graph::closed_cycles(&load(&ticking), &crate::roles::registry()).is_empty());
    // A relay wired to itself is a loop too.
    let own = "[actors.a]\nkind = \"t.relay\"\n[[wires]]\nfrom = \"a.out\"\nto = \"a.in\"\n";
    assert_eq!(
        graph::closed_cycles(&load(own), &crate::roles::registry()),
        vec![vec!["a".to_owned()]]
    );
    // Fixtures without loops have none.
    assert!(graph::closed_cycles(
        &crate::fixtures::load("three_nodes.toml"),
        &crate::roles::registry()
    )
    .is_empty());
}
