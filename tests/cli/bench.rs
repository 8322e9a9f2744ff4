//! `rolecall bench all` and lists of suites: each suite in its own process,
//! its report line as it completes, then a summary with every ratio, each
//! suite's peak memory, and the suites that failed.

use crate::support::*;

#[test]
fn a_list_of_suites_reports_each_then_a_summary_naming_the_failures() {
    // zk fails at once without a server address; actor runs.
    let out = run(rolecall()
        .args(["bench", "actor,zk", "--json", "--messages", "20000"])
        .env_remove("ROLECALL_ZK"));
    let text = stdout(&out);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "the actor report and the summary: {text}");
    let (actor, summary) = (&lines[0], &lines[1]);
    assert_eq!(actor["suite"], "actor");
    assert!(
        actor["peak_rss_mib"].as_f64().is_some_and(|m| m > 1.0),
        "{actor}"
    );
    assert_eq!(summary["suite"], "all");
    assert_eq!(summary["ratio"], actor["ratio"]);
    assert_eq!(summary["lowest"], "actor");
    assert_eq!(summary["ratios"]["actor"], actor["ratio"]);
    assert_eq!(summary["peak_rss_mib"]["actor"], actor["peak_rss_mib"]);
    assert!(summary["seconds"]["zk"].as_f64().is_some(), "{summary}");
    let why = summary["failed"]["zk"].as_str().unwrap_or_default();
    assert!(why.starts_with("exited with"), "{summary}");
    assert!(err.contains("ROLECALL_ZK is not set"), "{err}");
    assert!(err.contains("bench: suite zk (2 of 2)"), "{err}");
}

#[test]
fn an_unknown_suite_in_a_list_is_a_usage_error_before_anything_runs() {
    let out = run(rolecall().args(["bench", "actor,zmqq"]));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.starts_with("error: unknown bench suite `zmqq` in `actor,zmqq`: available: all, actor"),
        "{err}"
    );
    assert!(!err.contains("bench: suite"), "{err}");
}
