//! `--set` and `ROLECALL_SET*` overrides.

use rolecall_runtime::topology::{load_str, Overrides};

use crate::model::TWO_NODES;
use crate::roles::registry;

#[test]
fn command_line_overrides_set_params_and_node_fields() {
    let mut o = Overrides::new();
    o.set("edge.sensor.rate=42").expect("valid");
    o.set("core.address=192.0.2.7").expect("valid");
    o.set("core.base_port=9000").expect("valid");
    let t = load_str(TWO_NODES, "pair.toml", &registry(), &o).expect("loads");
    assert_eq!(
        t.actor("sensor")
            .and_then(|a| a.params.get("rate")?.as_integer()),
        Some(42)
    );
    let core = t.node("core").expect("core");
    assert_eq!(core.address, "192.0.2.7");
    assert_eq!(
        t.wires[0].to[0].remote.as_ref().map(|r| r.connect.as_str()),
        Some("tcp://192.0.2.7:9000")
    );
}

#[test]
fn later_overrides_win_and_env_comes_before_the_command_line() {
    let mut env = Overrides::new();
    env.set("edge.sensor.rate=1").expect("valid");
    let mut cli = Overrides::new();
    cli.set("edge.sensor.rate=2").expect("valid");
    env.extend(cli);
    let t = load_str(TWO_NODES, "pair.toml", &registry(), &env).expect("loads");
    assert_eq!(
        t.actor("sensor")
            .and_then(|a| a.params.get("rate")?.as_integer()),
        Some(2)
    );
}

/// All environment cases in one test: tests run in parallel and share the
/// process environment.
#[test]
fn overrides_are_read_from_the_environment_in_name_order() {
    std::env::set_var("ROLECALL_SET", "core.listen=10.9.9.9");
    std::env::set_var("ROLECALL_SET_TOPOLOGY_B", "edge.sensor.rate=2");
    std::env::set_var("ROLECALL_SET_TOPOLOGY_A", "edge.sensor.rate=1");
    std::env::set_var("ROLECALL_SETTINGS", "not.an=assignment");
    let env = Overrides::from_env();
    std::env::set_var("ROLECALL_SET_TOPOLOGY_C", "edge.sensor.rate=fast");
    let bad_env = Overrides::from_env();
    std::env::set_var("ROLECALL_SET_TOPOLOGY_C", "no equals sign");
    let malformed = Overrides::from_env();
    for name in [
        "ROLECALL_SET",
        "ROLECALL_SET_TOPOLOGY_A",
        "ROLECALL_SET_TOPOLOGY_B",
        "ROLECALL_SET_TOPOLOGY_C",
        "ROLECALL_SETTINGS",
    ] {
        std::env::remove_var(name);
    }

    // _A then _B: B wins; ROLECALL_SETTINGS is not an override variable.
    let env = env.expect("valid");
    let t = load_str(TWO_NODES, "pair.toml", &registry(), &env).expect("loads");
    let rate = |t: &rolecall_runtime::topology::Topology| {
        t.actor("sensor")
            .and_then(|a| a.params.get("rate")?.as_integer())
    };
    assert_eq!(rate(&t), Some(2));
    assert_eq!(t.node("core").map(|n| n.listen.as_str()), Some("10.9.9.9"));

    // The command line comes after the environment and wins.
    let mut all = env.clone();
    let mut cli = Overrides::new();
    cli.set("edge.sensor.rate=3").expect("valid");
    all.extend(cli);
    let t = load_str(TWO_NODES, "pair.toml", &registry(), &all).expect("loads");
    assert_eq!(rate(&t), Some(3));

    // An ill-typed value names its variable.
    let e = load_str(
        TWO_NODES,
        "pair.toml",
        &registry(),
        &bad_env.expect("syntax ok"),
    )
    .expect_err("fast is not a number");
    let d = &e.diagnostics[0];
    assert_eq!(d.origin, "environment ROLECALL_SET_TOPOLOGY_C");
    assert_eq!((d.line, d.column), (0, 0));
    assert_eq!(
        d.message,
        "actor `sensor` (kind `t.sensor`): invalid type: string \"fast\", expected u32"
    );

    let e = malformed.expect_err("no =");
    assert_eq!(e.origin, "environment ROLECALL_SET_TOPOLOGY_C");
    assert_eq!(
        e.to_string(),
        "environment ROLECALL_SET_TOPOLOGY_C: expected PATH=VALUE, e.g. main.source.count=10"
    );
}

