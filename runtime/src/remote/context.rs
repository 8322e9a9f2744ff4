//! [`ZmqContext`]: a node's ZeroMQ context, shared by its cross-node hops,
//! its `zmq.*` endpoints and any role that opens sockets of its own, so that
//! `inproc://` connects them and one ZAP handler serves every CURVE server in
//! it; and [`ZmqContext::terminate`], which waits at the node's end for what
//! closed sockets still deliver within their linger.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use super::link::RemoteError;
use super::Zap;

/// How long [`ZmqContext::terminate`] waits beyond the longest linger for
/// sockets to close.
const TERMINATE_GRACE: Duration = Duration::from_secs(2);

/// How often [`ZmqContext::zap`] tries again to bind the ZAP endpoint, 50 ms
/// apart.
const ZAP_RETRIES: u32 = 5;

/// The context was terminated ([`ZmqContext::terminate`]): no new sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the ZeroMQ context was terminated")]
pub struct Terminated;

/// The context did not terminate in time: a socket is still open.
#[derive(Debug, thiserror::Error)]
#[error("the ZeroMQ context did not terminate within {waited:?}: a socket is still open")]
pub struct TerminateError {
    /// How long it waited.
    pub waited: Duration,
}

struct State {
    /// `None` once terminated.
    context: Option<zmq::Context>,
    /// The longest linger of the sockets noted, in milliseconds (-1: forever).
    longest_linger: i32,
    /// The context's ZAP handler while some socket holds it.
    zap: Weak<Zap>,
}

/// One ZeroMQ context (a cheap handle: clones share it).
///
/// A [`Node`](crate::Node) makes one and hands it to its hops and, through
/// [`Io::zmq`](crate::kind::Io::zmq), to every role it builds.
/// [`ZmqContext::terminate`] ends it for good, waiting (bounded) for what
/// closed sockets still deliver; without it, the context is terminated on a
/// thread of its own once the last handle is gone (hold a handle as long as
/// sockets made from [`ZmqContext::get`] are in use).
#[derive(Clone)]
pub struct ZmqContext {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for ZmqContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("ZmqContext")
            .field("terminated", &s.context.is_none())
            .field("longest_linger", &s.longest_linger)
            .finish()
    }
}

impl Default for ZmqContext {
    fn default() -> Self {
        Self::new()
    }
}

