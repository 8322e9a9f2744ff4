//! [`Zap`]: the one ZAP handler (RFC 27) of a ZeroMQ context, for every
//! CURVE server socket in it — the receiving ends of cross-node hops and the
//! `zmq.*` endpoints with an allowlist alike.
//!
//! libzmq asks whatever is bound at `inproc://zeromq.zap.01` in the socket's
//! context about every client that completes a CURVE handshake; only one
//! socket per context can bind that address, so a node has one handler and
//! each server socket registers its own ZAP domain with it: a hop's domain
//! admits the producing node's public key only, an endpoint's domain the
//! keys of its allowlist (an empty list: any client that completes the
//! handshake). A request for a domain nobody registered is admitted (libzmq's
//! defaults apply). A refusal is logged with the peer's address and key.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::hop::{worth_logging, Stop};
use super::link::RemoteError;

/// The address libzmq asks for authentication.
const ZAP_ENDPOINT: &str = "inproc://zeromq.zap.01";

/// Whose server socket a ZAP domain belongs to (for the refusal's log line).
#[derive(Debug, Clone)]
enum Owner {
    /// A hop's receiving end, by wire label: admits the producer's key.
    Hop(String),
    /// An endpoint actor: admits its allowlist.
    Endpoint(String),
}

struct Domain {
    /// Admitted client keys; empty: any.
    admitted: HashSet<Vec<u8>>,
    owner: Owner,
    refusals: u64,
}

type Domains = Arc<Mutex<HashMap<String, Domain>>>;

/// A context's ZAP handler; stops when the last socket that holds it is gone
/// (or when its context is terminated).
pub struct Zap {
    domains: Domains,
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Zap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zap").finish_non_exhaustive()
    }
}

static NEXT_DOMAIN: AtomicU64 = AtomicU64::new(0);

impl Zap {
    /// Binds the ZAP endpoint in `context` and starts answering. Use
    /// [`ZmqContext::zap`](super::ZmqContext::zap), which starts one per context.
    pub(crate) fn start(context: &zmq::Context) -> Result<Arc<Zap>, RemoteError> {
        let fail = |reason: String| RemoteError::Curve {
            address: ZAP_ENDPOINT.into(),
            reason,
        };
        let rep = context
            .socket(zmq::REP)
            .map_err(|e| fail(format!("creating the ZAP socket: {e}")))?;
        rep.bind(ZAP_ENDPOINT)
            .map_err(|e| fail(format!("binding the ZAP handler: {e}")))?;
        let domains: Domains = Arc::default();
        let stop = Arc::new(Stop::default());
        let thread = std::thread::Builder::new().name("rc-zap".into()).spawn({
            let domains = Arc::clone(&domains);
            let stop = Arc::clone(&stop);
            move || serve(&rep, &domains, &stop)
        })?;
        Ok(Arc::new(Zap {
            domains,
            stop,
            thread: Some(thread),
        }))
    }

    /// A new ZAP domain for the receiving end of hop `label`, admitting only
    /// the producing node's `key`; returns its name.
    pub fn admit_producer(&self, key: Vec<u8>, label: &str) -> String {
        let domain = format!(
            "rolecall-hop-{}",
            NEXT_DOMAIN.fetch_add(1, Ordering::Relaxed)
        );
        self.register(&domain, HashSet::from([key]), Owner::Hop(label.to_owned()));
        domain
    }

    /// A new ZAP domain for endpoint `actor`'s server socket, admitting the
    /// client keys in `allowed` (empty: any client that completes the CURVE
    /// handshake); returns its name.
    pub fn admit_clients(&self, allowed: HashSet<Vec<u8>>, actor: &str) -> String {
        let domain = format!(
            "rolecall-{actor}-{}",
            NEXT_DOMAIN.fetch_add(1, Ordering::Relaxed)
        );
        self.register(&domain, allowed, Owner::Endpoint(actor.to_owned()));
        domain
    }

    fn register(&self, domain: &str, admitted: HashSet<Vec<u8>>, owner: Owner) {
        if let Ok(mut d) = self.domains.lock() {
            d.insert(
                domain.to_owned(),
                Domain {
                    admitted,
                    owner,
                    refusals: 0,
                },
            );
        }
    }
}

impl Drop for Zap {
    fn drop(&mut self) {
        self.stop.request();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The ZAP reply (RFC 27) to request `request_id`: 200 when `admitted`, else 400.
fn zap_reply(request_id: Vec<u8>, admitted: bool) -> Vec<Vec<u8>> {
    let (code, text): (&[u8], &[u8]) = if admitted {
        (b"200", b"OK")
    } else {
        (b"400", b"key not admitted")
    };
    vec![
        b"1.0".to_vec(),
        request_id,
        code.to_vec(),
        text.to_vec(),
        Vec::new(),
        Vec::new(),
    ]
}

/// Answers ZAP requests until stopped or the context is terminated.
fn serve(rep: &zmq::Socket, domains: &Mutex<HashMap<String, Domain>>, stop: &Stop) {
    while !stop.requested() {
        let mut items = [rep.as_poll_item(zmq::POLLIN)];
        match zmq::poll(&mut items, 100) {
            Ok(0) | Err(zmq::Error::EINTR) => continue,
            Ok(_) => {}
            // ETERM: the context is being terminated and waits for this socket.
            Err(_) => return,
        }
        let req = match rep.recv_multipart(zmq::DONTWAIT) {
            Ok(req) => req,
            Err(zmq::Error::EAGAIN | zmq::Error::EINTR) => continue,
            Err(_) => return,
        };
        let reply = zap_reply(
            req.get(1).cloned().unwrap_or_default(),
            decide(&req, domains),
        );
        if rep.send_multipart(reply, 0).is_err() {
            return;
        }
    }
}

/// Whether request `req` (version, request id, domain, address, identity,
/// mechanism, key) is admitted; a refusal is logged (a hop's: the first few
/// and then one in a thousand).
fn decide(req: &[Vec<u8>], domains: &Mutex<HashMap<String, Domain>>) -> bool {
    let field = |i: usize| req.get(i).map(Vec::as_slice).unwrap_or_default();
    let domain = String::from_utf8_lossy(field(2)).into_owned();
    let Ok(mut domains) = domains.lock() else {
        return false;
    };
    // Not one of ours: leave it to libzmq's defaults.
    let Some(d) = domains.get_mut(&domain) else {
        return true;
    };
    let key = field(6);
    if field(5) == b"CURVE" && (d.admitted.is_empty() || d.admitted.contains(key)) {
        return true;
    }
    d.refusals += 1;
    let peer = String::from_utf8_lossy(field(3)).into_owned();
    let key = zmq::z85_encode(key).unwrap_or_else(|_| format!("{} bytes", key.len()));
    match &d.owner {
        Owner::Hop(label) if worth_logging(d.refusals) => tracing::warn!(
            hop = %label,
            %peer,
            %key,
            refusals = d.refusals,
            "CURVE client refused: its public key is not the producing node's"
        ),
        Owner::Hop(_) => {}
        Owner::Endpoint(actor) => tracing::warn!(
            %actor,
            domain,
            "CURVE client at {peer} refused: its public key {key} is not on the allowlist"
        ),
    }
    false
}
