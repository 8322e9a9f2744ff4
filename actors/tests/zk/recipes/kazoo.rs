//! rolecall actors and kazoo (Python, tests/kazoo/contend.py) in one lock
//! and in one election.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rolecall_actors::zk::{Leadership, LockCommand, LockEvent};

use super::election::candidate;
use super::lock::{contender, quiet};
use crate::support::{next, servers, unique};

/// The Python interpreter of the test peers: `$ROLECALL_PYTHON`, or
/// `<repo>/.tools/pyvenv/bin/python3` as `scripts/install-deps.sh test` makes it.
fn python() -> String {
    std::env::var("ROLECALL_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/../.tools/pyvenv/bin/python3",
            env!("CARGO_MANIFEST_DIR")
        )
    })
}

/// A kazoo contender; its stdout lines arrive on a channel.
pub(crate) struct Kazoo {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Kazoo {
    fn start(path: &str, id: &str, mode: &str) -> Kazoo {
        Kazoo::run("contend.py", &[&servers(), path, id, mode])
    }

    /// Runs `tests/kazoo/SCRIPT ARGS...` with the test peers' Python
    /// (`.tools/pyvenv`, which holds kazoo; `$ROLECALL_PYTHON` overrides it).
    pub(crate) fn run(script: &str, args: &[&str]) -> Kazoo {
        let script = format!("{}/../tests/kazoo/{script}", env!("CARGO_MANIFEST_DIR"));
        let python = python();
        let ok = Command::new(&python)
            .args(["-c", "import kazoo"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "{python} cannot import kazoo: `scripts/install-deps.sh test` makes .tools/pyvenv with it \
             (or set ROLECALL_PYTHON to a python3 that has kazoo)"
        );
        let mut child = Command::new(&python)
            .arg(&script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::sync_channel(64);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Kazoo {
            child,
            stdin,
            lines,
        }
    }

    /// The next line within `timeout`, waiting without blocking the actors'
    /// thread (their sessions must keep pinging).
    async fn line(&mut self, timeout: Duration) -> Option<String> {
        let end = std::time::Instant::now() + timeout;
        loop {
            match self.lines.try_recv() {
                Ok(line) => return Some(line),
                Err(mpsc::TryRecvError::Disconnected) => return None,
                Err(mpsc::TryRecvError::Empty) if std::time::Instant::now() >= end => return None,
                Err(mpsc::TryRecvError::Empty) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    pub(crate) async fn expect(&mut self, what: &str, secs: u64) -> String {
        let line = self
            .line(Duration::from_secs(secs))
            .await
            .unwrap_or_else(|| panic!("kazoo did not say {what:?} within {secs} s"));
        assert!(
            line.starts_with(what),
            "kazoo said {line:?}, expected {what:?}"
        );
        line
    }

    async fn silent(&mut self, ms: u64) {
        if let Some(line) = self.line(Duration::from_millis(ms)).await {
            panic!("kazoo said {line:?}, expected nothing yet");
        }
    }

    pub(crate) fn tell(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Kazoo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[actix_rt::test]
async fn kazoo_and_rolecall_share_one_lock() {
    let path = unique("kazoo-lock");
    let s = servers();
    let mut a = contender(&path, "rust-a", &s).await;
    let mut b = contender(&path, "rust-b", &s).await;
    a.commands.output().send_async(LockCommand::Acquire).await;
    assert!(matches!(
        next(&mut a.events, 10).await,
        LockEvent::Acquired { .. }
    ));
    // kazoo queues behind the Rust holder...
    let mut py = Kazoo::start(&path, "py", "lock");
    py.expect("connected", 15).await;
    py.silent(700).await;
    py.tell("contenders");
    assert_eq!(py.expect("contenders", 5).await, "contenders rust-a,py");
    // ...and gets the lock when it is released.
    a.commands.output().send_async(LockCommand::Release).await;
    py.expect("acquired", 10).await;
    // A Rust contender queues behind kazoo, and gets it after kazoo releases.
    b.commands.output().send_async(LockCommand::Acquire).await;
    quiet(&mut b.events, 500).await;
    py.tell("release");
    py.expect("released", 10).await;
    assert!(matches!(
        next(&mut b.events, 10).await,
        LockEvent::Acquired { .. }
    ));
    b.commands.output().send_async(LockCommand::Release).await;
    for x in [a, b] {
        x.running.shutdown();
        x.running.wait().await;
    }
}

#[actix_rt::test]
async fn kazoo_and_rolecall_share_one_election() {
    let path = unique("kazoo-election");
    let s = servers();
    let mut py = Kazoo::start(&path, "py-leader", "election");
    py.expect("connected", 15).await;
    py.expect("leader", 10).await;
    let (r, mut t) = candidate(&path, "rust-1", &s).await;
    assert_eq!(
        next(&mut t, 10).await,
        Leadership::Following {
            leader: "py-leader".into()
        }
    );
    py.tell("contenders");
    assert_eq!(
        py.expect("contenders", 5).await,
        "contenders py-leader,rust-1"
    );
    // The Python leader dies: the Rust candidate leads.
    drop(py);
    assert_eq!(
        next(&mut t, 15).await,
        Leadership::Elected {
            identifier: "rust-1".into()
        }
    );
    // A new kazoo candidate follows the Rust leader.
    let mut py2 = Kazoo::start(&path, "py-2", "election");
    py2.expect("connected", 15).await;
    py2.silent(700).await;
    r.shutdown();
    r.wait().await;
    py2.expect("leader", 10).await;
}
