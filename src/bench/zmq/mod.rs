//! `rolecall bench zmq`: ZeroMQ endpoint actors against raw libzmq sockets, in
//! one process and one run.
//!
//! (a) PUB→SUB over tcp loopback, 64 B and 1 KiB messages: raw (a thread and,
//! since 2026-12-07, a ZeroMQ context per socket, as two programs have) vs the rolecall path (producer actor → `zmq.pub` endpoint →
//! `zmq.sub` endpoint → consumer actor; since 2026-12-06 the publishing and
//! the subscribing actors are two nodes, each on a thread of its own, as
//! two processes would run them). Both sides use the same high-water
//! marks (none: nothing is dropped); the rate is messages received per second
//! between the first and the last, and the received counts are reported. (b) REQ/REP round trips: raw vs
//! `text.requester`-style actor → `zmq.req` ↔ `zmq.rep` → responder actor,
//! p50/p99. (c) A cross-node wire (two nodes in one process, producer actor
//! → hop over tcp with the `binary` codec → consumer actor) vs raw PUSH→PULL
//! (a context per socket likewise), 64 B. The producing actor sends one
//! static payload over and over, as the raw side sends one slice. Peak resident memory of each rolecall run is reported too.
//! (d) A trickle (`trickle`): one stamped 64 B message a millisecond
//! through (a)'s PUB→SUB and (c)'s hop against their raw baselines, p50/p99
//! of how long each message took.
//!
//! Each throughput comparison, (a) and (c), runs [`PAIRS`] pairs of rounds:
//! in a pair the raw side goes first once and second once; a pair's ratio is
//! the geometric mean of its two rounds' rolecall ÷ raw ratios (the order's
//! effect cancels) and the reported ratio is the median over the pairs. One
//! round moves 1,000,000 messages by default (`--messages`): a round runs on
//! fresh nodes, whose first 100,000 messages at 64 B take ~15 ms longer
//! than the raw side's (new threads, their allocator arenas and queues
//! growing), and a round of 200,000 (the default until 2026-12-07, ~80 ms)
//! measured mostly that start rather than the rate that follows it
//! (docs/performance.md, "2026-12-07"); 1 KiB rounds move a quarter as
//! many.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix::prelude::*;
use rolecall_actors::zmq::{io::context, Frame, Frames};

mod latency;
mod paired;
mod raw;
mod reqrep;
mod trickle;

use super::load;
use latency::Latencies;
use paired::{paired, Paired};
use reqrep::{raw_reqrep, rolecall_reqrep};
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::{Deserialize, Serialize};

/// Messages per throughput round, unless `--messages` says otherwise.
pub(super) const MESSAGES: u64 = 1_000_000;
/// High-water mark of every socket on both sides: 0 (none), so that neither
/// side drops and both deliver every message (memory is bounded by their count).
const HWM: i32 = 0;
/// Round trips per latency run.
const ROUND_TRIPS: usize = 3_000;
/// Rounds of `ROUND_TRIPS` trips for the REQ/REP figure (its median).
const ROUND_TRIP_ROUNDS: usize = 5;
/// Pairs of rounds per throughput comparison (one of each order).
const PAIRS: usize = 3;

#[derive(Debug, Clone, Serialize)]
pub(super) struct Throughput {
    size: usize,
    /// Messages per round.
    messages: u64,
    #[serde(flatten)]
    paired: Paired,
}

/// The cross-node hop (`rolecall_*` fields) vs raw PUSH→PULL (`raw_*`).
#[derive(Debug, Clone, Serialize)]
pub(super) struct Hop {
    size: usize,
    #[serde(flatten)]
    paired: Paired,
}

#[derive(Debug, Serialize)]
pub(super) struct Report {
    suite: &'static str,
    /// rolecall / raw 64 B PUB→SUB throughput.
    ratio: f64,
    throughput_64b_ratio: f64,
    throughput_1k_ratio: f64,
    /// rolecall / raw REQ/REP round-trip p50 (lower is better; target ≤ 1.2).
    round_trip_p50_ratio: f64,
    /// Cross-node wire / raw PUSH→PULL 64 B throughput.
    cross_node_64b_ratio: f64,
    /// rolecall / raw p50 latency of a 64 B PUB→SUB trickle (lower is better).
    trickle_pubsub_p50_ratio: f64,
    /// Cross-node hop / raw PUSH→PULL p50 latency of a 64 B trickle.
    trickle_hop_p50_ratio: f64,
    throughput: Vec<Throughput>,
    /// REQ/REP round trips: rounds of `ROUND_TRIPS`, raw then rolecall.
    round_trip: Latencies,
    cross_node: Hop,
    trickle: trickle::Trickle,
    libzmq: String,
}

