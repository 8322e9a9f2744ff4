//! Every class of topology error: exact message and position.

use rolecall_runtime::topology::{load_str, Diagnostic, Overrides};

use crate::roles::registry;

pub(crate) fn errors(text: &str) -> Vec<Diagnostic> {
    match load_str(text, "t.toml", &registry(), &Overrides::new()) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.diagnostics,
    }
}

/// The single error of `text`, as (line, column, message, help).
pub(crate) fn one(text: &str) -> (usize, usize, String, Option<String>) {
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
    // The second `[actors.d]` is reported once, not again for its `kind`.
    let (line, col, msg, help) = one(&format!("{PAIR}[actors.d]\nkind = \"t.display\"\n"));
    assert_eq!((line, col), (6, 9));
    assert_eq!(msg, "invalid TOML: table `[actors.d]` is defined twice");
    assert_eq!(
        help.as_deref(),
        Some("each node, group and actor is defined once: rename one or merge them")
    );
}

#[test]
fn duplicate_keys_are_named() {
    let (line, col, msg, _) = one("[actors.d]\nkind = \"t.display\"\nkind = \"t.relay\"\n");
    assert_eq!((line, col), (3, 1));
    assert_eq!(msg, "invalid TOML: duplicate key `kind`");
}

#[test]
fn several_syntax_errors_are_reported_one_per_line() {
    let e = errors("[actors.a]\nkind = = \"t.display\"\n[actors.b]\nkind = \"t.display\n");
    let got: Vec<(usize, usize)> = e.iter().map(|d| (d.line, d.column)).collect();
    assert_eq!(got, vec![(2, 8), (4, 18)], "{e:#?}");
    assert!(e.iter().all(|d| d.message.starts_with("invalid TOML:")));
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
        shown.contains("t.toml:2:8: unknown kind `t.nope` for actor `a`"),
        "{shown}"
    );
    assert!(
        shown.contains(" 2 | kind = \"t.nope\"\n   |        ^"),
        "{shown}"
    );
    assert!(shown.ends_with("2 errors in topology"), "{shown}");
}

#[test]
fn missing_params_point_at_the_actor_header() {
    let (line, col, msg, _) = one("[actors.sensor]\nkind = \"t.sensor\"\n");
    assert_eq!((line, col), (1, 9));
    assert_eq!(
        msg,
        "actor `sensor` (kind `t.sensor`): missing field `rate`"
    );
}

#[test]
fn unknown_port_with_a_suggestion() {
    let (line, col, msg, help) = one(&format!(
        "{PAIR}[[wires]]\nfrom = \"s.ot\"\nto = \"d.in\"\n"
    ));
    assert_eq!((line, col), (7, 8));
    assert_eq!(msg, "actor `s` (kind `t.sensor`) has no port `ot`");
    assert_eq!(
        help.as_deref(),
        Some("did you mean `s.out`? output ports of `t.sensor`: `out` (topology::roles::Reading), `local` (topology::roles::Local)")
    );
}

#[test]
fn a_port_reference_needs_a_dot() {
    let (line, col, msg, _) = one(&format!("{PAIR}[[wires]]\nfrom = \"s\"\nto = \"d.in\"\n"));
    assert_eq!((line, col), (7, 8));
    assert_eq!(msg, "`s` is not a port: write ACTOR.PORT");
}

#[test]
fn a_wire_needs_from_and_to() {
    let e = errors(&format!("{PAIR}[[wires]]\ncapacity = 4\n"));
    let got: Vec<(usize, usize, &str)> = e
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (6, 1, "wire #1 has no `from`"),
            (6, 1, "wire #1 has no `to`")
        ]
    );
}

#[test]
fn the_same_destination_from_two_wires_of_one_output() {
    let (line, col, msg, help) = one(&format!(
        "{PAIR}[[wires]]\nfrom = \"s.out\"\nto = \"d.in\"\n[[wires]]\nfrom = \"s.out\"\nto = \"d.in\"\n"
    ));
    assert_eq!((line, col), (11, 6));
    assert_eq!(msg, "`s.out -> d.in` is wired twice");
    assert_eq!(help.as_deref(), Some("remove the duplicate"));
}

