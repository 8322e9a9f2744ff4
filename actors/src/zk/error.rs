//! [`Error`]: what a ZooKeeper request or connection can fail with.

use serde::{Deserialize, Serialize};

/// Why a ZooKeeper request failed, naming the path it was about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Error {
    /// The path is not a valid ZooKeeper path.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The path given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The node (or, for a create, its parent) does not exist.
    #[error("no node {path}")]
    NoNode {
        /// The path.
        path: String,
    },
    /// A node already exists at that path.
    #[error("node {path} already exists")]
    NodeExists {
        /// The path.
        path: String,
    },
    /// The node's version is not the expected one.
    #[error("node {path}: version is not {expected}")]
    BadVersion {
        /// The path.
        path: String,
        /// The version the request expected.
        expected: i32,
    },
    /// The node has children and cannot be deleted.
    #[error("node {path} has children")]
    NotEmpty {
        /// The path.
        path: String,
    },
    /// The session's credentials do not grant access to the node.
    #[error("not authorized to access {path}")]
    NoAuth {
        /// The path.
        path: String,
    },
    /// The server refused the session's credentials.
    #[error("authentication failed")]
    AuthFailed,
    /// The session expired or was closed; the actor opens a new one.
    #[error("session expired")]
    SessionExpired,
    /// The connection to the server was lost while the request was in flight.
    #[error("connection lost during a request on {path}")]
    ConnectionLoss {
        /// The path.
        path: String,
    },
    /// No session could be opened with any server of the connect string
    /// within the connect timeout. The message says how to point the kind
    /// elsewhere.
    #[error(
        "cannot reach ZooKeeper at {servers} (from {origin}), tried for {:.1}s: {reason}; \
         start a server there, or point the `servers` parameter or ROLECALL_ZK at one \
         (host:port[,host:port...])",
        *.waited_ms as f64 / 1000.0
    )]
    Unreachable {
        /// The connect string.
        servers: String,
        /// Where it came from: the `servers` parameter, ROLECALL_ZK, the default.
        origin: String,
        /// How long the kind tried.
        waited_ms: u64,
        /// Why each address did not answer.
        reason: String,
    },
    /// The session is not connected yet (or is between sessions).
    #[error("not connected")]
    NotConnected,
    /// The actor was asked to stop while it opened a session.
    #[error("stopped while opening a session")]
    Stopping,
    /// Any other error the server or client reported.
    #[error("{path}: {message}")]
    Other {
        /// The path.
        path: String,
        /// The client's message.
        message: String,
    },
}

/// A module-wide result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Maps a client error for a request on `path` (`expected`: the version
    /// the request expected, if any).
    pub(crate) fn from_client(
        e: zookeeper_client::Error,
        path: &str,
        expected: Option<i32>,
    ) -> Self {
        use zookeeper_client::Error as E;
        let path = path.to_owned();
        match e {
            E::NoNode => Error::NoNode { path },
            E::NodeExists => Error::NodeExists { path },
            E::BadVersion => Error::BadVersion {
                path,
                expected: expected.unwrap_or(-1),
            },
            E::NotEmpty => Error::NotEmpty { path },
            E::NoAuth => Error::NoAuth { path },
            E::AuthFailed => Error::AuthFailed,
            E::SessionExpired | E::ClientClosed => Error::SessionExpired,
            E::ConnectionLoss => Error::ConnectionLoss { path },
            E::BadArguments(reason) => Error::InvalidPath {
                path,
                reason: (*reason).to_owned(),
            },
            other => Error::Other {
                path,
                message: other.to_string(),
            },
        }
    }
}

/// Checks a path the way the server would, before sending it, so that a bad
/// path is reported with its reason.
pub fn validate_path(path: &str, sequential: bool) -> Result<()> {
    let bad = |reason: &str| {
        Err(Error::InvalidPath {
            path: path.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if path.is_empty() {
        return bad("empty path");
    }
    if !path.starts_with('/') {
        return bad("must start with '/'");
    }
    if path.len() > 1 && path.ends_with('/') && !sequential {
        return bad("must not end with '/'");
    }
    if path.contains('\0') {
        return bad("contains a NUL character");
    }
    for part in path.split('/').skip(1) {
        if part.is_empty() && !(sequential && path.ends_with('/')) && path != "/" {
            return bad("empty segment ('//')");
        }
        if part == "." || part == ".." {
            return bad("relative segment ('.' or '..')");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(validate_path("/a/b", false).is_ok());
        assert!(validate_path("/", false).is_ok());
        assert!(validate_path("/a/", true).is_ok());
        for bad in ["", "a", "/a/", "/a//b", "/a/../b", "/a/./b", "/a\0"] {
            assert!(
                matches!(validate_path(bad, false), Err(Error::InvalidPath { .. })),
                "{bad:?}"
            );
        }
    }
}
