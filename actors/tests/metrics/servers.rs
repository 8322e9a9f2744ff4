//! Against real servers: InfluxDB 1.6 (read back with InfluxQL `/query`) and
//! VictoriaMetrics' InfluxDB 2 write API (read back with `/api/v1/export`);
//! every point must arrive with its tags, fields and timestamp. The fault
//! tests stop InfluxDB for seconds mid-run and restart it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rolecall_actors::metrics::{Field, Point, Stats};
use rolecall_runtime::wire::WireConfig;
use rolecall_runtime::NodeExit;
use serde_json::Value;

use crate::{node, server};

/// The InfluxDB tests take turns: the fault tests stop the server.
static INFLUXDB: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{}", std::process::id(), nanos % 1_000_000_000)
}

fn points(run: &str, n: usize, start_ns: i64) -> Vec<Point> {
    (0..n)
        .map(|i| {
            Point::new("lat", start_ns + i as i64 * 1_000_000)
                .tag("run", run)
                .tag("topic", ["wea ther", "a,b=c", "Zürich 東京", "x\\y"][i % 4])
                .tag("publisher", format!("pub{}", i % 3))
                .field("us", i as f64 * 1.25 + 0.5)
                .field("seq", i as i64)
        })
        .collect()
}

async fn run_reporter(
    params: &str,
    mut feed: impl FnMut(usize) -> Option<Point>,
    pace: Duration,
    mut during: impl FnMut(usize),
) -> (Stats, u64) {
    let mut n = node(&format!(
        r#"
        [topology]
        drain_timeout = "60s"
        [actors.reporter]
        kind = "metrics.reporter"
        params = {{ stats_interval_ms = 100, shutdown_timeout_ms = 30000, {params} }}
        "#
    ));
    let input = n
        .inject::<Point>("reporter.in", WireConfig::default())
        .unwrap();
    let mut stats = n
        .tap::<Stats>("reporter.stats", WireConfig::default())
        .unwrap();
    let running = n.start().await.unwrap();
    let mut i = 0;
    let mut most_queued = 0;
    while let Some(p) = feed(i) {
        input.output().send_async(p).await;
        most_queued = most_queued.max(input.stats().queued);
        during(i);
        i += 1;
        if !pace.is_zero() {
            actix_rt::time::sleep(pace).await;
        }
    }
    drop(input);
    let exit = actix_rt::time::timeout(Duration::from_secs(60), running.wait())
        .await
        .expect("the reporter flushes and stops");
    assert_eq!(exit, NodeExit::Completed);
    let mut last = Stats::default();
    while let Ok(Some(s)) = actix_rt::time::timeout(Duration::from_secs(5), stats.recv()).await {
        last = s;
    }
    (last, most_queued)
}

async fn influxql(base: &str, db: &str, q: &str) -> Value {
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{base}/query"))
        .form(&[("db", db), ("q", q), ("epoch", "ns")])
        .send()
        .await
        .expect("query InfluxDB");
    r.json().await.expect("InfluxDB answers JSON")
}

/// Removes a test's database once its assertions passed (a failed test leaves
/// it for inspection).
async fn drop_database(base: &str, db: &str) {
    influxql(base, "", &format!("DROP DATABASE \"{db}\"")).await;
}

/// Every point of measurement `lat` in `db`, rebuilt from InfluxQL's answer.
async fn read_back_v1(base: &str, db: &str) -> Vec<Point> {
    let v = influxql(base, db, "SELECT * FROM \"lat\" GROUP BY *").await;
    let mut out = Vec::new();
    let series = v["results"][0]["series"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for s in series {
        let tags: BTreeMap<String, String> = s["tags"]
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(_, v)| v.as_str().is_some_and(|s| !s.is_empty()))
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let columns: Vec<String> = s["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        for row in s["values"].as_array().unwrap() {
            let row = row.as_array().unwrap();
            let mut p = Point::new("lat", row[0].as_i64().unwrap());
            p.tags = tags.clone();
            for (c, v) in columns.iter().zip(row).skip(1) {
                let f = match c.as_str() {
                    "seq" => Field::Int(v.as_i64().unwrap()),
                    _ => Field::Float(v.as_f64().unwrap()),
                };
                p.fields.insert(c.clone(), f);
            }
            out.push(p);
        }
    }
    out.sort_by_key(|p| p.time_ns);
    out
}

/// `points` with one more field, `scale`, whose value for point `i` is
/// `value(i)`: floats that line protocol carries in exponent form.
fn points_with_scale(
    run: &str,
    n: usize,
    start_ns: i64,
    value: impl Fn(usize) -> f64,
) -> Vec<Point> {
    points(run, n, start_ns)
        .into_iter()
        .enumerate()
        .map(|(i, p)| p.field("scale", value(i)))
        .collect()
}

