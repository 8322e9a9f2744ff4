//! `rolecall bench zk`: the ZooKeeper session actor against the bare
//! `zookeeper-client`, and leader takeover after SIGKILL, in one run.
//!
//! (a) create+get operations per second on the standalone test server
//! (`ROLECALL_ZK`): `OPS` ephemeral nodes created then read, 64 requests in
//! flight, through the bare client and through a `zk.session` actor's `Ref`
//! (`Call`); six rounds each in ABBA order; `ratio` is the median of the rounds' ratios (`ratio`, target
//! ≥ 0.9). (b) Two `rolecall run` processes contend in one `zk.election`; the
//! leader's process is killed with SIGKILL and the time until the other prints
//! `elected` is compared with the session timeout (target: ≤ timeout + 1 s).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actix::System;
use futures::stream::{self, StreamExt};
use rolecall_actors::zk::{client, Call, Connect, Mode, Op, Session};
use serde::Serialize;

use super::{load, median};

/// Nodes created (and read) per round.
const OPS: usize = 1_000;
/// Requests in flight.
const WINDOW: usize = 64;
/// Rounds of each side.
const ROUNDS: usize = 6;
/// Session timeout of the election's candidates.
const SESSION_TIMEOUT_MS: u64 = 2_000;

#[derive(Debug, Serialize)]
pub(super) struct Report {
    suite: &'static str,
    /// Median over rounds of actor / bare create+get operations per second,
    /// the two measured back to back (target ≥ 0.9).
    ratio: f64,
    bare_ops_per_s: f64,
    actor_ops_per_s: f64,
    ops_per_round: usize,
    in_flight: usize,
    /// Time from SIGKILL of the leader's process to `elected` in the other.
    takeover_ms: f64,
    session_timeout_ms: u64,
    /// takeover_ms / (session timeout + 1 s): ≤ 1 meets the target.
    takeover_target_ratio: f64,
}

fn servers() -> Result<String, String> {
    std::env::var("ROLECALL_ZK").map_err(|_| {
        "ROLECALL_ZK is not set: start the test servers with `scripts/servers.sh start` \
         and `source target/test-servers/env`"
            .to_owned()
    })
}

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("/rolecall-bench-{name}-{}-{nanos}", std::process::id())
}

async fn bare_round(c: &client::Client, parent: &str) -> Result<f64, String> {
    let eph = client::CreateMode::Ephemeral.with_acls(client::Acls::anyone_all());
    let started = Instant::now();
    let results: Vec<Result<(), client::Error>> = stream::iter(0..OPS)
        .map(|i| {
            let path = format!("{parent}/n{i}");
            let eph = eph.clone();
            async move {
                c.create(&path, b"payload", &eph).await?;
                c.get_data(&path).await.map(|_| ())
            }
        })
        .buffer_unordered(WINDOW)
        .collect()
        .await;
    let secs = started.elapsed().as_secs_f64();
    results
        .into_iter()
        .collect::<Result<Vec<()>, _>>()
        .map_err(|e| format!("bare client: {e}"))?;
    stream::iter(0..OPS)
        .for_each_concurrent(WINDOW, |i| async move {
            let _ = c.delete(&format!("{parent}/n{i}"), None).await;
        })
        .await;
    Ok((2 * OPS) as f64 / secs)
}

async fn actor_round(zk: &rolecall_runtime::Ref<Session>, parent: &str) -> Result<f64, String> {
    let started = Instant::now();
    let results: Vec<Result<(), String>> = stream::iter(0..OPS)
        .map(|i| {
            let path = format!("{parent}/a{i}");
            async move {
                let call = |op| async move {
                    match zk.send(Call(op)).await {
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(e) => Err(e.to_string()),
                    }
                };
                call(Op::create(&path, b"payload", Mode::Ephemeral)).await?;
                call(Op::Get { path, watch: false }).await
            }
        })
        .buffer_unordered(WINDOW)
        .collect()
        .await;
    let secs = started.elapsed().as_secs_f64();
    results
        .into_iter()
        .collect::<Result<Vec<()>, _>>()
        .map_err(|e| format!("session actor: {e}"))?;
    stream::iter(0..OPS)
        .for_each_concurrent(WINDOW, |i| async move {
            let _ = zk
                .send(Call(Op::Delete {
                    path: format!("{parent}/a{i}"),
                    version: None,
                }))
                .await;
        })
        .await;
    Ok((2 * OPS) as f64 / secs)
}

