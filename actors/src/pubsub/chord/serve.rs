//! The I/O of one ring node, on its own thread: a ROUTER socket bound at the
//! node's `dht.json` endpoint answers clients' REQ sockets (the course's
//! `DiscoveryReq`/`DiscoveryResp`, replies in any order) and receives peers'
//! messages ([`PeerMsg`], told apart by their prefix); a DEALER per peer,
//! connected on first use, sends to the others. Everything else is the
//! [`Service`]'s.
//!
//! Bounds: the service refuses client requests beyond its `max_requests`;
//! a peer's DEALER queues at most [`PEER_HWM`] messages, and a send that
//! does not fit is dropped (its hop is then not acknowledged, and the
//! service routes around the peer). A peer marked down has its DEALER closed
//! (what was queued for it is dropped with it).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use thiserror::Error;

use super::service::{Out, PeerMsg, Service};
use rolecall_runtime::remote::ZmqContext;

/// Messages queued for one peer at most.
pub const PEER_HWM: i32 = 1000;

/// Milliseconds between two looks at the clock when nothing arrives.
const POLL_MS: i64 = 20;

/// Why a node cannot serve.
#[derive(Debug, Error)]
pub enum ServeError {
    /// A socket cannot be made or set up.
    #[error("socket: {0}")]
    Socket(#[from] zmq::Error),
    /// The endpoint cannot be bound.
    #[error("cannot bind {endpoint}: {error}")]
    Bind {
        /// The endpoint.
        endpoint: String,
        /// Why.
        error: zmq::Error,
    },
}

/// The node's bound socket, ready to be served.
pub struct Bound {
    router: zmq::Socket,
    endpoint: String,
    /// The context the router is in; the peers' DEALERs open there too.
    context: ZmqContext,
}

impl std::fmt::Debug for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bound")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl Bound {
    /// Binds a ROUTER at `endpoint` (`tcp://*:5555`, `tcp://127.0.0.1:5555`)
    /// in `context` (the node's).
    pub fn bind(context: &ZmqContext, endpoint: &str) -> Result<Bound, ServeError> {
        let router = context.socket(zmq::ROUTER)?;
        router.set_linger(0)?;
        router.bind(endpoint).map_err(|error| ServeError::Bind {
            endpoint: endpoint.to_owned(),
            error,
        })?;
        Ok(Bound {
            router,
            endpoint: endpoint.to_owned(),
            context: context.clone(),
        })
    }

    /// The endpoint it is bound at.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

/// Serves `service` on `bound` until `stop` is set.
pub fn run(mut service: Service, bound: Bound, stop: &AtomicBool) -> Result<(), ServeError> {
    let Bound {
        router, context, ..
    } = bound;
    let mut io = Io {
        router: &router,
        context,
        peers: HashMap::new(),
        clients: HashMap::new(),
        next_tag: 0,
    };
    while !stop.load(Ordering::Relaxed) {
        if router.poll(zmq::POLLIN, POLL_MS)? > 0 {
            while let Ok(mut frames) = router.recv_multipart(zmq::DONTWAIT) {
                let now = Instant::now();
                let Some(body) = frames.pop() else { continue };
                let outs = match PeerMsg::decode(&body) {
                    Some(Ok(msg)) => service.peer(msg, now),
                    Some(Err(e)) => {
                        tracing::warn!(node = %service.node().me().id, "bad peer message: {e}");
                        Vec::new()
                    }
                    None => {
                        io.next_tag += 1;
                        io.clients.insert(io.next_tag, frames);
                        service.request(io.next_tag, &body, now)
                    }
                };
                io.apply(outs)?;
            }
        }
        let outs = service.tick(Instant::now());
        io.apply(outs)?;
    }
    Ok(())
}

struct Io<'a> {
    router: &'a zmq::Socket,
    context: ZmqContext,
    peers: HashMap<String, zmq::Socket>,
    clients: HashMap<u64, Vec<Vec<u8>>>,
    next_tag: u64,
}

impl Io<'_> {
    fn apply(&mut self, outs: Vec<Out>) -> Result<(), ServeError> {
        for out in outs {
            match out {
                Out::Reply { client, bytes } => {
                    let Some(mut frames) = self.clients.remove(&client) else {
                        continue;
                    };
                    frames.push(bytes);
                    if let Err(e) = self.router.send_multipart(frames, zmq::DONTWAIT) {
                        tracing::warn!("reply to a client dropped: {e}");
                    }
                }
                Out::Send { to, msg } => {
                    let socket = match self.peers.get(&to) {
                        Some(s) => s,
                        None => {
                            let s = self.context.socket(zmq::DEALER)?;
                            s.set_linger(0)?;
                            s.set_sndhwm(PEER_HWM)?;
                            s.connect(&to)?;
                            self.peers.entry(to.clone()).or_insert(s)
                        }
                    };
                    let frames: [&[u8]; 2] = [b"", &msg.encode()];
                    if let Err(e) = socket.send_multipart(frames, zmq::DONTWAIT) {
                        tracing::warn!(peer = %to, "message to a peer dropped: {e}");
                    }
                }
                Out::Reset(to) => {
                    self.peers.remove(&to);
                }
            }
        }
        Ok(())
    }
}

/// A node served on its own thread.
#[derive(Debug)]
pub struct Serving {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl Serving {
    /// Starts serving `service` on `bound` on a new thread.
    pub fn start(service: Service, bound: Bound) -> std::io::Result<Serving> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let name = format!("chord-{}", service.node().me().id);
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            let result = run(service, bound, &flag);
            if let Err(e) = &result {
                tracing::error!("chord node stopped: {e}");
            }
            result
        })?;
        Ok(Serving {
            stop,
            thread: Some(thread),
        })
    }

    /// Asks the thread to stop (within ~20 ms).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether the thread ended (on its own: an I/O error it logged).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
