//! Paxos over wires: `examples/paxos_single` with the fault layer's delays,
//! crash schedules, and the loader's errors for `[[faults]]` tables.

use crate::support::*;

/// The value every learner printed, checking they agree.
fn learned(text: &str) -> String {
    let values: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("learner "))
        .filter_map(|l| l.split(" = ").nth(1))
        .collect();
    assert_eq!(values.len(), 2, "two learners report: {text}");
    assert_eq!(values[0], values[1], "learners disagree: {text}");
    values[0].to_owned()
}

#[test]
fn paxos_single_decides_one_value_with_competing_proposers_and_delays() {
    let mut retried = false;
    for seed in 1..=6 {
        let out = run(rolecall()
            .args([
                "run",
                "examples/paxos_single/topology.toml",
                "--seed",
                &seed.to_string(),
            ])
            .env("ROLECALL_LOG", "info"));
        let text = stdout(&out);
        assert!(
            out.status.success(),
            "seed {seed}: {text}\n{}",
            stderr(&out)
        );
        let value = learned(&text);
        assert!(
            value == "\"apples\"" || value == "\"oranges\"",
            "seed {seed}: {value}"
        );
        // The learners may stop the node before the winner hears its quorum.
        if let Some(decided) = text.lines().find(|l| l.starts_with("proposer ")) {
            assert!(decided.contains(&value), "{decided} vs {value}");
        }
        retried |= stderr(&out).matches("prepare").count() > 2;
        // What the fault layer did, per wire, at the end.
        let err = stderr(&out);
        assert!(
            err.contains("fault injection done wire=proposer1.out -> acceptor1.in"),
            "{err}"
        );
    }
    assert!(
        retried,
        "with two proposers and 0-80 ms delays some run needs a retry"
    );
}

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rolecall-paxos-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// paxos_single's actors and wires, with these `[[faults]]` tables appended.
fn single_with(faults: &str) -> String {
    let base = std::fs::read_to_string(root().join("examples/paxos_single/topology.toml")).unwrap();
    let cut = base.find("[[faults]]").unwrap_or(base.len());
    format!("{}\n{faults}", &base[..cut])
}

#[test]
fn a_crash_schedule_crashes_acceptors_and_a_proposer_and_the_run_still_decides() {
    let path = write(
        "crash.toml",
        &single_with(
            r#"
[[faults]]
wires = ["proposer1.out", "proposer2.out"]
delay = { mean = "30ms", max = "100ms" }

[[faults]]
actors = ["acceptor1", "acceptor3"]
crash_at = ["5ms", "60ms"]

# A proposer restarts without memory and proposes again from round 1: the
# acceptors refuse to promise a ballot twice, so it moves to a fresh round.
[[faults]]
actors = ["proposer2"]
crash_at = ["40ms"]
"#,
        ),
    );
    let out = run(rolecall().arg("run").arg(&path).args(["--seed", "11"]));
    let text = stdout(&out);
    let err = stderr(&out);
    assert!(out.status.success(), "{text}\n{err}");
    learned(&text);
    let crashes = err.matches("fault injection: crashing the actor").count();
    assert!(crashes >= 3, "crashes injected: {err}");
}

#[test]
fn fault_tables_are_checked_with_file_line_and_column() {
    let text = single_with(
        r#"
[[faults]]
wires = ["proposer1.outt"]
delay = { min = "50ms", max = "10ms" }
drop = 1.5

[[faults]]
actors = ["acceptor9"]
crash_at = ["soon"]

[[faults]]
nodes = ["main"]
partitions = [{ from = "2s", until = "1s" }]
colour = "red"

[[faults]]
drop = 0.1
"#,
    );
    let path = write("bad_faults.toml", &text);
    let out = run(rolecall().arg("check").arg(&path));
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    // Line numbers below count from the first [[faults]] table (line 1).
    let first = text.lines().position(|l| l == "[[faults]]").unwrap();
    let line = |n: usize| format!("bad_faults.toml:{}:", first + n);
    for (needle, at) in [
        (
            "actor `proposer1` (kind `paxos.proposer`) has no port `outt`",
            2,
        ),
        ("`max` (10ms) is below `min` (50ms)", 3),
        ("`drop` in faults #1 is 1.5, outside 0..=1", 4),
        ("faults #2 names unknown actor `acceptor9`", 7),
        ("`crash_at` in faults #2", 8),
        ("ends (1s) before it starts (2s)", 12),
        ("unknown key `colour` in faults #3", 13),
        ("faults #4 selects nothing", 15),
    ] {
        assert!(err.contains(needle), "missing `{needle}`:\n{err}");
        let hit = err.lines().find(|l| l.contains(needle)).unwrap();
        assert!(hit.contains(&line(at)), "`{needle}` at line {at}: {hit}");
    }
}