impl ZmqContext {
    /// A new context.
    pub fn new() -> Self {
        let context = zmq::Context::new();
        // libzmq's context is terminated here, by [`ZmqContext::terminate`]
        // or when the last handle goes, never by the `zmq` crate when the
        // last socket holding a clone closes (that would block whichever
        // thread closed it for the lingering sockets): this clone is never
        // dropped.
        std::mem::forget(context.clone());
        ZmqContext {
            state: Arc::new(Mutex::new(State {
                context: Some(context),
                longest_linger: 0,
                zap: Weak::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The libzmq context itself, for code that makes sockets directly.
    pub fn get(&self) -> Result<zmq::Context, Terminated> {
        self.lock().context.clone().ok_or(Terminated)
    }

    /// A new socket of type `kind` in this context (`ETERM` once terminated).
    pub fn socket(&self, kind: zmq::SocketType) -> Result<zmq::Socket, zmq::Error> {
        self.get().map_err(|_| zmq::Error::ETERM)?.socket(kind)
    }

    /// Notes a socket's linger (milliseconds, -1: forever), so that
    /// [`ZmqContext::terminate`] knows how long closed sockets may deliver.
    pub fn note_linger(&self, ms: i32) {
        let mut s = self.lock();
        if s.longest_linger != -1 {
            s.longest_linger = if ms < 0 { -1 } else { s.longest_linger.max(ms) };
        }
    }

    /// The context's ZAP handler, started on first use and kept while a
    /// socket holds it (one per context: only one can bind
    /// `inproc://zeromq.zap.01`). Server sockets register their ZAP domain
    /// with it ([`Zap::admit_producer`], [`Zap::admit_clients`]) and keep the
    /// `Arc` as long as they are open.
    pub fn zap(&self) -> Result<Arc<Zap>, RemoteError> {
        let mut s = self.lock();
        if let Some(zap) = s.zap.upgrade() {
            return Ok(zap);
        }
        let context = s.context.clone().ok_or(Terminated)?;
        // A handler whose last holder has just let go may still be closing
        // its socket (its thread looks every 100 ms): try again meanwhile.
        let mut tries = 0;
        let zap = loop {
            match Zap::start(&context) {
                Ok(zap) => break zap,
                Err(_) if tries < ZAP_RETRIES => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        };
        s.zap = Arc::downgrade(&zap);
        Ok(zap)
    }

    /// Terminates the context (`zmq_ctx_term`), waiting for what closed
    /// sockets still have to deliver within their linger: call it at the
    /// node's end, once its actors and hops are gone, so that the process
    /// does not exit with messages still on their way. Waits for at most the
    /// longest linger noted plus two seconds (forever if one lingers
    /// forever). Afterwards [`ZmqContext::socket`] fails; terminating again
    /// does nothing.
    pub fn terminate(&self) -> Result<(), TerminateError> {
        let (context, linger) = {
            let mut s = self.lock();
            let Some(context) = s.context.take() else {
                return Ok(());
            };
            (context, std::mem::take(&mut s.longest_linger))
        };
        let bound = u64::try_from(linger)
            .ok()
            .map(|ms| Duration::from_millis(ms) + TERMINATE_GRACE);
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
        let spawned = term_off_thread(context, move || {
            let _ = done_tx.send(());
        });
        if !spawned {
            tracing::warn!(
                "no thread to terminate the ZeroMQ context on; not waiting for lingering sockets"
            );
            return Ok(());
        }
        let started = Instant::now();
        let done = match bound {
            Some(bound) => done_rx.recv_timeout(bound).is_ok(),
            None => done_rx.recv().is_ok(),
        };
        if !done {
            return Err(TerminateError {
                waited: started.elapsed(),
            });
        }
        tracing::debug!(took = ?started.elapsed(), "ZeroMQ context terminated");
        Ok(())
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // The last handle is gone without a terminate: terminate anyway, on a
        // thread of its own, so that nobody waits for lingering sockets.
        if let Some(context) = self.context.take() {
            term_off_thread(context, || {});
        }
    }
}

/// Terminates `context` (`zmq_ctx_term`, which waits for its sockets to be
/// closed and their linger to pass, then frees it) on a new thread, then
/// calls `done`; false if no thread could be started (then it stays).
fn term_off_thread(context: zmq::Context, done: impl FnOnce() + Send + 'static) -> bool {
    std::thread::Builder::new()
        .name("rc-zmq-term".into())
        .spawn(move || {
            let mut context = context;
            while context.destroy() == Err(zmq::Error::EINTR) {}
            done();
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inproc_connects_sockets_of_one_context_and_terminate_ends_it() {
        let ctx = ZmqContext::new();
        let pull = ctx.socket(zmq::PULL).expect("pull");
        pull.bind("inproc://rolecall-context-test").expect("bind");
        let push = ctx.clone().socket(zmq::PUSH).expect("push");
        push.connect("inproc://rolecall-context-test")
            .expect("connect");
        push.send("hello", 0).expect("send");
        assert_eq!(pull.recv_bytes(0).expect("recv"), b"hello");
        drop((pull, push));
        ctx.terminate().expect("terminates");
        assert!(matches!(ctx.socket(zmq::PAIR), Err(zmq::Error::ETERM)));
        ctx.terminate().expect("twice is fine");
    }

    #[test]
    fn one_zap_handler_per_context_while_a_socket_holds_it() {
        let ctx = ZmqContext::new();
        let a = ctx.zap().expect("zap");
        let b = ctx.zap().expect("the same zap");
        assert!(Arc::ptr_eq(&a, &b));
        drop((a, b));
        // Gone with its last holder; the next one binds the address again.
        let _c = ctx.zap().expect("a new zap");
        // Another context has its own.
        let _d = ZmqContext::new().zap().expect("zap of another context");
    }

    #[test]
    fn terminate_returns_with_a_socket_left_open_after_the_grace() {
        let ctx = ZmqContext::new();
        let _open = ctx.socket(zmq::PAIR).expect("socket");
        let started = Instant::now();
        let err = ctx.terminate().expect_err("a socket is open");
        assert!(err.waited >= TERMINATE_GRACE, "{err}");
        assert!(started.elapsed() >= TERMINATE_GRACE);
    }
}
