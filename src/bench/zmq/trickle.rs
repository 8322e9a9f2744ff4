//! A trickle through `rolecall bench zmq`: one 64 B message every
//! [`INTERVAL`], as the course's latency experiments publish (a publisher
//! stamps each message, the subscriber logs how long it took), so every
//! message finds every thread asleep. Each message carries the time it was
//! sent; the receiving end records how long it took. Raw PUB→SUB (a context
//! and a thread per end) against producer actor → `zmq.pub` → `zmq.sub` →
//! consumer actor on two nodes, and raw PUSH→PULL against the cross-node
//! hop with its delivery contract, as the throughput rounds pair them.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix::prelude::*;
use rolecall_actors::zmq::Frames;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::{Deserialize, Serialize};

use super::latency::Latencies;
use super::raw::{self, WARM_UP, WARM_UP_FOR};
use super::{hop_topology, pubsub_topology, run_two_nodes};

/// Time between two messages of a trickle.
pub(super) const INTERVAL: Duration = Duration::from_millis(1);
/// Raw and rolecall rounds of each trickle (alternating).
const ROUNDS: usize = 3;
/// Size of every trickle message.
const SIZE: usize = 64;
/// First byte of a stamped message; 8 bytes of send time follow.
const STAMPED: u8 = b't';

/// Both trickles' figures.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Trickle {
    interval_us: u128,
    /// Messages per round.
    messages: usize,
    /// Raw PUB→SUB vs `zmq.pub` → `zmq.sub` between actors.
    pub(super) pubsub: Latencies,
    /// Raw PUSH→PULL vs the cross-node hop.
    pub(super) hop: Latencies,
}

/// Measures both trickles, `messages` per round, on ports above `port`.
pub(super) fn run(system: &SystemRunner, port: u16, messages: usize) -> Result<Trickle, String> {
    let mut port = port;
    let pubsub = alternate(
        &mut port,
        |port| raw_pubsub(port, messages),
        |port| system.block_on(rolecall_pubsub(port, messages)),
    )?;
    let hop = alternate(
        &mut port,
        |port| raw_push_pull(port, messages),
        |port| system.block_on(rolecall_hop(port, messages)),
    )?;
    Ok(Trickle {
        interval_us: INTERVAL.as_micros(),
        messages,
        pubsub,
        hop,
    })
}

/// [`ROUNDS`] rounds of `raw` and `rolecall` (each given a fresh port), the
/// raw side first in even rounds and second in odd ones.
fn alternate(
    port: &mut u16,
    mut raw: impl FnMut(u16) -> Result<Vec<f64>, String>,
    mut rolecall: impl FnMut(u16) -> Result<(), String>,
) -> Result<Latencies, String> {
    let mut rounds = Vec::new();
    for round in 0..ROUNDS {
        *port += 2;
        let mut ours = |port: u16| {
            take_samples();
            rolecall(port)?;
            Ok::<_, String>(take_samples())
        };
        rounds.push(if round % 2 == 0 {
            let r = raw(*port)?;
            (r, ours(*port + 1)?)
        } else {
            let o = ours(*port + 1)?;
            (raw(*port)?, o)
        });
    }
    Ok(Latencies::of(rounds))
}

// ---- stamps -----------------------------------------------------------------

/// The process's clock origin for stamps (both ends are in this process).
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// A message of [`SIZE`] bytes stamped with the time now.
fn stamped() -> Vec<u8> {
    let mut body = vec![b'm'; SIZE];
    body[0] = STAMPED;
    let nanos = epoch().elapsed().as_nanos() as u64;
    body[1..9].copy_from_slice(&nanos.to_le_bytes());
    body
}

/// How long ago, in µs, `body` was stamped; `None` for anything else.
fn age_us(body: &[u8]) -> Option<f64> {
    let stamp: [u8; 8] = body.get(1..9)?.try_into().ok()?;
    if body.first() != Some(&STAMPED) {
        return None;
    }
    let sent = Duration::from_nanos(u64::from_le_bytes(stamp));
    Some(epoch().elapsed().saturating_sub(sent).as_secs_f64() * 1e6)
}

/// Sends `messages` stamped messages one [`INTERVAL`] apart, on a
/// schedule (a late one does not shift the ones after it).
fn trickle(
    messages: usize,
    mut send: impl FnMut(Vec<u8>) -> Result<(), String>,
) -> Result<(), String> {
    let start = Instant::now();
    for i in 0..messages {
        let at = start + INTERVAL * i as u32;
        if let Some(wait) = at.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        send(stamped())?;
    }
    Ok(())
}

/// Receives until `messages` stamped messages came or none for 500 ms;
/// returns their ages.
fn ages(messages: usize, socket: &zmq::Socket) -> Vec<f64> {
    let mut ages = Vec::with_capacity(messages);
    while ages.len() < messages {
        match socket.recv_bytes(0) {
            Ok(body) => ages.extend(age_us(&body)),
            Err(_) => break,
        }
    }
    ages
}

// ---- raw ----------------------------------------------------------------

fn raw_pubsub(port: u16, messages: usize) -> Result<Vec<f64>, String> {
    raw::pubsub(
        port,
        SIZE,
        |publisher| {
            trickle(messages, |body| {
                publisher.send(body, 0).map_err(|e| e.to_string())
            })
        },
        move |sub| ages(messages, sub),
    )
}

