//! PUB/SUB over epgm multicast between two network namespaces.

use std::process::Command;

use crate::netns::Hosts;
use crate::support::*;

#[test]
fn epgm_multicast_crosses_between_two_emulated_hosts() {
    let prefix = format!("rc{}", std::process::id() % 100_000);
    let hosts = Hosts::up(&prefix);
    let bin = env!("CARGO_BIN_EXE_rolecall");
    let mut sub = Command::new("ip");
    sub.current_dir(root()).env("ROLECALL_LOG", "warn").args([
        "netns",
        "exec",
        &hosts.name('b'),
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
            &hosts.name('a'),
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