#[test]
fn unknown_keys_everywhere_with_suggestions() {
    let text = "[topology]\nnmae = \"x\"\n[nodes.main]\nadress = \"h\"\n[groups.g]\nstrat = \"one-for-all\"\nbackoff = { mni = \"1s\" }\n[actors.d]\nkind = \"t.display\"\n[[wires]]\nfrom = \"d.x\"\ntoo = \"d.in\"\n";
    let e = errors(text);
    let got: Vec<(usize, usize, &str, Option<&str>)> = e
        .iter()
        .filter(|d| d.message.starts_with("unknown key"))
        .map(|d| (d.line, d.column, d.message.as_str(), d.help.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                2,
                1,
                "unknown key `nmae` in [topology]",
                Some("did you mean `name`?")
            ),
            (
                4,
                1,
                "unknown key `adress` in node `main`",
                Some("did you mean `address`?")
            ),
            (
                6,
                1,
                "unknown key `strat` in group `g`",
                Some("did you mean `strategy`?")
            ),
            (
                7,
                13,
                "unknown key `mni` in the backoff of group `g`",
                Some("did you mean `min`?")
            ),
            (
                12,
                1,
                "unknown key `too` in wire #1",
                Some("did you mean `to`?")
            ),
        ]
    );
}

#[test]
fn wrong_types_for_fixed_keys() {
    let text = "[topology]\nname = 3\n[nodes.main]\naddress = 5\nbase_port = \"7400\"\n[actors.d]\nkind = \"t.relay\"\nmax_restarts = \"3\"\nparams = 1\n[[wires]]\nfrom = \"d.out\"\nto = \"d.in\"\ncapacity = 1.5\n";
    let e = errors(text);
    let got: Vec<(usize, usize, &str)> = e
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, 8, "`name` in [topology] must be a string, not integer"),
            (
                4,
                11,
                "`address` in node `main` must be a string, not integer"
            ),
            (
                5,
                13,
                "`base_port` in node `main` must be an integer, not string"
            ),
            (
                8,
                16,
                "`max_restarts` in actor `d` must be an integer, not string"
            ),
            (9, 10, "`params` of actor `d` must be a table"),
            (
                13,
                12,
                "`capacity` in wire #1 must be an integer, not float"
            ),
        ]
    );
}

#[test]
fn durations_need_a_unit() {
    let e = errors("[topology]\ndrain_timeout = \"5 parsecs\"\n[groups.g]\nwithin = \"soon\"\n");
    let got: Vec<(usize, usize, &str)> = e
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                2,
                17,
                "`drain_timeout` in [topology]: unknown unit `parsecs` in `5 parsecs`: use ms, s, m or h"
            ),
            (
                4,
                10,
                "`within` in group `g`: `soon` is not a duration: write a number with a unit, e.g. \"250ms\", \"5s\", \"2m\""
            ),
        ]
    );
}

#[test]
fn dangling_group_node_and_parent_on_another_node() {
    let text = "[nodes.a]\n[nodes.b]\n[groups.top]\nnode = \"a\"\n[groups.g]\nnode = \"bb\"\n[groups.h]\nnode = \"b\"\nparent = \"top\"\n";
    let e = errors(text);
    let got: Vec<(usize, usize, &str, Option<&str>)> = e
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str(), d.help.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                6,
                8,
                "group `g` is placed on unknown node `bb`",
                Some("did you mean `b`?")
            ),
            (
                9,
                10,
                "group `h` is on node `b` but its parent `top` is on node `a`",
                None
            ),
        ]
    );
}

#[test]
fn an_actor_cannot_start_after_itself() {
    let (line, col, msg, _) = one("[actors.a]\nkind = \"t.display\"\nafter = [\"a\"]\n");
    assert_eq!((line, col), (3, 10));
    assert_eq!(msg, "actor `a` cannot start after itself");
}

#[test]
fn a_longer_after_cycle_is_reported_once() {
    let text = "[actors.x]\nkind = \"t.display\"\nafter = [\"a\"]\n[actors.a]\nkind = \"t.display\"\nafter = [\"x\", \"b\"]\n[actors.b]\nkind = \"t.display\"\nafter = [\"c\"]\n[actors.c]\nkind = \"t.display\"\nafter = [\"a\"]\n";
    let e = errors(text);
    let got: Vec<(usize, usize, &str)> = e
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    // x, a, b, c all wait for each other: one report, the shortest cycle
    // through the first of them.
    assert_eq!(
        got,
        vec![(3, 10, "`after` forms a cycle: x after a after x")]
    );
    assert_eq!(
        e[0].help.as_deref(),
        Some("remove one of these `after` entries")
    );
}

#[test]
fn separate_after_cycles_are_each_reported() {
    let text = "[actors.r]\nkind = \"t.display\"\nafter = [\"x\", \"s\"]\n[actors.s]\nkind = \"t.display\"\nafter = [\"r\"]\n[actors.x]\nkind = \"t.display\"\nafter = [\"a\"]\n[actors.a]\nkind = \"t.display\"\nafter = [\"x\"]\n";
    let e = errors(text);
    let got: Vec<(usize, usize, &str)> = e
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, 15, "`after` forms a cycle: r after s after r"),
            (9, 10, "`after` forms a cycle: x after a after x"),
        ]
    );
}

