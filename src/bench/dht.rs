//! `rolecall bench dht`: rings of DHT nodes on loopback, through the
//! `dht.node` actor vs the same libp2p swarms driven directly, in one run.
//!
//! For each ring size (10, 50 and 100 nodes; others with
//! `ROLECALL_BENCH_DHT_NODES=10,50`), two rings run side by side: one of
//! `dht.node` actors, one of the same swarms (`dht::swarm::build`, same
//! configuration and identities, so the same Kademlia distances: replication
//! 5) each driven by a plain task with a command
//! channel, no actor in between. Each ring starts with node 0, the others
//! bootstrapping from it; once every routing table has peers, `KEYS` records
//! are put from rotating nodes (puts/s), then `GETS` gets of those keys from
//! rotating nodes, `CONCURRENCY` at a time, in `BATCHES` batches alternating
//! between the rings so that both see the same machine load (gets/s, success
//! rate, latency p50/p99), then `UNLOADED_GETS` one at a time (the latency
//! of a get that queues behind no other). Everything runs on one single-threaded actix
//! system. `ratio` is the geometric mean over ring sizes of actor gets/s ÷
//! direct gets/s.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use rolecall_actors::dht::libp2p::kad::{self, GetRecordOk, QueryId, QueryResult, Quorum, Record};
use rolecall_actors::dht::libp2p::swarm::SwarmEvent;
use rolecall_actors::dht::libp2p::{identify, Swarm};
use rolecall_actors::dht::swarm::{Behaviour, BehaviourEvent};
use rolecall_actors::dht::{self, Get, GetInfo, Params, Put};
use rolecall_runtime::{Node, Ref, Running};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

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
/// First port of the rings' first nodes.
const BASE_PORT: u16 = 24500;

/// One side's figures on one ring.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Side {
    puts_per_s: f64,
    put_success: f64,
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

/// A ring both sides can be asked: put, get, routing-table size.
trait Ring {
    /// Ok, or why the put failed.
    async fn put(&self, node: usize, key: String, value: Vec<u8>) -> Result<(), String>;
    async fn get(&self, node: usize, key: String) -> bool;
    async fn peers(&self, node: usize) -> usize;
    fn len(&self) -> usize;
}

