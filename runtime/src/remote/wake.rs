//! How producers wake a socket thread: unpark when it waits only for its
//! queues, a byte on its inproc wake socket when it sleeps in `zmq_poll`.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

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
