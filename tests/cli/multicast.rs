//! PUB/SUB over epgm multicast between two network namespaces.

use std::process::Command;

use crate::support::*;

/// Removes the namespaces whatever the test does.
struct Hosts(String);

impl Drop for Hosts {
    fn drop(&mut self) {
        let _ = Command::new("examples/zmq_multicast/netns.sh")
            .current_dir(root())
            .args(["down", &self.0])
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

#[test]
fn epgm_multicast_crosses_between_two_emulated_hosts() {
    if !is_root() {
        eprintln!("skipped: creating network namespaces needs root (CI runs as root)");
        return;
    }
    let prefix = format!("rc{}", std::process::id() % 100_000);
    let hosts = Hosts(prefix.clone());
    let up = Command::new("examples/zmq_multicast/netns.sh")
        .current_dir(root())
        .args(["up", &prefix])
        .status()
        .expect("netns.sh runs");
    assert!(up.success(), "setting up the namespaces failed");
    let bin = env!("CARGO_BIN_EXE_rolecall");
    let mut sub = Command::new("ip");
    sub.current_dir(root()).env("ROLECALL_LOG", "warn").args([
        "netns",
        "exec",
        &format!("{prefix}-b"),
        bin,
        "run",
        "examples/zmq_multicast/subscriber.toml",
    ]);
    let subscriber = std::thread::spawn(move || run(&mut sub));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let publisher = run(Command::new("ip")
        .current_dir(root())
        .env("ROLECALL_LOG", "warn")
        .args([
            "netns",
            "exec",
            &format!("{prefix}-a"),
            bin,
            "run",
            "examples/zmq_multicast/publisher.toml",
        ]));
    assert!(
        publisher.status.success(),
        "publisher: {}",
        stderr(&publisher)
    );
    let out = subscriber.join().expect("subscriber thread");
    let text = stdout(&out);
    assert!(out.status.success(), "subscriber: {text}\n{}", stderr(&out));
    let got = text
        .lines()
        .filter(|l| l.starts_with("printer: mcast | mcast "))
        .count();
    assert_eq!(got, 10, "{text}");
    drop(hosts);
}
