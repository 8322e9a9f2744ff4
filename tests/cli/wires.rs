//! The delivery contract of cross-node wires (docs/runtime-semantics.md,
//! "Cross-node wires"), with real `rolecall node` processes of
//! `examples/two_nodes`: both start orders, `kill -9` of each side
//! mid-stream, strangers on the receiving port.

use std::process::Child;
use std::time::Duration;

use crate::support::*;

const TOPO: &str = "examples/two_nodes/topology.toml";

/// `rolecall node` of two_nodes with the analysis node on `port` and the
/// source sending `count` messages, one every `interval_ms`.
fn node(name: &str, port: u16, count: u32, interval_ms: u32) -> Child {
    spawn(&[
        "node",
        TOPO,
        "--node",
        name,
        &format!("--set=analysis.base_port={port}"),
        &format!("--set=sensors.weather.count={count}"),
        &format!("--set=sensors.weather.interval_ms={interval_ms}"),
    ])
}

/// Waits for a node; returns (success, stdout, stderr).
fn finish(mut child: Child, name: &str) -> (String, String) {
    let status = wait_with_timeout(&mut child, Duration::from_secs(60));
    let (out, err) = read_all(&mut child);
    assert!(
        status.is_some_and(|s| s.success()),
        "{name}: {status:?}\n{out}\n{err}"
    );
    (out, err)
}

/// (count, gaps) of the `weather` row of a latency table.
fn weather_row(out: &str, err: &str) -> (u64, u64) {
    let row = out
        .lines()
        .find(|l| l.starts_with("weather"))
        .unwrap_or_else(|| panic!("no table\n{out}\n{err}"));
    let cols: Vec<u64> = row
        .split_whitespace()
        .skip(1)
        .take(2)
        .map(|c| c.parse().expect("a number"))
        .collect();
    (cols[0], cols[1])
}

/// The `weather N duplicates` line of a latency table (0 when absent).
fn weather_duplicates(out: &str) -> u64 {
    out.lines()
        .find(|l| l.starts_with("weather") && l.ends_with("duplicates"))
        .and_then(|l| l.split_whitespace().nth(1))
        .map_or(0, |n| n.parse().expect("a number"))
}

