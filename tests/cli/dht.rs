//! `rolecall dht node|put|get` processes forming rings on loopback, and a
//! five-process ring of `rolecall node` from one topology file.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::*;

/// A background `rolecall` process, killed when dropped.
struct Daemon {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Daemon {
    fn start(args: &[&str]) -> Daemon {
        let mut child = rolecall()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("rolecall starts");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::sync_channel(256);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Daemon { child, lines }
    }

    /// The first line starting with `prefix`, within 20 s.
    fn line(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l[prefix.len()..].trim().to_owned(),
                Ok(_) => {}
                Err(_) => panic!("no `{prefix}` line within 20 s"),
            }
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn id(seed: u64) -> String {
    rolecall::actors::dht::seeded_peer_id(seed).to_string()
}

fn dht(args: &[&str]) -> std::process::Output {
    let mut all = vec!["dht"];
    all.extend_from_slice(args);
    run(rolecall().args(&all))
}

#[test]
fn dht_tools_store_on_one_node_and_read_from_another() {
    let a = Daemon::start(&[
        "dht",
        "node",
        "--listen",
        "/ip4/127.0.0.1/tcp/24101",
        "--seed",
        "11",
    ]);
    let first = a.line("listening:");
    assert_eq!(first, format!("/ip4/127.0.0.1/tcp/24101/p2p/{}", id(11)));
    let b = Daemon::start(&[
        "dht",
        "node",
        "--listen",
        "/ip4/127.0.0.1/tcp/24102",
        "--seed",
        "12",
        "--bootstrap",
        &first,
    ]);
    let second = b.line("listening:");
    let c = Daemon::start(&[
        "dht",
        "node",
        "--listen",
        "/ip4/127.0.0.1/tcp/24103",
        "--seed",
        "13",
        "--bootstrap",
        &second,
    ]);
    let third = c.line("listening:");
    std::thread::sleep(Duration::from_millis(300));

    let out = dht(&["put", "--bootstrap", &first, "greeting", "hello ring"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "stored greeting");
    for addr in [&first, &second, &third] {
        let out = dht(&["get", "--bootstrap", addr, "greeting"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "hello ring");
    }
    let out = dht(&["get", "--bootstrap", &third, "no-such-key"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`no-such-key` was not found"),
        "{}",
        stderr(&out)
    );
    let big = "x".repeat(70_000);
    let out = dht(&["put", "--bootstrap", &first, "big", &big]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("max_record_size"), "{}", stderr(&out));
}

#[test]
fn dht_put_with_an_unreachable_bootstrap_peer_fails_clearly() {
    let nobody = format!("/ip4/127.0.0.1/tcp/24199/p2p/{}", id(19));
    let out = dht(&["put", "--bootstrap", &nobody, "k", "v"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("no bootstrap peer reachable"), "{err}");
    assert!(err.contains("24199"), "{err}");
    let out = dht(&["get", "--bootstrap", "/ip4/127.0.0.1/tcp/24199", "k"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("/p2p/"), "{}", stderr(&out));
}

#[test]
fn five_rolecall_node_processes_form_one_ring() {
    // Started last to first: each node's bootstrap peer is not up yet, so
    // its supervisor retries until it is.
    let daemons: Vec<Daemon> = (1..=5)
        .rev()
        .map(|i| {
            Daemon::start(&[
                "node",
                "tests/cli/fixtures/dht_ring.toml",
                "--node",
                &format!("n{i}"),
            ])
        })
        .collect();
    let addr = |i: u64| format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", 24200 + i, id(i));
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let out = dht(&["put", "--bootstrap", &addr(1), "ring", "of five"]);
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the ring never formed: {}",
            stderr(&out)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    for i in 2..=5 {
        let out = dht(&["get", "--bootstrap", &addr(i), "ring"]);
        assert!(out.status.success(), "node {i}: {}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "of five");
    }
    drop(daemons);
}

#[test]
fn dht_zmq_bridge_example_answers_from_the_dht() {
    let out = run(rolecall().args(["run", "examples/dht_zmq_bridge/topology.toml"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for line in [
        "text: put weather sunny -> ok",
        "text: put city New York -> ok",
        "text: get weather -> sunny",
        "text: get city -> New York",
        "text: get tide -> missing",
        "text: hello -> error: cannot parse",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
}

#[test]
fn dht_node_key_file_is_created_once_and_keeps_the_peer_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("node.key");
    let key = key.to_str().expect("utf-8 path");
    let peer_id = || {
        let d = Daemon::start(&["dht", "node", "--key-file", key]);
        d.line("peer id:")
    };
    let first = peer_id();
    assert!(
        std::path::Path::new(key).exists(),
        "the key file was written"
    );
    assert_eq!(peer_id(), first, "the same key file gives the same peer id");
    std::fs::write(key, b"not a key").expect("overwrite");
    let out = dht(&["node", "--key-file", key]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("node.key"), "{}", stderr(&out));
}

#[test]
fn a_ring_on_two_emulated_hosts_uses_the_same_port_on_both() {
    // Two hosts, 10.77.0.1 (PREFIX-a) and 10.77.0.2 (PREFIX-b), on a bridge.
    let prefix = format!("rd{}", std::process::id() % 100_000);
    let hosts = crate::netns::Hosts::up(&prefix);
    let bin = env!("CARGO_BIN_EXE_rolecall");
    let on = |host: &str, args: &[&str]| {
        let mut all = vec!["netns", "exec", host, bin];
        all.extend_from_slice(args);
        all.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let (a, b) = (hosts.name('a'), hosts.name('b'));
    let first = format!("/ip4/10.77.0.1/tcp/24000/p2p/{}", id(21));
    let second = format!("/ip4/10.77.0.2/tcp/24000/p2p/{}", id(22));
    let start = |args: Vec<String>| {
        let mut child = std::process::Command::new("ip")
            .current_dir(root())
            .env("ROLECALL_LOG", "warn")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ip netns exec runs");
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            child.try_wait().expect("status").is_none(),
            "{args:?} exited"
        );
        child
    };
    let listen = "/ip4/0.0.0.0/tcp/24000";
    let mut n1 = start(on(&a, &["dht", "node", "--listen", listen, "--seed", "21"]));
    let mut n2 = start(on(
        &b,
        &[
            "dht",
            "node",
            "--listen",
            listen,
            "--seed",
            "22",
            "--bootstrap",
            &first,
        ],
    ));
    let tool = |host: &str, args: &[&str]| {
        run(std::process::Command::new("ip")
            .current_dir(root())
            .env("ROLECALL_LOG", "warn")
            .args(on(host, args)))
    };
    // Stored on both nodes (quorum 2), so the put shows that the ring has
    // formed: b's node may still be joining a's when the first put runs on a
    // loaded machine, so it is tried again for a while.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let put = loop {
        let put = tool(
            &b,
            &[
                "dht",
                "put",
                "--bootstrap",
                &second,
                "--quorum",
                "2",
                "host",
                "b wrote this",
            ],
        );
        if put.status.success() || std::time::Instant::now() > deadline {
            break put;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let got = tool(&a, &["dht", "get", "--bootstrap", &first, "host"]);
    let _ = n1.kill();
    let _ = n2.kill();
    let _ = n1.wait();
    let _ = n2.wait();
    drop(hosts);
    assert!(put.status.success(), "put on b: {}", stderr(&put));
    assert!(got.status.success(), "get on a: {}", stderr(&got));
    assert_eq!(stdout(&got).trim(), "b wrote this");
}

/// Processes whose environment holds `needle` (the bench's child ring).
fn processes_with_env(needle: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| {
            let env = std::fs::read(e.path().join("environ")).ok()?;
            let text = String::from_utf8_lossy(&env);
            text.split('\0')
                .any(|v| v == needle)
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect()
}

#[test]
fn bench_dht_compares_a_settled_actor_ring_with_the_direct_ring_in_its_own_process() {
    let out = run(rolecall()
        .env("ROLECALL_BENCH_DHT_NODES", "5")
        .args(["bench", "dht", "--json"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let last = text.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert!(v["ratio"].as_f64().is_some_and(|r| r > 0.0), "{last}");
    let rings = v["rings"].as_array().expect("rings");
    assert_eq!(rings.len(), 1, "{last}");
    assert_eq!(rings[0]["nodes"], 5, "{last}");
    for side in ["actor", "direct"] {
        let s = &rings[0][side];
        // Every record stored and found on a quiet ring of five.
        assert_eq!(s["put_success"], 1.0, "{side}: {s}");
        assert_eq!(s["get_success"], 1.0, "{side}: {s}");
        assert!(s["settled_after_s"].as_f64().is_some(), "{side}: {s}");
        let (p50, p99) = (s["put_p50_ms"].as_f64(), s["put_p99_ms"].as_f64());
        assert!(p50.is_some_and(|p| p > 0.0) && p99 >= p50, "{side}: {s}");
    }
    // The direct ring's process ended with the run.
    let left = processes_with_env("ROLECALL_BENCH_DHT_DIRECT_RING=5,24501,10000");
    assert!(left.is_empty(), "the child ring is still running: {left:?}");
}

/// Waits up to `limit` for `check` to hold.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

#[test]
fn bench_dht_names_a_killed_child_ring_and_its_child_ends_with_a_killed_bench() {
    // Ports of their own (the other bench dht test uses the default ones).
    let needle = "ROLECALL_BENCH_DHT_DIRECT_RING=5,24651,10000";
    let bench = || {
        rolecall()
            .env("ROLECALL_BENCH_DHT_NODES", "5")
            .env("ROLECALL_BENCH_DHT_PORT", "24650")
            .args(["bench", "dht", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rolecall starts")
    };

    // kill -9 of the child while the bench runs: the bench fails, saying so.
    let mut parent = bench();
    let mut child = Vec::new();
    assert!(
        eventually(Duration::from_secs(30), || {
            child = processes_with_env(needle);
            !child.is_empty()
        }),
        "the child ring never started"
    );
    std::thread::sleep(Duration::from_millis(500));
    for pid in &child {
        let killed = std::process::Command::new("kill")
            .args(["-9", pid])
            .status();
        assert!(killed.is_ok_and(|s| s.success()), "kill -9 {pid}");
    }
    let status = wait_with_timeout(&mut parent, Duration::from_secs(60));
    let (out, err) = read_all(&mut parent);
    let status = status.expect("the bench ends after its child was killed");
    assert!(!status.success(), "{out}\n{err}");
    assert!(
        err.contains("the direct ring's process ended (signal: 9"),
        "the error names the killed child: {err}"
    );

    // kill -9 of the bench: its child sees its input close and ends.
    let mut parent = bench();
    assert!(
        eventually(Duration::from_secs(30), || !processes_with_env(needle)
            .is_empty()),
        "the child ring never started"
    );
    std::thread::sleep(Duration::from_millis(500));
    parent.kill().expect("kill -9 the bench");
    let _ = parent.wait();
    assert!(
        eventually(Duration::from_secs(20), || processes_with_env(needle)
            .is_empty()),
        "the child ring outlived the bench: {:?}",
        processes_with_env(needle)
    );
}
