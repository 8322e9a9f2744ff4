//! Metrics end to end: the quickstart's results file and report, `rolecall
//! report` on line protocol, CSV and servers (tables and PNG/SVG plots), and
//! the influx_latency example into the embedded file, InfluxDB 1.x and the
//! InfluxDB 2 write API of VictoriaMetrics.

use std::path::Path;

use crate::support::*;

fn ok(out: &std::process::Output) -> String {
    let text = stdout(out);
    assert!(
        out.status.success(),
        "status {:?}\n{}\n{}",
        out.status,
        text,
        stderr(out)
    );
    text
}

/// The count column of the report row whose series contains `series`.
fn count(text: &str, series: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.find(series).map(|i| &l[i + series.len()..]))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|c| c.parse().ok())
}

fn server(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: start the test servers with `scripts/servers.sh start` \
             and `source target/test-servers/env` (make test does this)"
        )
    })
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

fn assert_plots(dir: &Path) {
    for name in ["histogram", "cdf", "throughput"] {
        let png = std::fs::read(dir.join(format!("{name}.png"))).expect("png written");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}.png is a PNG");
        assert!(png.len() > 5_000, "{name}.png has content");
        let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).expect("svg written");
        assert!(svg.contains("<svg") && svg.contains("<text"), "{name}.svg");
    }
}

#[test]
fn quickstart_writes_results_and_ends_with_the_report_table() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("quick.lp");
    let out = run(rolecall().args([
        "run",
        "examples/quickstart/topology.toml",
        "--set",
        &format!("main.metrics.path=\"{}\"", results.display()),
    ]));
    let text = ok(&out);
    assert!(text.contains("p99.9"), "{text}");
    assert_eq!(count(&text, "topic=weather us"), Some(300), "{text}");
    assert_eq!(count(&text, "topic=traffic us"), Some(200), "{text}");
    // the file is there and `rolecall report` reads it with the same figures
    let plots = dir.path().join("plots");
    let out = run(rolecall().args([
        "report",
        results.to_str().unwrap(),
        "--series",
        " us",
        "--plots",
        plots.to_str().unwrap(),
    ]));
    let report = ok(&out);
    assert_eq!(count(&report, "topic=weather us"), Some(300), "{report}");
    let row = |t: &str, s: &str| t.lines().find(|l| l.contains(s)).map(str::to_owned);
    assert_eq!(
        row(&text, "topic=weather us"),
        row(&report, "topic=weather us")
    );
    assert_plots(&plots);
}

