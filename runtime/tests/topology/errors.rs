//! Every class of topology error: exact message and position.

use rolecall_runtime::topology::{load_str, Diagnostic, Overrides};

use crate::roles::registry;

fn errors(text: &str) -> Vec<Diagnostic> {
    match load_str(text, "t.toml", &registry(), &Overrides::new()) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.diagnostics,
    }
}

/// The single error of `text`, as (line, column, message, help).
fn one(text: &str) -> (usize, usize, String, Option<String>) {
    let e = errors(text);
    assert_eq!(e.len(), 1, "expected one error, got {e:#?}");
    let d = &e[0];
    assert_eq!(d.origin, "t.toml");
    (d.line, d.column, d.message.clone(), d.help.clone())
}

#[test]
fn toml_syntax() {
    let (line, col, msg, _) = one("[actors.a]\nkind = \"t.sensor\nx = 1\n");
    assert_eq!((line, col), (2, 17), "the end of the unterminated string");
    assert!(msg.starts_with("invalid TOML:"), "{msg}");
}

#[test]
fn unknown_key_with_suggestion() {
    let (line, col, msg, help) = one("[actors.a]\nkind = \"t.display\"\nrestrat = \"never\"\n");
    assert_eq!((line, col), (3, 1));
    assert_eq!(msg, "unknown key `restrat` in actor `a`");
    assert_eq!(help.as_deref(), Some("did you mean `restart`?"));
}

#[test]
fn unknown_top_level_table() {
    let (line, col, msg, help) = one("[wire]\nfrom = \"a.out\"\n");
    assert_eq!((line, col), (1, 2));
    assert_eq!(msg, "unknown key `wire` in the topology");
    assert_eq!(help.as_deref(), Some("did you mean `wires`?"));
}

#[test]
fn unknown_kind_with_suggestion() {
    let (line, col, msg, help) = one("[actors.a]\nkind = \"t.sensr\"\n");
    assert_eq!((line, col), (2, 8));
    assert_eq!(msg, "unknown kind `t.sensr` for actor `a`");
    assert_eq!(
        help.as_deref(),
        Some("did you mean `t.sensor`? `rolecall kinds` lists every kind")
    );
}

#[test]
fn missing_kind() {
    let (line, col, msg, _) = one("[actors.a]\nnode = \"main\"\n");
    assert_eq!((line, col), (1, 9));
    assert_eq!(msg, "actor `a` has no `kind`");
}

#[test]
fn missing_parameter() {
    let (line, col, msg, help) = one("[actors.s]\nkind = \"t.sensor\"\nparams = { }\n");
    assert_eq!((line, col), (3, 10));
    assert!(
        msg.contains("actor `s` (kind `t.sensor`): missing field `rate`"),
        "{msg}"
    );
    assert_eq!(
        help.as_deref(),
        Some("`t.sensor` takes parameters: rate, bind (see `rolecall kinds`)")
    );
}

#[test]
fn mistyped_parameter_points_at_the_value() {
    let (line, col, msg, _) =
        one("[actors.s]\nkind = \"t.sensor\"\n[actors.s.params]\nrate = \"fast\"\n");
    assert_eq!((line, col), (4, 8));
    assert!(
        msg.contains("invalid type: string \"fast\", expected u32"),
        "{msg}"
    );
}

#[test]
fn unknown_parameter() {
    let (line, col, msg, _) =
        one("[actors.s]\nkind = \"t.sensor\"\nparams = { rate = 1, rte = 2 }\n");
    assert_eq!(line, 3);
    assert!(col >= 10, "{col}");
    assert!(msg.contains("unknown field `rte`"), "{msg}");
}

#[test]
fn wrong_type_for_a_fixed_key() {
    let (line, col, msg, _) = one("[actors.a]\nkind = \"t.display\"\nafter = 3\n");
    assert_eq!((line, col), (3, 9));
    assert_eq!(
        msg,
        "`after` in actor `a` must be a string or an array of strings, not integer"
    );
}

const PAIR: &str =
    "[actors.s]\nkind = \"t.sensor\"\nparams = { rate = 1 }\n[actors.d]\nkind = \"t.display\"\n";

#[test]
fn unknown_port_lists_the_ports() {
    let (line, col, msg, help) = one(&format!(
        "{PAIR}[[wires]]\nfrom = \"s.output\"\nto = \"d.in\"\n"
    ));
    assert_eq!((line, col), (7, 8));
    assert_eq!(msg, "actor `s` (kind `t.sensor`) has no port `output`");
    let help = help.unwrap_or_default();
    assert!(help.contains("output ports of `t.sensor`: `out`"), "{help}");
}

