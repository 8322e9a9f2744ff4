//! `rolecall run --trace` (issue 19): a causal trace of a real run — every
//! message between actors stamped by the runtime, sent, received and handled,
//! in a file `rolecall trace` draws; bounded, stating what it did not record.

use std::collections::HashMap;
use std::path::Path;

use rolecall::runtime::trace::{self, Event, Kind};

use crate::support::*;

fn traced_quickstart(file: &Path, cap: Option<&str>) {
    let mut c = rolecall();
    c.args(["run", "examples/quickstart/topology.toml", "--trace"])
        .arg(file);
    if let Some(cap) = cap {
        c.args(["--trace-cap", cap]);
    }
    let out = run(&mut c);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn count(events: &[Event], kind: Kind, actor: &str) -> usize {
    events
        .iter()
        .filter(|e| e.kind == kind && e.actor == actor)
        .count()
}

#[test]
fn a_traced_run_records_every_message_in_happens_before_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.jsonl");
    traced_quickstart(&file, None);
    let events = trace::read(&file).unwrap();

    // Counts match what the topology sends: 300 weather and 200 traffic
    // topics, each through encode, decode and stats to the metrics reporter.
    let sends: HashMap<&str, &Event> = events
        .iter()
        .filter(|e| e.kind == Kind::Send)
        .map(|e| (e.msg.as_deref().expect("a send has an id"), e))
        .collect();
    assert_eq!(count(&events, Kind::Send, "weather"), 300);
    assert_eq!(count(&events, Kind::Send, "traffic"), 200);
    for actor in ["encode", "decode", "stats", "metrics"] {
        assert_eq!(count(&events, Kind::Handle, actor), 500, "{actor}");
        assert_eq!(count(&events, Kind::Receive, actor), 500, "{actor}");
    }
    assert_eq!(sends.len(), 2000, "ids are unique");
    assert!(!events.iter().any(|e| e.kind == Kind::Truncated));

    // Every receive has its send, with a smaller Lamport clock and a vector
    // clock below its own; every handle follows its receive on that actor.
    let mut received: HashMap<&str, &Event> = HashMap::new();
    for e in &events {
        assert_eq!(e.node, "main");
        assert!(!e.logical && e.time > 0);
        let id = e.msg.as_deref();
        match e.kind {
            Kind::Receive => {
                let s = sends[id.unwrap()];
                assert!(s.lamport < e.lamport, "{s:?} -> {e:?}");
                assert_eq!(e.peer.as_deref(), Some(s.actor.as_str()));
                assert_eq!(s.peer.as_deref(), Some(e.actor.as_str()));
                assert_eq!((&e.msg_type, &e.payload), (&s.msg_type, &s.payload));
                assert!(s
                    .vc
                    .iter()
                    .all(|(a, n)| e.vc.get(a).is_some_and(|m| m >= n)));
                assert!(e.vc[&s.actor] >= s.vc[&s.actor]);
                received.insert(id.unwrap(), e);
            }
            Kind::Handle => {
                let r = received[id.unwrap()];
                assert!(r.lamport < e.lamport && r.actor == e.actor);
            }
            _ => {}
        }
    }
    let topic = sends["weather#1"];
    assert_eq!(topic.msg_type, "Topic");
    assert!(
        topic.payload.contains("\"name\":\"weather\""),
        "{}",
        topic.payload
    );
    assert!(events
        .iter()
        .all(|e| e.payload.chars().count() <= trace::SUMMARY_BOUND + 1));

    // The viewer draws it: one arrow per delivery, one lane per actor.
    let svg = dir.path().join("run.svg");
    let out = run(rolecall().arg("trace").arg(&file).arg("--svg").arg(&svg));
    assert!(out.status.success(), "{}", stderr(&out));
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(picture.matches("class=\"msg\"").count(), 2000);
    assert_eq!(picture.matches("class=\"lane\"").count(), 6);
}

#[test]
fn a_capped_trace_states_how_many_events_it_did_not_record() {
    let dir = tempfile::tempdir().unwrap();
    let (full, capped) = (dir.path().join("full.jsonl"), dir.path().join("cap.jsonl"));
    traced_quickstart(&full, None);
    traced_quickstart(&capped, Some("10"));
    let all = trace::read(&full).unwrap().len();
    let events = trace::read(&capped).unwrap();
    assert_eq!(events.len(), 11, "ten events and the statement");
    let last = events.last().unwrap();
    assert_eq!(last.kind, Kind::Truncated);
    assert_eq!(last.payload, format!("{} events not recorded", all - 10));
}