#[test]
fn report_reads_csv_and_checks_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    let mut text = String::from("time_ns,measurement,tags,field,value\n");
    for i in 1..=1000i64 {
        text.push_str(&format!(
            "{},rtt,\"host=a,b;path=x\\=y\",ms,{}\n",
            1_700_000_000_000_000_000 + i * 1_000_000,
            i
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let out = run(rolecall().args(["report", csv.to_str().unwrap()]));
    let report = ok(&out);
    let row: Vec<&str> = report
        .lines()
        .find(|l| l.starts_with("rtt,host=a,b,path=x=y ms"))
        .unwrap_or_else(|| panic!("{report}"))
        .split_whitespace()
        .collect();
    // count, p50, p90, p99, p99.9, max, per second (nearest rank)
    assert_eq!(
        &row[2..],
        ["1000", "500.0", "900.0", "990.0", "999.0", "1000.0", "1000.0"]
    );

    let bad = dir.path().join("bad.lp");
    std::fs::write(&bad, "m v=1 1\nm,t v=1 2\n").unwrap();
    let out = run(rolecall().args(["report", bad.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad.lp:2: column 4"), "{err}");

    let out = run(rolecall().args(["report", "http://127.0.0.1:1"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--db"), "{}", stderr(&out));
}

/// The run's output lists the plot files it wrote into `dir`.
fn assert_plots_listed(text: &str, dir: &Path) {
    for name in ["histogram", "cdf", "throughput"] {
        for ext in ["png", "svg"] {
            let line = format!("plot: {}", dir.join(format!("{name}.{ext}")).display());
            assert!(text.contains(&line), "`{line}` missing in:\n{text}");
        }
    }
}

#[test]
fn influx_latency_example_reports_from_the_file_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("lat.lp");
    let run_plots = dir.path().join("run-plots");
    let out = run(rolecall().args([
        "run",
        "examples/influx_latency/topology.toml",
        "--set",
        &format!("main.metrics.path=\"{}\"", results.display()),
        "--set",
        &format!("main.metrics.plots_dir=\"{}\"", run_plots.display()),
    ]));
    let text = ok(&out);
    let series = "latency,publisher=sensor,subscriber=latency,topic=weather us";
    // the run ends with the report: table and plots
    assert_eq!(count(&text, series), Some(500), "{text}");
    assert_plots(&run_plots);
    assert_plots_listed(&text, &run_plots);
    // `rolecall report` reads the same file again
    let plots = dir.path().join("plots");
    let out = run(rolecall().args([
        "report",
        results.to_str().unwrap(),
        "--plots",
        plots.to_str().unwrap(),
    ]));
    assert_eq!(count(&ok(&out), series), Some(500));
    assert_plots(&plots);
    // the runtime's per-actor statistics are in the same file
    let out = run(rolecall().args([
        "report",
        results.to_str().unwrap(),
        "--series",
        "actor,actor=latency,node=main handled",
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_str(ok(&out).trim()).unwrap();
    let rows = json["rows"].as_array().unwrap();
    let handled = rows
        .iter()
        .find(|r| r["series"] == "actor,actor=latency,node=main handled")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(handled["max"], 500.0, "{json}");
}

#[test]
fn influx_latency_example_into_influxdb_v1_then_report_from_the_server() {
    let url = server("ROLECALL_INFLUXDB_V1");
    let db = unique("example");
    let run_plots = tempfile::tempdir().unwrap();
    let out = run(rolecall().args([
        "run",
        "examples/influx_latency/topology.toml",
        "--set",
        "main.metrics.output=influx-v1",
        "--set",
        &format!("main.metrics.url={url}"),
        "--set",
        &format!("main.metrics.db={db}"),
        "--set",
        &format!("main.metrics.plots_dir=\"{}\"", run_plots.path().display()),
        "--set",
        "main.publisher.bind=[\"tcp://127.0.0.1:18462\"]",
        "--set",
        "main.subscriber.connect=[\"tcp://127.0.0.1:18462\"]",
    ]));
    // the run ends with the report of the points it sent to the server
    let text = ok(&out);
    assert_eq!(
        count(
            &text,
            "latency,publisher=sensor,subscriber=latency,topic=weather us"
        ),
        Some(500),
        "{text}"
    );
    assert_plots(run_plots.path());
    assert_plots_listed(&text, run_plots.path());
    let dir = tempfile::tempdir().unwrap();
    let out = run(rolecall().args([
        "report",
        &url,
        "--db",
        &db,
        "--query",
        "SELECT us FROM latency",
        "--plots",
        dir.path().to_str().unwrap(),
    ]));
    let text = ok(&out);
    assert_eq!(
        count(
            &text,
            "latency,publisher=sensor,subscriber=latency,topic=weather us"
        ),
        Some(500),
        "{text}"
    );
    assert_plots(dir.path());
    // the server's own reason for a bad query reaches the user
    let out = run(rolecall().args(["report", &url, "--db", &db, "--query", "SELEC us"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error parsing query"),
        "{}",
        stderr(&out)
    );
    let _ = std::process::Command::new("curl")
        .args(["-s", "-XPOST", &format!("{url}/query"), "--data-urlencode"])
        .arg(format!("q=DROP DATABASE \"{db}\""))
        .output();
}

#[test]
fn influx_latency_example_into_the_v2_write_api_then_report_from_the_server() {
    let url = server("ROLECALL_INFLUX_V2");
    let subscriber = unique("sub");
    let run_plots = tempfile::tempdir().unwrap();
    let out = run(rolecall().args([
        "run",
        "examples/influx_latency/topology.toml",
        "--set",
        "main.metrics.output=influx-v2",
        "--set",
        &format!("main.metrics.url={url}"),
        "--set",
        &format!("main.metrics.plots_dir=\"{}\"", run_plots.path().display()),
        "--set",
        &format!("main.latency.publisher={subscriber}"),
        "--set",
        "main.publisher.bind=[\"tcp://127.0.0.1:18463\"]",
        "--set",
        "main.subscriber.connect=[\"tcp://127.0.0.1:18463\"]",
    ]));
    // the run ends with the report of the points it sent to the server
    let text = ok(&out);
    assert_eq!(
        count(
            &text,
            &format!("latency,publisher={subscriber},subscriber=latency,topic=weather us")
        ),
        Some(500),
        "{text}"
    );
    assert_plots(run_plots.path());
    assert_plots_listed(&text, run_plots.path());
    // VictoriaMetrics makes new samples searchable within a second or two.
    let selector = format!("{{__name__=\"latency_us\",publisher=\"{subscriber}\"}}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let out = run(rolecall().args(["report", &url, "--match", &selector]));
        let text = stdout(&out);
        if count(&text, "topic=weather value") == Some(500) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not all 500 points readable: {text}\n{}",
            stderr(&out)
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[test]
fn points_cross_processes_to_a_reporter_on_another_node() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("two.lp");
    let topo = "tests/cli/fixtures/metrics_two_nodes.toml";
    let path = format!("--set=collector.metrics.path=\"{}\"", results.display());
    let spawn = |node: &str| {
        rolecall()
            .args(["node", topo, "--node", node, &path])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rolecall starts")
    };
    let collector = spawn("collector");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let lab = spawn("lab");
    // Bounded: a node still running after 60 s is killed and fails the test.
    let wait = |mut child: std::process::Child| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while child.try_wait().ok().flatten().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = child.kill();
        let out = child.wait_with_output().expect("node ends");
        (out.status, stdout(&out), stderr(&out))
    };
    let (lab_status, _, lab_err) = wait(lab);
    let (status, text, err) = wait(collector);
    assert!(lab_status.success(), "lab: {lab_err}");
    assert!(status.success(), "collector: {text}\n{err}");
    assert_eq!(
        count(
            &text,
            "latency,publisher=source,subscriber=latency,topic=weather us"
        ),
        Some(300),
        "{text}"
    );
    assert!(
        text.contains("actor,actor=source,node=lab handled"),
        "the lab's runtime statistics reached the collector: {text}"
    );
}

#[test]
fn bench_metrics_prints_one_json_line_with_the_ratio_of_paired_rounds() {
    let url = server("ROLECALL_INFLUXDB_V1");
    let out = run(rolecall()
        .args(["bench", "metrics", "--json", "--messages", "10000"])
        .env("ROLECALL_INFLUXDB_V1", &url));
    let text = ok(&out);
    let last = text.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert_eq!(v["suite"], "metrics");
    assert_eq!(v["points"], 10000);
    // Five pairs; each pair's ratio is the geometric mean of its two rounds'.
    let sorted = assert_paired_ratios(&v, 5, last);
    assert!(sorted[0] > 0.0, "{last}");
    assert!(v["reporter_to_file_points_per_s"]
        .as_f64()
        .is_some_and(|r| r > 0.0));
    // The encoding the direct side does before timing, and what the gap
    // costs per point, to set beside it.
    assert!(
        v["encode_ns_per_point"].as_f64().is_some_and(|ns| ns > 0.0),
        "{last}"
    );
    let direct = v["direct_points_per_s"].as_f64().unwrap_or(0.0);
    let reporter = v["reporter_points_per_s"].as_f64().unwrap_or(0.0);
    let extra = v["reporter_extra_ns_per_point"]
        .as_f64()
        .unwrap_or(f64::NAN);
    assert!(
        (extra - (1e9 / reporter - 1e9 / direct)).abs() < 1e-6 * extra.abs().max(1.0),
        "{last}"
    );
}
