//! `rolecall bench actor`: typed local messages per second through runtime-wired
//! actors vs bare actix actors doing the same work, plus the Topic codec
//! against the raw flatbuffers crate.
//!
//! Both sides run the same producer logic (bursts of 256 messages, then a
//! self-notification) and the same consumer work (a running sum), on one
//! arbiter. Bare actix sends with `do_send` into an unbounded mailbox; rolecall
//! sends through an `Output` into a bounded wire (capacity 1024, block policy)
//! drained by the consumer's inlet. Runs alternate and the median is reported.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};

use rolecall_runtime::wire::Output;
use rolecall_runtime::Registry;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::{load, median, run_loaded};

const BURST: u64 = 256;
const ROUNDS: usize = 7;

/// The message both sides send.
#[derive(Debug, Clone, Copy, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub(super) struct Num(pub u64);

/// The JSON report.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    suite: &'static str,
    /// rolecall msgs/s ÷ bare actix msgs/s (median of rounds).
    ratio: f64,
    messages: u64,
    rolecall_msgs_per_s: f64,
    actix_msgs_per_s: f64,
    codec: super::codec::TopicBench,
    codec_encode_ratio: f64,
    codec_decode_ratio: f64,
}

// ---- bare actix ----------------------------------------------------------

struct BareConsumer {
    sum: u64,
    seen: u64,
    total: u64,
    done: Option<oneshot::Sender<u64>>,
}

impl Actor for BareConsumer {
    type Context = Context<Self>;
}

impl Handler<Num> for BareConsumer {
    type Result = ();
    fn handle(&mut self, n: Num, _: &mut Context<Self>) {
        self.sum = self.sum.wrapping_add(n.0);
        self.seen += 1;
        if self.seen == self.total {
            if let Some(tx) = self.done.take() {
                let _ = tx.send(self.sum);
            }
        }
    }
}

struct BareProducer {
    to: Addr<BareConsumer>,
    next: u64,
    total: u64,
}

#[derive(Message)]
#[rtype(result = "()")]
struct Burst;

impl Actor for BareProducer {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.notify(Burst);
    }
}

impl Handler<Burst> for BareProducer {
    type Result = ();
    fn handle(&mut self, _: Burst, ctx: &mut Context<Self>) {
        let end = (self.next + BURST).min(self.total);
        while self.next < end {
            self.to.do_send(Num(self.next));
            self.next += 1;
        }
        if self.next < self.total {
            ctx.notify(Burst);
        }
    }
}

async fn bare(total: u64) -> f64 {
    let (tx, rx) = oneshot::channel();
    let start = Instant::now();
    let consumer = BareConsumer {
        sum: 0,
        seen: 0,
        total,
        done: Some(tx),
    }
    .start();
    let _producer = BareProducer {
        to: consumer,
        next: 0,
        total,
    }
    .start();
    let _ = rx.await;
    total as f64 / start.elapsed().as_secs_f64()
}

// ---- rolecall ------------------------------------------------------------

/// Bench producer role.
pub(super) struct Producer {
    out: Output<Num>,
    next: u64,
    total: u64,
}

/// Bench producer parameters.
#[derive(Debug, Deserialize)]
pub(super) struct ProducerParams {
    total: u64,
}

impl Actor for Producer {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.notify(Burst);
    }
}

impl Handler<Burst> for Producer {
    type Result = ();
    fn handle(&mut self, _: Burst, ctx: &mut Context<Self>) {
        let end = (self.next + BURST).min(self.total);
        while self.next < end {
            self.out.send(Num(self.next), ctx);
            self.next += 1;
            if ctx.waiting() {
                break;
            }
        }
        if self.next < self.total {
            ctx.notify(Burst);
        } else {
            ctx.stop();
        }
    }
}

impl Role for Producer {
    type Params = ProducerParams;
    fn ports(ports: &mut Ports<Self>) {
        ports.output::<Num>("out");
    }
    fn build(p: &ProducerParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Producer {
            out: io.output("out")?,
            next: 0,
            total: p.total,
        })
    }
}

/// Messages the last rolecall consumer handled (checked after each run).
static HANDLED: AtomicU64 = AtomicU64::new(0);

/// Bench consumer role.
pub(super) struct Consumer {
    sum: u64,
    seen: u64,
}

impl Actor for Consumer {
    type Context = Context<Self>;
}

impl Handler<Num> for Consumer {
    type Result = ();
    fn handle(&mut self, n: Num, _: &mut Context<Self>) {
        self.sum = self.sum.wrapping_add(n.0);
        self.seen += 1;
    }
}

impl Role for Consumer {
    type Params = toml::Table;
    fn ports(ports: &mut Ports<Self>) {
        ports.input::<Num>("in");
    }
    fn build(_: &toml::Table, _: &mut Io) -> Result<Self, CreateError> {
        Ok(Consumer { sum: 0, seen: 0 })
    }
    fn end_of_input(&mut self, ctx: &mut Context<Self>) {
        std::hint::black_box(self.sum);
        HANDLED.store(self.seen, Ordering::SeqCst);
        ctx.stop();
    }
}

async fn wired(total: u64) -> Result<f64, String> {
    let mut registry = Registry::new();
    registry
        .register::<Producer>("bench.producer")
        .and_then(|r| r.register::<Consumer>("bench.consumer"))
        .map_err(|e| e.to_string())?;
    let text = format!(
        r#"
        [topology]
        name = "bench-actor"
        [actors.producer]
        kind = "bench.producer"
        params = {{ total = {total} }}
        [actors.consumer]
        kind = "bench.consumer"
        [[wires]]
        from = "producer.out"
        to = "consumer.in"
        capacity = 1024
        policy = "block"
        "#
    );
    // Loading is not part of the measured work (the bare side has none).
    let topology = load(&text, &registry)?;
    HANDLED.store(0, Ordering::SeqCst);
    let start = Instant::now();
    run_loaded(topology, registry).await?;
    let rate = total as f64 / start.elapsed().as_secs_f64();
    match HANDLED.load(Ordering::SeqCst) {
        n if n == total => Ok(rate),
        n => Err(format!("the consumer handled {n} of {total} messages")),
    }
}

/// Runs the suite with `total` messages per round.
pub(super) fn run(total: u64) -> Result<Report, String> {
    let system = System::new();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    system.block_on(async {
        // Warm-up, not measured.
        bare(total / 10).await;
        wired(total / 10).await?;
        for _ in 0..ROUNDS {
            theirs.push(bare(total).await);
            ours.push(wired(total).await?);
        }
        Ok::<(), String>(())
    })?;
    let rolecall = median(&mut ours);
    let actix = median(&mut theirs);
    // 200,000 Topics per codec path at the default 10 M messages; a short
    // run (`--messages`) times fewer (a debug build takes ~7 µs a Topic on
    // each of the seven paths).
    let codec = super::codec::topic_codec((total / 50).clamp(2_000, 200_000));
    Ok(Report {
        suite: "actor",
        ratio: rolecall / actix,
        messages: total,
        rolecall_msgs_per_s: rolecall,
        actix_msgs_per_s: actix,
        codec_encode_ratio: codec.encode_ratio,
        codec_decode_ratio: codec.decode_ratio,
        codec,
    })
}