/// Waits until every node of `ring` knows a few peers.
async fn joined<R: Ring>(ring: &R) -> Result<(), String> {
    let n = ring.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    for i in 0..n {
        while ring.peers(i).await < 3.min(n - 1) {
            if Instant::now() > deadline {
                return Err(format!("node {i} of {n} never joined the ring"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// Puts the records `range`; returns (seconds, why each failed put failed).
async fn puts<R: Ring>(ring: &R, range: std::ops::Range<usize>) -> (f64, Vec<String>) {
    let n = ring.len();
    let start = Instant::now();
    let done = futures::stream::iter(range)
        .map(|k| {
            ring.put(
                (k * 7) % n,
                format!("key-{k}"),
                format!("value {k}").into_bytes(),
            )
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<Result<(), String>>>()
        .await;
    (
        start.elapsed().as_secs_f64(),
        done.into_iter().filter_map(Result::err).collect(),
    )
}

/// Gets `range` (indices of the whole run), `concurrency` at a time;
/// returns (seconds, (found, ms) each).
async fn gets<R: Ring>(
    ring: &R,
    range: std::ops::Range<usize>,
    concurrency: usize,
) -> (f64, Vec<(bool, f64)>) {
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
    (start.elapsed().as_secs_f64(), done)
}

/// Accumulates one side's runs.
#[derive(Default)]
struct Tally {
    put_time: f64,
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
        let rate = self.results.len() as f64 / self.get_time.max(f64::MIN_POSITIVE);
        // Success over every get, loaded and not.
        self.results.append(&mut self.unloaded);
        let found = self.results.iter().filter(|(ok, _)| *ok).count();
        let total = self.results.len().max(1);
        Side {
            puts_per_s: KEYS as f64 / self.put_time.max(f64::MIN_POSITIVE),
            put_success: (KEYS - self.put_failures.len()) as f64 / KEYS as f64,
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

/// Both rings are up at once; puts, then gets in `BATCHES` alternating
/// batches, so that both sides see the same machine load.
async fn compare(actor: &ActorRing, direct: &DirectRing) -> Result<(Side, Side), String> {
    joined(actor).await?;
    joined(direct).await?;
    let (mut a, mut d) = (Tally::default(), Tally::default());
    for (b, range) in [0..KEYS / 2, KEYS / 2..KEYS].into_iter().enumerate() {
        for side in 0..2 {
            if (side + b) % 2 == 0 {
                let (t, mut failed) = puts(actor, range.clone()).await;
                a.put_time += t;
                a.put_failures.append(&mut failed);
            } else {
                let (t, mut failed) = puts(direct, range.clone()).await;
                d.put_time += t;
                d.put_failures.append(&mut failed);
            }
        }
    }
    let per = GETS / BATCHES;
    for b in 0..BATCHES {
        let range = b * per..(b + 1) * per;
        for side in 0..2 {
            if (side + b) % 2 == 0 {
                let (t, mut r) = gets(actor, range.clone(), CONCURRENCY).await;
                a.get_time += t;
                a.results.append(&mut r);
            } else {
                let (t, mut r) = gets(direct, range.clone(), CONCURRENCY).await;
                d.get_time += t;
                d.results.append(&mut r);
            }
        }
    }
    let per = UNLOADED_GETS / BATCHES;
    for b in 0..BATCHES {
        let range = GETS + b * per..GETS + (b + 1) * per;
        for side in 0..2 {
            if (side + b) % 2 == 0 {
                a.unloaded
                    .append(&mut gets(actor, range.clone(), 1).await.1);
            } else {
                d.unloaded
                    .append(&mut gets(direct, range.clone(), 1).await.1);
            }
        }
    }
    Ok((a.side(), d.side()))
}

// ---- through the actor -----------------------------------------------------

struct ActorRing {
    nodes: Vec<(Running, Ref<dht::Node>)>,
}

impl ActorRing {
    async fn start(n: usize, port: u16, seed: u64) -> Result<Self, String> {
        let mut nodes = Vec::with_capacity(n);
        let first = format!(
            "/ip4/127.0.0.1/tcp/{port}/p2p/{}",
            dht::seeded_peer_id(seed)
        );
        for i in 0..n {
            let p = params(
                if i == 0 { port } else { 0 },
                seed + i as u64,
                (i > 0).then(|| first.clone()),
            );
            let text = format!(
                "[actors.dht]\nkind = \"dht.node\"\nparams = {}\n",
                toml_inline(&p)
            );
            let registry = rolecall::default_registry();
            let topology = super::load(&text, &registry)?;
            let running = Node::all(topology, registry)
                .with_seed(1)
                .start()
                .await
                .map_err(|e| e.to_string())?;
            let node = running
                .actor::<dht::Node>("dht")
                .map_err(|e| e.to_string())?;
            nodes.push((running, node));
        }
        Ok(ActorRing { nodes })
    }

    async fn stop(self) {
        for (running, _) in self.nodes {
            running.shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(5), running.wait()).await;
        }
    }
}

fn toml_inline(p: &Params) -> String {
    let boot = p
        .bootstrap
        .iter()
        .map(|b| format!("\"{b}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{{ listen = \"{}\", seed = {}, bootstrap = [{boot}], replication = {}, rebootstrap = \"{}\", query_timeout = \"{}\", idle_timeout = \"{}\" }}",
        p.listen,
        p.seed.unwrap_or(0),
        p.replication,
        p.rebootstrap,
        p.query_timeout,
        p.idle_timeout
    )
}

impl Ring for ActorRing {
    async fn put(&self, node: usize, key: String, value: Vec<u8>) -> Result<(), String> {
        let put = Put::new(&key, value);
        match self.nodes[node].1.send(put).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
    async fn get(&self, node: usize, key: String) -> bool {
        matches!(self.nodes[node].1.send(Get::new(&key)).await, Ok(Ok(_)))
    }
    async fn peers(&self, node: usize) -> usize {
        match self.nodes[node].1.send(GetInfo).await {
            Ok(Ok(info)) => info.routing_peers,
            _ => 0,
        }
    }
    fn len(&self) -> usize {
        self.nodes.len()
    }
}

// ---- the same swarms, driven directly --------------------------------------

enum Raw {
    Put(Record, oneshot::Sender<Result<(), String>>),
    Get(kad::RecordKey, oneshot::Sender<bool>),
    Peers(oneshot::Sender<usize>),
}

/// The plain loop around one swarm: commands in, query results out by id.
async fn drive(mut swarm: Swarm<Behaviour>, mut commands: mpsc::Receiver<Raw>) {
    let mut waiting: HashMap<QueryId, oneshot::Sender<bool>> = HashMap::new();
    let mut putting: HashMap<QueryId, oneshot::Sender<Result<(), String>>> = HashMap::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Raw::Put(record, tx)) => {
                    match swarm.behaviour_mut().kad.put_record(record, Quorum::One) {
                        Ok(id) => { putting.insert(id, tx); }
                        Err(e) => { let _ = tx.send(Err(format!("{e:?}"))); }
                    }
                }
                Some(Raw::Get(key, tx)) => {
                    let id = swarm.behaviour_mut().kad.get_record(key);
                    waiting.insert(id, tx);
                }
                Some(Raw::Peers(tx)) => {
                    let n = swarm.behaviour_mut().kad.kbuckets().map(|b| b.num_entries()).sum();
                    let _ = tx.send(n);
                }
                None => break,
            },
            event = swarm.select_next_some() => match event {
                SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }))
                    if info.protocols.iter().any(|p| p.as_ref() == dht::config::PROTOCOL) =>
                {
                    for addr in info.listen_addrs {
                        swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                    }
                }
                SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed { id, result, step, .. })) => {
                    match result {
                        QueryResult::GetRecord(Ok(GetRecordOk::FoundRecord(_))) => {
                            if let Some(tx) = waiting.remove(&id) {
                                if let Some(mut q) = swarm.behaviour_mut().kad.query_mut(&id) { q.finish(); }
                                let _ = tx.send(true);
                            }
                        }
                        QueryResult::GetRecord(_) if step.last => {
                            if let Some(tx) = waiting.remove(&id) { let _ = tx.send(false); }
                        }
                        QueryResult::GetRecord(Err(_)) => {
                            if let Some(tx) = waiting.remove(&id) { let _ = tx.send(false); }
                        }
                        QueryResult::PutRecord(r) => {
                            if let Some(tx) = putting.remove(&id) { let _ = tx.send(r.map(|_| ()).map_err(|e| format!("{e:?}"))); }
                        }
                        _ => {}
                    }
                }
                _ => {}
            },
        }
    }
}

struct DirectRing {
    nodes: Vec<(mpsc::Sender<Raw>, tokio::task::JoinHandle<()>)>,
}

impl DirectRing {
    async fn start(n: usize, port: u16, seed: u64) -> Result<Self, String> {
        let first = format!(
            "/ip4/127.0.0.1/tcp/{port}/p2p/{}",
            dht::seeded_peer_id(seed)
        );
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let p = params(
                if i == 0 { port } else { 0 },
                seed + i as u64,
                (i > 0).then(|| first.clone()),
            );
            let config = p.validate().map_err(|e| e.to_string())?;
            let keypair = config.identity().keypair().map_err(|e| e.to_string())?;
            let mut swarm = dht::swarm::build(keypair, &config).map_err(|e| e.to_string())?;
            if i > 0 {
                // As the actor does at start: dial the bootstrap peer, then bootstrap.
                let peer = &config.bootstrap()[0];
                swarm.dial(peer.full()).map_err(|e| e.to_string())?;
                let _ = swarm.behaviour_mut().kad.bootstrap();
            }
            let (tx, rx) = mpsc::channel(1024);
            let task = actix::spawn(drive(swarm, rx));
            nodes.push((tx, task));
        }
        Ok(DirectRing { nodes })
    }

    async fn ask<T>(&self, node: usize, make: impl FnOnce(oneshot::Sender<T>) -> Raw) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.nodes[node].0.send(make(tx)).await.ok()?;
        rx.await.ok()
    }

    fn stop(self) {
        for (_, task) in self.nodes {
            task.abort();
        }
    }
}

