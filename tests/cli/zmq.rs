//! The ZeroMQ examples run over real sockets and show what their headers say.

use crate::support::*;

fn run_example(name: &str) -> String {
    let out = run(rolecall().args(["run", &format!("examples/{name}/topology.toml")]));
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{name}: {:?}\n{text}\n{}",
        out.status,
        stderr(&out)
    );
    text
}

#[test]
fn req_rep_answers_every_request_in_order() {
    let text = run_example("zmq_reqrep");
    for i in 0..10 {
        assert!(
            text.contains(&format!("reply {i}: world: hello {i} (")),
            "{i}: {text}"
        );
    }
    assert!(text.contains("10 replies, round trip p50"), "{text}");
}

#[test]
fn pub_sub_filters_by_topic_and_one_actor_polls_two_sockets() {
    let text = run_example("zmq_pubsub");
    let weather: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("weather: ") && !l.ends_with("messages"))
        .collect();
    let poller: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("poller: ") && !l.ends_with("messages"))
        .collect();
    assert_eq!(weather.len(), 10, "{text}");
    assert!(
        weather
            .iter()
            .all(|l| l.starts_with("weather: weather | weather ")),
        "{weather:?}"
    );
    assert_eq!(poller.len(), 20, "{text}");
    assert!(
        poller
            .iter()
            .all(|l| l.contains("news | news") || l.contains("sports | sports")),
        "{poller:?}"
    );
    assert!(
        poller.iter().any(|l| l.contains("news")) && poller.iter().any(|l| l.contains("sports"))
    );
}

#[test]
fn push_pull_balances_tasks_over_both_workers() {
    let text = run_example("zmq_pipeline");
    let results: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("sink: task | "))
        .collect();
    assert_eq!(results.len(), 40, "{text}");
    let w1 = results.iter().filter(|l| l.contains("w1: task")).count();
    let w2 = results.iter().filter(|l| l.contains("w2: task")).count();
    assert!(w1 > 0 && w2 > 0, "both workers used: w1 {w1}, w2 {w2}");
    let mut tasks: Vec<u32> = results
        .iter()
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    tasks.sort_unstable();
    assert_eq!(
        tasks,
        (0..40).collect::<Vec<_>>(),
        "every task exactly once"
    );
}

#[test]
fn a_proxy_with_an_inspecting_forwarder_routes_topics_and_filters() {
    let text = run_example("zmq_proxy");
    let weather: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("weather: weather |"))
        .collect();
    let sports: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("sports: sports |"))
        .collect();
    assert_eq!(weather.len(), 10, "{text}");
    assert_eq!(sports.len(), 10, "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("sports: sports-secret")),
        "filtered by the forwarder: {text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("forwarder: dropped sports-secret")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("forwarder: weather | weather")),
        "{text}"
    );
    // The device's capture port copies everything it receives: the secret
    // messages the forwarder drops, and the subscriptions going upstream.
    assert!(
        text.lines()
            .any(|l| l.starts_with("capture: sports-secret | sports-secret")),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "capture: \u{1}weather"), "{text}");
}

