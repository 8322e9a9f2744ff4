//! `rolecall bench dht`: rings of DHT nodes on loopback, through the
//! `dht.node` actor vs the same libp2p swarms driven directly, in one run.
//!
//! For each ring size (10, 50 and 100 nodes; others with
//! `ROLECALL_BENCH_DHT_NODES=10,50`), two rings run side by side: one of
//! `dht.node` actors in this process ([`actor_ring`]), one of the same
//! swarms (`dht::swarm::build`, same configuration and identities, so the
//! same Kademlia distances: replication 5) each driven by a plain task with
//! a command channel, no actor in between ([`direct_ring`]), in a child
//! process of its own ([`remote`]: two rings of 100 nodes in one process
//! ran out of file descriptors). Each ring starts with node 0, the others
//! bootstrapping from it; once every routing table has peers and the rings
//! have settled (no table changing, no query in flight), `KEYS` records are
//! put from rotating nodes (puts/s), then `GETS` gets of those keys from
//! rotating nodes, `CONCURRENCY` at a time, in `BATCHES` batches alternating
//! between the rings so that both see the same machine load (gets/s,
//! success rate, latency p50/p99), then `UNLOADED_GETS` one at a time (the
//! latency of a get that queues behind no other). Each ring runs on one
//! single-threaded actix system. `ratio` is the geometric mean over ring
//! sizes of actor gets/s ÷ direct gets/s.

mod actor_ring;
mod direct_ring;
mod remote;

use std::ops::Range;
use std::time::{Duration, Instant};

use futures::StreamExt;
use rolecall_actors::dht::Params;
use serde::{Deserialize, Serialize};

use actor_ring::ActorRing;
use remote::RemoteRing;

/// Records put per ring.
const KEYS: usize = 100;
/// Gets per ring and side.
const GETS: usize = 2000;
/// Batches of gets, alternating between the sides.
const BATCHES: usize = 8;
/// Gets in flight at once.
const CONCURRENCY: usize = 32;
/// Gets per ring and side one at a time, for the latency of a get on a ring
/// that is not busy with others (in `BATCHES` batches too).
const UNLOADED_GETS: usize = 200;
/// First port of the rings' first nodes, unless `ROLECALL_BENCH_DHT_PORT`
/// says otherwise.
const BASE_PORT: u16 = 24500;

/// One side's figures on one ring.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Side {
    /// Seconds from every node having joined until no routing table
    /// changed for two seconds (both rings settle at once).
    settled_after_s: f64,
    puts_per_s: f64,
    put_success: f64,
    put_p50_ms: f64,
    put_p99_ms: f64,
    /// Why puts failed (the first few, as the node said).
    put_failures: Vec<String>,
    gets_per_s: f64,
    get_success: f64,
    get_p50_ms: f64,
    get_p99_ms: f64,
    /// One get at a time: latency without queueing behind the others.
    unloaded_get_p50_ms: f64,
    unloaded_get_p99_ms: f64,
}

/// One ring size.
#[derive(Debug, Clone, Serialize)]
pub(super) struct RingReport {
    nodes: usize,
    actor: Side,
    direct: Side,
    /// actor gets/s ÷ direct gets/s.
    ratio: f64,
}

/// The suite's report.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    suite: &'static str,
    /// Geometric mean over ring sizes of actor gets/s ÷ direct gets/s (target ≥ 0.9).
    ratio: f64,
    /// Lowest get success rate of the actor side (target ≥ 0.999).
    actor_get_success_min: f64,
    rings: Vec<RingReport>,
    keys: usize,
    gets: usize,
    concurrency: usize,
}