fn raw_push_pull(port: u16, messages: usize) -> Result<Vec<f64>, String> {
    raw::push_pull(
        port,
        |push| {
            // The connection made before the trickle, as the hop's is.
            std::thread::sleep(WARM_UP_FOR);
            trickle(messages, |body| {
                push.send(body, 0).map_err(|e| e.to_string())
            })
        },
        move |pull| ages(messages, pull),
    )
}

// ---- rolecall -------------------------------------------------------------

/// Ages (µs) the stamp reader recorded since the last take.
static SAMPLES: Mutex<Vec<f64>> = Mutex::new(Vec::new());

fn take_samples() -> Vec<f64> {
    SAMPLES
        .lock()
        .map(|mut s| std::mem::take(&mut *s))
        .unwrap_or_default()
}

/// Sends warm-up messages for [`WARM_UP_FOR`], then `count` stamped ones
/// one [`INTERVAL`] apart, then stops.
struct StampSender {
    out: Output<Frames>,
    count: usize,
    sent: usize,
}

#[derive(Deserialize)]
struct StampSenderParams {
    count: usize,
}

impl Actor for StampSender {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        let warm = Frames::one(vec![WARM_UP; SIZE]);
        let warming = ctx.run_interval(Duration::from_millis(5), move |act, ctx| {
            act.out.send(warm.clone(), ctx);
        });
        ctx.run_later(WARM_UP_FOR, move |_, ctx| {
            ctx.cancel_future(warming);
            ctx.run_interval(INTERVAL, |act, ctx| {
                if act.sent >= act.count {
                    ctx.stop();
                    return;
                }
                act.out.send(Frames::one(stamped()), ctx);
                act.sent += 1;
            });
        });
    }
}

impl Role for StampSender {
    type Params = StampSenderParams;
    fn ports(p: &mut Ports<Self>) {
        p.output::<Frames>("out");
    }
    fn build(p: &StampSenderParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(StampSender {
            out: io.output("out")?,
            count: p.count,
            sent: 0,
        })
    }
}

/// Records the age of every stamped message; stops after `count` (unless
/// `until_end`: then at the end of its input) or when none came for 500 ms.
struct StampReader {
    count: usize,
    until_end: bool,
    read: usize,
    last: Option<Instant>,
}

#[derive(Deserialize)]
struct StampReaderParams {
    count: usize,
    #[serde(default)]
    until_end: bool,
}

impl Actor for StampReader {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(Duration::from_millis(100), |act, ctx| {
            if act
                .last
                .is_some_and(|l| l.elapsed() > Duration::from_millis(500))
            {
                ctx.stop();
            }
        });
    }
}

impl Handler<Frames> for StampReader {
    type Result = ();
    fn handle(&mut self, f: Frames, ctx: &mut Context<Self>) {
        let Some(age) = age_us(f.body()) else {
            return;
        };
        if let Ok(mut samples) = SAMPLES.lock() {
            samples.push(age);
        }
        self.last = Some(Instant::now());
        self.read += 1;
        if self.read == self.count && !self.until_end {
            ctx.stop();
        }
    }
}

impl Role for StampReader {
    type Params = StampReaderParams;
    fn ports(p: &mut Ports<Self>) {
        p.input::<Frames>("in");
    }
    fn build(p: &StampReaderParams, _: &mut Io) -> Result<Self, CreateError> {
        Ok(StampReader {
            count: p.count,
            until_end: p.until_end,
            read: 0,
            last: None,
        })
    }
}

/// Registers the trickle's two roles.
pub(super) fn register(
    r: &mut rolecall_runtime::Registry,
) -> Result<&mut rolecall_runtime::Registry, String> {
    r.register::<StampSender>("bench.stamp_sender")
        .and_then(|r| r.register::<StampReader>("bench.stamp_reader"))
        .map_err(|e| e.to_string())
}

/// `bench.stamp_sender` → `zmq.pub` on one node, `zmq.sub` →
/// `bench.stamp_reader` on another, as the throughput round has them.
async fn rolecall_pubsub(port: u16, messages: usize) -> Result<(), String> {
    let text = pubsub_topology(
        port,
        ("bench.stamp_sender", &format!("count = {messages}")),
        ("bench.stamp_reader", &format!("count = {messages}")),
    );
    run_two_nodes(&text, ("publisher", "subscriber")).await
}

/// `bench.stamp_sender` on one node, `bench.stamp_reader` on another: the
/// wire between them a cross-node hop, as the throughput round has it.
async fn rolecall_hop(port: u16, messages: usize) -> Result<(), String> {
    let text = hop_topology(
        port,
        ("bench.stamp_sender", &format!("count = {messages}")),
        (
            "bench.stamp_reader",
            &format!("count = {messages}, until_end = true"),
        ),
    );
    run_two_nodes(&text, ("a", "b")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_as_its_age_and_nothing_else_does() {
        let body = stamped();
        assert_eq!(body.len(), SIZE);
        std::thread::sleep(Duration::from_millis(2));
        let age = age_us(&body).expect("a stamped message");
        assert!((2_000.0..10_000_000.0).contains(&age), "{age}");
        assert_eq!(age_us(&[WARM_UP; SIZE]), None);
        assert_eq!(age_us(&body[..5]), None);
    }
}