fn start_ns() -> i64 {
    rolecall_actors::metrics::now_ns() - 3_600_000_000_000
}

#[actix_rt::test]
async fn influxdb_v1_receives_every_point_with_tags_fields_and_timestamps() {
    let base = server("ROLECALL_INFLUXDB_V1");
    let _turn = INFLUXDB.lock().await;
    let db = unique("rc_v1");
    // InfluxDB keeps float64 as is: magnitudes from 1.5e-20 to 1.5e20.
    let sent = points_with_scale(&db, 3000, start_ns(), |i| {
        format!("1.5e{}", (i % 41) as i32 - 20).parse().unwrap()
    });
    let feed = sent.clone();
    let (stats, _) = run_reporter(
        &format!(r#"output = "influx-v1", url = "{base}", db = "{db}", batch_size = 500"#),
        |i| feed.get(i).cloned(),
        Duration::ZERO,
        |_| {},
    )
    .await;
    assert_eq!((stats.written, stats.dropped, stats.rejected), (3000, 0, 0));
    assert_eq!(read_back_v1(&base, &db).await, sent);
    drop_database(&base, &db).await;
}

/// VictoriaMetrics stores each numeric field as series `<measurement>_<field>`
/// with the tags as labels, at millisecond precision.
async fn read_back_vm(
    base: &str,
    run: &str,
    expect: usize,
) -> BTreeMap<(String, String, i64), f64> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let _ = client
            .get(format!("{base}/internal/force_flush"))
            .send()
            .await;
        let text = client
            .post(format!("{base}/api/v1/export"))
            .form(&[("match[]", format!("{{__name__=~\"lat_.*\",run=\"{run}\"}}"))])
            .send()
            .await
            .expect("export from VictoriaMetrics")
            .text()
            .await
            .unwrap();
        let mut got = BTreeMap::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            let v: Value = serde_json::from_str(line).unwrap();
            let m = &v["metric"];
            let name = m["__name__"].as_str().unwrap().to_owned();
            let tags = format!(
                "{}|{}|{}",
                m["topic"].as_str().unwrap_or(""),
                m["publisher"].as_str().unwrap_or(""),
                m["run"].as_str().unwrap_or("")
            );
            for (t, x) in v["timestamps"]
                .as_array()
                .unwrap()
                .iter()
                .zip(v["values"].as_array().unwrap())
            {
                got.insert(
                    (name.clone(), tags.clone(), t.as_i64().unwrap()),
                    x.as_f64().unwrap(),
                );
            }
        }
        if got.len() >= expect || Instant::now() > deadline {
            return got;
        }
        actix_rt::time::sleep(Duration::from_millis(250)).await;
    }
}

