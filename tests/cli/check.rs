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
}