#[test]
fn a_trace_file_that_cannot_be_created_is_a_usage_error() {
    let out = run(rolecall().args([
        "run",
        "examples/quickstart/topology.toml",
        "--trace",
        "/nonexistent-dir/run.jsonl",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--trace: /nonexistent-dir/run.jsonl"),
        "{}",
        stderr(&out)
    );
}

/// `rolecall node --trace`: each node records its own actors, and the
/// stamps cross the hop in stamped frames, so the two files merge into one
/// run with arrows from one node to the other, in happens-before order.
#[test]
fn two_traced_nodes_write_two_files_that_merge_into_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let (fs, fa) = (
        dir.path().join("sensors.jsonl"),
        dir.path().join("analysis.jsonl"),
    );
    let topo = "examples/two_nodes/topology.toml";
    let port = "--set=analysis.base_port=17611";
    let trace_a = format!("--trace={}", fa.display());
    let trace_s = format!("--trace={}", fs.display());
    let mut analysis = spawn(&["node", topo, "--node", "analysis", port, &trace_a]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut sensors = spawn(&["node", topo, "--node", "sensors", port, &trace_s]);
    let s = wait_with_timeout(&mut sensors, std::time::Duration::from_secs(30));
    let a = wait_with_timeout(&mut analysis, std::time::Duration::from_secs(30));
    let (_, s_err) = read_all(&mut sensors);
    let (_, a_err) = read_all(&mut analysis);
    assert!(s.is_some_and(|s| s.success()), "sensors: {s:?}\n{s_err}");
    assert!(a.is_some_and(|s| s.success()), "analysis: {a:?}\n{a_err}");

    let sensors = trace::read(&fs).unwrap();
    let analysis = trace::read(&fa).unwrap();
    assert!(sensors.iter().all(|e| e.node == "sensors"));
    assert!(analysis.iter().all(|e| e.node == "analysis"));
    assert_eq!(count(&sensors, Kind::Send, "weather"), 200);
    assert_eq!(count(&sensors, Kind::Handle, "encode"), 200);
    assert_eq!(count(&sensors, Kind::Send, "encode"), 200);
    assert_eq!(count(&analysis, Kind::Receive, "decode"), 200);
    assert_eq!(count(&analysis, Kind::Send, "decode"), 200);
    assert_eq!(count(&analysis, Kind::Handle, "stats"), 200);

    // Happens-before holds across the hop: each of decode's receives has
    // its send in the other file, with a smaller Lamport clock, and
    // decode's clocks after it have seen weather's and encode's.
    let sent: HashMap<&str, &Event> = sensors
        .iter()
        .filter(|e| e.kind == Kind::Send)
        .map(|e| (e.msg.as_deref().unwrap(), e))
        .collect();
    for r in analysis
        .iter()
        .filter(|e| e.kind == Kind::Receive && e.actor == "decode")
    {
        let s = sent[r.msg.as_deref().unwrap()];
        assert_eq!(
            (s.actor.as_str(), r.peer.as_deref()),
            ("encode", Some("encode"))
        );
        assert!(s.lamport < r.lamport, "{s:?} -> {r:?}");
        assert!(r.vc["encode"] >= s.vc["encode"] && r.vc["weather"] >= s.vc["weather"]);
    }

    let (svg, page) = (dir.path().join("run.svg"), dir.path().join("run.html"));
    let out = run(rolecall()
        .arg("trace")
        .arg(&fs)
        .arg(&fa)
        .arg("--svg")
        .arg(&svg)
        .arg("--html")
        .arg(&page));
    assert!(out.status.success(), "{}", stderr(&out));
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(picture.matches("class=\"lane\"").count(), 4);
    assert_eq!(
        picture.matches("class=\"msg\"").count(),
        600,
        "200 of them across the hop"
    );
    // The page draws the merged run in a browser.
    let dom = crate::model::chromium(&page, &["--dump-dom"], dir.path());
    let events = sensors.len() + analysis.len();
    let status = dom
        .split("id=\"status\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_default();
    assert_eq!(
        status,
        format!("ready: {events} events, 600 arrows, 4 lanes")
    );
}

#[test]
fn a_restart_is_in_the_trace_and_happens_before_what_the_new_incarnation_handles() {
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("crashing.toml");
    let text = std::fs::read_to_string(root().join("examples/quickstart/topology.toml")).unwrap();
    std::fs::write(
        &topo,
        format!("{text}\n[[faults]]\nactors = [\"encode\"]\ncrash_at = [\"200ms\"]\n"),
    )
    .unwrap();
    let file = dir.path().join("run.jsonl");
    let out = run(rolecall()
        .args(["run", topo.to_str().unwrap(), "--trace"])
        .arg(&file));
    assert!(out.status.success(), "{}", stderr(&out));
    let events = trace::read(&file).unwrap();
    // encode crashed once; its group (one-for-all) restarted it and decode.
    let restarts: Vec<&Event> = events.iter().filter(|e| e.kind == Kind::Restart).collect();
    let names: Vec<&str> = restarts.iter().map(|e| e.actor.as_str()).collect();
    assert!(
        names.contains(&"encode") && names.contains(&"decode"),
        "{names:?}"
    );
    for r in &restarts {
        assert_eq!(r.payload, "incarnation 2", "{r:?}");
        // What the new incarnation handles comes after its restart.
        let after = events
            .iter()
            .filter(|e| e.actor == r.actor && e.kind == Kind::Handle && e.lamport > r.lamport)
            .count();
        assert!(after > 0, "{} handled nothing after its restart", r.actor);
    }
}

/// The quickstart's topology in `dir` with `table` appended.
fn quickstart_with(dir: &Path, table: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string("examples/quickstart/topology.toml").unwrap();
    let file = dir.join("traced.toml");
    std::fs::write(&file, format!("{text}\n{table}")).unwrap();
    file
}

/// `[trace]` in the topology: every run writes its trace without a flag,
/// `{node}` naming the node and relative paths taken from the topology's
/// folder; `--trace` and `--trace-cap` on the command line win.
#[test]
fn a_trace_table_in_the_topology_traces_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let topology = quickstart_with(
        dir.path(),
        "[trace]\nfile = \"runs/{node}.jsonl\"\ncap = 10\n",
    );
    std::fs::create_dir(dir.path().join("runs")).unwrap();
    let out = run(rolecall().arg("run").arg(&topology));
    assert!(out.status.success(), "{}", stderr(&out));
    let events = trace::read(&dir.path().join("runs/all.jsonl")).unwrap();
    assert_eq!(
        events.len(),
        11,
        "the table's cap: ten events and the statement"
    );
    assert_eq!(events.last().unwrap().kind, Kind::Truncated);

    // The command line wins over the table, file and cap alike.
    let own = dir.path().join("own.jsonl");
    let out = run(rolecall()
        .arg("run")
        .arg(&topology)
        .arg("--trace")
        .arg(&own)
        .args(["--trace-cap", "20"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(trace::read(&own).unwrap().len(), 21);

    // A folder that is not there: the error names the table and the file.
    let missing = quickstart_with(dir.path(), "[trace]\nfile = \"nowhere/{node}.jsonl\"\n");
    let out = run(rolecall().arg("run").arg(&missing));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("[trace] of") && err.contains("nowhere/all.jsonl"),
        "{err}"
    );
}

#[test]
fn a_trace_cap_without_a_trace_file_is_a_usage_error() {
    let out = run(rolecall().args([
        "run",
        "examples/quickstart/topology.toml",
        "--trace-cap",
        "5",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--trace-cap needs --trace FILE (or a [trace] table"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_wrong_trace_table_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let lines = std::fs::read_to_string("examples/quickstart/topology.toml")
        .unwrap()
        .lines()
        .count();
    for (table, says, line) in [
        ("[trace]\ncap = 5\n", "[trace] needs `file`", lines + 2),
        (
            "[trace]\nfile = \"t.jsonl\"\ncap = 0\n",
            "`cap` in [trace] is 0",
            lines + 4,
        ),
        (
            "[trace]\nfile = \"t.jsonl\"\nfiles = 1\n",
            "files",
            lines + 4,
        ),
        (
            "[trace]\nfile = \"\"\n",
            "`file` in [trace] is empty",
            lines + 3,
        ),
    ] {
        let topology = quickstart_with(dir.path(), table);
        let out = run(rolecall().arg("check").arg(&topology));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{table}: {err}");
        assert!(err.contains(says), "{table}: {err}");
        assert!(
            err.contains(&format!("traced.toml:{line}:")),
            "{table}: line {line}: {err}"
        );
    }
}

/// Wires that a ZeroMQ endpoint drains on its socket thread (no handler):
/// the endpoint's receives and handles are in the trace, each after its
/// send; the zmq_pipeline's 40 tasks reach the ventilator's socket and come
/// back through one of the workers' `zmq.push` endpoints.
#[test]
fn wires_drained_by_zeromq_endpoints_record_their_receives() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pipeline.jsonl");
    let (tasks, results) = ("tcp://127.0.0.1:17631", "tcp://127.0.0.1:17632");
    let set = |actor: &str, param: &str, address: &str| {
        format!("--set=main.{actor}.{param}=[\"{address}\"]")
    };
    let out = run(rolecall()
        .args(["run", "examples/zmq_pipeline/topology.toml", "--trace"])
        .arg(&file)
        .arg(set("ventilator", "bind", tasks))
        .arg(set("w1_in", "connect", tasks))
        .arg(set("w2_in", "connect", tasks))
        .arg(set("w1_out", "connect", results))
        .arg(set("w2_out", "connect", results))
        .arg(set("collector", "bind", results)));
    assert!(out.status.success(), "{}", stderr(&out));
    let events = trace::read(&file).unwrap();
    assert_eq!(count(&events, Kind::Send, "source"), 40);
    assert_eq!(count(&events, Kind::Receive, "ventilator"), 40);
    assert_eq!(count(&events, Kind::Handle, "ventilator"), 40);
    let worker_outs: usize = ["w1_out", "w2_out"]
        .iter()
        .map(|a| count(&events, Kind::Receive, a))
        .sum();
    assert_eq!(worker_outs, 40, "each task leaves through one worker");
    let sends: HashMap<&str, &Event> = events
        .iter()
        .filter(|e| e.kind == Kind::Send)
        .map(|e| (e.msg.as_deref().unwrap(), e))
        .collect();
    for r in events.iter().filter(|e| e.kind == Kind::Receive) {
        let s = sends[r.msg.as_deref().unwrap()];
        assert!(s.lamport < r.lamport, "{s:?} -> {r:?}");
        assert_eq!(r.peer.as_deref(), Some(s.actor.as_str()));
    }
}

/// A node that traces receiving from one that does not: every message is
/// received and handled, under an id of its own (`encode#?n`) that no send
/// event has — the other node recorded nothing.
#[test]
fn messages_from_an_untraced_node_are_received_under_ids_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("analysis.jsonl");
    let topo = "examples/two_nodes/topology.toml";
    let port = "--set=analysis.base_port=17633";
    let trace_a = format!("--trace={}", fa.display());
    let mut analysis = spawn(&["node", topo, "--node", "analysis", port, &trace_a]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut sensors = spawn(&["node", topo, "--node", "sensors", port]);
    let s = wait_with_timeout(&mut sensors, std::time::Duration::from_secs(30));
    let a = wait_with_timeout(&mut analysis, std::time::Duration::from_secs(30));
    let (_, s_err) = read_all(&mut sensors);
    let (_, a_err) = read_all(&mut analysis);
    assert!(s.is_some_and(|s| s.success()), "sensors: {s:?}\n{s_err}");
    assert!(a.is_some_and(|s| s.success()), "analysis: {a:?}\n{a_err}");
    let events = trace::read(&fa).unwrap();
    let received: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == Kind::Receive && e.actor == "decode")
        .collect();
    assert_eq!(received.len(), 200);
    for (n, r) in received.iter().enumerate() {
        assert_eq!(
            r.msg.as_deref(),
            Some(format!("encode#?{}", n + 1).as_str())
        );
        assert_eq!(r.peer.as_deref(), Some("encode"));
    }
    assert_eq!(count(&events, Kind::Handle, "decode"), 200);
    assert_eq!(count(&events, Kind::Handle, "stats"), 200);
    // The viewer draws the receives without arrows: only decode → stats.
    let svg = dir.path().join("run.svg");
    let out = run(rolecall().arg("trace").arg(&fa).arg("--svg").arg(&svg));
    assert!(out.status.success(), "{}", stderr(&out));
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(picture.matches("class=\"msg\"").count(), 200);
}