#[test]
fn flatbuffers_topics_cross_pub_sub_and_report_one_way_latency() {
    let text = run_example("zmq_flatbuffers");
    let row = text
        .lines()
        .find(|l| l.starts_with("weather"))
        .unwrap_or_else(|| panic!("{text}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols.get(1), Some(&"200"), "{row}");
    assert_eq!(cols.get(2), Some(&"0"), "no gaps: {row}");
    let p50: f64 = cols.get(3).and_then(|c| c.parse().ok()).unwrap_or(-1.0);
    assert!(p50 > 0.0, "{row}");
}

#[test]
fn multi_tier_chains_pass_through_every_tier_in_all_three_cases() {
    let text = run_example("zmq_multitier");
    for client in ["a1", "a2"] {
        let n = text
            .lines()
            .filter(|l| l.contains(&format!("last: {client} ")))
            .count();
        assert_eq!(
            n, 4,
            "case A, {client} through its tier to the shared last tier: {text}"
        );
    }
    for (case, servers) in [("b", ["b1: b ", "b2: b "]), ("c", ["c1: c ", "c2: c "])] {
        for s in servers {
            assert!(
                text.contains(s),
                "case {case}: both servers answer ({s}): {text}"
            );
        }
    }
    assert_eq!(
        text.lines().filter(|l| l.starts_with("4 replies")).count(),
        4,
        "{text}"
    );
}

#[test]
fn socket_monitoring_follows_a_req_rep_pair_from_bind_to_disconnect() {
    let text = run_example("zmq_monitor");
    let pos = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing: {text}"))
    };
    assert!(
        pos("event rep: Listening") < pos("event rep: Accepted"),
        "{text}"
    );
    pos("event req: Connected");
    pos("event rep: HandshakeSucceeded");
    assert!(pos("3 replies") < pos("event rep: Disconnected"), "{text}");
}

#[test]
fn bench_zmq_reports_paired_rounds_with_every_message_delivered() {
    let out = run(rolecall().args(["bench", "zmq", "--json", "--messages", "2000"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let last = text.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert_eq!(v["suite"], "zmq");
    // 64 B and the hop move --messages per round; 1 KiB a quarter as many.
    assert_eq!(v["throughput"][0]["messages"], 2000, "{last}");
    assert_eq!(v["throughput"][1]["messages"], 500, "{last}");
    let comparisons = [
        (&v["throughput"][0], 2000),
        (&v["throughput"][1], 500),
        (&v["cross_node"], 2000),
    ];
    for (c, messages) in comparisons {
        assert_paired_ratios(c, 3, last);
        // Nothing is dropped on either side, in any round.
        assert_eq!(
            (c["raw_received"].as_u64(), c["rolecall_received"].as_u64()),
            (Some(messages), Some(messages)),
            "{last}"
        );
        // Processor time per message: too little to count in so short a
        // run (null), or a figure for each side and their ratio.
        match (
            c["raw_cpu_ns_per_msg"].as_f64(),
            c["rolecall_cpu_ns_per_msg"].as_f64(),
        ) {
            (Some(raw), Some(ours)) => {
                let ratio = c["cpu_ratio"].as_f64().expect("cpu_ratio");
                assert!((ratio - ours / raw).abs() < 1e-9, "{last}");
            }
            _ => assert!(c["cpu_ratio"].is_null(), "{last}"),
        }
    }
    assert_eq!(v["ratio"], v["throughput"][0]["ratio"]);
    assert_eq!(v["throughput_64b_ratio"], v["throughput"][0]["ratio"]);
    assert_eq!(v["cross_node_64b_ratio"], v["cross_node"]["ratio"]);
    // The trickles: a thousandth of --messages a round, at least 50, one a
    // millisecond; every stamped message arrives on both sides.
    assert_eq!(v["trickle"]["messages"], 50, "{last}");
    assert_eq!(v["trickle"]["interval_us"], 1000, "{last}");
    for (name, figure) in [
        ("pubsub", "trickle_pubsub_p50_ratio"),
        ("hop", "trickle_hop_p50_ratio"),
    ] {
        let t = &v["trickle"][name];
        assert_eq!(t["rounds"], 3, "{last}");
        assert_eq!(
            (t["raw_samples"].as_u64(), t["rolecall_samples"].as_u64()),
            (Some(50), Some(50)),
            "{name}: {last}"
        );
        for side in ["raw", "rolecall"] {
            let (p50, p99) = (
                t[format!("{side}_p50_us")].as_f64(),
                t[format!("{side}_p99_us")].as_f64(),
            );
            assert!(
                matches!((p50, p99), (Some(a), Some(b)) if 0.0 < a && a <= b),
                "{name} {side}: {last}"
            );
        }
        let mut rounds: Vec<f64> = t["round_p50_ratios"]
            .as_array()
            .expect("round ratios")
            .iter()
            .filter_map(|r| r.as_f64())
            .collect();
        rounds.sort_by(f64::total_cmp);
        assert_eq!(
            t["p50_ratio"].as_f64(),
            Some(rounds[1]),
            "the median round: {last}"
        );
        assert_eq!(v[figure], t["p50_ratio"]);
    }
}

/// The ```toml blocks of a document, in order.
fn toml_blocks(doc: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// docs/curve.md's worked example, run as the page says: keys from `rolecall
/// keygen`, its two topologies (read from the page itself) as separate
/// processes; alice is answered, mallory is refused and the server names her
/// key.
#[test]
fn curve_docs_example_across_processes() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let doc = std::fs::read_to_string(root().join("docs/curve.md")).expect("docs/curve.md");
    let blocks = toml_blocks(&doc);
    // The endpoint example comes first; the page's later blocks (CURVE
    // between nodes) are run by tests/cli/wires.rs.
    assert!(
        blocks.len() >= 2,
        "server.toml and client.toml in docs/curve.md"
    );
    let dir = std::env::temp_dir().join(format!("rolecall-curve-doc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("server.toml"), &blocks[0]).expect("server.toml");
    std::fs::write(dir.join("client.toml"), &blocks[1]).expect("client.toml");
    for name in ["server", "alice", "mallory"] {
        let out = run(rolecall()
            .current_dir(&dir)
            .args(["keygen", name, "--dir", "keys"]));
        assert!(out.status.success(), "keygen {name}: {}", stderr(&out));
    }
    let key = |name: &str| {
        std::fs::read_to_string(dir.join("keys").join(name))
            .expect("key file")
            .trim()
            .to_owned()
    };
    let mut server = rolecall()
        .current_dir(&dir)
        .args(["run", "server.toml"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut server_log = server.stderr.take().expect("stderr");
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = server_log.read_to_string(&mut text);
        text
    });

    // Alice: the REQ socket reconnects until the server listens.
    let alice = run(rolecall().current_dir(&dir).args(["run", "client.toml"]));
    let text = stdout(&alice);
    assert!(alice.status.success(), "{text}\n{}", stderr(&alice));
    assert!(text.contains("HandshakeSucceeded"), "{text}");
    for i in 0..3 {
        assert!(
            text.contains(&format!("reply {i}: world: hello {i} (")),
            "{text}"
        );
    }

    // Mallory: refused during the handshake; her client would wait forever.
    let mut mallory = rolecall()
        .current_dir(&dir)
        .args([
            "run",
            "client.toml",
            "--set",
            "main.req.curve.secret_key=keys/mallory.key",
            "--set",
            "main.req.curve.public_key=keys/mallory.pub",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mallory's client starts");
    let (tx, rx) = std::sync::mpsc::sync_channel(256);
    let out = mallory.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.contains("HandshakeFailedAuth"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    // A little longer: no reply may follow the refusal.
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        seen.push(line);
    }
    let _ = mallory.kill();
    let _ = mallory.wait();
    let _ = server.kill();
    let _ = server.wait();
    let server_log = log.join().unwrap_or_default();
    let (mallory_key, alice_key) = (key("mallory.pub"), key("alice.pub"));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        seen.iter().any(|l| l.contains("HandshakeFailedAuth")),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|l| l.starts_with("reply ")), "{seen:?}");
    let refusal = format!(
        "CURVE client at 127.0.0.1 refused: its public key {mallory_key} is not on the allowlist"
    );
    assert!(server_log.contains(&refusal), "{server_log}");
    assert!(!server_log.contains(&alice_key), "{server_log}");
}
