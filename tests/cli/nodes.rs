//! `rolecall node`: two processes wired over ZeroMQ; graceful shutdown on signals.

use std::process::Command;
use std::time::Duration;

use crate::support::*;

#[test]
fn two_node_processes_wired_over_zeromq_deliver_everything_and_end_by_themselves() {
    // Private ports for this test, so it can run beside others.
    let topo = "examples/two_nodes/topology.toml";
    let port = "--set=analysis.base_port=17411";
    let mut analysis = spawn(&["node", topo, "--node", "analysis", port]);
    std::thread::sleep(Duration::from_millis(300));
    let mut sensors = spawn(&["node", topo, "--node", "sensors", port]);
    let s = wait_with_timeout(&mut sensors, Duration::from_secs(30));
    let a = wait_with_timeout(&mut analysis, Duration::from_secs(30));
    let (s_out, s_err) = read_all(&mut sensors);
    let (a_out, a_err) = read_all(&mut analysis);
    assert!(
        s.is_some_and(|s| s.success()),
        "sensors: {s:?}\n{s_out}\n{s_err}"
    );
    assert!(
        a.is_some_and(|s| s.success()),
        "analysis: {a:?}\n{a_out}\n{a_err}"
    );
    let row = a_out
        .lines()
        .find(|l| l.starts_with("weather"))
        .unwrap_or_else(|| panic!("{a_out}\n{a_err}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols.get(1), Some(&"200"), "all 200 messages crossed: {row}");
    assert_eq!(cols.get(2), Some(&"0"), "no gaps: {row}");
}

#[test]
fn sigterm_shuts_a_node_down_gracefully_with_exit_status_0() {
    let mut child = spawn(&["run", "tests/cli/fixtures/forever.toml"]);
    std::thread::sleep(Duration::from_millis(800));
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    let (out, err) = read_all(&mut child);
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}\n{out}\n{err}"
    );
    // The statistics actor saw its input end and printed the table: the drain happened.
    let row = out
        .lines()
        .find(|l| l.starts_with("forever"))
        .unwrap_or_else(|| panic!("{out}\n{err}"));
    let count: u64 = row
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    assert!(count > 50, "{row}");
    assert!(row.split_whitespace().nth(2) == Some("0"), "no gaps: {row}");
}

#[test]
fn a_node_whose_actor_keeps_failing_exits_with_status_1() {
    let out = run(rolecall().args([
        "run",
        "examples/quickstart/topology.toml",
        "--set",
        "main.encode.format=nonsense",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no `nonsense` codec for Topic"),
        "{}",
        stderr(&out)
    );
}
