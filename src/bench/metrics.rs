//! `rolecall bench metrics`: points per second through the metrics reporter
//! into a real InfluxDB 1.x, against posting the same pre-built line-protocol
//! batches straight to the same server, in the same run.
//!
//! Both sides write the same points (same bytes, batches of [`BATCH`] points,
//! one request in flight) into fresh databases created before timing. The
//! reporter side sends [`Point`]s from a plain thread (a program feeding the
//! node) through a wire into `metrics.reporter` (`output = "influx-v1"`) and
//! ends with a `Flush`; its rate is points / (first send → flush answered).
//! The senders' cost is the time the sending loop took per point (the wire is
//! sized so it never waits). After each run the server is asked how many
//! points it holds, which must be all of them.
//!
//! [`PAIRS`] pairs of rounds; each round runs both sides back to back, the
//! direct side first in the pair's first round and second in its other round
//! (the side that goes second does measurably better, so each order counts
//! equally). A round's ratio is reporter ÷ direct; a pair's is the geometric
//! mean of its two rounds' ratios, in which the order's effect cancels; and
//! `ratio` is the median of the pairs' ratios: sides measured seconds apart
//! share the machine's state, which on a shared 2-core machine drifts more
//! between rounds than within one. Last, the same points go through a
//! reporter into a local file, three times: the reporter's own ceiling
//! without a server (the median).
//!
//! Needs `ROLECALL_INFLUXDB_V1` (`scripts/servers.sh start`; `source
//! target/test-servers/env`).

use std::time::{Duration, Instant};

use actix::prelude::*;
use rolecall_actors::metrics::line_protocol::{encode, Dialect};
use rolecall_actors::metrics::{Flush, Point, Reporter};
use rolecall_runtime::wire::{Policy, WireConfig};
use rolecall_runtime::Node;
use serde::Serialize;

use super::{load, median, paired_ratio};

/// Points per request, on both sides.
const BATCH: usize = 5000;
/// Pairs of rounds (each round: both sides; each order once per pair).
const PAIRS: usize = 5;
/// Idle time before each timed side.
const SETTLE: Duration = Duration::from_millis(300);

/// The suite's result.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    suite: &'static str,
    /// Median over pairs of rounds of reporter points/s ÷ direct posting
    /// points/s, each pair's the geometric mean of its rounds' (target ≥ 0.9).
    ratio: f64,
    /// Each pair's ratio.
    pair_ratios: Vec<f64>,
    /// Each round's ratio (direct side first in even rounds).
    round_ratios: Vec<f64>,
    points: u64,
    batch: usize,
    direct_points_per_s: f64,
    reporter_points_per_s: f64,
    /// Nanoseconds a sender spends per point handed to the reporter's wire.
    sender_ns_per_point: f64,
    /// Nanoseconds per point spent encoding the direct side's bodies (once,
    /// before timing; the reporter does the same encoding inside its timed
    /// span, on its own thread).
    encode_ns_per_point: f64,
    /// Time per point through the reporter beyond the direct side's, from
    /// the median rates (1/reporter − 1/direct, in nanoseconds): what the
    /// ratio's gap costs, to set beside `encode_ns_per_point`.
    reporter_extra_ns_per_point: f64,
    /// The same points through the reporter into a local results file: its
    /// own ceiling (encoding, batching, no server).
    reporter_to_file_points_per_s: f64,
    direct_rounds: Vec<f64>,
    reporter_rounds: Vec<f64>,
}

fn points(n: u64) -> Vec<Point> {
    let t0 = rolecall_actors::metrics::now_ns() - 3_600_000_000_000;
    (0..n).map(|i| point(t0, i)).collect()
}

fn point(t0: i64, i: u64) -> Point {
    Point::new("bench", t0 + i as i64 * 1000)
        .tag(
            "topic",
            ["weather", "traffic", "air", "noise"][(i % 4) as usize],
        )
        .tag("publisher", "source")
        .tag("subscriber", "stats")
        .field("us", 20.0 + (i % 997) as f64 * 0.25)
        .field("seq", i as i64)
}

