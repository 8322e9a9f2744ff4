//! `rolecall bench pubsub`: the course's discovery service and dissemination.
//!
//! * Discovery lookups/s: one REQ client sends `TYPE_LOOKUP_PUB_BY_TOPIC`
//!   requests back to back to `pubsub.discovery` behind a `zmq.rep` endpoint
//!   (5 publishers registered first). Baseline: a raw REP socket in a thread
//!   answering with the same [`Directory`] (the same protobuf decode, lookup
//!   and encode). Rounds in pairs, one of each order; `ratio` is the median of
//!   the pairs' geometric means of rolecall ÷ baseline.
//! * End-to-end latency, direct vs broker: one publisher (1000 publications
//!   per second) and one subscriber, through the apps' kinds, p50/p99 µs
//!   from the subscriber's latency points (reported, not in `ratio`).
//! * Failover (ZooKeeper strategy, when `ROLECALL_ZK` reaches a server): time
//!   from `kill -9` of the primary broker to the first delivery through its
//!   backup ÷ (session timeout + 1 s), in `failover.ratio` (≤ 1 meets the
//!   bound); see `pubsub_failover`.

use std::time::Instant;

use prost::Message as _;
use rolecall_actors::pubsub::client::{lookup_req, register_req};
use rolecall_actors::pubsub::{Directory, Dissemination, Expect};
use rolecall_codecs::pb::discovery::{DiscoveryResp, RegistrantInfo, Role};
use serde::Serialize;

use super::{median, paired_ratio, run_topology};

/// Lookups per measured round (default; `--messages` sets it).
pub(super) const LOOKUPS: u64 = 5_000;
/// Pairs of rounds.
const PAIRS: usize = 3;
/// Ports (the suite's own range).
const PORT: u16 = 27800;

/// The JSON report.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    suite: &'static str,
    /// Median of the pairs' geometric means of rolecall ÷ baseline lookups/s.
    ratio: f64,
    pair_ratios: Vec<f64>,
    round_ratios: Vec<f64>,
    lookups_per_round: u64,
    rolecall_lookups_per_s: Vec<f64>,
    baseline_lookups_per_s: Vec<f64>,
    latency: Vec<Latency>,
    /// Failover of the primary broker (ZooKeeper strategy), when ZooKeeper is there.
    failover: Option<super::pubsub_failover::Failover>,
    /// Why there is no failover figure.
    failover_skipped: Option<String>,
}

/// End-to-end latency of one dissemination strategy.
#[derive(Debug, Serialize)]
pub(super) struct Latency {
    dissemination: &'static str,
    publications: u64,
    p50_us: f64,
    p99_us: f64,
}

fn registrations() -> Vec<Vec<u8>> {
    let topics = rolecall_actors::pubsub::topics::TOPICS;
    (0..5)
        .map(|i| {
            let info = RegistrantInfo {
                id: format!("pub{i}"),
                addr: Some("127.0.0.1".into()),
                port: Some(7000 + i),
            };
            let mine = vec![
                topics[i as usize % 9].to_owned(),
                topics[(i as usize + 3) % 9].to_owned(),
            ];
            register_req(Role::Publisher, info, &mine).encode_to_vec()
        })
        .collect()
}

/// Registers the publishers, then times `LOOKUPS` lookups; lookups/s.
fn client(endpoint: &str, lookups: u64) -> Result<f64, String> {
    let ctx = rolecall_actors::zmq::io::context();
    let s = ctx.socket(zmq::REQ).map_err(|e| e.to_string())?;
    s.set_rcvtimeo(10_000).map_err(|e| e.to_string())?;
    s.set_linger(0).map_err(|e| e.to_string())?;
    s.connect(endpoint).map_err(|e| e.to_string())?;
    let call = |bytes: &[u8]| -> Result<DiscoveryResp, String> {
        s.send(bytes, 0).map_err(|e| e.to_string())?;
        let reply = s
            .recv_bytes(0)
            .map_err(|e| format!("no reply from {endpoint}: {e}"))?;
        DiscoveryResp::decode(reply.as_slice()).map_err(|e| e.to_string())
    };
    for r in registrations() {
        call(&r)?;
    }
    let lookup =
        lookup_req(Some(&["weather".into(), "pressure".into(), "light".into()])).encode_to_vec();
    let start = Instant::now();
    for _ in 0..lookups {
        let resp = call(&lookup)?;
        if !matches!(
            resp.content,
            Some(rolecall_codecs::pb::discovery::discovery_resp::Content::LookupResp(ref l)) if !l.publishers.is_empty()
        ) {
            return Err(format!("unexpected lookup reply {resp:?}"));
        }
    }
    Ok(lookups as f64 / start.elapsed().as_secs_f64())
}

fn directory() -> Directory {
    Directory::new(Expect::new(5, 0, Dissemination::Direct))
}

/// The baseline: a raw REP socket answering with a `Directory` in a thread.
fn baseline(port: u16, lookups: u64) -> Result<f64, String> {
    let ctx = rolecall_actors::zmq::io::context();
    let rep = ctx.socket(zmq::REP).map_err(|e| e.to_string())?;
    rep.set_linger(0).map_err(|e| e.to_string())?;
    let endpoint = format!("tcp://127.0.0.1:{port}");
    rep.bind(&endpoint).map_err(|e| e.to_string())?;
    let requests = lookups + 5;
    let server = std::thread::spawn(move || {
        let mut d = directory();
        for _ in 0..requests {
            let Ok(req) = rep.recv_bytes(0) else { return };
            if rep.send(d.handle_bytes(&req), 0).is_err() {
                return;
            }
        }
    });
    let result = client(&endpoint, lookups);
    let _ = server.join();
    result
}

