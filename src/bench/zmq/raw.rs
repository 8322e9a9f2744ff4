//! The raw baselines' socket pairs: each end in a ZeroMQ context of its
//! own, as the publishing and the subscribing program have (and as the
//! rolecall side's two nodes have: one shared context's single I/O thread,
//! carrying both ends, was the baseline until 2026-12-07 and capped it,
//! docs/performance.md), no high-water marks, the receiving end on a thread
//! of its own with a 500 ms receive timeout. What each end sends and how it
//! reads is the caller's: a throughput round's burst and count, or a
//! trickle's stamps and ages.

use std::time::{Duration, Instant};

use super::HWM;

/// Warm-up messages start with this byte; receivers skip them.
pub(super) const WARM_UP: u8 = b'w';
/// How long the publisher sends warm-up messages before `publish` (the
/// subscription reaching it: the slow joiner), one every 5 ms.
pub(super) const WARM_UP_FOR: Duration = Duration::from_millis(250);

/// PUB (binding on `port`) → SUB (connecting, subscribed to everything):
/// `receive` runs with the SUB on its thread; the PUB sends warm-up
/// messages of `size` bytes for [`WARM_UP_FOR`], then `publish` runs with
/// it. Returns what `receive` returned.
pub(super) fn pubsub<R: Send + 'static>(
    port: u16,
    size: usize,
    publish: impl FnOnce(&zmq::Socket) -> Result<(), String>,
    receive: impl FnOnce(&zmq::Socket) -> R + Send + 'static,
) -> Result<R, String> {
    let ctx = zmq::Context::new();
    let publisher = ctx.socket(zmq::PUB).map_err(|e| e.to_string())?;
    publisher.set_sndhwm(HWM).map_err(|e| e.to_string())?;
    publisher
        .bind(&format!("tcp://127.0.0.1:{port}"))
        .map_err(|e| e.to_string())?;
    let sub_ctx = zmq::Context::new();
    let receiver = std::thread::spawn(move || -> Result<R, String> {
        let sub = sub_ctx.socket(zmq::SUB).map_err(|e| e.to_string())?;
        sub.set_rcvhwm(HWM).map_err(|e| e.to_string())?;
        sub.set_subscribe(b"").map_err(|e| e.to_string())?;
        sub.set_rcvtimeo(500).map_err(|e| e.to_string())?;
        sub.connect(&format!("tcp://127.0.0.1:{port}"))
            .map_err(|e| e.to_string())?;
        Ok(receive(&sub))
    });
    let warm = vec![WARM_UP; size];
    let until = Instant::now() + WARM_UP_FOR;
    while Instant::now() < until {
        publisher
            .send(warm.as_slice(), 0)
            .map_err(|e| e.to_string())?;
        std::thread::sleep(Duration::from_millis(5));
    }
    publish(&publisher)?;
    receiver
        .join()
        .map_err(|_| "receiver panicked".to_owned())?
}

/// PUSH (connecting) → PULL (binding on `port`): `receive` runs with the
/// PULL on its thread, `push` with the PUSH as soon as it is connecting
/// (PUSH queues until the connection is made). Returns what `receive`
/// returned.
pub(super) fn push_pull<R: Send + 'static>(
    port: u16,
    push: impl FnOnce(&zmq::Socket) -> Result<(), String>,
    receive: impl FnOnce(&zmq::Socket) -> R + Send + 'static,
) -> Result<R, String> {
    let ctx = zmq::Context::new();
    let pull = ctx.socket(zmq::PULL).map_err(|e| e.to_string())?;
    pull.set_rcvhwm(HWM).map_err(|e| e.to_string())?;
    pull.set_rcvtimeo(500).map_err(|e| e.to_string())?;
    pull.bind(&format!("tcp://127.0.0.1:{port}"))
        .map_err(|e| e.to_string())?;
    let receiver = std::thread::spawn(move || receive(&pull));
    let push_ctx = zmq::Context::new();
    let pusher = push_ctx.socket(zmq::PUSH).map_err(|e| e.to_string())?;
    pusher.set_sndhwm(HWM).map_err(|e| e.to_string())?;
    pusher
        .connect(&format!("tcp://127.0.0.1:{port}"))
        .map_err(|e| e.to_string())?;
    push(&pusher)?;
    receiver.join().map_err(|_| "receiver panicked".to_owned())
}

/// Receives until `messages` measured messages came (warm-ups skipped) or
/// none for the socket's receive timeout: messages per second between the
/// first and the last, and how many came.
pub(super) fn rate(messages: u64, socket: &zmq::Socket) -> (f64, u64) {
    let mut first = None;
    let mut last = Instant::now();
    let mut n = 0u64;
    while let Ok(m) = socket.recv_bytes(0) {
        if m.first() == Some(&WARM_UP) {
            continue;
        }
        first.get_or_insert_with(Instant::now);
        last = Instant::now();
        n += 1;
        if n == messages {
            break;
        }
    }
    let secs = first
        .map(|f| last.duration_since(f).as_secs_f64())
        .unwrap_or(0.0);
    (if secs > 0.0 { n as f64 / secs } else { 0.0 }, n)
}