#[test]
fn base_port_out_of_range() {
    let (line, col, msg, _) = one("[nodes.main]\nbase_port = 0\n");
    assert_eq!((line, col), (2, 13));
    assert_eq!(msg, "`base_port` in node `main` is 0, outside 1..=65535");
}

#[test]
fn base_port_plus_k_overflowing() {
    let text = "[nodes.a]\n[nodes.b]\nbase_port = 65535\n[actors.s]\nkind = \"t.sensor\"\nnode = \"a\"\nparams = { rate = 1 }\n[actors.d]\nkind = \"t.display\"\nnode = \"b\"\n[actors.e]\nkind = \"t.display\"\nnode = \"b\"\n[[wires]]\nfrom = \"s.out\"\nto = [\"d.in\", \"e.in\"]\n";
    let (line, col, msg, help) = one(text);
    assert_eq!((line, col), (2, 8), "at the node");
    assert_eq!(
        msg,
        "node `b` needs more ports than base_port 65535 leaves (up to 65535)"
    );
    assert_eq!(help.as_deref(), Some("lower base_port"));
}

#[test]
fn unknown_policy_names() {
    let e = errors("[groups.g]\nstrategy = \"rest-for-one\"\n[actors.a]\nkind = \"t.display\"\nrestart = \"sometimes\"\n");
    let got: Vec<(usize, usize, &str, Option<&str>)> = e
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str(), d.help.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                2,
                12,
                "unknown strategy `rest-for-one` in group `g`",
                Some("use one-for-one or one-for-all")
            ),
            (
                5,
                11,
                "unknown restart policy `sometimes` in actor `a`",
                Some("use never, on-failure or always")
            ),
        ]
    );
}

#[test]
fn finish_when_names_known_actors() {
    let (line, col, msg, help) =
        one("[topology]\nfinish_when = [\"sorce\"]\n[actors.source]\nkind = \"t.display\"\n");
    assert_eq!((line, col), (2, 16));
    assert_eq!(msg, "`finish_when` names unknown actor `sorce`");
    assert_eq!(help.as_deref(), Some("did you mean `source`?"));
}

#[test]
fn diagnostics_display_with_origin_position_and_help() {
    let e = load_str(
        "[actors.a]\nkind = \"t.sensr\"\n",
        "app.toml",
        &registry(),
        &Overrides::new(),
    )
    .expect_err("unknown kind");
    let d = &e.diagnostics[0];
    assert_eq!(
        d.to_string(),
        "app.toml:2:8: unknown kind `t.sensr` for actor `a`\n  = help: did you mean `t.sensor`? `rolecall kinds` lists every kind"
    );
    assert_eq!(e.source_line(0), Some("kind = \"t.sensr\""));
    assert_eq!(
        e.to_string(),
        "app.toml:2:8: unknown kind `t.sensr` for actor `a`\n   |\n 2 | kind = \"t.sensr\"\n   |        ^\n  = help: did you mean `t.sensor`? `rolecall kinds` lists every kind\n1 error in topology"
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let (line, col, _, _) =
        one("# é è\n[actors.a]\nkind = \"t.display\" # ünïcode\nrestart = \"naïve\"\n");
    assert_eq!((line, col), (4, 11));
    let e = errors("[actors.a]\nkind = \"t.display\"\nafter = [\"é\", \"zz\"]\n");
    let got: Vec<(usize, usize)> = e.iter().map(|d| (d.line, d.column)).collect();
    assert_eq!(got, vec![(3, 10), (3, 15)]);
}

#[test]
fn invalid_names() {
    let (line, col, msg, _) = one("[actors.\"a.b\"]\nkind = \"t.display\"\n");
    assert_eq!((line, col), (1, 9));
    assert_eq!(msg, "invalid actor name `a.b`");
}

#[test]
fn a_non_table_actor_does_not_cascade() {
    // `x` is reported once; the wire to it is not reported again.
    let e = errors("[actors]\nx = 3\n[actors.s]\nkind = \"t.sensor\"\nparams = { rate = 1 }\n[[wires]]\nfrom = \"s.out\"\nto = \"x.in\"\n");
    let got: Vec<(usize, usize, &str)> = e
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![(2, 5, "`x` in [actors] must be a table, not integer")]
    );
}