impl Ring for DirectRing {
    async fn put(&self, node: usize, key: String, value: Vec<u8>) -> Result<(), String> {
        let record = Record::new(key.into_bytes(), value);
        self.ask(node, |tx| Raw::Put(record, tx))
            .await
            .unwrap_or_else(|| Err("the swarm's task is gone".into()))
    }
    async fn get(&self, node: usize, key: String) -> bool {
        let key = kad::RecordKey::new(&key);
        self.ask(node, |tx| Raw::Get(key, tx))
            .await
            .unwrap_or(false)
    }
    async fn peers(&self, node: usize) -> usize {
        self.ask(node, Raw::Peers).await.unwrap_or(0)
    }
    fn len(&self) -> usize {
        self.nodes.len()
    }
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

/// Runs the suite.
pub(super) fn run() -> Result<Report, String> {
    let sizes = sizes()?;
    let system = actix::System::new();
    system.block_on(async move {
        let mut rings = Vec::new();
        for (round, &n) in sizes.iter().enumerate() {
            let seed = 10_000 + 1_000 * round as u64;
            let actor_ring = ActorRing::start(n, BASE_PORT, seed).await?;
            let direct_ring = DirectRing::start(n, BASE_PORT + 1, seed).await?;
            let result = compare(&actor_ring, &direct_ring).await;
            actor_ring.stop().await;
            direct_ring.stop();
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
