//! What the ZooKeeper pub/sub tests share: processes with timestamped log
//! lines, a system (config.ini, ZooKeeper root, shared flags, kazoo's view),
//! the subscribers' accounts and delivery times, a ZooKeeper server stopped
//! for a while.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

/// Session timeout the tests give every process.
pub(crate) const SESSION: Duration = Duration::from_millis(4000);
/// The failover bound the issue states: session timeout + 1 s.
pub(crate) const FAILOVER: Duration = Duration::from_millis(5000);

pub(crate) fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: `scripts/servers.sh start` and `source target/test-servers/env` (make test does both)")
    })
}

/// A root of its own per test, so runs never meet in ZooKeeper.
pub(crate) fn root_for(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "/rolecall-test/pubsub-{name}-{}-{nanos}",
        std::process::id()
    )
}

/// A `rolecall pubsub` process whose log lines are kept with their arrival time.
pub(crate) struct Proc {
    name: String,
    child: Child,
    pub(crate) lines: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Proc {
    pub(crate) fn start(name: &str, args: &[String]) -> Proc {
        let mut child = rolecall()
            .arg("pubsub")
            .args(args)
            .env("ROLECALL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rolecall starts");
        let err = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let keep = lines.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                keep.lock().unwrap().push((Instant::now(), l));
            }
        });
        Proc {
            name: name.to_owned(),
            child,
            lines,
        }
    }

    pub(crate) fn text(&self) -> String {
        let l = self.lines.lock().unwrap();
        l.iter()
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// When the first line containing `needle` arrived, waiting up to `timeout`.
    pub(crate) fn wait_for(&self, needle: &str, timeout: Duration) -> Instant {
        self.wait_for_after(needle, None, timeout)
    }

    /// When the first line containing `needle` that arrived after `after`
    /// (any, with `None`) arrived, waiting up to `timeout`.
    pub(crate) fn wait_for_after(
        &self,
        needle: &str,
        after: Option<Instant>,
        timeout: Duration,
    ) -> Instant {
        let until = Instant::now() + timeout;
        loop {
            if let Some((t, _)) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|(t, l)| after.is_none_or(|a| *t > a) && l.contains(needle))
            {
                return *t;
            }
            assert!(
                Instant::now() < until,
                "`{needle}` not logged by {} within {timeout:?}:\n{}",
                self.name,
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to end; its exit code.
    pub(crate) fn finish(&mut self, timeout: Duration) -> Option<i32> {
        let status = wait_with_timeout(&mut self.child, timeout);
        std::thread::sleep(Duration::from_millis(100));
        status.and_then(|s| s.code())
    }

    pub(crate) fn kill9(&mut self) -> Instant {
        let _ = self.child.kill();
        let _ = self.child.wait();
        Instant::now()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The system's `config.ini` in a temp dir, and the flags every process shares.
pub(crate) struct System {
    _dir: tempfile::TempDir,
    config: PathBuf,
    servers: String,
    root: String,
}

impl System {
    pub(crate) fn new(name: &str, servers: &str, dissemination: &str, groups: usize) -> System {
        let dir = tempfile::tempdir().expect("a temp dir");
        let config = dir.path().join("config.ini");
        std::fs::write(
            &config,
            format!("[Discovery]\nStrategy = ZooKeeper\n[Dissemination]\nStrategy = {dissemination}\nGroups = {groups}\n"),
        )
        .unwrap();
        System {
            _dir: dir,
            config,
            servers: servers.to_owned(),
            root: root_for(name),
        }
    }

    pub(crate) fn args(&self, role: &str, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = vec![
            role.into(),
            "-c".into(),
            self.config.display().to_string(),
            "-z".into(),
            self.servers.clone(),
            "--zk-root".into(),
            self.root.clone(),
            "--session-timeout-ms".into(),
            SESSION.as_millis().to_string(),
        ];
        if role != "discovery" {
            a.extend(["--pause-ms".into(), "100".into()]);
        }
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        a
    }

    pub(crate) fn start(&self, name: &str, role: &str, extra: &[&str]) -> Proc {
        Proc::start(name, &self.args(role, extra))
    }

    /// Publisher `name` on `port`: `iters` publications of each of `topics`
    /// (comma-separated) at `freq` per second.
    pub(crate) fn publisher(
        &self,
        name: &str,
        port: &str,
        topics: &str,
        freq: &str,
        iters: &str,
    ) -> Proc {
        let args = [
            "-n", name, "-p", port, "--topics", topics, "-f", freq, "-i", iters,
        ];
        self.start(name, "publisher", &args)
    }

    /// Subscriber `name` of `topics`, done after `stop_after` publications
    /// or `idle_ms` without one; `more` flags after those.
    pub(crate) fn subscriber(
        &self,
        name: &str,
        topics: &str,
        stop_after: &str,
        idle_ms: &str,
        more: &[&str],
    ) -> Proc {
        let args = [
            "-n",
            name,
            "--topics",
            topics,
            "--stop-after",
            stop_after,
            "--idle-timeout-ms",
            idle_ms,
        ];
        self.start(name, "subscriber", &[&args[..], more].concat())
    }

    /// Runs a kazoo script with the servers and `ROOT/path` as arguments;
    /// its output's one line, split at commas.
    pub(crate) fn kazoo(&self, script: &str, path: &str) -> Vec<String> {
        kazoo(&self.servers, &format!("{}/{path}", self.root), script)
            .trim()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// kazoo's view of the children of a node under the root: `name=data`, sorted.
    pub(crate) fn kazoo_children(&self, parent: &str) -> Vec<String> {
        self.kazoo(
            r#"print(",".join(sorted(c + "=" + zk.get(p + "/" + c)[0].decode() for c in zk.get_children(p))), flush=True)"#,
            parent,
        )
    }

    /// kazoo's view of an election under the root: its contenders' identifiers, leader first.
    pub(crate) fn kazoo_contenders(&self, election: &str) -> Vec<String> {
        self.kazoo(
            r#"print(",".join(zk.Election(p).contenders()), flush=True)"#,
            election,
        )
    }
}

/// `(delivered, lost, duplicates dropped, not from the owner)` of a subscriber's COMPLETED line.
pub(crate) fn accounts(log: &str) -> (u64, u64, u64, u64) {
    let line = log
        .lines()
        .find(|l| l.contains("subscriber COMPLETED"))
        .unwrap_or_else(|| panic!("no COMPLETED line:\n{log}"));
    let num = |key: &str| -> u64 {
        line.split(key)
            .nth(1)
            .and_then(|r| r.split([',', ' ', ';']).find(|w| !w.is_empty()))
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no `{key}` in {line}"))
    };
    (
        num("delivered "),
        num("lost "),
        num("duplicates dropped "),
        num("not from the owner "),
    )
}

/// Delivery times (ns) per (publisher, topic) from a subscriber's `--results` file.
pub(crate) fn deliveries(path: &Path) -> Vec<(String, String, i64)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("latency,"))
        .filter_map(|l| {
            let tag = |k: &str| {
                l.split([',', ' '])
                    .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                    .map(str::to_owned)
            };
            let ts = l.rsplit(' ').next()?.parse().ok()?;
            Some((tag("publisher")?, tag("topic")?, ts))
        })
        .collect()
}

pub(crate) fn wall_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// A ZooKeeper server of `scripts/servers.sh` (`zookeeper`, the standalone
/// one, or `zk-ens1..3`) killed; started again, and waited for, when dropped.
pub(crate) struct StoppedZkServer(&'static str);

impl StoppedZkServer {
    pub(crate) fn stop(name: &'static str) -> Self {
        crate::zk::server_ctl("zk-kill", name);
        StoppedZkServer(name)
    }
}

impl Drop for StoppedZkServer {
    fn drop(&mut self) {
        crate::zk::server_ctl("zk-start", self.0);
    }
}
