//! CURVE on hops: a wire into a node with CURVE keys is encrypted, and its
//! receiver admits only the producer node's public key.
//!
//! The receiving node's ROUTER is the CURVE server (its secret key); the
//! sending node's DEALER is a client (its own key pair and the receiver's
//! public key). libzmq asks the node's [`Zap`] handler (RFC 27, at
//! `inproc://zeromq.zap.01` in the node's context) about every client; it
//! admits the key the topology names for the wire's producer and refuses
//! any other, logging the peer's address and key.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::{worth_logging, Stop};
use crate::remote::link::RemoteError;

/// The CURVE keys one end of a hop uses (paths of Z85 key files).
#[derive(Debug, Clone)]
pub struct HopCurve {
    /// This node's public key file (the sending end presents it).
    pub own_public: String,
    /// This node's secret key file.
    pub own_secret: String,
    /// The other node's public key file: the server's (sender), or the one
    /// client admitted (receiver).
    pub peer_public: String,
    /// Receiver: the node's ZAP handler, which the socket registers with.
    pub zap: Option<Arc<Zap>>,
}

/// Reads a Z85 key file (40 characters, as `rolecall keygen` writes).
fn read_key(path: &str) -> Result<Vec<u8>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading key file {path}: {e}"))?;
    let key = zmq::z85_decode(text.trim())
        .map_err(|_| format!("key file {path} does not hold a Z85 key (40 characters)"))?;
    if key.len() != 32 {
        return Err(format!("key file {path} holds {} bytes, not 32", key.len()));
    }
    Ok(key)
}

/// Makes a hop's socket a CURVE server (ROUTER) or client (DEALER).
pub(crate) fn apply(
    socket: &zmq::Socket,
    curve: &HopCurve,
    server: bool,
    label: &str,
    address: &str,
) -> Result<(), RemoteError> {
    let fail = |reason: String| RemoteError::Curve {
        address: address.to_owned(),
        reason,
    };
    let set = |what: &str, r: zmq::Result<()>| r.map_err(|e| fail(format!("setting {what}: {e}")));
    let secret = read_key(&curve.own_secret).map_err(fail)?;
    let peer = read_key(&curve.peer_public).map_err(fail)?;
    if server {
        set("CURVE server mode", socket.set_curve_server(true))?;
        set("the CURVE secret key", socket.set_curve_secretkey(&secret))?;
        let zap = curve
            .zap
            .as_ref()
            .ok_or_else(|| fail("no ZAP handler for the receiving end".into()))?;
        let domain = zap.admit(peer, label);
        set("the ZAP domain", socket.set_zap_domain(&domain))?;
    } else {
        let public = read_key(&curve.own_public).map_err(fail)?;
        set("the CURVE public key", socket.set_curve_publickey(&public))?;
        set("the CURVE secret key", socket.set_curve_secretkey(&secret))?;
        set("the CURVE server key", socket.set_curve_serverkey(&peer))?;
    }
    Ok(())
}

struct Domain {
    admitted: Vec<u8>,
    label: String,
    refusals: u64,
}

/// A node's ZAP handler for its CURVE hops; stops when the last hop that
/// holds it is gone.
pub struct Zap {
    domains: Arc<Mutex<HashMap<String, Domain>>>,
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Zap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zap").finish_non_exhaustive()
    }
}

impl Zap {
    /// Binds the ZAP endpoint in `context` and starts answering.
    pub fn start(context: &zmq::Context) -> Result<Arc<Zap>, RemoteError> {
        let fail = |reason: String| RemoteError::Curve {
            address: "inproc://zeromq.zap.01".into(),
            reason,
        };
        let rep = context
            .socket(zmq::REP)
            .map_err(|e| fail(format!("creating the ZAP socket: {e}")))?;
        rep.bind("inproc://zeromq.zap.01")
            .map_err(|e| fail(format!("binding the ZAP handler: {e}")))?;
        let domains: Arc<Mutex<HashMap<String, Domain>>> = Arc::default();
        let stop = Arc::new(Stop::default());
        let thread = std::thread::Builder::new()
            .name("rc-hop-zap".into())
            .spawn({
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

    /// A new ZAP domain that admits one client key; returns its name.
    fn admit(&self, key: Vec<u8>, label: &str) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let domain = format!("rolecall-hop-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        if let Ok(mut d) = self.domains.lock() {
            d.insert(
                domain.clone(),
                Domain {
                    admitted: key,
                    label: label.to_owned(),
                    refusals: 0,
                },
            );
        }
        domain
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
pub fn zap_reply(request_id: Vec<u8>, admitted: bool) -> Vec<Vec<u8>> {
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

/// Answers ZAP requests until stopped: 200 for the admitted key of the
/// request's domain, 400 (and a WARN naming the peer and its key) otherwise.
fn serve(rep: &zmq::Socket, domains: &Mutex<HashMap<String, Domain>>, stop: &Stop) {
    while !stop.requested() {
        let mut items = [rep.as_poll_item(zmq::POLLIN)];
        if zmq::poll(&mut items, 100).unwrap_or(0) == 0 {
            continue;
        }
        let Ok(req) = rep.recv_multipart(0) else {
            return;
        };
        // version, request id, domain, address, identity, mechanism, key
        let field = |i: usize| req.get(i).cloned().unwrap_or_default();
        let domain = String::from_utf8_lossy(&field(2)).into_owned();
        let address = String::from_utf8_lossy(&field(3)).into_owned();
        let key = field(6);
        let admitted = match domains.lock() {
            Ok(mut d) => match d.get_mut(&domain) {
                Some(dom) if field(5) == b"CURVE" && dom.admitted == key => true,
                Some(dom) => {
                    dom.refusals += 1;
                    if worth_logging(dom.refusals) {
                        tracing::warn!(
                            hop = %dom.label,
                            peer = %address,
                            key = %zmq::z85_encode(&key).unwrap_or_default(),
                            refusals = dom.refusals,
                            "CURVE client refused: its public key is not the producing node's"
                        );
                    }
                    false
                }
                None => true, // not a hop's domain: libzmq's defaults
            },
            Err(_) => false,
        };
        let reply = zap_reply(field(1), admitted);
        if rep.send_multipart(reply, 0).is_err() {
            return;
        }
    }
}