#[test]
fn paxos_kv_replicas_apply_the_same_log_in_order_despite_delays_and_drops() {
    for seed in [1, 2] {
        let out = run(rolecall().args([
            "run",
            "examples/paxos_kv/topology.toml",
            "--seed",
            &seed.to_string(),
        ]));
        let text = stdout(&out);
        assert!(out.status.success(), "{text}\n{}", stderr(&out));
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("kv: ")).collect();
        assert_eq!(
            lines.len(),
            12,
            "two stores, a summary and five keys each: {text}"
        );
        let (a, b) = lines.split_at(6);
        assert_eq!(a, b, "the replicas differ:\n{text}");
        assert!(a[0].starts_with("kv: applied 200 commands"), "{text}");
        for k in 0..5 {
            assert!(
                a.contains(&format!("kv: key{k} = v{}", 195 + k).as_str()),
                "key{k}: {text}"
            );
        }
    }
}

mod processes {
    //! Acceptors as separate `rolecall node` processes; one is killed with
    //! SIGKILL mid-run and restarted on the same log.

    use std::process::{Child, Stdio};
    use std::time::{Duration, Instant};

    use crate::support::*;

    const TOPOLOGY: &str = "examples/paxos_kv/nodes.toml";

    fn node(name: &str, dir: &std::path::Path) -> Child {
        rolecall()
            .env("ROLECALL_LOG", "info")
            .args(["node", TOPOLOGY, "--node", name])
            // Private ports and log files for this test.
            .arg("--set=core.base_port=27500")
            .arg("--set=a1.base_port=27510")
            .arg("--set=a2.base_port=27520")
            .arg("--set=a3.base_port=27530")
            .arg(format!(
                "--set=a1.acceptor1.path=\"{}/a1.log\"",
                dir.display()
            ))
            .arg(format!(
                "--set=a2.acceptor2.path=\"{}/a2.log\"",
                dir.display()
            ))
            .arg(format!(
                "--set=a3.acceptor3.path=\"{}/a3.log\"",
                dir.display()
            ))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rolecall starts")
    }

