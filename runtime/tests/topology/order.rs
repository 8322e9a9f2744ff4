//! `start_order`: `after` first, then consumers before producers, ties by file order.

use rolecall_runtime::topology::{load_str, start_order, Overrides, Topology};

use crate::fixtures::load;
use crate::roles::registry;

fn topology(text: &str) -> Topology {
    match load_str(text, "order.toml", &registry(), &Overrides::new()) {
        Ok(t) => t,
        Err(e) => panic!("should load:\n{e}"),
    }
}

#[test]
fn without_edges_actors_start_in_file_order() {
    let t = topology(
        "[actors.c]\nkind = \"t.display\"\n[actors.a]\nkind = \"t.display\"\n[actors.b]\nkind = \"t.display\"\n",
    );
    assert_eq!(start_order(&t, "main"), ["c", "a", "b"]);
    assert!(start_order(&t, "nowhere").is_empty());
}

#[test]
fn consumers_start_before_their_producers() {
    let t = topology(
        r#"
        [actors.source]
        kind = "t.sensor"
        params = { rate = 1 }
        [actors.stage]
        kind = "t.relay"
        [actors.sink]
        kind = "t.display"
        [[wires]]
        from = "source.out"
        to = "stage.in"
        [[wires]]
        from = "stage.out"
        to = "sink.in"
        "#,
    );
    assert_eq!(start_order(&t, "main"), ["sink", "stage", "source"]);
}

#[test]
fn after_wins_over_a_wire_that_would_contradict_it() {
    // sink feeds from source, so sink would start first; but sink says it
    // starts after source, and the wire edge that would close a cycle is ignored.
    let t = topology(
        r#"
        [actors.source]
        kind = "t.sensor"
        params = { rate = 1 }
        [actors.sink]
        kind = "t.display"
        after = ["source"]
        [[wires]]
        from = "source.out"
        to = "sink.in"
        "#,
    );
    assert_eq!(start_order(&t, "main"), ["source", "sink"]);
}

#[test]
fn a_wire_loop_is_broken_in_file_order() {
    let t = topology(
        r#"
        [actors.a]
        kind = "t.relay"
        [actors.b]
        kind = "t.relay"
        [[wires]]
        from = "a.out"
        to = "b.in"
        [[wires]]
        from = "b.out"
        to = "a.in"
        "#,
    );
    // The first wire orders b before a; the second would close a cycle.
    assert_eq!(start_order(&t, "main"), ["b", "a"]);
}

#[test]
fn cross_node_after_and_wires_do_not_order() {
    let t = topology(
        r#"
        [nodes.x]
        [nodes.y]
        [actors.early]
        kind = "t.display"
        node = "x"
        after = ["remote"]
        [actors.late]
        kind = "t.display"
        node = "x"
        after = ["early"]
        [actors.remote]
        kind = "t.sensor"
        node = "y"
        params = { rate = 1 }
        [[wires]]
        from = "remote.out"
        to = "early.in"
        "#,
    );
    assert_eq!(start_order(&t, "x"), ["early", "late"]);
    assert_eq!(start_order(&t, "y"), ["remote"]);
}

#[test]
fn the_pipeline_fixture() {
    let t = load("pipeline.toml");
    // sensor feeds relay and log; relay feeds screen; log starts after screen.
    assert_eq!(
        start_order(&t, "main"),
        ["screen", "relay", "log", "sensor"]
    );
}

#[test]
fn a_long_chain_of_after_is_fine() {
    let n = 3000;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!("[actors.a{i}]\nkind = \"t.display\"\n"));
        if i > 0 {
            text.push_str(&format!("after = [\"a{}\"]\n", i - 1));
        }
    }
    let t = topology(&text);
    let order = start_order(&t, "main");
    assert_eq!(order.len(), n);
    assert_eq!(order.first().map(String::as_str), Some("a0"));
    assert_eq!(order.last().map(String::as_str), Some("a2999"));
}
