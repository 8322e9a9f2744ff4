//! A per-test Docker "lab": a unique name prefix, the `rolecall` command with
//! it, cleanup of everything carrying it (also when the test panics).

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::*;

pub(crate) struct Lab {
    pub(crate) prefix: String,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

fn docker_works() -> bool {
    Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// `docker ARGS`, standard output and error together; panics if it fails.
pub(crate) fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "docker {args:?}: {text}");
    text
}

/// `docker logs NAME` (standard output and error).
pub(crate) fn logs(name: &str) -> String {
    let out = Command::new("docker")
        .args(["logs", name])
        .output()
        .expect("docker runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Polls `docker logs NAME` until it contains `needle`; the time it took.
pub(crate) fn wait_for_log(name: &str, needle: &str, timeout: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if logs(name).contains(needle) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < timeout,
            "`{needle}` not in the logs of {name} within {timeout:?}:\n{}",
            logs(name)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `rolecall ARGS`, output captured.
pub(crate) fn rolecall_out(args: &[&str]) -> Output {
    run(rolecall().args(args))
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

impl Lab {
    /// A lab for test `name`, or None (with a message) without root or Docker.
    pub(crate) fn new(name: &str) -> Option<Lab> {
        if !is_root() || !docker_works() {
            // CI runs as root with Docker: there, a missing one fails the test.
            assert!(
                std::env::var_os("CI").is_none(),
                "the container tests need root and a running Docker daemon (`docker version` failed or uid is not 0)"
            );
            eprintln!("skipped: needs root and a running Docker daemon (CI has both)");
            return None;
        }
        let lab = Lab {
            prefix: format!("rcct-{}-{name}-", std::process::id()),
        };
        lab.clean();
        Some(lab)
    }

    /// `rolecall SUBCOMMAND... --prefix PREFIX REST...`: `args[..split]`, the prefix, the rest.
    pub(crate) fn rolecall(&self, head: &[&str], rest: &[&str]) -> Output {
        let mut args: Vec<&str> = head.to_vec();
        args.extend(["--prefix", &self.prefix]);
        args.extend(rest);
        rolecall_out(&args)
    }

    /// Builds the rolecall image (and the ZooKeeper image with `zk`).
    pub(crate) fn images(&self, zk: bool) {
        let o = self.rolecall(&["image"], &[]);
        assert!(o.status.success(), "{}", text(&o));
        if zk {
            let o = self.rolecall(&["image"], &["--zookeeper"]);
            assert!(o.status.success(), "{}", text(&o));
        }
    }

    /// The name of node container `node` of topology `topology` (labels).
    pub(crate) fn container(&self, topology: &str, node: &str) -> String {
        format!("{}{topology}-{node}", self.prefix)
    }

    /// Everything named with this lab's prefix that still exists.
    pub(crate) fn leftovers(&self) -> Vec<String> {
        let filter = format!("name={}", self.prefix);
        let mut left = Vec::new();
        for (what, args) in [
            (
                "container",
                vec!["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"],
            ),
            (
                "network",
                vec![
                    "network",
                    "ls",
                    "--filter",
                    &filter,
                    "--format",
                    "{{.Name}}",
                ],
            ),
            (
                "volume",
                vec!["volume", "ls", "--filter", &filter, "--format", "{{.Name}}"],
            ),
            (
                "image",
                vec!["images", "--format", "{{.Repository}}:{{.Tag}}"],
            ),
        ] {
            let out = Command::new("docker")
                .args(&args)
                .output()
                .expect("docker runs");
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                // `name=` filters match substrings: keep true prefixes only.
                if line.starts_with(&self.prefix) {
                    left.push(format!("{what} {line}"));
                }
            }
        }
        left
    }

    /// Removes everything with this lab's prefix.
    pub(crate) fn clean(&self) {
        for item in self.leftovers() {
            let (what, name) = item.split_once(' ').unwrap_or(("", ""));
            let args: Vec<&str> = match what {
                "container" => vec!["rm", "-f", name],
                "network" => vec!["network", "rm", name],
                "volume" => vec!["volume", "rm", "-f", name],
                _ => vec!["rmi", "-f", name],
            };
            let _ = Command::new("docker").args(&args).output();
        }
    }

    /// `rolecall docker down --volumes`, removes the images, asserts that
    /// nothing with the prefix is left.
    pub(crate) fn finish(self, topology: &str) {
        let o = self.rolecall(&["docker", "down"], &["--volumes", topology]);
        assert!(o.status.success(), "{}", text(&o));
        for image in ["rolecall:latest", "zookeeper:latest"] {
            let _ = Command::new("docker")
                .args(["rmi", &format!("{}{image}", self.prefix)])
                .output();
        }
        let left = self.leftovers();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.clean();
    }
}

/// `docker wait NAME` within `timeout`: the exit code.
pub(crate) fn wait_exit(name: &str, timeout: Duration) -> i32 {
    let start = Instant::now();
    loop {
        let state = docker(&[
            "inspect",
            "--format",
            "{{.State.Status}} {{.State.ExitCode}}",
            name,
        ]);
        let mut parts = state.split_whitespace();
        if parts.next() == Some("exited") {
            return parts.next().and_then(|c| c.parse().ok()).unwrap_or(-1);
        }
        assert!(
            start.elapsed() < timeout,
            "{name} still {state} after {timeout:?}:\n{}",
            logs(name)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
