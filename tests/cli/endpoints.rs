//! ZeroMQ endpoints keep their promises at shutdown: a finite producer into a
//! `zmq.push` or `zmq.dealer` that connects to a pyzmq peer binding half a
//! second after `rolecall run` started delivers every message (within
//! `linger_ms`), 16 MB frames included; past `linger_ms` what is left is
//! counted and logged. Python is `$ROLECALL_PYTHON`, else
//! `.tools/pyvenv/bin/python3` (with pyzmq).

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// Binds a PULL (or ROUTER) at argv[1] after argv[2] seconds and receives
/// until nothing came for argv[3] seconds; prints `count bytes first last`
/// (the payload's first and last frames as text, for small ones).
const PEER: &str = r#"
import sys, time, zmq
endpoint, delay, idle, kind = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
ctx = zmq.Context()
time.sleep(delay)
s = ctx.socket(zmq.ROUTER if kind == "router" else zmq.PULL)
s.setsockopt(zmq.LINGER, 0)
s.setsockopt(zmq.RCVTIMEO, int(idle * 1000))
s.bind(endpoint)
count, size, bodies = 0, 0, []
try:
    while True:
        parts = s.recv_multipart()
        if kind == "router":
            parts = parts[1:]
        count += 1
        size += sum(len(p) for p in parts)
        if size < 100000:
            bodies.append(b"|".join(parts).decode())
except zmq.Again:
    pass
print(count, size, ",".join(bodies))
"#;

struct Peer(Child);

impl Peer {
    /// Starts the peer script now: it binds `delay` seconds later.
    fn start(endpoint: &str, delay: f64, idle: f64, kind: &str) -> Peer {
        let mut child = Command::new(python())
            .args(["-", endpoint, &delay.to_string(), &idle.to_string(), kind])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(PEER.as_bytes())
            .expect("the script goes to python");
        Peer(child)
    }

    /// What it received: (messages, bytes, the small payloads).
    fn received(self) -> (usize, usize, Vec<String>) {
        let out = self.0.wait_with_output().expect("python ends");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "python peer: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut fields = text.trim_end_matches('\n').splitn(3, ' ');
        let mut number = || -> usize {
            fields
                .next()
                .and_then(|f| f.parse().ok())
                .unwrap_or_else(|| panic!("peer printed {text:?}"))
        };
        let (count, bytes) = (number(), number());
        let bodies = fields
            .next()
            .unwrap_or_default()
            .split(',')
            .filter(|b| !b.is_empty())
            .map(str::to_owned)
            .collect();
        (count, bytes, bodies)
    }
}

/// Writes `text` to a temp topology file and runs it (logging warnings), timing the run.
fn run_topology(text: &str) -> (std::process::Output, Duration) {
    run_topology_logging(text, "warn")
}

/// [`run_topology`] with the log filter `log`.
fn run_topology_logging(text: &str, log: &str) -> (std::process::Output, Duration) {
    let mut file = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("a temp file");
    file.write_all(text.as_bytes()).expect("write the topology");
    let started = Instant::now();
    let out = run(rolecall()
        .arg("run")
        .arg(file.path())
        .env("ROLECALL_LOG", log));
    (out, started.elapsed())
}

fn finite_producer_into(kind: &str, port: u16, extra: &str) -> String {
    format!(
        r#"
[topology]
name = "late_peer"

[actors.source]
kind = "text.publisher"
params = {{ topics = ["task"], count = 50, interval_ms = 0 }}

[actors.endpoint]
kind = "{kind}"
params = {{ connect = ["tcp://127.0.0.1:{port}"]{extra} }}

[[wires]]
from = "source.out"
to = "endpoint.in"
"#
    )
}

fn late_peer_gets_every_message(kind: &str, peer_kind: &str, port: u16) {
    late_peer_gets_every_message_with(kind, peer_kind, port, 0.5, "");
}

fn late_peer_gets_every_message_with(
    kind: &str,
    peer_kind: &str,
    port: u16,
    delay: f64,
    extra: &str,
) {
    let peer = Peer::start(&format!("tcp://127.0.0.1:{port}"), delay, 2.0, peer_kind);
    let (out, took) = run_topology(&finite_producer_into(kind, port, extra));
    assert!(
        out.status.success(),
        "{kind}: {:?}\n{}",
        out.status,
        stderr(&out)
    );
    let (count, _, bodies) = peer.received();
    assert_eq!(count, 50, "{kind}: the late peer got {count} of 50");
    let want: Vec<String> = (0..50).map(|i| format!("task|task {i}")).collect();
    assert_eq!(bodies, want, "{kind}: every message once, in order");
    assert!(
        took >= Duration::from_secs_f64(delay - 0.1),
        "{kind}: rolecall waited for the peer (took {took:?})"
    );
}

#[test]
fn a_push_endpoint_delivers_everything_to_a_peer_that_binds_late() {
    late_peer_gets_every_message("zmq.push", "pull", 15911);
}

#[test]
fn a_dealer_endpoint_delivers_everything_to_a_peer_that_binds_late() {
    late_peer_gets_every_message("zmq.dealer", "router", 15912);
}