fn params(port: u16, seed: u64, bootstrap: Option<String>) -> Params {
    Params {
        listen: format!("/ip4/127.0.0.1/tcp/{port}"),
        seed: Some(seed),
        bootstrap: bootstrap.into_iter().collect(),
        replication: 5,
        rebootstrap: "0s".into(),
        query_timeout: "10s".into(),
        ..Params::default()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// What a node says of itself (all zero when it does not answer).
#[derive(Debug, Clone, Copy, Default)]
struct NodeState {
    /// Peers in its routing table.
    peers: usize,
    /// Kademlia queries in flight.
    queries: usize,
}

/// A ring both sides can be asked: put, get, a node's state.
trait Ring {
    /// Ok, or why the put failed.
    async fn put(&self, node: usize, key: String, value: Vec<u8>) -> Result<(), String>;
    async fn get(&self, node: usize, key: String) -> bool;
    async fn state(&self, node: usize) -> NodeState;
    fn len(&self) -> usize;
}

/// Waits until every node of `ring` knows a few peers.
async fn joined<R: Ring>(ring: &R) -> Result<(), String> {
    let n = ring.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    for i in 0..n {
        while ring.state(i).await.peers < 3.min(n - 1) {
            if Instant::now() > deadline {
                return Err(format!("node {i} of {n} never joined the ring"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// How long the rings' routing tables must stay unchanged to count as settled.
const SETTLE_QUIET: Duration = Duration::from_secs(2);
/// Longest wait for a ring to settle.
const SETTLE_LIMIT: Duration = Duration::from_secs(120);

/// Waits until no routing table of `ring` has changed for [`SETTLE_QUIET`]
/// and no node has a query in flight: the joins' bootstrap lookups (each
/// node looks up its own id, then refreshes every farther bucket) have
/// ended. Measuring before that times the join storm, not the ring: at 100
/// nodes the puts of whichever side went first took seconds each.
/// Returns the seconds it took.
async fn settled<R: Ring>(ring: &R) -> Result<f64, String> {
    let start = Instant::now();
    let mut last = Vec::new();
    let mut quiet_since = Instant::now();
    loop {
        let mut now = Vec::with_capacity(ring.len());
        let mut queries = 0;
        for i in 0..ring.len() {
            let state = ring.state(i).await;
            now.push(state.peers);
            queries += state.queries;
        }
        if now != last || queries > 0 {
            last = now;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= SETTLE_QUIET {
            return Ok(start.elapsed().as_secs_f64());
        }
        if start.elapsed() > SETTLE_LIMIT {
            return Err(format!(
                "the ring of {} never settled: routing tables changing or queries in flight after {} s",
                ring.len(),
                SETTLE_LIMIT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What a batch of puts gave.
#[derive(Debug, Serialize, Deserialize)]
struct PutBatch {
    /// The batch's wall time.
    secs: f64,
    /// Each put's milliseconds.
    ms: Vec<f64>,
    /// Why each failed put failed.
    failures: Vec<String>,
}

/// What a batch of gets gave.
#[derive(Debug, Serialize, Deserialize)]
struct GetBatch {
    /// The batch's wall time.
    secs: f64,
    /// (found, milliseconds) of each get.
    results: Vec<(bool, f64)>,
}

/// Puts the records `range`.
async fn puts<R: Ring>(ring: &R, range: Range<usize>) -> PutBatch {
    let n = ring.len();
    let start = Instant::now();
    let done = futures::stream::iter(range)
        .map(|k| async move {
            let t = Instant::now();
            let r = ring
                .put(
                    (k * 7) % n,
                    format!("key-{k}"),
                    format!("value {k}").into_bytes(),
                )
                .await;
            (t.elapsed().as_secs_f64() * 1000.0, r)
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<(f64, Result<(), String>)>>()
        .await;
    PutBatch {
        secs: start.elapsed().as_secs_f64(),
        ms: done.iter().map(|(ms, _)| *ms).collect(),
        failures: done.into_iter().filter_map(|(_, r)| r.err()).collect(),
    }
}

/// Gets `range` (indices of the whole run), `concurrency` at a time.
async fn gets<R: Ring>(ring: &R, range: Range<usize>, concurrency: usize) -> GetBatch {
    let n = ring.len();
    let start = Instant::now();
    let done = futures::stream::iter(range)
        .map(|g| async move {
            let t = Instant::now();
            let ok = ring
                .get((g * 13 + 5) % n, format!("key-{}", g % KEYS))
                .await;
            (ok, t.elapsed().as_secs_f64() * 1000.0)
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<(bool, f64)>>()
        .await;
    GetBatch {
        secs: start.elapsed().as_secs_f64(),
        results: done,
    }
}

/// A ring as the comparison drives it: whole batches at a time, so that
/// the ring in the child process costs one exchange per batch, outside
/// the batch's timing.
trait Batches {
    async fn joined(&self) -> Result<(), String>;
    /// Seconds until the ring settled (see [`settled`]).
    async fn settled(&self) -> Result<f64, String>;
    async fn puts(&self, range: Range<usize>) -> Result<PutBatch, String>;
    async fn gets(&self, range: Range<usize>, concurrency: usize) -> Result<GetBatch, String>;
}

impl<R: Ring> Batches for R {
    async fn joined(&self) -> Result<(), String> {
        joined(self).await
    }
    async fn settled(&self) -> Result<f64, String> {
        settled(self).await
    }
    async fn puts(&self, range: Range<usize>) -> Result<PutBatch, String> {
        Ok(puts(self, range).await)
    }
    async fn gets(&self, range: Range<usize>, concurrency: usize) -> Result<GetBatch, String> {
        Ok(gets(self, range, concurrency).await)
    }
}

/// Accumulates one side's runs.
#[derive(Default)]
struct Tally {
    settle_s: f64,
    put_time: f64,
    put_ms: Vec<f64>,
    put_failures: Vec<String>,
    get_time: f64,
    results: Vec<(bool, f64)>,
    unloaded: Vec<(bool, f64)>,
}

impl Tally {
    fn side(mut self) -> Side {
        let sorted = |results: &[(bool, f64)]| {
            let mut ms: Vec<f64> = results.iter().map(|(_, ms)| *ms).collect();
            ms.sort_by(f64::total_cmp);
            ms
        };
        let latencies = sorted(&self.results);
        let unloaded = sorted(&self.unloaded);
        let mut put_ms = std::mem::take(&mut self.put_ms);
        put_ms.sort_by(f64::total_cmp);
        let rate = self.results.len() as f64 / self.get_time.max(f64::MIN_POSITIVE);
        // Success over every get, loaded and not.
        self.results.append(&mut self.unloaded);
        let found = self.results.iter().filter(|(ok, _)| *ok).count();
        let total = self.results.len().max(1);
        Side {
            settled_after_s: self.settle_s,
            puts_per_s: KEYS as f64 / self.put_time.max(f64::MIN_POSITIVE),
            put_success: (KEYS - self.put_failures.len()) as f64 / KEYS as f64,
            put_p50_ms: percentile(&put_ms, 0.5),
            put_p99_ms: percentile(&put_ms, 0.99),
            put_failures: self.put_failures.iter().take(5).cloned().collect(),
            gets_per_s: rate,
            get_success: found as f64 / total as f64,
            get_p50_ms: percentile(&latencies, 0.5),
            get_p99_ms: percentile(&latencies, 0.99),
            unloaded_get_p50_ms: percentile(&unloaded, 0.5),
            unloaded_get_p99_ms: percentile(&unloaded, 0.99),
        }
    }
}

impl Tally {
    fn add_puts(&mut self, batch: PutBatch) {
        self.put_time += batch.secs;
        self.put_ms.extend(batch.ms);
        self.put_failures.extend(batch.failures);
    }

    fn add_gets(&mut self, batch: GetBatch) {
        self.get_time += batch.secs;
        self.results.extend(batch.results);
    }
}

/// Both rings are up at once; puts, then gets in `BATCHES` alternating
/// batches, so that both sides see the same machine load.
async fn compare(actor: &impl Batches, direct: &impl Batches) -> Result<(Side, Side), String> {
    actor.joined().await?;
    direct.joined().await?;
    let (a_settle, d_settle) = futures::join!(actor.settled(), direct.settled());
    let (mut a, mut d) = (Tally::default(), Tally::default());
    a.settle_s = a_settle?;
    d.settle_s = d_settle?;
    for (b, range) in [0..KEYS / 2, KEYS / 2..KEYS].into_iter().enumerate() {
        for side in 0..2 {
            if (side + b) % 2 == 0 {
                a.add_puts(actor.puts(range.clone()).await?);
            } else {
                d.add_puts(direct.puts(range.clone()).await?);
            }
        }
    }
    let per = GETS / BATCHES;
    for b in 0..BATCHES {
        let range = b * per..(b + 1) * per;
        for side in 0..2 {
            if (side + b) % 2 == 0 {
                a.add_gets(actor.gets(range.clone(), CONCURRENCY).await?);
            } else {
                d.add_gets(direct.gets(range.clone(), CONCURRENCY).await?);
            }
        }
    }
    let per = UNLOADED_GETS / BATCHES;
    for b in 0..BATCHES {
        let range = GETS + b * per..GETS + (b + 1) * per;
        for side in 0..2 {
            if (side + b) % 2 == 0 {
                a.unloaded
                    .extend(actor.gets(range.clone(), 1).await?.results);
            } else {
                d.unloaded
                    .extend(direct.gets(range.clone(), 1).await?.results);
            }
        }
    }
    Ok((a.side(), d.side()))
}

/// Ring sizes: `ROLECALL_BENCH_DHT_NODES` (comma-separated) or 10, 50 and 100.
fn sizes() -> Result<Vec<usize>, String> {
    match std::env::var("ROLECALL_BENCH_DHT_NODES") {
        Err(_) => Ok(vec![10, 50, 100]),
        Ok(text) => text
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (2..=200).contains(n))
                    .ok_or_else(|| {
                        format!("ROLECALL_BENCH_DHT_NODES: `{s}` is not a ring size in 2..=200")
                    })
            })
            .collect(),
    }
}

/// The actor ring's first node's port: `ROLECALL_BENCH_DHT_PORT` or
/// [`BASE_PORT`]; the direct ring's first node takes the next one, every
/// other node a port the system picks.
fn base_port() -> Result<u16, String> {
    match std::env::var("ROLECALL_BENCH_DHT_PORT") {
        Err(_) => Ok(BASE_PORT),
        Ok(text) => text
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| (1024..=65_000).contains(p))
            .ok_or_else(|| {
                format!("ROLECALL_BENCH_DHT_PORT: `{text}` is not a port in 1024..=65000")
            }),
    }
}

/// Runs the suite.
pub(super) fn run() -> Result<Report, String> {
    if let Ok(spec) = std::env::var(remote::RING_ENV) {
        // A child process serving the direct ring (see `remote`).
        std::process::exit(remote::serve(&spec));
    }
    let sizes = sizes()?;
    let port = base_port()?;
    let system = actix::System::new();
    system.block_on(async move {
        let mut rings = Vec::new();
        for (round, &n) in sizes.iter().enumerate() {
            let seed = 10_000 + 1_000 * round as u64;
            let actor_ring = ActorRing::start(n, port, seed).await?;
            let direct_ring = RemoteRing::start(n, port + 1, seed).await?;
            let result = compare(&actor_ring, &direct_ring).await;
            actor_ring.stop().await;
            direct_ring.stop().await;
            let (actor, direct) = result?;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let ratio = actor.gets_per_s / direct.gets_per_s.max(f64::MIN_POSITIVE);
            eprintln!(
                "dht ring of {n}: actor {:.0} gets/s ({:.2}% found), direct {:.0} gets/s; ratio {ratio:.3}",
                actor.gets_per_s,
                actor.get_success * 100.0,
                direct.gets_per_s
            );
            rings.push(RingReport {
                nodes: n,
                actor,
                direct,
                ratio,
            });
        }
        let mean_ln = rings.iter().map(|r| r.ratio.ln()).sum::<f64>() / rings.len().max(1) as f64;
        let ratio = mean_ln.exp();
        let actor_get_success_min = rings
            .iter()
            .map(|r| r.actor.get_success)
            .fold(1.0, f64::min);
        Ok(Report {
            suite: "dht",
            ratio,
            actor_get_success_min,
            rings,
            keys: KEYS,
            gets: GETS,
            concurrency: CONCURRENCY,
        })
    })
}
