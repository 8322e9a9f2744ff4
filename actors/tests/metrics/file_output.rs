//! The reporter actor with the embedded default output: a local results file.

use std::time::Duration;

use rolecall_actors::metrics::{file, Field, Flush, Point, Reporter, Stats};
use rolecall_runtime::wire::{Policy, WireConfig};
use rolecall_runtime::NodeExit;

use crate::node;

fn points(n: usize) -> Vec<Point> {
    (0..n)
        .map(|i| {
            Point::new("latency", 1_700_000_000_000_000_000 + i as i64 * 1000)
                .tag(
                    "topic",
                    if i % 2 == 0 {
                        "weather, east"
                    } else {
                        "trafic=ok"
                    },
                )
                .tag("subscriber", "stats")
                .field("us", i as f64 * 0.5)
                .field("seq", i as i64)
        })
        .collect()
}

fn topology(path: &std::path::Path, extra: &str) -> String {
    format!(
        r#"
        [actors.reporter]
        kind = "metrics.reporter"
        params = {{ path = "{}", stats_interval_ms = 50, {extra} }}
        "#,
        path.display()
    )
}

async fn last_stats(tap: &mut rolecall_runtime::Tap<Stats>) -> Stats {
    let mut last = Stats::default();
    while let Ok(Some(s)) = actix_rt::time::timeout(Duration::from_secs(10), tap.recv()).await {
        last = s;
    }
    last
}

/// Sends `sent` into a reporter with `params` writing to `path` through a
/// wire of `capacity` (blocking), ends the input and waits for the node to
/// finish; returns the reporter's last counters.
async fn run_to_the_end(
    path: &std::path::Path,
    params: &str,
    sent: &[Point],
    capacity: usize,
) -> Stats {
    let mut n = node(&topology(path, params));
    let input = n
        .inject::<Point>("reporter.in", WireConfig::new(capacity, Policy::Block))
        .unwrap();
    let mut stats = n
        .tap::<Stats>("reporter.stats", WireConfig::default())
        .unwrap();
    let running = n.start().await.unwrap();
    for p in sent {
        input.output().send_async(p.clone()).await;
    }
    drop(input);
    let exit = actix_rt::time::timeout(Duration::from_secs(30), running.wait())
        .await
        .expect("the node ends after end of input");
    assert_eq!(exit, NodeExit::Completed);
    last_stats(&mut stats).await
}

#[actix_rt::test]
async fn every_point_reaches_the_file_and_stopping_flushes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/results.lp");
    let sent = points(2500);
    // A flush interval far beyond the test: only full batches and the final
    // flush at end of input write anything.
    let params = "batch_size = 1000, flush_interval_ms = 600000";
    let last = run_to_the_end(&path, params, &sent, WireConfig::DEFAULT_CAPACITY).await;
    assert_eq!(
        (last.accepted, last.written, last.dropped, last.buffered),
        (2500, 2500, 0, 0)
    );
    assert_eq!(file::read(&path).unwrap(), sent);
}

/// A burst of many batches at once (batches wait behind the one being
/// written): every point reaches the file, in order.
#[actix_rt::test]
async fn a_burst_of_many_batches_reaches_the_file_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("burst.lp");
    let sent = points(20_000);
    // The wire holds the whole burst, so the points arrive as fast as the
    // reporter takes them.
    let params = "batch_size = 100, capacity = 20000, flush_interval_ms = 600000";
    let last = run_to_the_end(&path, params, &sent, 20_000).await;
    assert_eq!(
        (last.accepted, last.written, last.dropped, last.buffered),
        (20_000, 20_000, 0, 0)
    );
    assert_eq!(file::read(&path).unwrap(), sent);
}

#[actix_rt::test]
async fn flush_writes_a_partial_batch_and_answers_with_the_counters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.csv");
    let mut n = node(&topology(&path, "flush_interval_ms = 600000"));
    let input = n
        .inject::<Point>("reporter.in", WireConfig::default())
        .unwrap();
    let running = n.start().await.unwrap();
    let reporter = running.actor::<Reporter>("reporter").unwrap();
    let mut sent = points(10);
    sent[3] = sent[3].clone().field("note", "a \"quoted\", text");
    for p in &sent {
        input.output().send_async(p.clone()).await;
    }
    // a point that cannot be written is counted, not written
    input
        .output()
        .send_async(Point::new("bad", 1).field("v", f64::NAN))
        .await;
    // the wire delivers in order, so after this the reporter holds all 11
    actix_rt::time::sleep(Duration::from_millis(100)).await;
    let stats = reporter.send(Flush).await.unwrap();
    assert_eq!((stats.written, stats.invalid, stats.buffered), (10, 1, 0));
    let back = file::read(&path).unwrap();
    assert_eq!(back, sent);
    assert_eq!(
        back[3].fields["note"],
        Field::Str("a \"quoted\", text".into())
    );
    running.shutdown();
    running.wait().await;
}

