//! Every example runs and shows what its README says.

use crate::support::*;

#[test]
fn quickstart_runs_to_completion_and_prints_the_latency_table() {
    let out = run(rolecall().args(["run", "examples/quickstart/topology.toml"]));
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "status {:?}\n{}\n{}",
        out.status,
        text,
        stderr(&out)
    );
    assert!(text.contains("p50 us"), "{text}");
    let row = |topic: &str| {
        text.lines()
            .find(|l| l.starts_with(topic))
            .unwrap_or_else(|| panic!("no row for {topic}: {text}"))
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u64>().ok())
    };
    assert_eq!(row("weather"), Some(300));
    assert_eq!(row("traffic"), Some(200));
}

#[test]
fn quickstart_takes_overrides_from_the_command_line_and_the_environment() {
    let out = run(rolecall()
        .args([
            "run",
            "examples/quickstart/topology.toml",
            "--set",
            "main.weather.count=7",
        ])
        .env("ROLECALL_SET_1", "main.traffic.count=5")
        .env("ROLECALL_SET_2", "main.encode.format=json")
        .env("ROLECALL_SET_3", "main.decode.format=json"));
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.lines()
            .any(|l| l.starts_with("weather") && l.split_whitespace().nth(1) == Some("7")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("traffic") && l.split_whitespace().nth(1) == Some("5")),
        "{text}"
    );
}

#[test]
fn custom_role_example_registers_a_kind_and_reads_it_through_its_address() {
    let out = run(&mut example("custom_role"));
    let text = stdout(&out);
    assert!(out.status.success(), "{}\n{}", text, stderr(&out));
    let alarms = text.lines().filter(|l| l.starts_with("ALARM")).count();
    assert!(alarms > 0, "{text}");
    assert!(text.contains(&format!("alarms raised: {alarms}")), "{text}");
}

/// `rolecall::app::main`: a program of its own kinds has rolecall's
/// topology commands with them; rolecall itself does not know the kind.
#[test]
fn custom_app_runs_checks_and_lists_its_own_kind() {
    let topology = "examples/custom_app/topology.toml";
    let out = run(example("custom_app").arg("kinds"));
    assert!(out.status.success(), "{}", stderr(&out));
    let kinds = stdout(&out);
    assert!(
        kinds.contains("student.peak") && kinds.contains("topic.source"),
        "{kinds}"
    );

    let out = run(example("custom_app").args(["check", topology]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("sensor.out -> peak.in"),
        "{}",
        stdout(&out)
    );
    let out = run(rolecall().args(["check", topology]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("student.peak"), "{}", stderr(&out));

    // Both nodes in one process, then as two processes (the hop between).
    let out = run(example("custom_app").args(["run", topology]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("pressure: 200 samples, peak mean"),
        "{}",
        stdout(&out)
    );
    // Either node may start first.
    for (first, second) in [("analysis", "sensors"), ("sensors", "analysis")] {
        let early = example("custom_app")
            .args(["node", topology, "--node", first])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("custom_app starts");
        std::thread::sleep(std::time::Duration::from_millis(500));
        let late = run(example("custom_app").args(["node", topology, "--node", second]));
        let early = early.wait_with_output().expect("the first node ends");
        let (analysis, sensors) = if first == "analysis" {
            (early, late)
        } else {
            (late, early)
        };
        assert!(
            sensors.status.success(),
            "{first} first: {}",
            stderr(&sensors)
        );
        assert!(
            analysis.status.success(),
            "{first} first: {}",
            stderr(&analysis)
        );
        assert!(
            stdout(&analysis).contains("pressure: 200 samples, peak mean"),
            "{first} first: {}",
            stdout(&analysis)
        );
    }
}

#[test]
fn tcp_factorial_serves_iterative_and_concurrent_clients() {
    let out = run(example("tcp_factorial").args(["demo", "--port", "15581", "--times", "3"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{}\n{}", text, stderr(&out));
    let answers = text
        .lines()
        .filter(|l| l.contains("20! = 2432902008176640000 ("))
        .count();
    assert_eq!(answers, 12, "2 variants x 2 clients x 3 requests: {text}");
    assert!(
        text.contains("(iterative)") && text.contains("(concurrent)"),
        "{text}"
    );
}

#[test]
fn registry_by_message_passing_and_by_typed_rpc() {
    let out = run(&mut example("zmq_registry"));
    let text = stdout(&out);
    assert!(out.status.success(), "{}\n{}", text, stderr(&out));
    for line in [
        "text: put city Nashville -> ok",
        "text: get city -> Nashville",
        "text: get river -> missing",
        "text: hello -> error: cannot parse `hello`",
        "rpc: put(city, Nashville) -> ok",
        "rpc: get(city) -> Some(\"Nashville\")",
        "rpc: get(river) -> None",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}`:\n{text}");
    }
}