async fn throughput(servers: String) -> Result<(f64, f64, f64), String> {
    let parent = unique("ops");
    let c = Connect::to(servers.clone())
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let open = client::CreateMode::Persistent.with_acls(client::Acls::anyone_all());
    c.create(&parent, b"", &open)
        .await
        .map_err(|e| e.to_string())?;
    let registry = rolecall::default_registry();
    let topology = load(
        &format!("[actors.zk]\nkind = \"zk.session\"\nparams = {{ servers = \"{servers}\" }}\n"),
        &registry,
    )?;
    let running = rolecall_runtime::Node::all(topology, registry)
        .with_seed(1)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let zk = running.actor::<Session>("zk").map_err(|e| e.to_string())?;
    let (mut bare, mut actor) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // ABBA order: neither side always runs first (the server warms up,
        // the machine's load changes).
        if round % 2 == 0 {
            bare.push(bare_round(&c, &parent).await?);
            actor.push(actor_round(&zk, &parent).await?);
        } else {
            actor.push(actor_round(&zk, &parent).await?);
            bare.push(bare_round(&c, &parent).await?);
        }
    }
    running.shutdown();
    running.wait().await;
    let _ = c.delete(&parent, None).await;
    // Each round's actor/bare ratio (the two ran back to back), then the median.
    let mut ratios: Vec<f64> = bare
        .iter()
        .zip(&actor)
        .map(|(b, a)| if *b > 0.0 { a / b } else { 0.0 })
        .collect();
    Ok((median(&mut bare), median(&mut actor), median(&mut ratios)))
}

/// One `rolecall run` of a one-candidate election topology; lines on a channel.
fn candidate(
    dir: &std::path::Path,
    path: &str,
    id: &str,
) -> Result<(std::process::Child, mpsc::Receiver<String>), String> {
    let file = dir.join(format!("{id}.toml"));
    std::fs::write(
        &file,
        format!(
            r#"
            [actors.c]
            kind = "zk.election"
            params = {{ path = "{path}", identifier = "{id}", session_timeout_ms = {SESSION_TIMEOUT_MS} }}
            [actors.p]
            kind = "zk.print"
            params = {{ label = "{id}" }}
            [[wires]]
            from = "c.leadership"
            to = "p.leadership"
            "#
        ),
    )
    .map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("run")
        .arg(&file)
        .env("ROLECALL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let out = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::sync_channel(64);
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    Ok((child, rx))
}

fn wait_line(rx: &mpsc::Receiver<String>, want: &str, secs: u64) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l == want => return Ok(()),
            Ok(_) => {}
            Err(_) => return Err(format!("no {want:?} within {secs} s")),
        }
    }
}

fn takeover() -> Result<Duration, String> {
    let dir = std::env::temp_dir().join(format!("rolecall-bench-zk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = unique("election");
    let (mut a, a_lines) = candidate(&dir, &path, "a")?;
    let result = (|| {
        wait_line(&a_lines, "a elected", 20)?;
        let (mut b, b_lines) = candidate(&dir, &path, "b")?;
        let r = (|| {
            wait_line(&b_lines, "b following a", 20)?;
            let killed = Instant::now();
            a.kill().map_err(|e| e.to_string())?;
            wait_line(&b_lines, "b elected", 20)?;
            Ok(killed.elapsed())
        })();
        let _ = b.kill();
        let _ = b.wait();
        r
    })();
    let _ = a.kill();
    let _ = a.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

pub(super) fn run() -> Result<Report, String> {
    let servers = servers()?;
    let system = System::new();
    let (bare, actor, ratio) = system.block_on(throughput(servers))?;
    let takeover = takeover()?;
    let limit = Duration::from_millis(SESSION_TIMEOUT_MS) + Duration::from_secs(1);
    Ok(Report {
        suite: "zk",
        ratio,
        bare_ops_per_s: bare,
        actor_ops_per_s: actor,
        ops_per_round: 2 * OPS,
        in_flight: WINDOW,
        takeover_ms: takeover.as_secs_f64() * 1e3,
        session_timeout_ms: SESSION_TIMEOUT_MS,
        takeover_target_ratio: takeover.as_secs_f64() / limit.as_secs_f64(),
    })
}
