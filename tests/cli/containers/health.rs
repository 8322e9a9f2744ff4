//! `rolecall node --health ADDR`: the probe endpoint of containers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).ok()?;
    Some(reply)
}

#[test]
fn health_endpoint_answers_once_the_node_has_started() {
    let addr = "127.0.0.1:34101";
    let mut node = crate::support::rolecall()
        .args([
            "node",
            "tests/cli/fixtures/forever.toml",
            "--node",
            "main",
            "--health",
            addr,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let reply = loop {
        match get(addr, "/healthz") {
            Some(r) if r.starts_with("HTTP/1.1 200") => break r,
            _ => {}
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no 200 from /healthz"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(reply.ends_with("\r\n\r\nok\n"), "{reply}");
    let other = get(addr, "/other").unwrap();
    assert!(other.starts_with("HTTP/1.1 404"), "{other}");
    // A second node cannot take the same address: a clear error.
    let o = crate::support::run(crate::support::rolecall().args([
        "node",
        "tests/cli/fixtures/forever.toml",
        "--node",
        "main",
        "--health",
        addr,
    ]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with(&format!("error: --health {addr}: ")),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    node.kill().unwrap();
    node.wait().unwrap();
}
