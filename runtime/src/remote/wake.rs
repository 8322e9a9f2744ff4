//! How producers wake a socket thread: unpark when it waits only for its
//! queues, a byte on its inproc wake socket when it sleeps in `zmq_poll`.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The socket thread runs (or spins).
pub(super) const AWAKE: u8 = 0;
/// It is parked: nothing but its queues can wake it.
pub(super) const PARKED: u8 = 1;
/// It sleeps in `zmq_poll`, also waiting for its socket.
pub(super) const POLLING: u8 = 2;

/// Wakes the socket thread. Queues call it only when they go from empty to
/// non-empty (with the thread's waker registered). A thread that waits only
/// for its queues parks, and is woken by an unpark (a futex, cheap); one that
/// also waits for its socket sleeps in `zmq_poll`, and is woken by a byte on
/// its inproc wake socket.
pub(super) struct WakeSignal {
    /// Closed (`None`) when the thread ends, so that the wakers the queues
    /// still hold do not keep a socket open in the context.
    pub(super) socket: Mutex<Option<zmq::Socket>>,
    pub(super) state: AtomicU8,
    /// Set by every wake; consumed by the thread before it sleeps, so that a
    /// wake between its last look at the queues and its sleep is not lost.
    pub(super) notified: AtomicBool,
    pub(super) thread: OnceLock<std::thread::Thread>,
}

impl std::task::Wake for WakeSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.notified.store(true, Ordering::SeqCst);
        match self.state.load(Ordering::SeqCst) {
            PARKED => {
                if let Some(t) = self.thread.get() {
                    t.unpark();
                }
            }
            POLLING => {
                if let Some(s) = &*self.socket.lock() {
                    let _ = s.send(&[0u8][..], zmq::DONTWAIT);
                }
            }
            _ => {}
        }
    }
}

/// Polls `items` without sleeping until `until`, yielding the core between
/// polls: true as soon as one is ready or the thread is woken (the wake is
/// consumed). Meanwhile the thread counts as awake, so a waker only sets
/// the flag and writes nothing to the wake socket.
pub(super) fn poll_until(items: &mut [zmq::PollItem], wake: &WakeSignal, until: Instant) -> bool {
    while Instant::now() < until {
        if wake.notified.swap(false, Ordering::SeqCst) || zmq::poll(items, 0).is_ok_and(|n| n > 0) {
            return true;
        }
        std::thread::yield_now();
    }
    false
}

/// How a hop's thread waits: it polls `items` (its wake socket among them)
/// without sleeping until `spin_until` (not beyond `timeout`), then sleeps
/// in `zmq_poll` until one is ready, it is woken, or `timeout` (1–100 ms)
/// passes. The caller then drains its wake socket. (Endpoints' socket
/// threads spin their own way, polling the wake socket: this
/// wait cost REQ/REP round trips ~100 µs, docs/performance.md.)
pub(super) fn sleep_polling(
    items: &mut [zmq::PollItem],
    wake: &WakeSignal,
    spin_until: Instant,
    timeout: Duration,
) {
    if poll_until(items, wake, spin_until.min(Instant::now() + timeout)) {
        return;
    }
    wake.state.store(POLLING, Ordering::SeqCst);
    if !wake.notified.swap(false, Ordering::SeqCst) {
        let ms = timeout.as_millis().clamp(1, 100) as i64;
        let _ = zmq::poll(items, ms);
    }
    wake.state.store(AWAKE, Ordering::SeqCst);
}