// ---- raw ----------------------------------------------------------------

fn raw_pubsub(port: u16, size: usize, messages: u64) -> Result<(f64, u64), String> {
    // Sent as a slice: one copy into libzmq's message, the cheapest way the
    // crate offers (a `&Vec` is cloned, then handed to libzmq to free).
    let body = vec![b'm'; size];
    raw::pubsub(
        port,
        size,
        |publisher| {
            (0..messages).try_for_each(|_| {
                publisher
                    .send(body.as_slice(), 0)
                    .map_err(|e| e.to_string())
            })
        },
        move |sub| raw::rate(messages, sub),
    )
}

fn raw_push_pull(port: u16, size: usize, messages: u64) -> Result<(f64, u64), String> {
    // As a slice, as above.
    let body = vec![b'm'; size];
    raw::push_pull(
        port,
        |push| {
            (0..messages).try_for_each(|_| push.send(body.as_slice(), 0).map_err(|e| e.to_string()))
        },
        move |pull| raw::rate(messages, pull),
    )
}

/// Emits `count` messages of `size` bytes after a warm-up phase.
struct Blaster {
    out: Output<Frames>,
    size: usize,
    count: u64,
    sent: u64,
}

#[derive(Deserialize)]
struct BlasterParams {
    size: usize,
    count: u64,
}

#[derive(Message)]
#[rtype(result = "()")]
struct Go;

impl Actor for Blaster {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        // Warm-up messages (ignored by the counter) every 5 ms throughout, so
        // that the subscription is in place before the measured burst.
        let warm = Frames::one(vec![b'w'; self.size]);
        ctx.run_interval(Duration::from_millis(5), move |act, ctx| {
            act.out.send(warm.clone(), ctx);
        });
        ctx.run_later(Duration::from_millis(250), |_, ctx| ctx.notify(Go));
    }
}

impl Handler<Go> for Blaster {
    type Result = ();
    fn handle(&mut self, _: Go, ctx: &mut Context<Self>) {
        let body = match BODY.get(..self.size) {
            // The same bytes every time, as raw's one slice: cloning a
            // static frame touches no reference count, where a shared
            // buffer's count is raised here and dropped by the socket's
            // thread for every message (a cache line between the cores).
            Some(bytes) => Frames::one(Frame::from_static(bytes)),
            None => Frames::one(vec![b'm'; self.size]),
        };
        for _ in 0..256 {
            if self.sent >= self.count {
                ctx.stop();
                return;
            }
            self.out.send(body.clone(), ctx);
            self.sent += 1;
            if ctx.waiting() {
                break;
            }
        }
        ctx.notify(Go);
    }
}

impl Role for Blaster {
    type Params = BlasterParams;
    fn ports(p: &mut Ports<Self>) {
        p.output::<Frames>("out");
    }
    fn build(p: &BlasterParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Blaster {
            out: io.output("out")?,
            size: p.size,
            count: p.count,
            sent: 0,
        })
    }
}

/// The measured messages' payload (the largest size measured).
static BODY: [u8; 1024] = [b'm'; 1024];

static RECEIVED: AtomicU64 = AtomicU64::new(0);
static SPAN: Mutex<Option<(Instant, Instant)>> = Mutex::new(None);

/// Counts measured messages; stops after `count` (or, with `until_end`,
/// records then and stops at the end of its input), or when idle for 500 ms.
struct Counter {
    count: u64,
    until_end: bool,
    n: u64,
    first: Option<Instant>,
    last: Instant,
}

#[derive(Deserialize)]
struct CounterParams {
    count: u64,
    #[serde(default)]
    until_end: bool,
}

impl Counter {
    fn record(&self) {
        RECEIVED.store(self.n, Ordering::SeqCst);
        if let Ok(mut s) = SPAN.lock() {
            *s = self.first.map(|f| (f, self.last));
        }
    }

    fn finish(&mut self, ctx: &mut Context<Self>) {
        self.record();
        ctx.stop();
    }
}

impl Actor for Counter {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(Duration::from_millis(100), |act, ctx| {
            if act.first.is_some() && act.last.elapsed() > Duration::from_millis(500) {
                act.finish(ctx);
            }
        });
    }
}

impl Handler<Frames> for Counter {
    type Result = ();
    fn handle(&mut self, f: Frames, ctx: &mut Context<Self>) {
        if f.body().first() == Some(&b'w') {
            return;
        }
        self.first.get_or_insert_with(Instant::now);
        self.last = Instant::now();
        self.n += 1;
        if self.n == self.count {
            if self.until_end {
                // A cross-node wire: END follows and is acknowledged.
                self.record();
            } else {
                self.finish(ctx);
            }
        }
    }
}

