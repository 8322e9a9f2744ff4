//! The direct ring in a child process: this binary again (`rolecall bench
//! dht` with [`RING_ENV`] set), serving whole batches over its standard
//! input and output, one JSON line each way.
//!
//! Why a process of its own: both rings of 100 nodes in one process held
//! ~20,000 sockets (each connection's two ends are in the process), the
//! file-descriptor limit on this machine; 4,525 dials failed with "Too many
//! open files" in one run, and a lookup that met such a peer waited its
//! 10 s timeout (puts "timed out after 0 acknowledgements", the gets of
//! those keys failed). Each process now has its own limit.

use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::direct_ring::DirectRing;
use super::{gets, joined, puts, settled, Batches, GetBatch, PutBatch};

/// Set in the child to `<nodes>,<first port>,<seed>`.
pub(super) const RING_ENV: &str = "ROLECALL_BENCH_DHT_DIRECT_RING";

/// Longest wait for one answer of the child (a ring of 100 settling takes
/// about a minute on two cores).
const ANSWER_LIMIT: Duration = Duration::from_secs(300);

/// What the parent asks.
#[derive(Debug, Serialize, Deserialize)]
enum Request {
    Joined,
    Settled,
    Puts {
        start: usize,
        end: usize,
    },
    Gets {
        start: usize,
        end: usize,
        concurrency: usize,
    },
}

/// What the child answers: `Ready` once, then one answer per request.
#[derive(Debug, Serialize, Deserialize)]
enum Answer {
    Ready(Result<(), String>),
    Joined(Result<(), String>),
    Settled(Result<f64, String>),
    Puts(PutBatch),
    Gets(GetBatch),
}

/// Lines of a reader as a bounded channel, read on a thread of their own.
fn lines(reader: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}

// ---- the child ------------------------------------------------------------

/// Serves the direct ring described by `spec` until standard input closes;
/// returns the process's exit status.
pub(super) fn serve(spec: &str) -> i32 {
    let parsed: Vec<Option<u64>> = spec.split(',').map(|s| s.trim().parse().ok()).collect();
    let [Some(n), Some(port), Some(seed)] = parsed[..] else {
        eprintln!("error: {RING_ENV}: `{spec}` is not `<nodes>,<port>,<seed>`");
        return 2;
    };
    let (Ok(n), Ok(port)) = (usize::try_from(n), u16::try_from(port)) else {
        eprintln!("error: {RING_ENV}: `{spec}` is out of range");
        return 2;
    };
    let system = actix::System::new();
    system.block_on(async move {
        let ring = match DirectRing::start(n, port, seed).await {
            Ok(ring) => ring,
            Err(e) => {
                answer(&Answer::Ready(Err(e)));
                return 1;
            }
        };
        answer(&Answer::Ready(Ok(())));
        let mut requests = lines(std::io::stdin());
        while let Some(line) = requests.recv().await {
            let request = match serde_json::from_str::<Request>(&line) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: bench dht child: bad request `{line}`: {e}");
                    break;
                }
            };
            let reply = match request {
                Request::Joined => Answer::Joined(joined(&ring).await),
                Request::Settled => Answer::Settled(settled(&ring).await),
                Request::Puts { start, end } => Answer::Puts(puts(&ring, start..end).await),
                Request::Gets {
                    start,
                    end,
                    concurrency,
                } => Answer::Gets(gets(&ring, start..end, concurrency).await),
            };
            if !answer(&reply) {
                break;
            }
        }
        ring.stop();
        0
    })
}

