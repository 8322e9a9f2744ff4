//! Cross-node hops with a delivery contract (docs/runtime-semantics.md,
//! "Cross-node wires").
//!
//! A wire whose producer and consumer run on different nodes keeps a local
//! [`Queue`] at each end. On the producer's node a sender thread owns a
//! DEALER socket (connecting); on the consumer's node a receiver thread owns
//! a ROUTER socket (binding). The protocol logic is two I/O-free state
//! machines, [`sender::Sender`] and [`receiver::Receiver`]; the threads
//! ([`send_loop`], [`recv_loop`]) move bytes between them, the socket and
//! the wire. The frames are in [`frame`].
//!
//! * A sender says hello (topology, wiring hash, wire, node, incarnation)
//!   and sends nothing else until the receiver welcomes it, so either node
//!   may start first.
//! * `at-least-once` (default): every message carries a sequence number and
//!   stays with the sender until the receiver acknowledges it as *handled*
//!   (batched cumulative acknowledgements). The window is the wire's
//!   capacity, so backpressure still reaches the producer. A restarted
//!   receiver, a reconnect or a silent connection makes the sender send
//!   what is unacknowledged again; the receiver drops copies by sequence.
//! * `at-most-once`: sequence numbers only; the receiver counts gaps as lost.
//! * Messages ready at once travel as one `BATCH` frame (one ZeroMQ
//!   message, bounded in messages and bytes); each keeps its sequence
//!   number, so the contract is the same as for single `DATA` frames.
//! * END is a numbered frame acknowledged like a message: a finite
//!   producer's node waits for it, up to its `drain_timeout`.
//! * Connections that say no valid hello are refused and reported.

mod curve;
mod frame;
#[cfg(test)]
pub(crate) use frame::{hello, Hello, BYE, GONE, WELCOME};
mod receiver;
mod recv_loop;
mod send_loop;
mod sender;
#[cfg(test)]
mod sim_tests;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::remote::link::{RemoteError, RemoteLink, RemoteStats};
use crate::remote::wake::WakeSignal;

pub use crate::wire::Delivery;
pub use curve::HopCurve;
pub(crate) use recv_loop::spawn_receiver;
pub(crate) use send_loop::spawn_sender;

/// Who is at each end of a hop, as the hello says it.
#[derive(Debug, Clone)]
pub struct HopIdentity {
    /// The topology's name.
    pub topology: String,
    /// Hash of the wire's definition; both ends must agree.
    pub wiring: u64,
    /// The producer's node.
    pub producer_node: String,
    /// What the wire promises.
    pub delivery: Delivery,
    /// Largest inbound frame accepted (libzmq's MAXMSGSIZE), bytes.
    pub max_message_size: i64,
    /// CURVE keys, when the receiving node has them.
    pub curve: Option<HopCurve>,
}

/// A new incarnation number for one end of a hop: random, so that a
/// restarted node (a new hop with fresh state) is told apart from a
/// reconnecting one.
pub(crate) fn new_incarnation() -> u64 {
    rand::random::<u64>() | 1
}

/// A stable 64-bit FNV-1a hash (the same in every build and process).
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The counters of one hop (both ends; each end fills its own).
#[derive(Debug, Default)]
pub struct HopStats {
    /// Messages sent again (after a receiver restart, a reconnect or a gap).
    pub resent: AtomicU64,
    /// Messages (and END) the receiver has not acknowledged yet.
    pub unacknowledged: AtomicU64,
    /// Times the receiver came back with a new incarnation.
    pub receiver_restarts: AtomicU64,
    /// Times the producer's node came back with a new incarnation.
    pub sender_restarts: AtomicU64,
    /// Frames refused from connections that said no valid hello.
    pub refused: AtomicU64,
    /// Copies of messages already received (alone or in a batch), dropped.
    pub duplicates: AtomicU64,
    /// At-most-once: messages that never arrived.
    pub lost: AtomicU64,
}

impl HopStats {
    fn set(field: &AtomicU64, value: u64) {
        field.store(value, Ordering::Relaxed);
    }
}

pub(crate) use curve::apply as apply_curve;

