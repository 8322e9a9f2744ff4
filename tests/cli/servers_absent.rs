//! Servers that are not there (issue 12, item 7): a ZooKeeper or InfluxDB
//! address where nothing listens ends the node within seconds with exit
//! status 1 and exactly one error line that names the address and how to
//! set it; no panic message, no backtrace, no restarts. A metrics server that
//! comes up while the reporter is still waiting for it is used normally.
//!
//! No server is needed: the addresses are closed ports, and the late server
//! is a minimal HTTP responder in this file.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::*;

/// A loopback port where nothing listens (bound, then released).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Runs `rolecall ARGS` as a user would (default log level, and with
/// RUST_BACKTRACE=1 so that a panic would show its backtrace); returns the
/// output and how long it took.
fn run_as_user(args: &[&str], env: &[(&str, String)]) -> (Output, Duration) {
    let mut c = rolecall();
    c.args(args)
        .env("ROLECALL_LOG", "info")
        .env("RUST_BACKTRACE", "1")
        .env_remove("ROLECALL_ZK")
        .env_remove("ROLECALL_INFLUXDB_V1")
        .env_remove("ROLECALL_INFLUX_V2");
    for (k, v) in env {
        c.env(k, v);
    }
    let started = Instant::now();
    let out = run(&mut c);
    (out, started.elapsed())
}

/// Lines that report an error: the CLI's `error: ...` and any ERROR log line.
fn error_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("error") || l.contains(" ERROR "))
        .collect()
}

/// The common checks: exit status 1, in time, one error line holding every
/// piece of `names`, no panic text, at most `warnings` WARN lines.
fn assert_one_line_failure(
    out: &Output,
    took: Duration,
    names: &[&str],
    warnings: usize,
) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}\n{err}");
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(!err.contains(bad), "{bad:?} in stderr:\n{err}");
    }
    let errors = error_lines(&err);
    assert_eq!(errors.len(), 1, "want exactly one error line:\n{err}");
    for name in names {
        assert!(errors[0].contains(name), "{name:?} missing from {errors:?}");
    }
    let warns = err.lines().filter(|l| l.contains(" WARN ")).count();
    assert!(warns <= warnings, "{warns} WARN lines:\n{err}");
    // Nothing restarted: a restart is logged as a WARN `restarting` line.
    assert!(!err.contains("restarting in"), "{err}");
    errors[0].to_owned()
}

#[test]
fn zookeeper_unreachable_is_one_error_line_naming_the_address_and_rolecall_zk() {
    let addr = format!("127.0.0.1:{}", closed_port());
    let (out, took) = run_as_user(
        &["run", "examples/zk_session/topology.toml"],
        &[("ROLECALL_ZK", addr.clone())],
    );
    let line = assert_one_line_failure(&out, took, &[&addr, "ROLECALL_ZK", "`servers`"], 1);
    assert!(line.contains("connection refused"), "{line}");
    assert!(line.contains("(from ROLECALL_ZK)"), "{line}");
    // It tried for the default connect timeout (5 s), no longer.
    assert!(took >= Duration::from_secs(3), "gave up after {took:?}");
}

#[test]
fn zookeeper_recipes_unreachable_from_the_servers_parameter_fail_the_same_way() {
    let addr = format!("127.0.0.1:{}", closed_port());
    let set = format!("a.ca.servers={addr}");
    let (out, took) = run_as_user(
        &[
            "node",
            "examples/zk_election/topology.toml",
            "--node",
            "a",
            "--set",
            &set,
            "--set",
            "a.ca.connect_timeout_ms=1000",
        ],
        &[],
    );
    let line = assert_one_line_failure(&out, took, &[&addr, "ROLECALL_ZK", "`servers`"], 1);
    assert!(
        line.contains("zk.election `ca`") && line.contains("(from the `servers` parameter)"),
        "{line}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn influxdb_unreachable_at_start_is_one_error_line_naming_the_url_and_how_to_set_it() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let set = format!("main.metrics.url={url}");
    let (out, took) = run_as_user(
        &[
            "run",
            "tests/cli/fixtures/metrics_server.toml",
            "--set",
            &set,
        ],
        &[],
    );
    let line = assert_one_line_failure(
        &out,
        took,
        &[
            &url,
            "`url`",
            "ROLECALL_INFLUXDB_V1",
            "--set main.metrics.url=",
        ],
        1,
    );
    assert!(line.contains("connection refused"), "{line}");
    assert!(took >= Duration::from_secs(3), "gave up after {took:?}");
}

#[test]
fn influx_v2_url_from_the_environment_unreachable_fails_the_same_way() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (out, took) = run_as_user(
        &[
            "run",
            "tests/cli/fixtures/metrics_server.toml",
            "--set",
            "main.metrics.output=influx-v2",
            "--set",
            "main.metrics.wait_for_server_ms=800",
        ],
        &[("ROLECALL_INFLUX_V2", url.clone())],
    );
    let line = assert_one_line_failure(&out, took, &[&url, "ROLECALL_INFLUX_V2"], 1);
    assert!(line.contains("(from ROLECALL_INFLUX_V2)"), "{line}");
}

/// A minimal InfluxDB 1.x stand-in: answers every request with 204 and
/// counts the line-protocol lines of `/write` bodies.
fn fake_influx(listener: TcpListener, lines: Arc<AtomicUsize>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { return };
        let lines = Arc::clone(&lines);
        std::thread::spawn(move || serve(stream, &lines));
    }
}

fn serve(mut s: TcpStream, lines: &AtomicUsize) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        // One request: headers, then Content-Length bytes of body.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        if head.starts_with("post /write") {
            let body = String::from_utf8_lossy(&buf[head_end..head_end + len]);
            lines.fetch_add(body.lines().count(), Ordering::Relaxed);
        }
        buf.drain(..head_end + len);
        let reply = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
        if s.write_all(reply).is_err() {
            return;
        }
    }
}

#[test]
fn an_influxdb_that_starts_while_the_reporter_waits_gets_every_point() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}");
    let lines = Arc::new(AtomicUsize::new(0));
    let server = {
        let lines = Arc::clone(&lines);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            let l = TcpListener::bind(("127.0.0.1", port)).expect("bind the late server");
            fake_influx(l, lines);
        })
    };
    let set = format!("main.metrics.url={url}");
    let (out, took) = run_as_user(
        &[
            "run",
            "tests/cli/fixtures/metrics_server.toml",
            "--set",
            &set,
        ],
        &[],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(error_lines(&err).is_empty(), "{err}");
    // One WARN while it waited, then the server's answer.
    let waits = err
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains("cannot reach"))
        .count();
    assert_eq!(waits, 1, "{err}");
    assert!(err.contains("metrics server answers"), "{err}");
    let written = err
        .lines()
        .find(|l| l.contains("metrics reporter stopped"))
        .and_then(|l| l.split("written=").nth(1))
        .and_then(|w| w.split_whitespace().next())
        .and_then(|w| w.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no written= count:\n{err}"));
    assert!(written > 0, "{err}");
    assert!(err.contains("dropped=0"), "{err}");
    assert_eq!(lines.load(Ordering::Relaxed), written, "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    drop(server);
}
