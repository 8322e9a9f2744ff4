//! The sender and receiver of one cross-node hop: a [`SocketThread`] each,
//! with a PUSH (connecting) or PULL (binding) socket and the wire's codec as
//! its [`Framing`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rolecall_codecs::Codec;

use super::socket::{Builder, Decoded, Framing, SocketThread};
use super::{DATA, END};
use crate::wire::{Output, Queue};

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
    /// queue is drained; receiver hops run until stopped (or the END frame).
    sender: bool,
    thread: Box<dyn Hop>,
}

impl RemoteLink {
    /// The hop's counters.
    pub fn stats(&self) -> &RemoteStats {
        self.thread.stats()
    }

    /// The hop's counters, shared (they outlive the hop).
    pub fn shared_stats(&self) -> Arc<RemoteStats> {
        Arc::clone(self.thread.stats())
    }

    /// The hop's label.
    pub fn label(&self) -> &str {
        self.thread.label()
    }

    /// Asks the thread to finish and waits for it.
    pub fn stop(self) {
        self.report();
        self.thread.halt();
    }

    /// Warns with the totals when frames were skipped, so that the count
    /// shows at the end of a run too.
    fn report(&self) {
        let stats = self.thread.stats();
        let bad = stats.bad_frames.load(Ordering::Relaxed);
        if bad > 0 {
            tracing::warn!(
                hop = %self.thread.label(),
                bad_frames = bad,
                messages = stats.messages.load(Ordering::Relaxed),
                "hop closed; undecodable frames were skipped"
            );
        }
    }

    /// Lets a sender hop finish what its queue still holds (and send the end
    /// of stream) until `deadline`, then stops it. Receivers stop at once.
    pub fn finish(self, deadline: Instant) {
        if self.sender {
            while !self.thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        self.report();
        self.thread.halt();
    }
}

/// A hop's socket thread with the wire's message type erased.
trait Hop: Send + std::fmt::Debug {
    fn stats(&self) -> &Arc<RemoteStats>;
    fn label(&self) -> &str;
    fn is_finished(&self) -> bool;
    fn halt(self: Box<Self>);
}

impl<T: Send + 'static> Hop for SocketThread<T> {
    fn stats(&self) -> &Arc<RemoteStats> {
        SocketThread::stats(self)
    }
    fn label(&self) -> &str {
        SocketThread::label(self)
    }
    fn is_finished(&self) -> bool {
        SocketThread::is_finished(self)
    }
    fn halt(self: Box<Self>) {
        SocketThread::stop(*self);
    }
}

/// DATA/END framing of one wire's messages with the wire's codec.
struct CodecFraming<T> {
    codec: Arc<dyn Codec<T>>,
}

impl<T: 'static> Framing<T> for CodecFraming<T> {
    fn encode(&self, msg: T, frames: &mut Vec<Vec<u8>>) -> Result<(), String> {
        frames.truncate(1);
        if frames.is_empty() {
            frames.push(Vec::with_capacity(128));
        }
        let frame = &mut frames[0];
        frame.clear();
        frame.push(DATA);
        self.codec.encode(&msg, frame).map_err(|e| e.to_string())
    }

    fn decode(&self, parts: &[zmq::Message]) -> Decoded<T> {
        let [frame] = parts else {
            return Decoded::Bad(format!("{} frames, expected 1", parts.len()));
        };
        let bytes: &[u8] = frame;
        match bytes.split_first() {
            Some((&END, [])) => Decoded::End,
            Some((&DATA, body)) => match self.codec.decode(body) {
                Ok(v) => Decoded::Message(v),
                Err(e) => Decoded::Bad(format!("{} bytes not decodable: {e}", body.len())),
            },
            Some((&h, _)) => Decoded::Bad(format!("unknown header byte {h}")),
            None => Decoded::Bad("empty frame".into()),
        }
    }

    fn end_of_stream(&self) -> Option<Vec<Vec<u8>>> {
        Some(vec![vec![END]])
    }
}

/// Starts the thread that drains `queue` into a PUSH socket connected to the
/// endpoint; it sends END and finishes once the queue's producers are gone.
pub(crate) fn spawn_sender<T: Clone + Send + 'static>(
    queue: Queue<T>,
    codec: Arc<dyn Codec<T>>,
    ep: RemoteEndpoint,
) -> Result<RemoteLink, RemoteError> {
    let socket = open(&ep, zmq::PUSH)?;
    let thread = Builder::new(
        ep.label.clone(),
        &ep.context,
        socket,
        zmq::PUSH,
        Arc::new(CodecFraming { codec }),
    )
    .inputs(vec![queue])
    .start()?;
    Ok(RemoteLink {
        sender: true,
        thread: Box::new(thread),
    })
}

/// Starts the thread that fills `queue` from a PULL socket bound at the endpoint.
pub(crate) fn spawn_receiver<T: Clone + Send + 'static>(
    queue: Queue<T>,
    codec: Arc<dyn Codec<T>>,
    ep: RemoteEndpoint,
) -> Result<RemoteLink, RemoteError> {
    let socket = open(&ep, zmq::PULL)?;
    queue.add_sender();
    let thread = Builder::new(
        ep.label.clone(),
        &ep.context,
        socket,
        zmq::PULL,
        Arc::new(CodecFraming { codec }),
    )
    .output(Output::new(ep.label.clone(), vec![queue.clone()]))
    .on_exit(move || queue.remove_sender())
    .start()?;
    Ok(RemoteLink {
        sender: false,
        thread: Box::new(thread),
    })
}

fn open(ep: &RemoteEndpoint, kind: zmq::SocketType) -> Result<zmq::Socket, RemoteError> {
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
    if kind == zmq::PULL {
        s.bind(&ep.address).map_err(|e| err("binding", e))?;
    } else {
        s.connect(&ep.address)
            .map_err(|e| err("connecting to", e))?;
    }
    Ok(s)
}
