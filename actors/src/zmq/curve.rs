//! CURVE security: key files, socket setup, and a ZAP handler that admits
//! only the client keys on a server's allowlist.
//!
//! Key files hold one Z85-encoded key (40 characters): `NAME.key` the secret
//! key, `NAME.pub` the public key, as written by `rolecall keygen NAME`.
//! A server socket with an allowlist gets its own ZAP domain; the process's
//! one ZAP handler (bound at `inproc://zeromq.zap.01` in the endpoint context)
//! answers 200 for listed keys and 400 for every other, so a client with an
//! unknown key is refused during the handshake.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;

use super::io::context;

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
    /// The ZAP handler could not be started.
    #[error("starting the ZAP handler: {0}")]
    ZapThread(std::io::Error),
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

/// Makes `socket` a CURVE server or client per `p`.
pub(crate) fn apply(socket: &zmq::Socket, p: &CurveParams, actor: &str) -> Result<(), CurveError> {
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
            let domain = format!(
                "rolecall-{actor}-{}",
                DOMAINS.fetch_add(1, Ordering::Relaxed)
            );
            allowlists()
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(domain.clone(), allowed);
            ensure_zap_handler()?;
            set("setting the ZAP domain", socket.set_zap_domain(&domain))?;
        }
    }
    Ok(())
}

static DOMAINS: AtomicU64 = AtomicU64::new(0);

/// Per ZAP domain, the admitted client keys (empty: admit all).
fn allowlists() -> &'static Mutex<HashMap<String, HashSet<Vec<u8>>>> {
    static LISTS: OnceLock<Mutex<HashMap<String, HashSet<Vec<u8>>>>> = OnceLock::new();
    LISTS.get_or_init(Default::default)
}

/// Starts the ZAP handler of the current ZeroMQ context, once per context.
fn ensure_zap_handler() -> Result<(), CurveError> {
    static STARTED: Mutex<Option<u64>> = Mutex::new(None);
    let mut started = STARTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let generation = super::io::generation();
    if *started == Some(generation) {
        return Ok(());
    }
    let rep = context()
        .socket(zmq::REP)
        .map_err(zmq_failed("creating the ZAP socket"))?;
    rep.bind("inproc://zeromq.zap.01")
        .map_err(zmq_failed("binding the ZAP handler"))?;
    std::thread::Builder::new()
        .name("rc-zap".into())
        .spawn(move || serve_zap(&rep))
        .map_err(CurveError::ZapThread)?;
    *started = Some(generation);
    Ok(())
}

/// Answers ZAP requests (RFC 27) until its context is terminated.
fn serve_zap(rep: &zmq::Socket) {
    loop {
        let req = match rep.recv_multipart(0) {
            Ok(req) => req,
            // A signal interrupted the wait: go on serving.
            Err(zmq::Error::EINTR) => continue,
            Err(_) => return,
        };
        // version, request id, domain, address, identity, mechanism, credentials...
        let field = |i: usize| req.get(i).cloned().unwrap_or_default();
        let domain = String::from_utf8_lossy(&field(2)).into_owned();
        let mechanism = field(5);
        let key = field(6);
        let admitted = match allowlists().lock() {
            Ok(lists) => match lists.get(&domain) {
                Some(allowed) => {
                    mechanism == b"CURVE" && (allowed.is_empty() || allowed.contains(&key))
                }
                // Not one of ours: leave it to libzmq's defaults.
                None => true,
            },
            Err(_) => false,
        };
        if !admitted {
            let peer = String::from_utf8_lossy(&field(3)).into_owned();
            let key = zmq::z85_encode(&key).unwrap_or_else(|_| format!("{} bytes", key.len()));
            tracing::warn!(
                domain,
                "CURVE client at {peer} refused: its public key {key} is not on the allowlist"
            );
        }
        let reply = rolecall_runtime::remote::zap_reply(field(1), admitted);
        if rep.send_multipart(reply, 0).is_err() {
            return;
        }
    }
}