async fn query(client: &reqwest::Client, url: &str, db: &str, q: &str) -> Result<String, String> {
    let r = client
        .post(format!("{url}/query"))
        .form(&[("db", db), ("q", q)])
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = r.status();
    let text = r.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{url}: HTTP {status}: {text}"));
    }
    Ok(text)
}

/// How many points measurement `bench` of `db` holds.
async fn stored(client: &reqwest::Client, url: &str, db: &str) -> Result<u64, String> {
    let text = query(client, url, db, "SELECT count(seq) FROM bench").await?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    Ok(v["results"][0]["series"][0]["values"][0][1]
        .as_u64()
        .unwrap_or(0))
}

async fn direct(
    client: &reqwest::Client,
    url: &str,
    db: &str,
    bodies: &[String],
) -> Result<f64, String> {
    let write = format!("{url}/write?db={db}&precision=ns");
    let n: usize = bodies.iter().map(|b| b.matches('\n').count()).sum();
    let start = Instant::now();
    for body in bodies {
        let r = client
            .post(&write)
            .body(body.clone())
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !r.status().is_success() {
            return Err(format!("{url}: HTTP {}", r.status()));
        }
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Returns (points per second, sender nanoseconds per point) through a
/// reporter with `output` parameters (`output = ..., url = ...`).
async fn through_reporter(output: &str, pts: &[Point]) -> Result<(f64, f64), String> {
    let text = format!(
        r#"
        [actors.reporter]
        kind = "metrics.reporter"
        params = {{ {output}, batch_size = {BATCH}, capacity = {cap}, flush_interval_ms = 1000,
                   stats_interval_ms = 0 }}
        "#,
        cap = pts.len().max(BATCH)
    );
    let registry = rolecall::default_registry();
    let topology = load(&text, &registry)?;
    let mut node = Node::all(topology, registry).with_seed(1);
    let input = node
        .inject::<Point>(
            "reporter.in",
            WireConfig::new(pts.len().max(1), Policy::Block),
        )
        .map_err(|e| e.to_string())?;
    let running = node.start().await.map_err(|e| e.to_string())?;
    let reporter = running
        .actor::<Reporter>("reporter")
        .map_err(|e| e.to_string())?;
    // The sender is a plain thread, as a program feeding a node would be:
    // the reporter starts encoding while points are still coming.
    let copies: Vec<Point> = pts.to_vec();
    let (done, sender_done) = tokio::sync::oneshot::channel();
    let start = Instant::now();
    std::thread::Builder::new()
        .name("bench-sender".into())
        .spawn(move || {
            let began = Instant::now();
            let mut full = false;
            for p in copies {
                if input.output().try_send(p).is_err() {
                    full = true;
                    break;
                }
            }
            let _ = done.send((began.elapsed(), full, input));
        })
        .map_err(|e| format!("sender thread: {e}"))?;
    let (sent, full, input) = sender_done
        .await
        .map_err(|_| "the sender thread died".to_owned())?;
    if full {
        return Err("the reporter's wire was full: size it to the point count".into());
    }
    // Everything queued: wait until the wire is drained, then flush.
    while input.stats().queued > 0 {
        actix_rt::time::sleep(Duration::from_millis(1)).await;
    }
    let stats = reporter.send(Flush).await.map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    drop(input);
    running.shutdown();
    running.wait().await;
    if stats.written != pts.len() as u64 {
        return Err(format!(
            "reporter wrote {} of {} points: {stats:?}",
            stats.written,
            pts.len()
        ));
    }
    Ok((
        pts.len() as f64 / elapsed.as_secs_f64(),
        sent.as_nanos() as f64 / pts.len().max(1) as f64,
    ))
}

/// Lets the server finish the work the last writes or database changes left
/// (WAL, cache snapshots, shard deletion) before the next side is timed.
async fn settle() {
    actix_rt::time::sleep(SETTLE).await;
}

/// Runs the suite with `n` points per side and round.
pub(super) fn run(n: u64) -> Result<Report, String> {
    let url = std::env::var("ROLECALL_INFLUXDB_V1").map_err(|_| {
        "ROLECALL_INFLUXDB_V1 is not set: start InfluxDB with `scripts/servers.sh start` \
         and `source target/test-servers/env`"
            .to_owned()
    })?;
    let pts = points(n);
    let encoding = Instant::now();
    let mut bodies = Vec::new();
    for chunk in pts.chunks(BATCH) {
        let mut body = String::new();
        for p in chunk {
            encode(p, Dialect::V1, &mut body).map_err(|e| e.to_string())?;
        }
        bodies.push(body);
    }
    let encode_ns_per_point = encoding.elapsed().as_nanos() as f64 / n.max(1) as f64;
    let system = System::new();
    system.block_on(async move {
        // The reporter's client settings (request and connect timeouts).
        let timeout = Duration::from_secs(5);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        let tag = std::process::id();
        let (mut direct_rates, mut reporter_rates, mut costs, mut ratios) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..2 * PAIRS {
            let (db_direct, db_reporter) = (
                format!("bench_direct_{tag}_{round}"),
                format!("bench_reporter_{tag}_{round}"),
            );
            for db in [&db_direct, &db_reporter] {
                query(&client, &url, "", &format!("CREATE DATABASE \"{db}\"")).await?;
            }
            let reporter = format!(
                r#"output = "influx-v1", url = "{url}", db = "{db_reporter}", create_database = false"#
            );
            let (direct_rate, (rate, cost)) = if round % 2 == 0 {
                settle().await;
                let d = direct(&client, &url, &db_direct, &bodies).await?;
                settle().await;
                (d, through_reporter(&reporter, &pts).await?)
            } else {
                settle().await;
                let r = through_reporter(&reporter, &pts).await?;
                settle().await;
                (direct(&client, &url, &db_direct, &bodies).await?, r)
            };
            direct_rates.push(direct_rate);
            reporter_rates.push(rate);
            costs.push(cost);
            ratios.push(if direct_rate > 0.0 { rate / direct_rate } else { 0.0 });
            for db in [&db_direct, &db_reporter] {
                let got = stored(&client, &url, db).await?;
                if got != n {
                    return Err(format!("{db} holds {got} of {n} points"));
                }
                query(&client, &url, "", &format!("DROP DATABASE \"{db}\"")).await?;
            }
        }
        // The reporter's own ceiling: the same points into a results file.
        let dir = std::env::temp_dir().join(format!("rolecall-bench-metrics-{tag}.lp"));
        let output = format!(r#"output = "file", path = "{}""#, dir.display());
        let mut file_rates = Vec::new();
        for _ in 0..3 {
            file_rates.push(through_reporter(&output, &pts).await?.0);
        }
        let _ = std::fs::remove_file(&dir);
        let file_rate = median(&mut file_rates);
        let direct_rounds = direct_rates.clone();
        let reporter_rounds = reporter_rates.clone();
        let (ratio, pair_ratios) = paired_ratio(&ratios);
        let d = median(&mut direct_rates);
        let r = median(&mut reporter_rates);
        Ok(Report {
            suite: "metrics",
            ratio,
            pair_ratios,
            round_ratios: ratios,
            points: n,
            batch: BATCH,
            direct_points_per_s: d,
            reporter_points_per_s: r,
            sender_ns_per_point: median(&mut costs),
            encode_ns_per_point,
            reporter_extra_ns_per_point: if r > 0.0 && d > 0.0 {
                1e9 / r - 1e9 / d
            } else {
                0.0
            },
            reporter_to_file_points_per_s: file_rate,
            direct_rounds,
            reporter_rounds,
        })
    })
}