    fn finish(
        mut child: Child,
        timeout: Duration,
    ) -> (Option<std::process::ExitStatus>, String, String) {
        use std::io::Read;
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Ok(Some(s)) = child.try_wait() {
                break Some(s);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let (mut out, mut err) = (String::new(), String::new());
        if let Some(mut o) = child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (status, out, err)
    }

    #[test]
    fn an_acceptor_process_killed_and_restarted_mid_run_keeps_its_promise() {
        let dir = std::env::temp_dir().join(format!("rolecall-paxos-nodes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let a1 = node("a1", &dir);
        let mut a2 = node("a2", &dir);
        let a3 = node("a3", &dir);
        std::thread::sleep(Duration::from_millis(300));
        let core = node("core", &dir);
        // 300 commands take about 1.5 s: kill acceptor 2 in the middle.
        std::thread::sleep(Duration::from_millis(700));
        a2.kill().unwrap(); // SIGKILL
        let _ = a2.wait();
        std::thread::sleep(Duration::from_millis(300));
        let a2 = node("a2", &dir);
        let (core_status, core_out, core_err) = finish(core, Duration::from_secs(40));
        let results: Vec<_> = [a1, a2, a3]
            .into_iter()
            .map(|a| finish(a, Duration::from_secs(10)))
            .collect();
        assert!(
            core_status.is_some_and(|s| s.success()),
            "core: {core_status:?}\n{core_out}\n{core_err}"
        );
        assert!(
            core_out.contains("kv: applied 300 commands"),
            "{core_out}\n{core_err}"
        );
        for k in 0..5 {
            let line = format!("kv: key{k} = v{}", 295 + k);
            assert!(core_out.contains(&line), "{line}: {core_out}");
        }
        // The restarted acceptor 2 read its promise back from its log.
        let (_, _, a2_err) = &results[1];
        let recovered = a2_err
            .lines()
            .find(|l| l.contains("acceptor recovered"))
            .unwrap_or_else(|| panic!("{a2_err}"));
        // (Which ballot depends on timing: the first leader's, or a later one's.)
        assert!(
            !recovered.contains("promised=0.0") && recovered.contains("durable=true"),
            "{recovered}"
        );
        for (i, (status, out, err)) in results.iter().enumerate() {
            assert!(
                status.is_some(),
                "acceptor {} did not exit after the core: {out}\n{err}\ncore:\n{core_err}",
                i + 1
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_students_proposer_with_its_own_retry_strategy_replaces_one_role() {
    let out = run(std::process::Command::new(env!("CARGO"))
        .current_dir(root())
        .env("ROLECALL_LOG", "info")
        .args(["run", "--quiet", "--example", "paxos_student_proposer"]));
    let text = stdout(&out);
    let err = stderr(&out);
    assert!(out.status.success(), "{text}\n{err}");
    learned(&text);
    assert!(text.contains("proposer2 runs student.proposer"), "{text}");
}

#[test]
fn bench_paxos_prints_one_json_line_with_a_ratio_and_every_run() {
    let out = run(rolecall().args(["bench", "paxos", "--json", "--messages", "4000"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let last = text.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert!(v["ratio"].as_f64().is_some_and(|r| r > 0.0), "{last}");
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6, "{last}");
    for r in runs {
        assert!(r["decided_per_s"].as_f64().is_some_and(|d| d > 0.0), "{r}");
    }
    // Every role group in its own process, then paced at 10/50/90 % of it.
    assert_eq!(runs[5]["transport"], "zeromq-processes", "{last}");
    // The curve's 100 %: measured with the client paced above it, never
    // more than that client offered.
    let capacity = &v["capacity"];
    let max = capacity["decided_per_s"].as_f64().unwrap();
    assert!(
        max > 0.0 && max <= capacity["offered_per_s"].as_f64().unwrap(),
        "{last}"
    );
    // The median of three probes.
    let mut probes: Vec<f64> = capacity["probes_decided_per_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    assert_eq!(probes.len(), 3, "{last}");
    probes.sort_by(f64::total_cmp);
    assert_eq!(max, probes[1], "{last}");
    let curve = v["latency_curve"].as_array().unwrap();
    let loads: Vec<f64> = curve.iter().map(|p| p["load"].as_f64().unwrap()).collect();
    assert_eq!(loads, [0.1, 0.5, 0.9], "{last}");
    for p in curve {
        let offered = p["offered_per_s"].as_f64().unwrap();
        let expected = (max * p["load"].as_f64().unwrap()).floor().max(1.0);
        assert_eq!(offered, expected, "{p}");
        let (p50, p99) = (
            p["p50_latency_ms"].as_f64().unwrap(),
            p["p99_latency_ms"].as_f64().unwrap(),
        );
        assert!(p50 > 0.0 && p50 <= p99, "{p}");
        assert!(p["decided_per_s"].as_f64().is_some_and(|d| d > 0.0), "{p}");
    }
    assert!(
        v["peak_rss_mib"].as_f64().is_some_and(|m| m > 1.0),
        "{last}"
    );
}

#[test]
fn the_students_proposer_goes_through_the_simulators_sweep() {
    let out = run(std::process::Command::new(env!("CARGO"))
        .current_dir(root())
        .args([
            "run",
            "--quiet",
            "--example",
            "paxos_student_proposer",
            "--",
        ])
        .args(["--sweep", "0..5000", "--threads", "2"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("student-proposer: 5000 schedules (seeds 0..5000), 0 violation(s)"),
        "{text}"
    );
}

#[test]
fn paxos_check_sweeps_replays_and_refuses_bad_seed_ranges() {
    let out = run(rolecall().args(["paxos-check", "--seeds", "1000..1400", "--threads", "2"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for kind in ["single-decree", "multi-paxos"] {
        let line = format!("{kind}: 400 schedules (seeds 1000..1400), 0 violation(s)");
        assert!(text.contains(&line), "{text}");
    }
    let out = run(rolecall().args(["paxos-check", "--kind", "multi-paxos", "--replay", "239963"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("proposer_restarts: [(2, 158), (1, 222)]"),
        "{text}"
    );
    assert!(text.contains("multi-paxos seed 239963: ok"), "{text}");
    let out = run(rolecall().args(["paxos-check", "--seeds", "9..3"]));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "error: seeds `9..3`: the range is empty"
    );
}
