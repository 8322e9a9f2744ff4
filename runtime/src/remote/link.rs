//! A running cross-node hop ([`RemoteLink`]), its endpoint, errors and
//! counters, and how its socket is opened (the protocol is in [`super::hop`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::thread::JoinHandle;

use super::hop::{HopIdentity, HopStats, Stop};

/// Where and how a hop's socket is set up.
#[derive(Clone)]
pub struct RemoteEndpoint {
    /// The ZeroMQ context of the node.
    pub context: zmq::Context,
    /// Endpoint to bind (receiver) or connect to (sender).
    pub address: String,
    /// Send/receive high-water mark in messages.
    pub hwm: i32,
    /// Label for logs, e.g. `source.out -> sink.in`.
    pub label: String,
}

impl std::fmt::Debug for RemoteEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteEndpoint")
            .field("address", &self.address)
            .field("hwm", &self.hwm)
            .field("label", &self.label)
            .finish()
    }
}

/// A cross-node hop could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// No codec of that format for the message type.
    #[error("no `{format}` codec for message type `{message}`")]
    NoCodec {
        /// Requested format.
        format: String,
        /// Message type.
        message: &'static str,
    },
    /// Internal: a wire of another type was passed.
    #[error("wire is not of type `{expected}`")]
    TypeMismatch {
        /// Expected message type.
        expected: &'static str,
    },
    /// Creating, configuring, binding or connecting the socket failed.
    #[error("{action} `{address}` failed: {source}")]
    Socket {
        /// What was attempted.
        action: &'static str,
        /// The endpoint.
        address: String,
        /// ZeroMQ's error.
        source: zmq::Error,
    },
    /// CURVE keys could not be read or set.
    #[error("CURVE on `{address}`: {reason}")]
    Curve {
        /// The endpoint.
        address: String,
        /// What is wrong.
        reason: String,
    },
    /// The thread could not be started.
    #[error("starting the I/O thread failed: {0}")]
    Thread(#[from] std::io::Error),
    /// The node's ZeroMQ context was terminated.
    #[error(transparent)]
    Context(#[from] super::Terminated),
}

/// The linger of a hop's socket, in milliseconds.
pub(crate) const HOP_LINGER_MS: i32 = 1000;

/// Counters of one hop.
#[derive(Debug, Default)]
pub struct RemoteStats {
    /// Messages sent or received.
    pub messages: AtomicU64,
    /// Frames that could not be encoded or decoded.
    pub bad_frames: AtomicU64,
    /// Messages lost because the local consumer was gone.
    pub dropped: AtomicU64,
}

/// A running hop; stopping it joins its thread.
#[derive(Debug)]
pub struct RemoteLink {
    /// Sender hops end by themselves once their producer is gone and END is
    /// acknowledged; receiver hops run until stopped.
    sender: bool,
    label: String,
    stats: Arc<RemoteStats>,
    hop: Arc<HopStats>,
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
    /// A receiving CURVE hop keeps the node's ZAP handler alive.
    zap: Option<Arc<super::Zap>>,
    delivery: super::hop::Delivery,
}

impl RemoteLink {
    /// What the wire promises (an at-most-once sender does not fail its
    /// node when END goes unacknowledged).
    pub(crate) fn with_delivery(mut self, delivery: super::hop::Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// Keeps `zap` running as long as this hop.
    pub(crate) fn with_zap(mut self, zap: Option<Arc<super::Zap>>) -> Self {
        self.zap = zap;
        self
    }

    pub(crate) fn new(
        sender: bool,
        label: String,
        stats: Arc<RemoteStats>,
        hop: Arc<HopStats>,
        stop: Arc<Stop>,
        thread: JoinHandle<()>,
    ) -> Self {
        RemoteLink {
            sender,
            label,
            stats,
            hop,
            stop,
            thread: Some(thread),
            zap: None,
            delivery: super::hop::Delivery::AtLeastOnce,
        }
    }

    /// The hop's counters.
    pub fn stats(&self) -> &RemoteStats {
        &self.stats
    }

    /// The hop's counters, shared (they outlive the hop).
    pub fn shared_stats(&self) -> Arc<RemoteStats> {
        Arc::clone(&self.stats)
    }

    /// The delivery contract's counters.
    pub fn hop_stats(&self) -> &HopStats {
        &self.hop
    }

    /// The hop's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether the hop is done by itself: a sender whose END was
    /// acknowledged (receivers run until stopped).
    pub fn is_finished(&self) -> bool {
        !self.sender || self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Whether this end sends.
    pub fn is_sender(&self) -> bool {
        self.sender
    }

    /// Asks the thread to finish without waiting for it: a node closing
    /// several hops asks each first, so that receivers saying `GONE` (each
    /// may wait up to 2 s for its sender's `BYE`) wait at the same time.
    pub fn request_stop(&self) {
        self.stop.request();
    }

    /// Asks the thread to finish and waits for it.
    pub fn stop(mut self) {
        self.halt();
        self.report();
    }

    /// Stops the thread without a word to the other end, as a killed
    /// process would (tests of restarts).
    pub fn abort(mut self) {
        self.stop.request_silent();
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.request();
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!(hop = %self.label, "hop thread panicked");
            }
        }
        self.zap = None;
    }

    /// Warns with the totals of anything the contract had to repair or
    /// refuse, so that the counts show at the end of a run.
    fn report(&self) {
        let h = &self.hop;
        let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let bad = get(&self.stats.bad_frames);
        let (resent, refused, duplicates, lost) = (
            get(&h.resent),
            get(&h.refused),
            get(&h.duplicates),
            get(&h.lost),
        );
        let restarts = get(&h.receiver_restarts) + get(&h.sender_restarts);
        if bad + resent + refused + duplicates + lost + restarts > 0 {
            tracing::warn!(
                hop = %self.label,
                messages = get(&self.stats.messages),
                bad_frames = bad,
                resent,
                duplicates_dropped = duplicates,
                refused,
                lost,
                restarts,
                "hop closed"
            );
        }
    }

    /// Lets a sender hop finish what its queue still holds, send END and get
    /// it acknowledged until `deadline`, then stops it. Receivers stop at
    /// once. `Err` holds how many messages were left unacknowledged.
    pub fn finish(mut self, deadline: Instant) -> Result<(), u64> {
        if self.sender {
            while self.thread.as_ref().is_some_and(|t| !t.is_finished())
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let finished = self.thread.as_ref().is_none_or(JoinHandle::is_finished);
        self.halt();
        self.report();
        let left = self.hop.unacknowledged.load(Ordering::Relaxed);
        if self.sender && (!finished || left > 0) {
            if self.delivery == super::hop::Delivery::AtMostOnce {
                tracing::warn!(hop = %self.label, "at-most-once: the end of the stream was not acknowledged before drain_timeout");
                return Ok(());
            }
            return Err(left);
        }
        Ok(())
    }
}

impl Drop for RemoteLink {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Opens a hop's socket: a ROUTER binds (receiver), a DEALER connects
/// (sender). Heartbeats notice a dead connection; the receiver refuses
/// frames above `max_message_size`.
pub(crate) fn open_socket(
    ep: &RemoteEndpoint,
    kind: zmq::SocketType,
    id: &HopIdentity,
) -> Result<zmq::Socket, RemoteError> {
    let err = |action, source| RemoteError::Socket {
        action,
        address: ep.address.clone(),
        source,
    };
    let s = ep
        .context
        .socket(kind)
        .map_err(|e| err("creating a socket for", e))?;
    s.set_sndhwm(ep.hwm)
        .map_err(|e| err("setting the high-water mark of", e))?;
    s.set_rcvhwm(ep.hwm)
        .map_err(|e| err("setting the high-water mark of", e))?;
    s.set_linger(HOP_LINGER_MS)
        .map_err(|e| err("setting linger on", e))?;
    s.set_heartbeat_ivl(1000)
        .and_then(|()| s.set_heartbeat_timeout(3000))
        .map_err(|e| err("setting heartbeats on", e))?;
    s.set_maxmsgsize(id.max_message_size)
        .map_err(|e| err("setting the largest message size of", e))?;
    if let Some(curve) = &id.curve {
        super::hop::apply_curve(&s, curve, kind == zmq::ROUTER, &ep.label, &ep.address)?;
    }
    if kind == zmq::ROUTER {
        // An answer that cannot be queued (the connection is gone, or full)
        // is an error the receiver sees, not a silent drop: it is due again.
        s.set_router_mandatory(true)
            .map_err(|e| err("setting router_mandatory on", e))?;
        s.bind(&ep.address).map_err(|e| err("binding", e))?;
    } else {
        // Nothing is queued for a connection that is not there yet: the
        // sender sees EAGAIN and keeps its window.
        s.set_immediate(true)
            .map_err(|e| err("setting immediate on", e))?;
        // A connection attempt that hangs (a peer behind a dead link) is
        // given up after a second and tried again.
        s.set_connect_timeout(1000)
            .map_err(|e| err("setting the connect timeout of", e))?;
        s.connect(&ep.address)
            .map_err(|e| err("connecting to", e))?;
    }
    Ok(s)
}
