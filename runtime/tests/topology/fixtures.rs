//! The fixture files: valid ones load into the expected model, the broken one
//! reports every mistake with its position, a missing file is one diagnostic.

use std::path::{Path, PathBuf};

use rolecall_runtime::supervision::{Restart, Strategy};
use rolecall_runtime::topology::{load_file, Overrides, RemoteRoute, Topology};
use rolecall_runtime::wire::Policy;

use crate::roles::registry;

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/topology/fixtures")
        .join(name)
}

/// Every `*.toml` file in the fixtures directory, sorted.
pub(crate) fn all_fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/topology/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures directory")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

pub(crate) fn load(name: &str) -> Topology {
    match load_file(&fixture(name), &registry(), &Overrides::new()) {
        Ok(t) => t,
        Err(e) => panic!("{name} should load:\n{e}"),
    }
}

fn route(bind: &str, connect: &str) -> Option<RemoteRoute> {
    Some(RemoteRoute {
        bind: bind.into(),
        connect: connect.into(),
    })
}

#[test]
fn pipeline_loads_with_groups_params_and_defaults() {
    let t = load("pipeline.toml");
    assert_eq!(t.name, "pipeline", "the file stem");
    assert!(t.origin.ends_with("fixtures/pipeline.toml"), "{}", t.origin);
    assert_eq!(t.drain_timeout.as_millis(), 1500);
    assert_eq!(t.finish_when, vec!["sensor"]);
    assert_eq!(t.nodes.len(), 1);
    let main = &t.nodes[0];
    assert_eq!(
        (
            main.name.as_str(),
            main.address.as_str(),
            main.listen.as_str(),
            main.base_port
        ),
        ("main", "127.0.0.1", "0.0.0.0", 7400)
    );

    let names: Vec<&str> = t.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["outer", "inner"]);
    let inner = &t.groups[1];
    assert_eq!(inner.node, "main");
    assert_eq!(inner.parent.as_deref(), Some("outer"));
    assert_eq!(inner.policy.strategy, Strategy::OneForAll);
    assert_eq!(inner.policy.intensity.max_restarts, 5);
    assert_eq!(inner.policy.intensity.within.as_secs(), 30);
    assert_eq!(inner.policy.backoff.min.as_millis(), 50);
    assert_eq!(inner.policy.backoff.max.as_secs(), 5);
    let outer = &t.groups[0];
    assert_eq!(outer.parent, None);
    assert_eq!(outer.policy, Default::default());

    let names: Vec<&str> = t.actors.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["sensor", "relay", "screen", "log"]);
    let sensor = t.actor("sensor").expect("sensor");
    assert_eq!(sensor.policy.restart, Restart::Never);
    assert_eq!(sensor.group.as_deref(), Some("outer"));
    let params: toml::Value = toml::from_str("rate = 10\nbind = \"tcp://*:5555\"").expect("toml");
    assert_eq!(sensor.params, params);
    let log = t.actor("log").expect("log");
    assert_eq!(log.after, vec!["screen"]);
    assert_eq!(log.group, None);
    assert_eq!(
        log.params,
        toml::Value::Table(Default::default()),
        "default params"
    );
    assert_eq!(log.policy, Default::default());

    assert_eq!(t.wires.len(), 3);
    let w = &t.wires[0];
    assert_eq!(w.from.to_string(), "sensor.out");
    let to: Vec<String> = w.to.iter().map(|d| d.port.to_string()).collect();
    assert_eq!(to, ["relay.in", "log.in"]);
    assert!(w.to.iter().all(|d| d.remote.is_none()), "one node");
    assert_eq!(w.config.capacity(), 16);
    assert_eq!(w.config.policy(), Policy::DropNewest);
    assert_eq!(t.wires[1].config.capacity(), 1024);
    assert_eq!(t.wires[1].config.policy(), Policy::Block);
    assert_eq!(t.wires[1].codec, "binary");
}