/// The number after `key=` in the first stderr line containing `needle`.
fn logged(err: &str, needle: &str, key: &str) -> u64 {
    let line = err
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no `{needle}` line:\n{err}"));
    let at = line
        .find(&format!("{key}="))
        .unwrap_or_else(|| panic!("no {key}= in {line}"));
    line[at + key.len() + 1..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{key} in {line}"))
}

#[test]
fn the_sending_node_may_start_first_and_nothing_is_lost() {
    let sensors = node("sensors", 17431, 200, 2);
    std::thread::sleep(Duration::from_secs(2));
    let analysis = node("analysis", 17431, 200, 2);
    finish(sensors, "sensors");
    let (out, err) = finish(analysis, "analysis");
    assert_eq!(weather_row(&out, &err), (200, 0), "{out}");
}

#[test]
fn a_receiving_node_killed_mid_stream_gets_everything_unhandled_again() {
    let sensors = node("sensors", 17441, 2000, 1);
    let mut first = node("analysis", 17441, 2000, 1);
    std::thread::sleep(Duration::from_millis(1200));
    first.kill().expect("kill -9");
    let _ = first.wait();
    std::thread::sleep(Duration::from_secs(1));
    let second = node("analysis", 17441, 2000, 1);
    let (_, s_err) = finish(sensors, "sensors");
    let (out, err) = finish(second, "analysis");
    // The sender saw the receiver come back and said how much it sent again.
    assert!(s_err.contains("the receiving node restarted"), "{s_err}");
    // The new receiver says where it joined: everything from there arrived,
    // once each, in order (sequence numbers of the hop count from 1, the
    // source's from 0).
    let from = logged(&err, "joined the stream mid-way", "from");
    assert!(from > 1 && from <= 2000, "joined at {from}");
    let (count, gaps) = weather_row(&out, &err);
    assert_eq!(gaps, 0, "{out}");
    assert_eq!(count, 2000 - (from - 1), "{out}\n{err}");
    assert_eq!(weather_duplicates(&out), 0, "{out}");
}

#[test]
fn a_sending_node_killed_and_restarted_is_announced_and_its_new_stream_arrives_whole() {
    let mut first = node("sensors", 17451, 2000, 1);
    let analysis = node("analysis", 17451, 2000, 1);
    std::thread::sleep(Duration::from_millis(1200));
    first.kill().expect("kill -9");
    let _ = first.wait();
    std::thread::sleep(Duration::from_millis(500));
    let second = node("sensors", 17451, 2000, 1);
    finish(second, "sensors");
    let (out, err) = finish(analysis, "analysis");
    assert!(
        err.contains("the producing node restarted"),
        "the restart is logged: {err}"
    );
    // The application replays from sequence 0: every number of the second
    // run arrived, and the first run's are there again (counted, no gap).
    // Exactly: the second run's 2000 plus the first run's prefix, each of
    // those numbers counted once as a duplicate, and no gap.
    let (count, gaps) = weather_row(&out, &err);
    assert_eq!(gaps, 0, "{out}");
    assert!(count > 2000, "both runs arrived: {out}");
    assert_eq!(weather_duplicates(&out), count - 2000, "{out}");
}

#[test]
fn strangers_on_the_receiving_port_are_refused_and_named_while_the_stream_flows_on() {
    let analysis = node("analysis", 17461, 200, 2);
    std::thread::sleep(Duration::from_millis(500));
    // A ZeroMQ peer that says no hello: END, a forged DATA frame, garbage.
    let ctx = zmq::Context::new();
    let stranger = ctx.socket(zmq::DEALER).expect("socket");
    stranger.set_linger(2000).expect("linger");
    stranger.connect("tcp://127.0.0.1:17461").expect("connect");
    let mut forged = vec![0u8];
    forged.extend_from_slice(&1u64.to_le_bytes());
    forged.extend_from_slice(b"forged");
    for frame in [vec![1u8], forged, vec![7, 1, 2], vec![]] {
        stranger.send(frame, 0).expect("send");
    }
    // One frame far over max_message_size (64 MiB): libzmq drops that connection.
    let big = ctx.socket(zmq::DEALER).expect("socket");
    big.set_linger(0).expect("linger");
    big.connect("tcp://127.0.0.1:17461").expect("connect");
    big.send(vec![0u8; 65 << 20], 0).expect("send");
    // A plain TCP client writing the old END byte.
    if let Ok(mut raw) = std::net::TcpStream::connect("127.0.0.1:17461") {
        use std::io::Write;
        let _ = raw.write_all(&[1]);
    }
    std::thread::sleep(Duration::from_millis(300));
    let sensors = node("sensors", 17461, 200, 2);
    finish(sensors, "sensors");
    let (out, err) = finish(analysis, "analysis");
    assert_eq!(
        weather_row(&out, &err),
        (200, 0),
        "only the real stream: {out}"
    );
    let refused: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("said no hello were refused"))
        .collect();
    assert_eq!(refused.len(), 1, "one line per stranger: {err}");
    assert!(
        refused[0].contains("peer=127.0.0.1") && refused[0].contains("frames=4"),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("hop closed") && l.contains("refused=4")),
        "the total at the end: {err}"
    );
}

/// Key pairs written by `rolecall keygen` into a fresh directory.
fn keys(names: &[&str]) -> std::path::PathBuf {
    // One folder per call: tests run in parallel threads of one process.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rolecall-hop-keys-{}-{call}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for name in names {
        let out = run(rolecall().args(["keygen", name, "--dir", dir.to_str().expect("utf-8")]));
        assert!(out.status.success(), "{}", stderr(&out));
    }
    dir
}

/// `--set` arguments giving node `node` the key pair `pair` from `dir`.
fn node_keys(dir: &std::path::Path, node: &str, pair: &str) -> [String; 2] {
    let path = |ext: &str| dir.join(format!("{pair}.{ext}")).display().to_string();
    [
        format!("--set={node}.curve_public_key={}", path("pub")),
        format!("--set={node}.curve_secret_key={}", path("key")),
    ]
}