/// Writes one answer line; false when the parent is gone.
fn answer(answer: &Answer) -> bool {
    let Ok(line) = serde_json::to_string(answer) else {
        return false;
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
}

// ---- the parent's side ----------------------------------------------------

/// The direct ring in its child process.
pub(super) struct RemoteRing {
    child: Mutex<Child>,
    stdin: Mutex<Option<ChildStdin>>,
    /// Held across a request and its answer: one exchange at a time.
    answers: tokio::sync::Mutex<mpsc::Receiver<String>>,
}

impl RemoteRing {
    /// Starts the child and waits until its ring is up.
    pub(super) async fn start(n: usize, port: u16, seed: u64) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args(["bench", "dht"])
            .env(RING_ENV, format!("{n},{port},{seed}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting the direct ring's process: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err("the direct ring's process has no pipes".into());
        };
        let ring = RemoteRing {
            child: Mutex::new(child),
            stdin: Mutex::new(Some(stdin)),
            answers: tokio::sync::Mutex::new(lines(stdout)),
        };
        let first = {
            let mut answers = ring.answers.lock().await;
            ring.next_answer(&mut answers).await?
        };
        match first {
            Answer::Ready(result) => result.map(|()| ring),
            other => Err(format!("the direct ring's process said {other:?} first")),
        }
    }

    async fn next_answer(&self, answers: &mut mpsc::Receiver<String>) -> Result<Answer, String> {
        let line = tokio::time::timeout(ANSWER_LIMIT, answers.recv())
            .await
            .map_err(|_| format!("the direct ring's process did not answer in {ANSWER_LIMIT:?}"))?;
        let Some(line) = line else {
            return Err(self.ended("its output ended").await);
        };
        serde_json::from_str(&line)
            .map_err(|e| format!("the direct ring's process said `{line}`: {e}"))
    }

    async fn ask(&self, request: Request) -> Result<Answer, String> {
        let mut answers = self.answers.lock().await;
        let line = serde_json::to_string(&request).map_err(|e| e.to_string())?;
        let written = {
            let mut stdin = self.stdin.lock().map_err(|e| e.to_string())?;
            let pipe = stdin.as_mut().ok_or("the direct ring was stopped")?;
            writeln!(pipe, "{line}").and_then(|()| pipe.flush())
        };
        if let Err(e) = written {
            return Err(self.ended(&format!("writing to it: {e}")).await);
        }
        self.next_answer(&mut answers).await
    }

    /// Why the child stopped answering (`what` went wrong): how it exited,
    /// waiting up to a second for that to be known.
    async fn ended(&self, what: &str) -> String {
        for _ in 0..20 {
            let status = self.child.lock().map(|mut c| c.try_wait());
            if let Ok(Ok(Some(status))) = status {
                return format!("the direct ring's process ended ({status}): {what}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        format!("the direct ring's process stopped answering: {what}")
    }

    /// Closes the child's input (it stops its ring and exits) and waits up
    /// to 10 s for it; kills it after that.
    pub(super) async fn stop(mut self) {
        if let Ok(mut stdin) = self.stdin.lock() {
            stdin.take();
        }
        let child = self.child.get_mut().unwrap_or_else(PoisonError::into_inner);
        for _ in 0..100 {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for RemoteRing {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(PoisonError::into_inner);
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn unexpected(answer: Answer) -> String {
    format!("the direct ring's process answered out of turn: {answer:?}")
}

impl Batches for RemoteRing {
    async fn joined(&self) -> Result<(), String> {
        match self.ask(Request::Joined).await? {
            Answer::Joined(result) => result,
            other => Err(unexpected(other)),
        }
    }
    async fn settled(&self) -> Result<f64, String> {
        match self.ask(Request::Settled).await? {
            Answer::Settled(result) => result,
            other => Err(unexpected(other)),
        }
    }
    async fn puts(&self, range: Range<usize>) -> Result<PutBatch, String> {
        let (start, end) = (range.start, range.end);
        match self.ask(Request::Puts { start, end }).await? {
            Answer::Puts(batch) => Ok(batch),
            other => Err(unexpected(other)),
        }
    }
    async fn gets(&self, range: Range<usize>, concurrency: usize) -> Result<GetBatch, String> {
        let (start, end) = (range.start, range.end);
        match self
            .ask(Request::Gets {
                start,
                end,
                concurrency,
            })
            .await?
        {
            Answer::Gets(batch) => Ok(batch),
            other => Err(unexpected(other)),
        }
    }
}
