//! A durable acceptor keeps every promise across SIGKILL: the test re-runs
//! its own binary as a child process holding an [`Acceptor`] over a
//! [`FileStorage`], streams prepares and accepts into it, kills it with
//! SIGKILL in the middle, restarts it on the same file, and checks that
//! every promise and acceptance the child had answered is still in force.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use rolecall_actors::paxos::{Acceptor, Ballot, FileStorage, FromAcceptor, ToAcceptor};

const CHILD_ENV: &str = "ROLECALL_PAXOS_ACCEPTOR_LOG";

/// The child: an acceptor reading `P round` / `A round value` lines on stdin,
/// answering each on stdout only after it is durable.
#[test]
fn acceptor_child_process() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return; // not the child: nothing to do
    };
    let mut a = Acceptor::recover(1, FileStorage::open(&path).unwrap()).unwrap();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready {}", a.promised().round).unwrap();
    out.flush().unwrap();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let mut w = line.split_whitespace();
        let (op, round) = (w.next().unwrap(), w.next().unwrap().parse().unwrap());
        let ballot = Ballot::new(round, 1);
        let msg = match op {
            "P" => ToAcceptor::Prepare {
                ballot,
                from_slot: 0,
            },
            _ => ToAcceptor::Accept {
                ballot,
                slot: round,
                value: vec![w.next().unwrap().to_owned()],
            },
        };
        let reply = match a.handle(msg).unwrap() {
            FromAcceptor::Promise { ballot, .. } => format!("promise {}", ballot.round),
            FromAcceptor::Accepted { ballot, .. } => format!("accepted {}", ballot.round),
            FromAcceptor::Nack { promised, .. } => format!("nack {}", promised.round),
        };
        writeln!(out, "{reply}").unwrap();
        out.flush().unwrap();
    }
}

fn spawn(path: &std::path::Path) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durable::acceptor_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    // Skip the test harness's own lines until the child says it is ready.
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "child ended early");
        // The harness prints "test ... " on the same line before ours.
        if line.contains("ready ") {
            break;
        }
    }
    (child, out)
}

#[test]
fn promises_and_acceptances_survive_sigkill() {
    // Bounded in time by itself: a stuck child fails the test instead of hanging it.
    std::thread::spawn(|| {
        std::thread::sleep(std::time::Duration::from_secs(120));
        eprintln!("promises_and_acceptances_survive_sigkill: no progress in 120 s");
        std::process::exit(101);
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acceptor.log");
    let mut highest_promise = 0u64;
    let mut accepted: Vec<(u64, String)> = Vec::new();
    for run in 0..3u64 {
        let (mut child, mut out) = spawn(&path);
        let mut input = child.stdin.take().unwrap();
        // Stream 400 requests without waiting; kill after a run-dependent
        // number of answers, while the child is still busy.
        let base = 10_000 * (run + 1);
        let writer = std::thread::spawn(move || {
            for i in 0..400u64 {
                let r = base + i;
                let line = if i % 4 == 3 {
                    format!("A {r} v{r}\n")
                } else {
                    format!("P {r}\n")
                };
                if input.write_all(line.as_bytes()).is_err() {
                    break;
                }
            }
        });
        let kill_after = 50 + 70 * run as usize;
        let mut line = String::new();
        for _ in 0..kill_after {
            line.clear();
            out.read_line(&mut line).unwrap();
            let mut w = line.split_whitespace();
            match (w.next(), w.next().and_then(|r| r.parse::<u64>().ok())) {
                (Some("promise"), Some(r)) => highest_promise = highest_promise.max(r),
                (Some("accepted"), Some(r)) => {
                    highest_promise = highest_promise.max(r);
                    accepted.push((r, format!("v{r}")));
                }
                other => panic!("unexpected answer {other:?}"),
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let _ = writer.join();

        // Restarted on the same file: every answered promise still holds.
        let (mut child, mut out) = spawn(&path);
        let mut input = child.stdin.take().unwrap();
        writeln!(input, "P {}", highest_promise - 1).unwrap();
        line.clear();
        out.read_line(&mut line).unwrap();
        let promised: u64 = line
            .strip_prefix("nack ")
            .unwrap_or_else(|| panic!("a prepare below {highest_promise} must be refused: {line}"))
            .trim()
            .parse()
            .unwrap();
        assert!(
            promised >= highest_promise,
            "promised {promised} < {highest_promise}"
        );
        drop(input);
        child.wait().unwrap();
    }
    // And every acknowledged acceptance is on disk.
    let a = Acceptor::recover(1, FileStorage::open(&path).unwrap()).unwrap();
    for (slot, v) in &accepted {
        let (b, value) = a
            .accepted(*slot)
            .unwrap_or_else(|| panic!("slot {slot} lost"));
        assert_eq!((b.round, &value[0]), (*slot, v));
    }
    assert!(!accepted.is_empty());
}