#[actix_rt::test]
async fn influx_v2_write_api_receives_every_point() {
    let base = server("ROLECALL_INFLUX_V2");
    let run = unique("rc_v2");
    // VictoriaMetrics stores a block of a series as integers with a common
    // decimal exponent (tiny values next to large ones come back as 0), so
    // the exponent-form values stay within one band: 1.5e17 + i * 1e12.
    let sent = points_with_scale(&run, 2000, start_ns(), |i| 1.5e17 + i as f64 * 1e12);
    let feed = sent.clone();
    let (stats, _) = run_reporter(
        &format!(r#"output = "influx-v2", url = "{base}", org = "course", bucket = "lab", token = "secret", batch_size = 300"#),
        |i| feed.get(i).cloned(),
        Duration::ZERO,
        |_| {},
    )
    .await;
    assert_eq!((stats.written, stats.dropped, stats.rejected), (2000, 0, 0));
    let got = read_back_vm(&base, &run, 6000).await;
    let mut want = BTreeMap::new();
    for p in &sent {
        let tags = format!(
            "{}|{}|{}",
            p.tags["topic"], p.tags["publisher"], p.tags["run"]
        );
        for (k, v) in &p.fields {
            want.insert(
                (format!("lat_{k}"), tags.clone(), p.time_ns / 1_000_000),
                v.as_f64().unwrap(),
            );
        }
    }
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
}

fn servers_sh(command: &str, name: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/servers.sh");
    let status = std::process::Command::new("bash")
        .args([script, command, name])
        .status()
        .expect("run scripts/servers.sh");
    assert!(
        status.success(),
        "scripts/servers.sh {command} {name} failed"
    );
}

/// Restarts InfluxDB when dropped, so a failing test leaves it running.
struct Restart;
impl Drop for Restart {
    fn drop(&mut self) {
        servers_sh("start-one", "influxdb");
    }
}

#[actix_rt::test]
async fn influxdb_stopped_for_seconds_mid_run_loses_nothing_within_the_bound() {
    let base = server("ROLECALL_INFLUXDB_V1");
    let _turn = INFLUXDB.lock().await;
    let db = unique("rc_fault");
    let sent = points(&db, 2000, start_ns());
    let feed = sent.clone();
    let mut guard = None;
    let mut stopped_at = None;
    let (stats, most_queued) = run_reporter(
        &format!(
            r#"output = "influx-v1", url = "{base}", db = "{db}", batch_size = 100,
               flush_interval_ms = 50, retry_initial_ms = 100, retry_max_ms = 1000, timeout_ms = 2000"#
        ),
        |i| feed.get(i).cloned(),
        Duration::from_millis(2),
        |i| {
            if i == 300 {
                servers_sh("stop-one", "influxdb");
                guard = Some(Restart);
                stopped_at = Some(Instant::now());
            }
            // ~3 s later (2 ms per point plus sleeps' slack), bring it back
            if i == 1300 {
                let down = stopped_at.map(|t| t.elapsed()).unwrap_or_default();
                assert!(down >= Duration::from_secs(2), "down only {down:?}");
                guard.take();
            }
        },
    )
    .await;
    assert!(
        stats.retries > 0,
        "writes must have failed while it was down: {stats:?}"
    );
    // the reporter kept taking points while the server was down: senders never waited
    assert!(
        most_queued < 100,
        "{most_queued} points waited on the reporter's wire"
    );
    assert_eq!((stats.written, stats.dropped, stats.rejected), (2000, 0, 0));
    assert_eq!(read_back_v1(&base, &db).await, sent);
    drop_database(&base, &db).await;
}

#[actix_rt::test]
async fn a_database_dropped_mid_run_is_created_again_and_later_points_arrive() {
    let base = server("ROLECALL_INFLUXDB_V1");
    let _turn = INFLUXDB.lock().await;
    let db = unique("rc_dropped");
    let sent = points(&db, 800, start_ns());
    let feed = sent.clone();
    let (stats, _) = run_reporter(
        &format!(
            r#"output = "influx-v1", url = "{base}", db = "{db}", batch_size = 100,
               flush_interval_ms = 50, retry_initial_ms = 100, retry_max_ms = 1000, timeout_ms = 2000"#
        ),
        |i| feed.get(i).cloned(),
        Duration::from_millis(2),
        |i| {
            if i == 300 {
                // As a server that came back without its data: InfluxDB
                // answers 404 `database not found` to the next writes.
                let (base, db) = (base.clone(), db.clone());
                actix_rt::spawn(async move { drop_database(&base, &db).await });
            }
        },
    )
    .await;
    // Nothing refused: the 404s were retried after making the database again.
    assert_eq!((stats.written, stats.dropped, stats.rejected), (800, 0, 0));
    // Points sent 200 ms after the drop (and later) are all there; earlier
    // ones went with the dropped database or arrived after it was made again.
    let back = read_back_v1(&base, &db).await;
    for p in &sent[500..] {
        assert!(
            back.contains(p),
            "{p:?} missing after the database came back"
        );
    }
    drop_database(&base, &db).await;
}

#[actix_rt::test]
async fn with_a_small_bound_the_drop_count_equals_the_points_missing() {
    let base = server("ROLECALL_INFLUXDB_V1");
    let _turn = INFLUXDB.lock().await;
    let db = unique("rc_bound");
    // Create the database while the server is up; the reporter need not.
    influxql(&base, "", &format!("CREATE DATABASE \"{db}\"")).await;
    let sent = points(&db, 1000, start_ns());
    let feed = sent.clone();
    servers_sh("stop-one", "influxdb");
    let mut guard = Some(Restart);
    let (stats, most_queued) = run_reporter(
        &format!(
            r#"output = "influx-v1", url = "{base}", db = "{db}", create_database = false,
               wait_for_server_ms = 0, batch_size = 50, capacity = 200, flush_interval_ms = 20,
               retry_initial_ms = 100, retry_max_ms = 500, timeout_ms = 2000"#
        ),
        |i| feed.get(i).cloned(),
        Duration::from_millis(1),
        |i| {
            if i == 999 {
                guard.take();
            }
        },
    )
    .await;
    let back = read_back_v1(&base, &db).await;
    assert!(
        stats.dropped > 0,
        "the bound must have been exceeded: {stats:?}"
    );
    assert!(
        most_queued < 100,
        "{most_queued} points waited on the reporter's wire"
    );
    assert_eq!(stats.written as usize, back.len());
    assert_eq!(stats.dropped as usize, sent.len() - back.len(), "{stats:?}");
    assert_eq!(stats.accepted + stats.dropped, 1000);
    // what arrived is exactly the points that were not dropped, unchanged
    assert!(back.iter().all(|p| sent.contains(p)));
    drop_database(&base, &db).await;
}
