//! Bad input for the container commands: one clear line each.

use super::harness::*;

fn one_line_error(o: &std::process::Output) -> String {
    assert!(!o.status.success(), "expected a failure: {}", text(o));
    let err = String::from_utf8_lossy(&o.stderr).trim_end().to_owned();
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn a_wire_with_a_fixed_loopback_endpoint_is_unreachable_in_containers() {
    let f = "tests/cli/fixtures/containers_unreachable.toml";
    for cmd in [&["compose"][..], &["docker", "up"], &["k8s"]] {
        let mut args = cmd.to_vec();
        args.push(f);
        let err = one_line_error(&rolecall_out(&args));
        assert!(
            err.starts_with(&format!(
                "{f}:19: wire `source.out` → `sink.in` connects to `tcp://127.0.0.1:7600`"
            )),
            "{cmd:?}: {err}"
        );
        assert!(err.contains("remove the wire's `endpoint`"), "{err}");
    }
}

#[test]
fn a_loopback_connect_to_another_node_is_unreachable_in_containers() {
    let f = "tests/cli/fixtures/containers_loopback.toml";
    let err = one_line_error(&rolecall_out(&["compose", f]));
    assert!(
        err.starts_with(&format!(
            "{f}:14: actor `req` connects to `tcp://127.0.0.1:15590`"
        )),
        "{err}"
    );
    assert!(
        err.contains(
            "bound on node `server`: connect to `tcp://rolecall-containers-loopback-server:15590`"
        ),
        "{err}"
    );
    // Pointed at the server's container, it plans.
    let ok = rolecall_out(&[
        "compose",
        f,
        "--set",
        "client.req.connect=[\"tcp://rolecall-containers-loopback-server:15590\"]",
    ]);
    assert!(ok.status.success(), "{}", text(&ok));
}

#[test]
fn a_missing_docker_daemon_is_one_line() {
    let o = run(crate::support::rolecall()
        .env("DOCKER_HOST", "tcp://127.0.0.1:34999")
        .args(["docker", "up", "examples/paxos_kv/nodes.toml"]));
    let err = one_line_error(&o);
    assert!(
        err.starts_with("error: the Docker daemon is not reachable at tcp://127.0.0.1:34999")
            || err.starts_with("error: the `docker` command was not found"),
        "{err}"
    );
    let o = run(crate::support::rolecall()
        .env("DOCKER_HOST", "tcp://127.0.0.1:34999")
        .args(["image", "--tag", "rcct-nowhere:1"]));
    let err = one_line_error(&o);
    assert!(
        err.contains("Docker daemon is not reachable")
            || err.contains("`docker` command was not found"),
        "{err}"
    );
}

use crate::support::run;

#[test]
fn a_missing_image_or_a_topology_already_up_is_one_line() {
    let Some(lab) = super::harness::Lab::new("noimage") else {
        return;
    };
    let missing = format!("{}missing:1", lab.prefix);
    let o = lab.rolecall(
        &["docker", "up"],
        &["--image", &missing, "examples/paxos_kv/nodes.toml"],
    );
    let err = one_line_error(&o);
    assert_eq!(
        err,
        format!(
            "error: image `{missing}` not found: build it with `rolecall image --tag {missing}`"
        )
    );
    // A network of the same name means the topology is up already.
    lab.images(false);
    let net = format!("{}paxos-kv-nodes", lab.prefix);
    docker(&["network", "create", &net]);
    let err = one_line_error(&lab.rolecall(&["docker", "up"], &["examples/paxos_kv/nodes.toml"]));
    assert!(
        err.contains(&format!("network `{net}` already exists")),
        "{err}"
    );
    docker(&["network", "rm", &net]);
    lab.finish("examples/paxos_kv/nodes.toml");
}