#[test]
fn port_of_the_wrong_direction() {
    let e = errors(&format!(
        "{PAIR}[[wires]]\nfrom = \"d.in\"\nto = \"s.out\"\n"
    ));
    let got: Vec<(usize, usize, &str)> = e
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                7,
                8,
                "`d.in` is an input port; `from` must name an output port"
            ),
            (
                8,
                6,
                "`s.out` is an output port; `to` must name input ports"
            ),
        ]
    );
    assert_eq!(
        e[0].help.as_deref(),
        Some("kind `t.display` has no output ports")
    );
}

#[test]
fn mismatched_message_types() {
    let (line, col, msg, _) = one(&format!(
        "{PAIR}[[wires]]\nfrom = \"s.out\"\nto = [\"d.text\"]\n"
    ));
    assert_eq!((line, col), (8, 7));
    assert!(
        msg.starts_with(
            "wire `s.out -> d.text` connects mismatched message types: `s.out` sends `"
        ),
        "{msg}"
    );
    assert!(msg.contains("Reading") && msg.contains("Text"), "{msg}");
}

#[test]
fn dangling_wire_actor() {
    let (line, col, msg, help) = one(&format!(
        "{PAIR}[[wires]]\nfrom = \"s.out\"\nto = \"dd.in\"\n"
    ));
    assert_eq!((line, col), (8, 6));
    assert_eq!(msg, "wire refers to unknown actor `dd`");
    assert_eq!(help.as_deref(), Some("did you mean `d`?"));
}

#[test]
fn the_same_destination_twice() {
    let (line, col, msg, _) = one(&format!(
        "{PAIR}[[wires]]\nfrom = \"s.out\"\nto = [\"d.in\", \"d.in\"]\n"
    ));
    assert_eq!((line, col), (8, 15));
    assert_eq!(msg, "`s.out -> d.in` is wired twice");
}

#[test]
fn duplicate_names_of_actor_and_group() {
    let (line, col, msg, _) = one(&format!("{PAIR}[groups.d]\n"));
    assert_eq!((line, col), (6, 9));
    assert_eq!(msg, "group `d` has the same name as an actor");
}

#[test]
fn duplicate_actor_names_are_a_toml_error() {
    let (line, _, msg, _) = one(&format!("{PAIR}[actors.d]\nkind = \"t.display\"\n"));
    assert_eq!(line, 6);
    assert!(msg.starts_with("invalid TOML:"), "{msg}");
}

#[test]
fn dangling_group_node_after_parent() {
    let text = "[nodes.a]\n[nodes.b]\n[groups.g]\nnode = \"a\"\nparent = \"nope\"\n[actors.x]\nkind = \"t.display\"\nnode = \"c\"\ngroup = \"h\"\nafter = [\"y\"]\n";
    let e = errors(text);
    let got: Vec<(usize, usize, &str)> = e
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (5, 10, "group `g` has unknown parent group `nope`"),
            (8, 8, "actor `x` is placed on unknown node `c`"),
            (9, 9, "actor `x` is in unknown group `h`"),
            (10, 10, "actor `x` starts after unknown actor `y`"),
        ]
    );
}

#[test]
fn after_cycle() {
    let text = "[actors.a]\nkind = \"t.display\"\nafter = [\"b\"]\n[actors.b]\nkind = \"t.display\"\nafter = [\"a\"]\n";
    let (line, col, msg, _) = one(text);
    assert_eq!((line, col), (3, 10));
    assert_eq!(msg, "`after` forms a cycle: a after b after a");
}

#[test]
fn group_parent_cycle() {
    let text = "[groups.a]\nparent = \"b\"\n[groups.b]\nparent = \"a\"\n";
    let e = errors(text);
    assert!(
        e.iter()
            .all(|d| d.message.starts_with("group parents form a cycle")),
        "{e:#?}"
    );
    assert_eq!((e[0].line, e[0].column), (2, 10));
}

#[test]
fn node_is_required_with_several_nodes() {
    let (line, col, msg, help) = one("[nodes.a]\n[nodes.b]\n[actors.x]\nkind = \"t.display\"\n");
    assert_eq!((line, col), (3, 9));
    assert_eq!(msg, "actor `x` has no `node` and the topology has 2 nodes");
    assert_eq!(
        help.as_deref(),
        Some("add node = \"...\" (one of `a`, `b`)")
    );
}

#[test]
fn actor_and_group_on_different_nodes() {
    let text = "[nodes.a]\n[nodes.b]\n[groups.g]\nnode = \"a\"\n[actors.x]\nkind = \"t.display\"\nnode = \"b\"\ngroup = \"g\"\n";
    let (line, col, msg, _) = one(text);
    assert_eq!((line, col), (8, 9));
    assert_eq!(
        msg,
        "actor `x` is on node `b` but its group `g` is on node `a`"
    );
}