/// rolecall: `zmq.rep` wired to `pubsub.discovery`.
fn rolecall_round(port: u16, lookups: u64) -> Result<f64, String> {
    let text = format!(
        r#"
        [topology]
        name = "bench-pubsub"
        [actors.rep]
        kind = "zmq.rep"
        params = {{ bind = ["tcp://127.0.0.1:{port}"] }}
        [actors.discovery]
        kind = "pubsub.discovery"
        params = {{ publishers = 5, subscribers = 0 }}
        [[wires]]
        from = "rep.out"
        to = "discovery.requests"
        [[wires]]
        from = "discovery.replies"
        to = "rep.in"
        "#
    );
    let registry = rolecall::default_registry();
    let topology = super::load(&text, &registry)?;
    let system = actix::System::new();
    system.block_on(async move {
        let running = rolecall_runtime::Node::all(topology, registry)
            .with_seed(1)
            .start()
            .await
            .map_err(|e| e.to_string())?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(client(&format!("tcp://127.0.0.1:{port}"), lookups));
        });
        let result = rx.await.map_err(|e| e.to_string())?;
        running.shutdown();
        let _ = running.wait().await;
        result
    })
}

/// One publisher and one subscriber; the subscriber's latency points, in µs.
fn latency(dissemination: Dissemination, port: u16) -> Result<Latency, String> {
    let (name, broker) = match dissemination {
        Dissemination::Direct => ("direct", String::new()),
        Dissemination::Broker => (
            "broker",
            format!(
                r#"
                [actors.broker]
                kind = "pubsub.broker"
                params = {{ id = "b", addr = "127.0.0.1", port = {}, discovery = "127.0.0.1:{port}", pause_ms = 20, idle_timeout_ms = 1000 }}
                "#,
                port + 2
            ),
        ),
    };
    let lp = std::env::temp_dir().join(format!(
        "rolecall-bench-pubsub-{}-{name}.lp",
        std::process::id()
    ));
    let publications = 2000u64;
    let text = format!(
        r#"
        [topology]
        name = "bench-pubsub-latency"
        finish_when = ["metrics"]
        [actors.rep]
        kind = "zmq.rep"
        params = {{ bind = ["tcp://127.0.0.1:{port}"] }}
        [actors.discovery]
        kind = "pubsub.discovery"
        params = {{ publishers = 1, subscribers = 1, dissemination = "{name}" }}
        [[wires]]
        from = "rep.out"
        to = "discovery.requests"
        [[wires]]
        from = "discovery.replies"
        to = "rep.in"
        [actors.pub]
        kind = "pubsub.publisher"
        params = {{ id = "p", addr = "127.0.0.1", port = {}, discovery = "127.0.0.1:{port}", topics = ["weather"], iters = {publications}, frequency = 1000, pause_ms = 20 }}
        [actors.sub]
        kind = "pubsub.subscriber"
        params = {{ id = "s", discovery = "127.0.0.1:{port}", topics = ["weather"], pause_ms = 20, stop_after = {publications}, idle_timeout_ms = 3000 }}
        [actors.metrics]
        kind = "metrics.reporter"
        params = {{ path = {:?} }}
        [[wires]]
        from = "sub.points"
        to = "metrics.in"
        {broker}
        "#,
        port + 1,
        lp.display().to_string()
    );
    let system = actix::System::new();
    system.block_on(run_topology(&text, rolecall::default_registry()))?;
    let text = std::fs::read_to_string(&lp).map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&lp);
    let text = text?;
    let mut us: Vec<f64> = text
        .lines()
        .filter_map(|l| l.split(" us=").nth(1))
        .filter_map(|v| v.split_whitespace().next())
        .filter_map(|v| v.parse().ok())
        .collect();
    if us.len() as u64 != publications {
        return Err(format!(
            "{name}: {} of {publications} latency points",
            us.len()
        ));
    }
    us.sort_by(f64::total_cmp);
    let p99 = us[(us.len() * 99 / 100).min(us.len() - 1)];
    Ok(Latency {
        dissemination: name,
        publications,
        p50_us: median(&mut us),
        p99_us: p99,
    })
}

/// Runs the suite.
pub(super) fn run(lookups: u64) -> Result<Report, String> {
    let mut ours = Vec::new();
    let mut base = Vec::new();
    let mut rounds = Vec::new();
    for pair in 0..PAIRS {
        for first_ours in [true, false] {
            let port = PORT + (pair * 4) as u16 + if first_ours { 0 } else { 2 };
            let (o, b) = if first_ours {
                let o = rolecall_round(port, lookups)?;
                (o, baseline(port + 1, lookups)?)
            } else {
                let b = baseline(port + 1, lookups)?;
                (rolecall_round(port, lookups)?, b)
            };
            ours.push(o);
            base.push(b);
            rounds.push(o / b);
        }
    }
    let (ratio, pair_ratios) = paired_ratio(&rounds);
    let latency = vec![
        latency(Dissemination::Direct, PORT + 40)?,
        latency(Dissemination::Broker, PORT + 50)?,
    ];
    let (failover, failover_skipped) = match super::pubsub_failover::measure() {
        Ok(f) => (Some(f), None),
        Err(why) => {
            eprintln!("bench pubsub: no failover figure: {why}");
            (None, Some(why))
        }
    };
    Ok(Report {
        suite: "pubsub",
        ratio,
        pair_ratios,
        round_ratios: rounds,
        lookups_per_round: lookups,
        rolecall_lookups_per_s: ours,
        baseline_lookups_per_s: base,
        latency,
        failover,
        failover_skipped,
    })
}