fn curve_node(name: &str, port: u16, keys: &[String]) -> Child {
    let mut args: Vec<String> = [
        "node",
        TOPO,
        "--node",
        name,
        &format!("--set=analysis.base_port={port}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(keys.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    spawn(&args)
}

#[test]
fn curve_keys_encrypt_the_wire_and_a_node_with_another_key_is_refused_and_named() {
    let dir = keys(&["sensors", "analysis", "mallory"]);
    let mut good: Vec<String> = node_keys(&dir, "sensors", "sensors").to_vec();
    good.extend(node_keys(&dir, "analysis", "analysis"));
    // The right keys: everything crosses.
    let analysis = curve_node("analysis", 17471, &good);
    let sensors = curve_node("sensors", 17471, &good);
    finish(sensors, "sensors");
    let (out, err) = finish(analysis, "analysis");
    assert_eq!(weather_row(&out, &err), (200, 0), "{out}\n{err}");

    // A sender presenting another key pair than the topology names for
    // `sensors` is refused during the handshake; nothing crosses.
    let mut analysis = curve_node("analysis", 17472, &good);
    let mut impostor: Vec<String> = node_keys(&dir, "sensors", "mallory").to_vec();
    impostor.extend(node_keys(&dir, "analysis", "analysis"));
    let mut sensors = curve_node("sensors", 17472, &impostor);
    let status = wait_with_timeout(&mut sensors, Duration::from_secs(40));
    let (_, s_err) = read_all(&mut sensors);
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "the sender fails at drain_timeout: {s_err}"
    );
    assert!(s_err.contains("unacknowledged=201"), "{s_err}");
    let _ = analysis.kill();
    let _ = analysis.wait();
    let (out, err) = read_all(&mut analysis);
    assert!(!out.contains("weather"), "nothing crossed: {out}");
    let mallory = std::fs::read_to_string(dir.join("mallory.pub")).expect("key");
    let refused = err
        .lines()
        .find(|l| l.contains("CURVE client refused"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        refused.contains("peer=127.0.0.1") && refused.contains(mallory.trim()),
        "names the peer and its key: {refused}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_wire_into_a_curve_node_from_a_node_without_keys_is_a_topology_error() {
    let dir = keys(&["analysis"]);
    let [public, secret] = node_keys(&dir, "analysis", "analysis");
    let out = run(rolecall().args(["check", TOPO, &public, &secret]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("node `sensors` has no CURVE keys"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metrics_runtime_reports_each_hops_delivery_counts_as_points() {
    let dir = std::env::temp_dir().join(format!("rolecall-hop-points-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let points = dir.join("points.txt");
    let mut text = std::fs::read_to_string(root().join(TOPO)).expect("two_nodes");
    text.push_str(&format!(
        r#"
[actors.runtime]
kind = "metrics.runtime"
node = "analysis"
params = {{ interval_ms = 50, until = ["stats"] }}

[actors.report]
kind = "metrics.reporter"
node = "analysis"
params = {{ output = "file", path = "{}" }}

[[wires]]
from = "runtime.points"
to = "report.in"
"#,
        points.display()
    ));
    let topo = dir.join("topology.toml");
    std::fs::write(&topo, text).expect("write");
    let topo = topo.display().to_string();
    let set = "--set=analysis.base_port=17481";
    let analysis = spawn(&["node", &topo, "--node", "analysis", set]);
    let sensors = spawn(&["node", &topo, "--node", "sensors", set]);
    finish(sensors, "sensors");
    finish(analysis, "analysis");
    let written = std::fs::read_to_string(&points).expect("points file");
    let last = written
        .lines()
        .rfind(|l| l.starts_with("hop,"))
        .unwrap_or_else(|| panic!("no hop point: {written}"));
    assert!(
        last.contains("end=receiver") && last.contains("messages=200i"),
        "{last}"
    );
    for zero in ["refused=0i", "duplicates=0i", "lost=0i", "bad_frames=0i"] {
        assert!(last.contains(zero), "{zero}: {last}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_node_whose_sending_node_was_killed_shuts_down_its_receiving_hops_together() {
    const THREE: &str = "tests/cli/fixtures/three_hops.toml";
    let mut sink = spawn(&["node", THREE, "--node", "sink"]);
    let mut src = spawn(&["node", THREE, "--node", "src"]);
    std::thread::sleep(Duration::from_secs(2));
    src.kill().expect("kill -9 src");
    let _ = src.wait();
    std::thread::sleep(Duration::from_millis(300));
    let asked = std::time::Instant::now();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &sink.id().to_string()])
        .status();
    assert!(term.is_ok_and(|s| s.success()), "kill -TERM sink");
    let status = wait_with_timeout(&mut sink, Duration::from_secs(30));
    let took = asked.elapsed();
    let (out, err) = read_all(&mut sink);
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}\n{out}\n{err}"
    );
    // Each of the three receiving hops tells its (dead) sender GONE and waits
    // up to 2 s for a BYE that does not come: asked together they take about
    // 2 s, one after another 6 s (6.2 s measured that way, 2.1 s together).
    assert!(
        took >= Duration::from_millis(1500),
        "the hops did not wait for their sender's goodbye ({took:?}): not the case under test\n{err}"
    );
    assert!(
        took < Duration::from_millis(4500),
        "the receiving hops said goodbye one after another: {took:?}\n{err}"
    );
}