#[test]
fn an_ill_typed_override_is_reported_at_the_override_not_the_file() {
    let mut o = Overrides::new();
    o.set("edge.sensor.rate=fast").expect("syntactically fine");
    let e = load_str(TWO_NODES, "pair.toml", &registry(), &o).expect_err("rate is a number");
    let d = &e.diagnostics[0];
    assert_eq!(d.origin, "--set edge.sensor.rate=fast");
    assert_eq!((d.line, d.column), (0, 0));
    assert!(
        d.message
            .contains("invalid type: string \"fast\", expected u32"),
        "{}",
        d.message
    );
}

#[test]
fn override_errors_name_what_is_wrong() {
    let mut o = Overrides::new();
    assert!(o.set("no-equals").is_err());
    assert!(o.set("single=1").is_err());
    let mut o = Overrides::new();
    o.set("core.sensor.rate=3").expect("syntax ok");
    o.set("core.ghost.rate=3").expect("syntax ok");
    o.set("core.adress=x").expect("syntax ok");
    let e = load_str(TWO_NODES, "pair.toml", &registry(), &o).expect_err("three problems");
    let messages: Vec<String> = e
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.origin, d.message))
        .collect();
    assert!(
        messages.iter().any(
            |m| m == "--set core.sensor.rate=3: actor `sensor` runs on node `edge`, not `core`"
        ),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m == "--set core.ghost.rate=3: there is no actor `ghost` to override"),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("--set core.adress=x: `adress` is not a node field")),
        "{messages:#?}"
    );
    let help = e
        .diagnostics
        .iter()
        .find_map(|d| d.help.clone().filter(|h| h.contains("address")));
    assert_eq!(help.as_deref(), Some("did you mean `core.address`?"));
}

#[test]
fn values_are_toml_or_else_plain_strings() {
    let text = "[actors.d]\nkind = \"t.display\"\n";
    let mut o = Overrides::new();
    for set in [
        "main.d.n=20",
        "main.d.flag=true",
        "main.d.quoted=\"x y\"",
        "main.d.list=[1, 2]",
        "main.d.table={a = 1}",
        "main.d.plain=10.0.0.2",
        "main.d.nested.deeper.key=  spaced words  ",
        "main.address=192.0.2.1",
    ] {
        o.set(set).expect("valid");
    }
    assert!(!o.is_empty());
    let t = load_str(text, "x.toml", &registry(), &o).expect("loads");
    let expected: toml::Value = toml::from_str(
        "n = 20\nflag = true\nquoted = \"x y\"\nlist = [1, 2]\ntable = { a = 1 }\nplain = \"10.0.0.2\"\nnested = { deeper = { key = \"spaced words\" } }\n",
    )
    .expect("toml");
    assert_eq!(t.actor("d").map(|a| &a.params), Some(&expected));
    // The implicit node "main" takes node fields too.
    assert_eq!(t.nodes.len(), 1);
    assert_eq!(t.nodes[0].name, "main");
    assert_eq!(t.nodes[0].address, "192.0.2.1");
    assert_eq!(t.nodes[0].base_port, 7400);
}

#[test]
fn an_override_replaces_a_param_from_the_file() {
    let text =
        "[actors.s]\nkind = \"t.sensor\"\n[actors.s.params]\nrate = 1\nbind = \"tcp://*:1\"\n";
    let mut o = Overrides::new();
    o.set("main.s.bind=tcp://*:2").expect("valid");
    let t = load_str(text, "x.toml", &registry(), &o).expect("loads");
    let params = &t.actor("s").expect("s").params;
    assert_eq!(params.get("rate").and_then(|v| v.as_integer()), Some(1));
    assert_eq!(
        params.get("bind").and_then(|v| v.as_str()),
        Some("tcp://*:2")
    );
}