impl Role for Counter {
    type Params = CounterParams;
    fn ports(p: &mut Ports<Self>) {
        p.input::<Frames>("in");
    }
    fn build(p: &CounterParams, _: &mut Io) -> Result<Self, CreateError> {
        Ok(Counter {
            count: p.count,
            until_end: p.until_end,
            n: 0,
            first: None,
            last: Instant::now(),
        })
    }
}

/// What the counter recorded: messages per second between its first and its
/// last message, and how many it counted.
fn counted() -> Result<(f64, u64), String> {
    let n = RECEIVED.load(Ordering::SeqCst);
    let span = SPAN.lock().map_err(|_| "poisoned")?.take();
    let secs = span
        .map(|(a, b)| b.duration_since(a).as_secs_f64())
        .unwrap_or(0.0);
    Ok((if secs > 0.0 { n as f64 / secs } else { 0.0 }, n))
}

fn registry() -> Result<rolecall_runtime::Registry, String> {
    let mut r = rolecall::default_registry();
    r.register::<Blaster>("bench.blaster")
        .and_then(|r| r.register::<Counter>("bench.counter"))
        .map_err(|e| e.to_string())?;
    trickle::register(&mut r)?;
    Ok(r)
}

/// The publisher's node (producer actor and `zmq.pub`) and the subscriber's
/// node (`zmq.sub` and consumer actor) of one topology, each on a thread
/// and actix system of its own as two processes would run them (raw has a
/// thread per socket too), joined by ZeroMQ alone: no wire crosses nodes.
async fn rolecall_pubsub(port: u16, size: usize, messages: u64) -> Result<(f64, u64), String> {
    RECEIVED.store(0, Ordering::SeqCst);
    let text = pubsub_topology(
        port,
        (
            "bench.blaster",
            &format!("size = {size}, count = {messages}"),
        ),
        ("bench.counter", &format!("count = {messages}")),
    );
    run_two_nodes(&text, ("publisher", "subscriber")).await?;
    counted()
}

/// A benchmark topology's producing or consuming actor: its kind and its
/// params (the inside of a TOML inline table).
type End<'a> = (&'a str, &'a str);

/// `producer` → `zmq.pub` on node `publisher`, `zmq.sub` → `consumer` on
/// node `subscriber`, over tcp on `port`, no high-water marks; it finishes
/// when both actors have.
fn pubsub_topology(port: u16, (producer, p_params): End, (consumer, c_params): End) -> String {
    format!(
        r#"
        [topology]
        finish_when = ["producer", "consumer"]
        drain_timeout = "1s"
        [nodes.publisher]
        address = "127.0.0.1"
        [nodes.subscriber]
        address = "127.0.0.1"
        [actors.producer]
        kind = "{producer}"
        node = "publisher"
        params = {{ {p_params} }}
        [actors.pub]
        kind = "zmq.pub"
        node = "publisher"
        params = {{ bind = ["tcp://127.0.0.1:{port}"], sndhwm = {HWM} }}
        [actors.sub]
        kind = "zmq.sub"
        node = "subscriber"
        params = {{ connect = ["tcp://127.0.0.1:{port}"], rcvhwm = {HWM}, subscribe = [""] }}
        [actors.consumer]
        kind = "{consumer}"
        node = "subscriber"
        params = {{ {c_params} }}
        [[wires]]
        from = "producer.out"
        to = "pub.in"
        [[wires]]
        from = "sub.out"
        to = "consumer.in"
        "#
    )
}

/// `producer` on node `a`, `consumer` on node `b` (receiving on `port`):
/// the wire between them a cross-node hop with the `binary` codec. The
/// producing node waits up to 30 s for its end of stream to be acknowledged.
fn hop_topology(port: u16, (producer, p_params): End, (consumer, c_params): End) -> String {
    format!(
        r#"
        [topology]
        drain_timeout = "30s"
        [nodes.a]
        address = "127.0.0.1"
        [nodes.b]
        address = "127.0.0.1"
        base_port = {port}
        [actors.producer]
        kind = "{producer}"
        node = "a"
        params = {{ {p_params} }}
        [actors.consumer]
        kind = "{consumer}"
        node = "b"
        params = {{ {c_params} }}
        [[wires]]
        from = "producer.out"
        to = "consumer.in"
        codec = "binary"
        "#
    )
}