#[test]
fn two_actors_binding_the_same_address() {
    let text = "[actors.a]\nkind = \"t.sensor\"\nparams = { rate = 1, bind = \"tcp://*:5555\" }\n[actors.b]\nkind = \"t.sensor\"\nparams = { rate = 1, bind = \"tcp://127.0.0.1:5555\" }\n";
    let (line, col, msg, _) = one(text);
    assert_eq!((line, col), (6, 29));
    assert_eq!(
        msg,
        "actor `b` binds `tcp://127.0.0.1:5555`, which actor `a` on node `main` already binds"
    );
}

#[test]
fn two_wires_binding_the_same_endpoint() {
    let text = "[nodes.a]\n[nodes.b]\n[actors.s]\nkind = \"t.sensor\"\nnode = \"a\"\nparams = { rate = 1 }\n[actors.d]\nkind = \"t.display\"\nnode = \"b\"\n[actors.e]\nkind = \"t.display\"\nnode = \"b\"\n[[wires]]\nfrom = \"s.out\"\nto = \"d.in\"\nendpoint = \"tcp://h:6000\"\n[[wires]]\nfrom = \"s.out\"\nto = \"e.in\"\nendpoint = \"tcp://h:6000\"\n";
    let (line, col, msg, _) = one(text);
    assert_eq!((line, col), (20, 12));
    assert_eq!(msg, "two wires bind `tcp://0.0.0.0:6000` on node `b`");
}

#[test]
fn codec_not_available_across_nodes() {
    let text = "[nodes.a]\n[nodes.b]\n[actors.s]\nkind = \"t.sensor\"\nnode = \"a\"\nparams = { rate = 1 }\n[actors.d]\nkind = \"t.display\"\nnode = \"b\"\n[[wires]]\nfrom = \"s.local\"\nto = \"d.local\"\n";
    let (line, col, msg, help) = one(text);
    assert_eq!((line, col), (12, 6));
    assert!(
        msg.starts_with(
            "wire `s.local -> d.local` crosses from node `a` to `b` but message type `"
        ),
        "{msg}"
    );
    assert!(msg.ends_with("Local` has no `binary` codec"), "{msg}");
    assert_eq!(
        help.as_deref(),
        Some("give the type serde Serialize/Deserialize or register a codec for it")
    );

    let text = text.replace(
        "from = \"s.local\"\nto = \"d.local\"\n",
        "from = \"s.out\"\nto = \"d.in\"\ncodec = \"flatbuffers\"\n",
    );
    let (_, _, msg, help) = one(&text);
    assert!(msg.ends_with("has no `flatbuffers` codec"), "{msg}");
    assert_eq!(help.as_deref(), Some("available codecs: binary, json"));
}

#[test]
fn bad_values_for_policies_capacity_and_durations() {
    let text = format!(
        "{PAIR}restart = \"sometimes\"\nwithin = \"10\"\nbackoff = {{ jitter = 2.0 }}\n[[wires]]\nfrom = \"s.out\"\nto = \"d.in\"\ncapacity = 0\npolicy = \"drop-all\"\n"
    );
    let e = errors(&text);
    let got: Vec<(usize, &str)> = e.iter().map(|d| (d.line, d.message.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (6, "unknown restart policy `sometimes` in actor `d`"),
            (
                7,
                "`within` in actor `d`: `10` has no unit: write e.g. \"10ms\" or \"10s\""
            ),
            (
                8,
                "`jitter` in the backoff of actor `d` is 2, outside 0..=1"
            ),
            (12, "`capacity` in wire #1 is 0, outside 1..=16777216"),
            (
                13,
                "unknown wire policy `drop-all`: expected one of block, drop-newest, drop-oldest"
            ),
        ]
    );
}

#[test]
fn all_errors_are_reported_in_one_pass_with_source_lines() {
    let text = "[actors.a]\nkind = \"t.nope\"\n[actors.b]\nkind = \"t.display\"\nbogus = 1\n";
    let e = load_str(text, "t.toml", &registry(), &Overrides::new()).expect_err("two errors");
    assert_eq!(e.diagnostics.len(), 2);
    let shown = e.to_string();
    assert!(
        shown.contains("t.toml:2:8: error: unknown kind `t.nope` for actor `a`"),
        "{shown}"
    );
    assert!(
        shown.contains(" 2 | kind = \"t.nope\"\n   |        ^"),
        "{shown}"
    );
    assert!(shown.ends_with("2 errors in topology"), "{shown}");
}
