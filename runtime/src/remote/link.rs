//! The sender and receiver threads of one cross-node hop.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rolecall_codecs::Codec;

use super::{DATA, END};
use crate::wire::{Popped, PushError, Queue};

/// How long a thread blocks in one call before checking for stop.
const TICK: Duration = Duration::from_millis(50);
/// Messages drained from the local queue per batch.
const BATCH: usize = 256;

/// Where and how a hop's socket is set up.
#[derive(Clone)]
pub struct RemoteEndpoint {
    /// The ZeroMQ context of the process.
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
    /// The thread could not be started.
    #[error("starting the I/O thread failed: {0}")]
    Thread(#[from] std::io::Error),
}

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
    /// Sender hops end by themselves once their producer is gone and the
    /// queue is drained; receiver hops run until stopped.
    sender: bool,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<RemoteStats>,
    label: String,
}

impl RemoteLink {
    /// The hop's counters.
    pub fn stats(&self) -> &RemoteStats {
        &self.stats
    }

    /// The hop's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Asks the thread to finish and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Lets a sender hop finish what its queue still holds (and send the end
    /// of stream) until `deadline`, then stops it. Receivers stop at once.
    pub fn finish(mut self, deadline: Instant) {
        if self.sender {
            while let Some(t) = &self.thread {
                if t.is_finished() || Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!(hop = %self.label, "remote wire thread panicked");
            }
        }
    }
}

impl Drop for RemoteLink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn socket(
    ep: &RemoteEndpoint,
    kind: zmq::SocketType,
    action: &'static str,
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
    s.set_linger(1000)
        .map_err(|e| err("setting linger on", e))?;
    s.set_sndtimeo(TICK.as_millis() as i32)
        .map_err(|e| err("setting the send timeout of", e))?;
    s.set_rcvtimeo(TICK.as_millis() as i32)
        .map_err(|e| err("setting the receive timeout of", e))?;
    match action {
        "binding" => s.bind(&ep.address).map_err(|e| err("binding", e))?,
        _ => s
            .connect(&ep.address)
            .map_err(|e| err("connecting to", e))?,
    }
    Ok(s)
}

/// Starts the thread that drains `queue` into a PUSH socket connected to the endpoint.
pub(crate) fn spawn_sender<T: Send + 'static>(
    queue: Queue<T>,
    codec: Arc<dyn Codec<T>>,
    ep: RemoteEndpoint,
) -> Result<RemoteLink, RemoteError> {
    let sock = socket(&ep, zmq::PUSH, "connecting")?;
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(RemoteStats::default());
    let label = ep.label.clone();
    let thread = std::thread::Builder::new()
        .name(format!("rc-push {}", ep.label))
        .spawn({
            let stop = Arc::clone(&stop);
            let stats = Arc::clone(&stats);
            let label = label.clone();
            move || run_sender(sock, queue, codec, &stop, &stats, &label)
        })?;
    Ok(RemoteLink {
        sender: true,
        stop,
        thread: Some(thread),
        stats,
        label,
    })
}

/// Sends `frame`, retrying on timeouts until it goes or `stop` is set.
fn send_frame(sock: &zmq::Socket, frame: &[u8], stop: &AtomicBool) -> bool {
    loop {
        match sock.send(frame, 0) {
            Ok(()) => return true,
            Err(zmq::Error::EAGAIN) if !stop.load(Ordering::Acquire) => continue,
            Err(zmq::Error::EINTR) => continue,
            Err(_) => return false,
        }
    }
}

fn run_sender<T: 'static>(
    sock: zmq::Socket,
    queue: Queue<T>,
    codec: Arc<dyn Codec<T>>,
    stop: &AtomicBool,
    stats: &RemoteStats,
    label: &str,
) {
    let mut batch = VecDeque::with_capacity(BATCH);
    let mut frame = Vec::with_capacity(256);
    while !stop.load(Ordering::Acquire) {
        match queue.pop_blocking(&mut batch, BATCH, TICK) {
            Popped::Ended => {
                if send_frame(&sock, &[END], stop) {
                    tracing::debug!(hop = label, "end of stream sent");
                }
                return;
            }
            Popped::Empty => continue,
            Popped::Items(_) => {}
        }
        let mut handled = 0;
        while let Some(msg) = batch.front() {
            frame.clear();
            frame.push(DATA);
            if let Err(e) = codec.encode(msg, &mut frame) {
                stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(hop = label, error = %e, "message could not be encoded; dropped");
                batch.pop_front();
                handled += 1;
                continue;
            }
            if !send_frame(&sock, &frame, stop) {
                break;
            }
            batch.pop_front();
            handled += 1;
            stats.messages.fetch_add(1, Ordering::Relaxed);
        }
        queue.settle(handled, &mut batch);
    }
}

/// Starts the thread that fills `queue` from a PULL socket bound at the endpoint.
pub(crate) fn spawn_receiver<T: Send + 'static>(
    queue: Queue<T>,
    codec: Arc<dyn Codec<T>>,
    ep: RemoteEndpoint,
) -> Result<RemoteLink, RemoteError> {
    let sock = socket(&ep, zmq::PULL, "binding")?;
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(RemoteStats::default());
    let label = ep.label.clone();
    queue.add_sender();
    let thread = std::thread::Builder::new()
        .name(format!("rc-pull {}", ep.label))
        .spawn({
            let stop = Arc::clone(&stop);
            let stats = Arc::clone(&stats);
            let label = label.clone();
            move || {
                run_receiver(&sock, &queue, codec.as_ref(), &stop, &stats, &label);
                queue.remove_sender();
            }
        })?;
    Ok(RemoteLink {
        sender: false,
        stop,
        thread: Some(thread),
        stats,
        label,
    })
}

fn run_receiver<T: 'static>(
    sock: &zmq::Socket,
    queue: &Queue<T>,
    codec: &dyn Codec<T>,
    stop: &AtomicBool,
    stats: &RemoteStats,
    label: &str,
) {
    let mut msg = zmq::Message::new();
    while !stop.load(Ordering::Acquire) {
        match sock.recv(&mut msg, 0) {
            Ok(()) => {}
            Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => continue,
            Err(e) => {
                tracing::error!(hop = label, error = %e, "receive failed; hop stops");
                return;
            }
        }
        let bytes: &[u8] = &msg;
        match bytes.split_first() {
            Some((&END, _)) => {
                tracing::debug!(hop = label, "end of stream received");
                return;
            }
            Some((&DATA, body)) => match codec.decode(body) {
                Ok(value) => {
                    if deliver(queue, value, stop) {
                        stats.messages.fetch_add(1, Ordering::Relaxed);
                    } else {
                        stats.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(e) => {
                    stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(hop = label, error = %e, len = body.len(), "undecodable frame dropped");
                }
            },
            _ => {
                stats.bad_frames.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    hop = label,
                    len = bytes.len(),
                    "frame without a valid header dropped"
                );
            }
        }
    }
}

/// Pushes into the local queue, waiting while it is full, until stopped.
fn deliver<T>(queue: &Queue<T>, value: T, stop: &AtomicBool) -> bool {
    let mut value = value;
    loop {
        match queue.push_blocking(value, Some(Instant::now() + TICK)) {
            Ok(_) => return true,
            Err(PushError::Closed(_)) => return false,
            Err(PushError::Full(v)) => {
                if stop.load(Ordering::Acquire) {
                    return false;
                }
                value = v;
            }
        }
    }
}
