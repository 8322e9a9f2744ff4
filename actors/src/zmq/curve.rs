//! CURVE security: key files, socket setup, and a ZAP handler that admits
//! only the client keys on a server's allowlist.
//!
//! Key files hold one Z85-encoded key (40 characters): `NAME.key` the secret
//! key, `NAME.pub` the public key, as written by `rolecall keygen NAME`.
//! A server socket with an allowlist gets its own ZAP domain; its node's one
//! ZAP handler ([`Zap`], bound at `inproc://zeromq.zap.01` in the node's
//! context, the same handler its CURVE hops use) answers 200 for listed keys
//! and 400 for every other, so a client with an unknown key is refused
//! during the handshake.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rolecall_runtime::remote::{Zap, ZmqContext};
use serde::Deserialize;

/// CURVE settings of an endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurveParams {
    /// This socket's secret key file. A socket with only this (and `allow`)
    /// is a CURVE server.
    pub secret_key: PathBuf,
    /// This socket's public key file (clients).
    pub public_key: Option<PathBuf>,
    /// The server's public key file: makes this socket a CURVE client.
    pub server_key: Option<PathBuf>,
    /// Servers: public key files (or Z85 keys) of the clients admitted. Empty:
    /// any client that completes the CURVE handshake.
    #[serde(default)]
    pub allow: Vec<String>,
}

/// A key pair written by [`generate`].
#[derive(Debug, Clone)]
pub struct KeyFiles {
    /// Path of the secret key.
    pub secret: PathBuf,
    /// Path of the public key.
    pub public: PathBuf,
}

/// Making keys or a CURVE socket failed.
#[derive(Debug, thiserror::Error)]
pub enum CurveError {
    /// A ZeroMQ call failed (generating, encoding or setting a key, the ZAP
    /// handler's socket).
    #[error("{action}: {source}")]
    Zmq {
        /// What was being done.
        action: &'static str,
        /// Why it failed.
        source: zmq::Error,
    },
    /// A key file could not be read or written, or its directory made.
    #[error("{action} {path}: {source}")]
    File {
        /// `reading key file`, `writing`, `creating`.
        action: &'static str,
        /// The file or directory.
        path: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A key is not 32 bytes of Z85 text.
    #[error("key {source_name} {problem}")]
    BadKey {
        /// The file (or the key text) it came from.
        source_name: String,
        /// `is not Z85: …` or `has N bytes, not 32`.
        problem: String,
    },
    /// A client socket was given a server key without its own public key.
    #[error("a CURVE client needs `public_key` too")]
    ClientWithoutPublicKey,
    /// The context's ZAP handler could not be started.
    #[error("starting the ZAP handler: {0}")]
    Zap(rolecall_runtime::remote::RemoteError),
}

fn zmq_failed(action: &'static str) -> impl FnOnce(zmq::Error) -> CurveError {
    move |source| CurveError::Zmq { action, source }
}

/// Writes a new key pair as `DIR/NAME.key` (secret, mode 0600) and `DIR/NAME.pub`.
pub fn generate(dir: &Path, name: &str) -> Result<KeyFiles, CurveError> {
    let pair = zmq::CurveKeyPair::new().map_err(zmq_failed("generating a key pair"))?;
    let encode = |k: &[u8]| {
        zmq::z85_encode(k).map_err(|e| CurveError::BadKey {
            source_name: "just generated".into(),
            problem: format!("does not encode as Z85: {e:?}"),
        })
    };
    let files = KeyFiles {
        secret: dir.join(format!("{name}.key")),
        public: dir.join(format!("{name}.pub")),
    };
    std::fs::create_dir_all(dir).map_err(|source| CurveError::File {
        action: "creating",
        path: dir.display().to_string(),
        source,
    })?;
    write_private(&files.secret, &encode(&pair.secret_key)?)?;
    std::fs::write(&files.public, encode(&pair.public_key)? + "\n")
        .map_err(|source| writing(&files.public, source))?;
    Ok(files)
}

fn writing(path: &Path, source: std::io::Error) -> CurveError {
    CurveError::File {
        action: "writing",
        path: path.display().to_string(),
        source,
    }
}

fn write_private(path: &Path, key: &str) -> Result<(), CurveError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(path).map_err(|e| writing(path, e))?;
    writeln!(f, "{key}").map_err(|e| writing(path, e))
}

/// Reads a key: a file holding Z85 text, or the Z85 text itself.
fn read_key(source: &str) -> Result<Vec<u8>, CurveError> {
    let text = match std::fs::read_to_string(source) {
        Ok(t) => t,
        Err(_) if source.len() == 40 => source.to_owned(),
        Err(e) => {
            return Err(CurveError::File {
                action: "reading key file",
                path: source.to_owned(),
                source: e,
            })
        }
    };
    let bad = |problem: String| CurveError::BadKey {
        source_name: source.to_owned(),
        problem,
    };
    let key = zmq::z85_decode(text.trim()).map_err(|e| bad(format!("is not Z85: {e:?}")))?;
    if key.len() != 32 {
        return Err(bad(format!("has {} bytes, not 32", key.len())));
    }
    Ok(key)
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// Makes `socket` (of context `ctx`) a CURVE server or client per `p`. A
/// server registers its allowlist as a ZAP domain with the context's one ZAP
/// handler, which it returns: keep it as long as the socket is open.
pub(crate) fn apply(
    ctx: &ZmqContext,
    socket: &zmq::Socket,
    p: &CurveParams,
    actor: &str,
) -> Result<Option<Arc<Zap>>, CurveError> {
    let secret = read_key(&path_str(&p.secret_key))?;
    let set = |what: &'static str, r: zmq::Result<()>| r.map_err(zmq_failed(what));
    match &p.server_key {
        Some(server) => {
            let public = p
                .public_key
                .as_ref()
                .ok_or(CurveError::ClientWithoutPublicKey)?;
            set(
                "setting the CURVE public key",
                socket.set_curve_publickey(&read_key(&path_str(public))?),
            )?;
            set(
                "setting the CURVE secret key",
                socket.set_curve_secretkey(&secret),
            )?;
            set(
                "setting the CURVE server key",
                socket.set_curve_serverkey(&read_key(&path_str(server))?),
            )?;
            Ok(None)
        }
        None => {
            set("setting CURVE server mode", socket.set_curve_server(true))?;
            set(
                "setting the CURVE secret key",
                socket.set_curve_secretkey(&secret),
            )?;
            let allowed: HashSet<Vec<u8>> = p
                .allow
                .iter()
                .map(|k| read_key(k))
                .collect::<Result<_, _>>()?;
            let zap = ctx.zap().map_err(CurveError::Zap)?;
            let domain = zap.admit_clients(allowed, actor);
            set("setting the ZAP domain", socket.set_zap_domain(&domain))?;
            Ok(Some(zap))
        }
    }
}