#[test]
fn bad_parameters_are_reported_with_the_reason() {
    use rolecall_runtime::topology::{load_str, Overrides};
    // Found by the reporter's parameter check when the topology loads
    // (`rolecall check` too), at the parameter, before anything starts.
    let text = r#"
        [actors.reporter]
        kind = "metrics.reporter"
        params = { output = "influx-v1", batch_size = 0 }
    "#;
    let e = load_str(text, "bad.toml", &crate::registry(), &Overrides::new())
        .expect_err("batch_size = 0 is refused");
    let message = e.to_string();
    assert!(message.contains("bad.toml:4:"), "{message}");
    assert!(
        message.contains("parameter `batch_size`: batch_size must be at least 1"),
        "{message}"
    );
}

#[actix_rt::test]
async fn an_unreachable_server_does_not_hold_shutdown_beyond_the_timeout() {
    // Port 1 on loopback: connection refused at once, every time. No
    // start-up check (`wait_for_server_ms = 0`): the reporter runs, retries.
    let mut n = node(
        r#"
        [actors.reporter]
        kind = "metrics.reporter"
        params = { output = "influx-v1", url = "http://127.0.0.1:1", flush_interval_ms = 10,
                   retry_initial_ms = 20, retry_max_ms = 50, shutdown_timeout_ms = 400,
                   stats_interval_ms = 50, wait_for_server_ms = 0 }
        "#,
    );
    let input = n
        .inject::<Point>("reporter.in", WireConfig::default())
        .unwrap();
    let mut stats = n
        .tap::<Stats>("reporter.stats", WireConfig::default())
        .unwrap();
    let running = n.start().await.unwrap();
    for p in points(10) {
        input.output().send_async(p).await;
    }
    drop(input);
    let started = std::time::Instant::now();
    let exit = actix_rt::time::timeout(Duration::from_secs(10), running.wait())
        .await
        .expect("stops after shutdown_timeout");
    assert_eq!(exit, NodeExit::Completed);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let last = last_stats(&mut stats).await;
    assert_eq!(last.written, 0);
    assert_eq!(last.buffered + last.in_flight, 10, "{last:?}");
    assert!(last.retries > 0, "{last:?}");
}

#[actix_rt::test]
async fn an_unreachable_server_at_start_fails_the_node_with_one_line_and_writes_nothing() {
    let mut n = node(
        r#"
        [actors.reporter]
        kind = "metrics.reporter"
        params = { output = "influx-v2", url = "http://127.0.0.1:1", flush_interval_ms = 10,
                   wait_for_server_ms = 600, stats_interval_ms = 0 }
        "#,
    );
    let input = n
        .inject::<Point>("reporter.in", WireConfig::default())
        .unwrap();
    let mut stats = n
        .tap::<Stats>("reporter.stats", WireConfig::default())
        .unwrap();
    let started = std::time::Instant::now();
    let running = n.start().await.unwrap();
    // Taken and held while it waits for the server; never written.
    for p in points(10) {
        input.output().send_async(p).await;
    }
    let exit = actix_rt::time::timeout(Duration::from_secs(10), running.wait())
        .await
        .expect("the node ends by itself");
    let took = started.elapsed();
    let reason = match exit {
        NodeExit::Failed(reason) => reason,
        NodeExit::Completed => panic!("an absent server must fail the node"),
    };
    assert!(
        reason.starts_with(
            "metrics.reporter `reporter`: cannot reach the InfluxDB 2 write API at \
             http://127.0.0.1:1 (from the `url` parameter), tried for "
        ),
        "{reason}"
    );
    assert!(
        reason.contains(": connection refused; ") && reason.contains("ROLECALL_INFLUX_V2"),
        "{reason}"
    );
    assert!(!reason.contains('\n'), "{reason}");
    // The wait, and no shutdown_timeout (5 s) spent flushing what cannot be written.
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    let last = last_stats(&mut stats).await;
    assert_eq!((last.written, last.retries), (0, 0), "{last:?}");
    assert_eq!(last.accepted, 10, "{last:?}");
}
