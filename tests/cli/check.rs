//! `rolecall check` and `rolecall kinds`.

use crate::support::*;

#[test]
fn check_prints_the_wiring_graph_as_text_and_dot() {
    let out = run(rolecall().args(["check", "examples/quickstart/topology.toml"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in ["weather", "encode", "decode", "stats", "topic.source"] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    let dot = run(rolecall().args([
        "check",
        "examples/quickstart/topology.toml",
        "--format",
        "dot",
    ]));
    assert!(dot.status.success());
    let dot = stdout(&dot);
    assert!(dot.trim_start().starts_with("digraph"), "{dot}");
    assert!(dot.contains("->"), "{dot}");
}

#[test]
fn check_reports_errors_with_file_line_and_column_and_exits_2() {
    let out = run(rolecall().args(["check", "tests/cli/fixtures/broken.toml"]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("tests/cli/fixtures/broken.toml:6:"), "{err}");
    assert!(err.contains("topic.sorce"), "{err}");
    assert!(err.contains("topic.source"), "a suggestion: {err}");
}

#[test]
fn kinds_lists_kinds_with_ports_and_the_libzmq_capabilities() {
    let out = run(rolecall().arg("kinds"));
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.starts_with("libzmq 4."), "{text}");
    assert!(
        text.contains("pgm: yes") && text.contains("curve: yes"),
        "system libzmq with pgm and CURVE: {text}"
    );
    for needle in [
        "topic.source",
        "topic.encode",
        "topic.decode",
        "topic.latency",
        "count",
        "interval_ms",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    // Each kind's description matches its ports: a PUB has no `out`.
    let block = |name: &str| {
        let start = text
            .find(&format!("\n{name}\n"))
            .unwrap_or_else(|| panic!("{name} listed:\n{text}"));
        let rest = &text[start + 1..];
        rest[..rest.find("\n\n").unwrap_or(rest.len())].to_owned()
    };
    for kind in ["zmq.pub", "zmq.push"] {
        let about = block(kind);
        assert!(
            !about.contains("`out`") || about.contains("no `out`"),
            "{about}"
        );
        assert!(!about.contains("output out"), "{about}");
    }
    assert!(block("zmq.sub").contains("output out"));
    assert!(block("registry.text-server").contains("params: none"));
    assert!(!text.contains("toml::map::Map"), "{text}");
}

#[test]
fn keygen_writes_a_curve_key_pair() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("rolecall-keygen-{}", std::process::id()));
    let out = run(rolecall().args(["keygen", "alice", "--dir"]).arg(&dir));
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = std::fs::read_to_string(dir.join("alice.key")).expect("secret key written");
    let public = std::fs::read_to_string(dir.join("alice.pub")).expect("public key written");
    assert_eq!(secret.trim().len(), 40, "Z85 of 32 bytes");
    assert_eq!(public.trim().len(), 40);
    assert_ne!(secret, public);
    let mode = std::fs::metadata(dir.join("alice.key"))
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the secret key is private");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rolecall check` on `text` (written to a temporary `t.toml`): exit code and stderr.
fn check_text(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.toml");
    std::fs::write(&path, text).expect("write topology");
    let out = run(rolecall().arg("check").arg(&path));
    (out.status.code(), stderr(&out))
}

#[test]
fn check_catches_values_roles_reject_and_binds_of_every_endpoint_kind() {
    // Counts of zero, which used to fail only when the actor was built.
    let (code, err) = check_text(
        "[actors.p]\nkind = \"paxos.proposer\"\nparams = { id = 1, acceptors = 0, value = \"v\" }\n\
         [actors.m]\nkind = \"metrics.reporter\"\nparams = { path = \"x.lp\", batch_size = 0 }\n",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("t.toml:3:") && err.contains("parameter `acceptors`: must be at least 1"),
        "{err}"
    );
    assert!(
        err.contains("t.toml:6:") && err.contains("parameter `batch_size`"),
        "{err}"
    );
    // A proxy's frontend and an endpoint's second bind take one address: the
    // error points at the array element.
    let (code, err) = check_text(
        "[actors.proxy]\nkind = \"zmq.proxy\"\n\
         params = { mode = \"pull-push\", frontend = { bind = [\"tcp://*:15990\"] }, backend = { bind = [\"tcp://*:15991\"] } }\n\
         [actors.pull]\nkind = \"zmq.pull\"\nparams = { bind = [\"tcp://*:15992\", \"tcp://127.0.0.1:15990\"] }\n",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("t.toml:6:37"), "{err}");
    assert!(
        err.contains(
            "binds `tcp://127.0.0.1:15990`, which actor `proxy` on node `main` already binds"
        ),
        "{err}"
    );
}

#[test]
fn check_warns_about_a_loop_of_reactive_actors_nothing_feeds() {
    let looped = "[actors.enc]\nkind = \"topic.encode\"\n[actors.dec]\nkind = \"topic.decode\"\n\
                  [[wires]]\nfrom = \"enc.out\"\nto = \"dec.in\"\n[[wires]]\nfrom = \"dec.out\"\nto = \"enc.in\"\n";
    let (code, err) = check_text(looped);
    assert_eq!(code, Some(0), "a warning, not an error: {err}");
    assert!(
        err.contains("warning: actors dec, enc form a wire cycle that no other actor feeds, and each only answers what it receives: they will wait forever"),
        "{err}"
    );
    // Fed by a source, the same loop is fine.
    let fed = format!("{looped}[actors.src]\nkind = \"topic.source\"\nparams = {{ topic = \"t\", count = 1 }}\n[[wires]]\nfrom = \"src.out\"\nto = \"enc.in\"\n");
    let (code, err) = check_text(&fed);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("warning"), "{err}");
}
