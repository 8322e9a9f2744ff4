//! CURVE on hops: a wire into a node with CURVE keys is encrypted, and its
//! receiver admits only the producer node's public key.
//!
//! The receiving node's ROUTER is the CURVE server (its secret key); the
//! sending node's DEALER is a client (its own key pair and the receiver's
//! public key). libzmq asks the node's [`Zap`] handler (RFC 27, at
//! `inproc://zeromq.zap.01` in the node's context, the same handler its
//! CURVE endpoints use) about every client; the hop's ZAP domain admits the
//! key the topology names for the wire's producer and refuses any other,
//! logging the peer's address and key.

use std::sync::Arc;

use crate::remote::link::RemoteError;
use crate::remote::Zap;

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
        let domain = zap.admit_producer(peer, label);
        set("the ZAP domain", socket.set_zap_domain(&domain))?;
    } else {
        let public = read_key(&curve.own_public).map_err(fail)?;
        set("the CURVE public key", socket.set_curve_publickey(&public))?;
        set("the CURVE secret key", socket.set_curve_secretkey(&secret))?;
        set("the CURVE server key", socket.set_curve_serverkey(&peer))?;
    }
    Ok(())
}