#[test]
fn node_overrides_need_an_existing_node() {
    let mut o = Overrides::new();
    o.set("cor.address=10.0.0.9").expect("syntax ok");
    let e = load_str(TWO_NODES, "pair.toml", &registry(), &o).expect_err("no node cor");
    let d = &e.diagnostics[0];
    assert_eq!(d.origin, "--set cor.address=10.0.0.9");
    assert_eq!(d.message, "there is no node `cor` to override");
    assert_eq!(d.help.as_deref(), Some("did you mean `core.address`?"));

    // Without [nodes], only the implicit "main" exists.
    let mut o = Overrides::new();
    o.set("edge.address=10.0.0.9").expect("syntax ok");
    let e = load_str(
        "[actors.d]\nkind = \"t.display\"\n",
        "x.toml",
        &registry(),
        &o,
    )
    .expect_err("no node edge");
    assert_eq!(
        e.diagnostics[0].message,
        "there is no node `edge` to override"
    );
    assert_eq!(e.diagnostics[0].help.as_deref(), Some("nodes: `main`"));
}

#[test]
fn an_ill_typed_node_field_names_the_override() {
    let mut o = Overrides::new();
    o.set("core.base_port=high").expect("syntax ok");
    o.set("edge.base_port=70000").expect("syntax ok");
    let e = load_str(TWO_NODES, "pair.toml", &registry(), &o).expect_err("bad ports");
    let got: Vec<(&str, usize, &str)> = e
        .diagnostics
        .iter()
        .map(|d| (d.origin.as_str(), d.line, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "--set edge.base_port=70000",
                0,
                "`base_port` in node `edge` is 70000, outside 1..=65535"
            ),
            (
                "--set core.base_port=high",
                0,
                "`base_port` in node `core` must be an integer, not string"
            ),
        ]
    );
    // Shown without a position or source line.
    let shown = e.to_string();
    assert!(
        shown.starts_with("--set edge.base_port=70000: `base_port` in node `edge` is 70000"),
        "{shown}"
    );
}

#[test]
fn a_missing_param_supplied_by_an_override_and_errors_inside_overrides() {
    // rate is required; the override supplies it.
    let text = "[actors.s]\nkind = \"t.sensor\"\n";
    let mut o = Overrides::new();
    o.set("main.s.rate=5").expect("valid");
    let t = load_str(text, "x.toml", &registry(), &o).expect("loads");
    assert_eq!(
        t.actor("s")
            .and_then(|a| a.params.get("rate")?.as_integer()),
        Some(5)
    );

    // A nested value of the wrong type inside an override table.
    let mut o = Overrides::new();
    o.set("main.s.rate={ x = 1 }").expect("valid");
    let e = load_str(text, "x.toml", &registry(), &o).expect_err("a table is not a u32");
    assert_eq!(e.diagnostics.len(), 1, "{e}");
    assert_eq!(e.diagnostics[0].origin, "--set main.s.rate={ x = 1 }");

    // Setting below a param that is not a table.
    let mut o = Overrides::new();
    o.set("main.s.rate.sub=1").expect("valid");
    let text = "[actors.s]\nkind = \"t.sensor\"\nparams = { rate = 1 }\n";
    let e = load_str(text, "x.toml", &registry(), &o).expect_err("rate is no table");
    assert_eq!(e.diagnostics[0].origin, "--set main.s.rate.sub=1");
    assert_eq!(
        e.diagnostics[0].message,
        "`actors.s.params.rate` is not a table"
    );
}

#[test]
fn malformed_assignments_are_rejected_with_their_origin() {
    let mut o = Overrides::new();
    for bad in ["no-equals", "single=1", "=1", "a..b=1", "main.=1"] {
        let e = o.set(bad).expect_err(bad);
        assert_eq!(e.origin, format!("--set {bad}"));
    }
    assert!(o.is_empty());
    let e = o.set("single=1").expect_err("one part");
    assert_eq!(
        e.problem,
        "the path must be NODE.ACTOR.PARAM (an actor parameter) or NODE.FIELD (a node field)"
    );
    // set chains.
    o.set("main.a.b=1")
        .and_then(|o| o.set("main.a.c=2"))
        .expect("chain");
    assert!(!o.is_empty());
}
