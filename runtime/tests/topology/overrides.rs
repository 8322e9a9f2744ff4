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

#[test]
fn overrides_are_read_from_the_environment() {
    // A unique variable name keeps this test independent of others.
    std::env::set_var("ROLECALL_SET_TOPOLOGY_TEST", "edge.sensor.rate=77");
    let o = Overrides::from_env().expect("valid");
    std::env::remove_var("ROLECALL_SET_TOPOLOGY_TEST");
    let t = load_str(TWO_NODES, "pair.toml", &registry(), &o).expect("loads");
    assert_eq!(
        t.actor("sensor")
            .and_then(|a| a.params.get("rate")?.as_integer()),
        Some(77)
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