#[test]
fn linger_minus_one_waits_for_a_peer_later_than_the_default_linger() {
    // 2.5 s is past the default linger of 2 s: -1 waits as long as it takes,
    // with a send high-water mark below the 50 messages.
    late_peer_gets_every_message_with(
        "zmq.push",
        "pull",
        15915,
        2.5,
        ", linger_ms = -1, sndhwm = 10",
    );
}

#[test]
fn sixteen_megabyte_frames_still_being_sent_at_the_end_are_not_lost() {
    let port = 15913;
    let peer = Peer::start(&format!("tcp://127.0.0.1:{port}"), 0.5, 3.0, "pull");
    // 4,000,000 f32 values: a 16 MB FlatBuffers frame each.
    let (out, _) = run_topology(&format!(
        r#"
[topology]
name = "big_frames"

[actors.sensor]
kind = "topic.source"
params = {{ count = 4, interval_ms = 0, values = 4000000 }}

[actors.encode]
kind = "topic.encode"
params = {{ format = "flatbuffers" }}

[actors.push]
kind = "zmq.push"
params = {{ connect = ["tcp://127.0.0.1:{port}"] }}

[[wires]]
from = "sensor.out"
to = "encode.in"

[[wires]]
from = "encode.out"
to = "push.in"
"#
    ));
    assert!(out.status.success(), "{:?}\n{}", out.status, stderr(&out));
    let (count, bytes, _) = peer.received();
    assert_eq!(count, 4, "every 16 MB frame arrived");
    assert!(bytes >= 4 * 16_000_000, "{bytes} bytes");
}

#[test]
fn past_linger_ms_what_was_not_delivered_is_counted_and_logged() {
    let port = 15914;
    // The peer binds 2 s late; the endpoint gives up after 300 ms.
    let peer = Peer::start(&format!("tcp://127.0.0.1:{port}"), 2.0, 1.0, "pull");
    let (out, took) = run_topology_logging(
        &finite_producer_into("zmq.push", port, ", linger_ms = 300, sndhwm = 10"),
        "info",
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{:?}\n{err}", out.status);
    assert!(
        took < Duration::from_millis(1900),
        "gave up in time: {took:?}"
    );
    let number = |line: &str, field: &str| -> usize {
        err.lines()
            .find(|l| l.contains(line))
            .and_then(|l| l.split(&format!(" {field}=")).nth(1))
            .and_then(|n| n.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("a line with {line:?} and {field}=:\n{err}"))
    };
    let unsent = number("linger passed", "unsent");
    let (handed, dropped) = (
        number("endpoint closed", "messages"),
        number("endpoint closed", "dropped"),
    );
    // libzmq took about its high-water mark; the rest was never handed over,
    // and every message is accounted for.
    assert_eq!((handed + unsent, dropped), (50, unsent), "{err}");
    assert!(unsent >= 30, "unsent {unsent}\n{err}");
    let (count, _, _) = peer.received();
    assert_eq!(count, 0, "nothing arrived after the linger had passed");
}

/// `examples/zmq_flatbuffers` with 50,000 messages as fast as they come and
/// small high-water marks: the PUB drops silently, the latency stage ends on
/// its idle timeout instead of waiting for ever, and the WARN and the table
/// agree on what really arrived.
#[test]
fn pub_sub_losses_show_and_the_consumer_ends_on_its_idle_timeout() {
    let started = Instant::now();
    let out = run(rolecall().args([
        "run",
        "examples/zmq_flatbuffers/topology.toml",
        "--set",
        "main.sensor.count=50000",
        "--set",
        "main.sensor.interval_ms=0",
        "--set",
        "main.publisher.sndhwm=20",
        "--set",
        "main.subscriber.rcvhwm=20",
        "--set",
        "main.latency.stop_after=50000",
        "--set",
        "main.latency.idle_timeout_ms=1000",
    ]));
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{:?}\n{err}", out.status);
    assert!(started.elapsed() < Duration::from_secs(50), "it ended");
    let field = |name: &str| -> u64 {
        err.lines()
            .find(|l| l.contains("no message for 1000 ms"))
            .and_then(|l| l.split(&format!(" {name}=")).nth(1))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("a WARN with {name}=:\n{err}\n{text}"))
    };
    let (arrived, expected, missing, gaps) = (
        field("arrived"),
        field("expected"),
        field("missing"),
        field("gaps"),
    );
    assert_eq!(expected, 50000);
    assert!(missing > 0 && arrived + missing == 50000, "{err}");
    assert!(
        err.contains(&format!("ending with {arrived} of 50000 messages arrived")),
        "{err}"
    );
    // The table: one row for `weather`, count = what arrived (no duplicates on
    // PUB/SUB), gaps = the missing numbers between the lowest and highest seen.
    let row: Vec<u64> = text
        .lines()
        .find(|l| l.starts_with("weather"))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .take(2)
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(row, vec![arrived, gaps], "{text}");
    assert!(
        gaps > 0 && gaps <= missing,
        "gaps {gaps}, missing {missing}"
    );
}