/// Runs the nodes `producer_node` and `consumer_node` of `text` until both
/// end. The consumer's node runs on a thread and actix system of its own,
/// as another process would run it (one thread for both nodes would measure
/// the two nodes' actors sharing a thread, which no deployment does). It
/// starts first: the producer's drain then never waits for a consumer that
/// is still starting.
async fn run_two_nodes(
    text: &str,
    (producer_node, consumer_node): (&str, &str),
) -> Result<(), String> {
    fn start(text: &str, node: &str) -> Result<rolecall_runtime::Node, String> {
        let registry = registry()?;
        let topology = load(text, &registry)?;
        rolecall_runtime::Node::new(topology, registry, node).map_err(|e| e.to_string())
    }
    let consumer_text = text.to_owned();
    let consumer_node = consumer_node.to_owned();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let consumer = std::thread::Builder::new()
        .name("bench-consumer-node".into())
        .spawn(move || {
            System::new().block_on(async move {
                let running = start(&consumer_text, &consumer_node)?
                    .start()
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = started_tx.send(());
                Ok::<_, String>(running.wait().await)
            })
        })
        .map_err(|e| e.to_string())?;
    if started_rx.await.is_err() {
        // The consumer failed to start: its thread says why.
        return match consumer.join() {
            Ok(Err(e)) => Err(e),
            _ => Err("the consumer node did not start".to_owned()),
        };
    }
    let producer = start(text, producer_node)?
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let a = producer.wait().await;
    let b = consumer
        .join()
        .map_err(|_| "the consumer node's thread panicked".to_owned())??;
    for exit in [a, b] {
        if let rolecall_runtime::NodeExit::Failed(reason) = exit {
            return Err(reason);
        }
    }
    Ok(())
}

/// Producer and consumer on two nodes of one topology, hosted here as
/// separate `Node`s on separate threads, so the wire between them is a
/// cross-node hop over tcp.
/// The producing node waits up to 30 s for the end of stream to be
/// acknowledged (a heavily loaded machine can take seconds; the rate is
/// measured by the consumer, so the wait costs nothing when all is well).
async fn rolecall_hop(port: u16, size: usize, messages: u64) -> Result<(f64, u64), String> {
    RECEIVED.store(0, Ordering::SeqCst);
    let text = hop_topology(
        port,
        (
            "bench.blaster",
            &format!("size = {size}, count = {messages}"),
        ),
        (
            "bench.counter",
            &format!("count = {messages}, until_end = true"),
        ),
    );
    run_two_nodes(&text, ("a", "b")).await?;
    counted()
}

/// Runs the suite.
pub(super) fn run(messages: u64) -> Result<Report, String> {
    let _ = context();
    let system = System::new();
    let mut throughput = Vec::new();
    let mut port = 16140;
    for size in [64usize, 1024] {
        // Without high-water marks a round's queues may hold most of its
        // messages: 1 KiB rounds carry a quarter as many (peak 300–400 MiB).
        let messages = if size > 64 {
            (messages / 4).max(1)
        } else {
            messages
        };
        let paired = paired(
            &mut port,
            |port| raw_pubsub(port, size, messages),
            |port| system.block_on(rolecall_pubsub(port, size, messages)),
        )?;
        throughput.push(Throughput {
            size,
            messages,
            paired,
        });
    }
    // Several rounds, raw and rolecall alternating, so that one noisy
    // stretch of the machine does not decide the figure.
    let mut rounds = Vec::new();
    for round in 0..ROUND_TRIP_ROUNDS as u16 {
        let raw = raw_reqrep(16120 + 2 * round)?;
        rounds.push((raw, system.block_on(rolecall_reqrep(16121 + 2 * round))?));
    }
    let round_trip = Latencies::of(rounds);
    let cross_node = Hop {
        size: 64,
        paired: paired(
            &mut port,
            |port| raw_push_pull(port, 64, messages),
            |port| system.block_on(rolecall_hop(port, 64, messages)),
        )?,
    };
    // A trickle's messages per round: a thousandth of a throughput round's
    // (1,000 by default, a second a round), at least 50.
    let trickle = trickle::run(&system, 16200, (messages / 1000).clamp(50, 1000) as usize)?;
    let (a, b, c) = zmq::version();
    Ok(Report {
        suite: "zmq",
        ratio: throughput[0].paired.ratio,
        throughput_64b_ratio: throughput[0].paired.ratio,
        throughput_1k_ratio: throughput[1].paired.ratio,
        round_trip_p50_ratio: round_trip.p50_ratio,
        cross_node_64b_ratio: cross_node.paired.ratio,
        trickle_pubsub_p50_ratio: trickle.pubsub.p50_ratio,
        trickle_hop_p50_ratio: trickle.hop.p50_ratio,
        throughput,
        round_trip,
        cross_node,
        trickle,
        libzmq: format!("{a}.{b}.{c}"),
    })
}
