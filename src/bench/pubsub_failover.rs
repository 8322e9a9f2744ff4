//! `rolecall bench pubsub`'s failover figure (the ZooKeeper strategy): the
//! time from `kill -9` of the primary broker to the first publication
//! delivered through its backup, as a ratio of the bound the design states
//! (session timeout + 1 s; ≤ 1 meets it).
//!
//! Each run starts this binary's `rolecall pubsub` apps as processes under a
//! ZooKeeper root of their own: a discovery, two broker replicas of one
//! group, a publisher (100 publications/s) and a subscriber with a
//! `--results` file; it kills the primary broker 2 s into dissemination and
//! reads the delivery times from the subscriber's latency points (their
//! timestamps are the delivery times). Needs ZooKeeper (`ROLECALL_ZK`);
//! without one reachable the figure is reported as skipped, with why.

use std::io::{BufRead, BufReader};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Session timeout the runs use.
const SESSION_MS: u64 = 4000;
/// Runs (each about 12 s).
const RUNS: usize = 2;
/// First port of the runs (the suite's own range).
const PORT: u16 = 27900;

/// The failover figure.
#[derive(Debug, Serialize)]
pub(super) struct Failover {
    /// Median failover time ÷ (session timeout + 1 s).
    pub(super) ratio: f64,
    /// Each run's failover time, ms.
    pub(super) took_ms: Vec<f64>,
    /// The bound, ms.
    pub(super) bound_ms: u64,
    /// Publications the subscriber missed, per run.
    pub(super) lost: Vec<u64>,
    /// Replayed publications it dropped as duplicates, per run.
    pub(super) duplicates: Vec<u64>,
}

/// The figure, or why it was skipped.
pub(super) fn measure() -> Result<Failover, String> {
    let servers = std::env::var("ROLECALL_ZK").map_err(|_| "ROLECALL_ZK is not set".to_owned())?;
    reachable(&servers)?;
    let mut took = Vec::new();
    let (mut lost, mut duplicates) = (Vec::new(), Vec::new());
    for run in 0..RUNS {
        let (t, l, d) = one(&servers, PORT + (run * 10) as u16)?;
        took.push(t.as_secs_f64() * 1000.0);
        lost.push(l);
        duplicates.push(d);
    }
    let bound_ms = SESSION_MS + 1000;
    let mut sorted = took.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    Ok(Failover {
        ratio: median / bound_ms as f64,
        took_ms: took,
        bound_ms,
        lost,
        duplicates,
    })
}

fn reachable(servers: &str) -> Result<(), String> {
    let first = servers.split([',', '/']).next().unwrap_or_default();
    let addr = first
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("ZooKeeper address `{first}` does not resolve"))?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(1))
        .map(|_| ())
        .map_err(|e| format!("no ZooKeeper at {first}: {e}"))
}

/// A process whose log lines are kept.
struct App {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl App {
    fn start(args: &[String]) -> Result<App, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .arg("pubsub")
            .args(args)
            .env("ROLECALL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start rolecall pubsub: {e}"))?;
        let err = child.stderr.take().ok_or("no stderr")?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let keep = lines.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(mut v) = keep.lock() {
                    v.push(l);
                }
            }
        });
        Ok(App { child, lines })
    }

    fn logged(&self, needle: &str) -> bool {
        self.lines
            .lock()
            .map(|l| l.iter().any(|s| s.contains(needle)))
            .unwrap_or(false)
    }

    fn wait_for(&self, needle: &str, within: Duration) -> Result<(), String> {
        let until = Instant::now() + within;
        while !self.logged(needle) {
            if Instant::now() > until {
                return Err(format!("`{needle}` not logged within {within:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    fn text(&self) -> String {
        self.lines.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    fn wait(&mut self, within: Duration) -> Result<(), String> {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("did not end within {within:?}"))
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wall_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// One failover: (time to the first delivery through the backup, lost, duplicates).
fn one(servers: &str, port: u16) -> Result<(Duration, u64, u64), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join("config.ini");
    std::fs::write(
        &config,
        "[Discovery]\nStrategy = ZooKeeper\n[Dissemination]\nStrategy = Broker\n",
    )
    .map_err(|e| e.to_string())?;
    let results = dir.path().join("sub.lp");
    let root = format!(
        "/rolecall-bench/failover-{}-{}",
        std::process::id(),
        wall_ns()
    );
    let args = |role: &str, extra: &[String]| -> Vec<String> {
        let mut a: Vec<String> = [
            role,
            "-c",
            &config.display().to_string(),
            "-z",
            servers,
            "--zk-root",
            &root,
            "--session-timeout-ms",
            &SESSION_MS.to_string(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if role != "discovery" {
            a.extend(["--pause-ms".into(), "100".into()]);
        }
        a.extend(extra.iter().cloned());
        a
    };
    let p = |n: u16| (port + n).to_string();
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<String>>();
    let _discovery = App::start(&args(
        "discovery",
        &s(&["-p", &p(0), "-P", "1", "-S", "1", "-B", "2"]),
    ))?;
    let mut primary = App::start(&args("broker", &s(&["-n", "b1", "-p", &p(1)])))?;
    primary.wait_for("broker PRIMARY of its group", Duration::from_secs(20))?;
    let backup = App::start(&args("broker", &s(&["-n", "b2", "-p", &p(2)])))?;
    backup.wait_for("broker BACKUP", Duration::from_secs(20))?;
    let publisher = App::start(&args(
        "publisher",
        &s(&[
            "-n",
            "pub1",
            "-p",
            &p(3),
            "--topics",
            "weather",
            "-f",
            "100",
            "-i",
            "1000",
        ]),
    ))?;
    let mut subscriber = App::start(&args(
        "subscriber",
        &s(&[
            "-n",
            "sub1",
            "--topics",
            "weather",
            "--stop-after",
            "1000",
            "--idle-timeout-ms",
            "8000",
            "--results",
            &results.display().to_string(),
        ]),
    ))?;
    publisher.wait_for("publisher DISSEMINATE", Duration::from_secs(30))?;
    std::thread::sleep(Duration::from_secs(2));
    let killed = wall_ns();
    let _ = primary.child.kill();
    let _ = primary.child.wait();
    subscriber
        .wait(Duration::from_secs(60))
        .map_err(|e| format!("the subscriber {e}:\n{}", subscriber.text()))?;
    let text = std::fs::read_to_string(&results).map_err(|e| e.to_string())?;
    let first = text
        .lines()
        .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
        .filter(|&ts| ts > killed)
        .min()
        .ok_or("no publication delivered after the kill")?;
    let log = subscriber.text();
    let count = |key: &str| -> u64 {
        log.lines()
            .filter(|l| l.contains("subscriber COMPLETED"))
            .find_map(|l| {
                l.split(key)
                    .nth(1)?
                    .split([',', ' ', ';'])
                    .find(|w| !w.is_empty())?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    };
    Ok((
        Duration::from_nanos((first - killed).max(0) as u64),
        count("lost "),
        count("duplicates dropped "),
    ))
}
