//! What roles contribute to checking a topology (`Role::check`): parameter
//! values they reject, and the addresses actors and hops bind — exact
//! message and position.

use rolecall_runtime::topology::{load_str, Overrides};

use crate::errors::one;
use crate::roles::registry;

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
fn an_actor_binding_a_wire_endpoint() {
    let text = "[nodes.a]\n[nodes.b]\n[actors.s]\nkind = \"t.sensor\"\nnode = \"a\"\nparams = { rate = 1 }\n[actors.d]\nkind = \"t.display\"\nnode = \"b\"\n[actors.t]\nkind = \"t.sensor\"\nnode = \"b\"\nparams = { rate = 1, bind = \"tcp://*:7400\" }\n[[wires]]\nfrom = \"s.out\"\nto = \"d.in\"\n";
    let (line, col, msg, help) = one(text);
    assert_eq!((line, col), (13, 29));
    assert_eq!(
        msg,
        "actor `t` binds `tcp://*:7400`, which wire s.out -> d.in on node `b` already binds"
    );
    assert_eq!(
        help.as_deref(),
        Some("two sockets cannot bind one address on one host: change one of them")
    );
}

#[test]
fn binds_on_different_nodes_or_ports_do_not_collide() {
    let text = "[nodes.a]\n[nodes.b]\n[actors.s]\nkind = \"t.sensor\"\nnode = \"a\"\nparams = { rate = 1, bind = \"tcp://*:5555\" }\n[actors.t]\nkind = \"t.sensor\"\nnode = \"b\"\nparams = { rate = 1, bind = \"tcp://*:5555\" }\n[actors.u]\nkind = \"t.sensor\"\nnode = \"b\"\nparams = { rate = 1, bind = \"tcp://*:5556\" }\n";
    assert!(load_str(text, "t.toml", &registry(), &Overrides::new()).is_ok());
}

#[test]
fn endpoint_needs_exactly_one_cross_node_destination_and_a_valid_form() {
    let base = "[nodes.a]\n[nodes.b]\n[actors.s]\nkind = \"t.sensor\"\nnode = \"a\"\nparams = { rate = 1 }\n[actors.d]\nkind = \"t.display\"\nnode = \"b\"\n[actors.e]\nkind = \"t.display\"\nnode = \"b\"\n[[wires]]\nfrom = \"s.out\"\n";
    let (line, col, msg, _) = one(&format!(
        "{base}to = [\"d.in\", \"e.in\"]\nendpoint = \"tcp://h:1\"\n"
    ));
    assert_eq!((line, col), (16, 12));
    assert_eq!(
        msg,
        "`endpoint` in wire #1 needs exactly one destination on another node (it has 2)"
    );
    let (_, _, msg, _) = one(&format!("{base}to = \"d.in\"\nendpoint = \"tcp://h\"\n"));
    assert_eq!(msg, "endpoint `tcp://h` has no port");
    let (_, _, msg, _) = one(&format!("{base}to = \"d.in\"\nendpoint = \"udp://h:1\"\n"));
    assert_eq!(
        msg,
        "endpoint `udp://h:1` must be tcp://HOST:PORT or ipc://PATH"
    );
}

#[test]
fn a_value_the_role_rejects_is_reported_at_the_parameter() {
    let text = "[actors.a]\nkind = \"t.sensor\"\nparams = { bind = \"tcp://*:5555\", rate = 0 }\n";
    let (line, col, msg, help) = one(text);
    assert_eq!((line, col), (3, 42));
    assert_eq!(
        msg,
        "actor `a` (kind `t.sensor`), parameter `rate`: must be at least 1"
    );
    assert_eq!(help.as_deref(), Some("readings per second"));
}