#[test]
fn three_nodes_get_routes_in_file_order_and_explicit_endpoints() {
    let t = load("three_nodes.toml");
    assert_eq!(t.name, "fanout");
    let routes: Vec<Vec<Option<RemoteRoute>>> = t
        .wires
        .iter()
        .map(|w| w.to.iter().map(|d| d.remote.clone()).collect())
        .collect();
    assert_eq!(
        routes,
        vec![
            // sensor (edge) -> relay, store, screen: core k=0, archive k=0, core k=1
            vec![
                route("tcp://10.0.0.2:7100", "tcp://core.local:7100"),
                route("tcp://0.0.0.0:7200", "tcp://archive.local:7200"),
                route("tcp://10.0.0.2:7101", "tcp://core.local:7101"),
            ],
            // an explicit tcp endpoint: bound on the consumer's listen address
            vec![route("tcp://0.0.0.0:9000", "tcp://archive.example:9000")],
            // relay (core) -> store (archive k=1), screen (same node)
            vec![
                route("tcp://0.0.0.0:7201", "tcp://archive.local:7201"),
                None
            ],
            // ipc is used as written on both sides
            vec![route(
                "ipc:///tmp/rolecall-mirror",
                "ipc:///tmp/rolecall-mirror"
            )],
        ]
    );
    assert_eq!(t.wires[0].codec, "json");
    assert_eq!(t.wires[2].codec, "binary");
    let placed: Vec<(&str, &str)> = t
        .actors
        .iter()
        .map(|a| (a.name.as_str(), a.node.as_str()))
        .collect();
    assert_eq!(
        placed,
        [
            ("sensor", "edge"),
            ("relay", "core"),
            ("screen", "core"),
            ("store", "archive"),
            ("mirror", "archive")
        ]
    );
}

#[test]
fn broken_reports_every_mistake_in_one_pass() {
    let e = load_file(&fixture("broken.toml"), &registry(), &Overrides::new()).expect_err("broken");
    let got: Vec<(usize, usize, &str)> = e
        .diagnostics
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, 13, "`base_port` in node `a` is 70000, outside 1..=65535"),
            (
                10,
                19,
                "actor `s` (kind `t.sensor`): invalid type: string \"fast\", expected u32"
            ),
            (13, 8, "unknown kind `t.dispaly` for actor `d`"),
            (
                16,
                9,
                "actor `r` has no `node` and the topology has 2 nodes"
            ),
            (18, 1, "unknown key `nodes` in actor `r`"),
            (
                22,
                6,
                "`r.out` is an output port; `to` must name input ports"
            ),
            (23, 12, "`capacity` in wire #1 is 0, outside 1..=16777216"),
        ]
    );
    assert!(e
        .diagnostics
        .iter()
        .all(|d| d.origin.ends_with("broken.toml")));
    let helps: Vec<Option<&str>> = e.diagnostics.iter().map(|d| d.help.as_deref()).collect();
    assert_eq!(
        helps[2],
        Some("did you mean `t.display`? `rolecall kinds` lists every kind")
    );
    assert_eq!(helps[4], Some("did you mean `node`?"));
    assert_eq!(
        helps[5],
        Some("input ports of `t.relay`: `in` (topology::roles::Reading)")
    );
    let shown = e.to_string();
    assert!(shown.ends_with("7 errors in topology"), "{shown}");
}

#[test]
fn a_missing_file_is_one_diagnostic_without_a_position() {
    let e = load_file(
        &fixture("no-such-file.toml"),
        &registry(),
        &Overrides::new(),
    )
    .expect_err("missing");
    assert_eq!(e.diagnostics.len(), 1);
    let d = &e.diagnostics[0];
    assert_eq!((d.line, d.column), (0, 0));
    assert!(d.origin.ends_with("no-such-file.toml"), "{}", d.origin);
    assert!(
        d.message.starts_with("cannot read the topology file: "),
        "{}",
        d.message
    );
    assert_eq!(e.source_line(0), None);
}