/// Stop request shared with a hop thread: graceful (a receiver tells its
/// sender it is gone for good) or silent (as if the process died).
#[derive(Debug, Default)]
pub(crate) struct Stop {
    stop: AtomicBool,
    silent: AtomicBool,
}

impl Stop {
    pub(crate) fn request(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
    pub(crate) fn request_silent(&self) {
        self.silent.store(true, Ordering::SeqCst);
        self.request();
    }
    pub(crate) fn requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
    pub(crate) fn silent(&self) -> bool {
        self.silent.load(Ordering::SeqCst)
    }
}

/// The handles a hop's thread shares with its [`RemoteLink`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Shared {
    pub(crate) stop: Arc<Stop>,
    pub(crate) stats: Arc<RemoteStats>,
    pub(crate) hop: Arc<HopStats>,
}

/// Starts a hop's thread, named after its wire, registered with its wake
/// signal, and wraps it in a [`RemoteLink`].
pub(crate) fn start_thread(
    sender: bool,
    label: &str,
    delivery: Delivery,
    shared: &Shared,
    wake: &Arc<WakeSignal>,
    run: impl FnOnce() + Send + 'static,
) -> Result<RemoteLink, RemoteError> {
    let wake = Arc::clone(wake);
    let thread = std::thread::Builder::new()
        .name(format!("rc-hop {label}"))
        .spawn(move || {
            let _ = wake.thread.set(std::thread::current());
            run();
        })?;
    let Shared { stop, stats, hop } = shared.clone();
    Ok(RemoteLink::new(sender, label.to_owned(), stats, hop, stop, thread).with_delivery(delivery))
}

/// How long a hop's thread that just had work polls its sockets before it
/// sleeps: the next frame or message of a burst (a protocol stage fanning
/// out or in) then comes without a wake-up.
pub(crate) const HOP_SPIN: Duration = Duration::from_micros(50);

/// Logs the first few occurrences of something in full, then one line per
/// thousand (the count is always kept in the stats).
pub(crate) fn worth_logging(count: u64) -> bool {
    count <= 5 || count % 1000 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::wake::poll_until;
    use std::time::Instant;

    #[test]
    fn the_wiring_hash_is_stable_and_tells_parts_apart() {
        assert_eq!(stable_hash(&["a", "b"]), stable_hash(&["a", "b"]));
        assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
        assert_eq!(stable_hash(&[]), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn polling_before_sleep_ends_at_a_wake_a_ready_socket_or_the_deadline() {
        let context = zmq::Context::new();
        let ep = crate::remote::RemoteEndpoint {
            context: context.clone(),
            address: "inproc://unused".into(),
            hwm: 10,
            label: "spin test".into(),
        };
        let (wake_rx, wake) = send_loop::wake_pair(&ep).expect("wake pair");
        let poll = |until| {
            let mut items = [wake_rx.as_poll_item(zmq::POLLIN)];
            poll_until(&mut items, &wake, until)
        };
        // Nothing happens: polls until the deadline, then gives up.
        let start = Instant::now();
        assert!(!poll(start + HOP_SPIN));
        assert!(start.elapsed() >= HOP_SPIN);
        // A deadline already past: no poll at all.
        assert!(!poll(Instant::now()));
        // Woken through the wire's waker (no byte sent while awake).
        std::task::Waker::from(Arc::clone(&wake)).wake_by_ref();
        assert!(poll(Instant::now() + Duration::from_secs(5)));
        assert!(
            !wake.notified.load(Ordering::SeqCst),
            "the wake is consumed"
        );
        // The socket is ready (a byte on the wake socket).
        if let Some(tx) = &*wake.socket.lock() {
            tx.send(&[0u8][..], 0).expect("byte");
        }
        let start = Instant::now();
        assert!(poll(start + Duration::from_secs(5)));
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn delivery_names_round_trip() {
        for d in [Delivery::AtLeastOnce, Delivery::AtMostOnce] {
            assert_eq!(Delivery::parse(d.as_str()), Some(d));
        }
        assert_eq!(Delivery::parse("exactly-once"), None);
    }
}
