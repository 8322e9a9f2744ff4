//! [`Connect`]: where the ZooKeeper servers are and how to open a session.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use zookeeper_client as zkc;

use super::error::{Error, Result};

/// Environment variable read when `servers` is not given.
pub const SERVERS_ENV: &str = "ROLECALL_ZK";

/// Session parameters: the same three fields in `zk.session`'s and every
/// recipe's `params`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Connect {
    /// Connect string, `host:port[,host:port...][/chroot]`. Default: the
    /// `ROLECALL_ZK` environment variable, else `127.0.0.1:2181`.
    #[serde(default)]
    pub servers: Option<String>,
    /// Session timeout to negotiate, in milliseconds (default 4000; the
    /// server clamps it between 2 and 20 of its ticks).
    #[serde(default)]
    pub session_timeout_ms: Option<u64>,
    /// Digest credentials `user:password` added to every session.
    #[serde(default)]
    pub auth: Vec<String>,
}

impl Connect {
    /// Parameters for `servers`, with defaults otherwise.
    pub fn to(servers: impl Into<String>) -> Self {
        Connect {
            servers: Some(servers.into()),
            ..Connect::default()
        }
    }

    /// The connect string in use.
    pub fn servers(&self) -> String {
        self.servers
            .clone()
            .or_else(|| std::env::var(SERVERS_ENV).ok())
            .unwrap_or_else(|| "127.0.0.1:2181".to_owned())
    }

    /// The session timeout asked for.
    pub fn session_timeout(&self) -> Duration {
        Duration::from_millis(self.session_timeout_ms.unwrap_or(4000))
    }

    /// Checks the parameters: a non-empty connect string, `user:password`
    /// credentials, a timeout of at least 100 ms.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let servers = self.servers();
        if servers.trim().is_empty() {
            return Err("`servers` is empty".into());
        }
        for a in &self.auth {
            if !a.contains(':') {
                return Err(format!("`auth` entry {a:?} is not `user:password`"));
            }
        }
        if self.session_timeout() < Duration::from_millis(100) {
            return Err("`session_timeout_ms` is below 100".into());
        }
        Ok(())
    }

    /// Opens a session (fails after about one session timeout).
    pub async fn connect(&self) -> Result<zkc::Client> {
        let servers = self.servers();
        let mut connector = zkc::Client::connector()
            .with_session_timeout(self.session_timeout())
            .with_fail_eagerly();
        for a in &self.auth {
            connector = connector.with_auth("digest", a.as_bytes());
        }
        let timeout = self.session_timeout() + Duration::from_secs(1);
        match tokio::time::timeout(timeout, connector.connect(&servers)).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(zkc::Error::AuthFailed)) => Err(Error::AuthFailed),
            Ok(Err(e)) => Err(Error::Unreachable {
                servers,
                reason: e.to_string(),
            }),
            Err(_) => Err(Error::Unreachable {
                servers,
                reason: format!("no session within {timeout:?}"),
            }),
        }
    }
}

/// Declares a kind's `Params` struct (`Debug`, `Clone`, serde, unknown
/// fields refused) with [`Connect`]'s three session fields (`servers`,
/// `session_timeout_ms`, `auth`) appended, and its `connect()`.
///
/// serde's `flatten` would say this with one `#[serde(flatten)] session:
/// Connect` field, but it cannot be combined with `deny_unknown_fields`,
/// which gives topology files their "unknown parameter" errors; so the fields
/// are written out here, once, for `zk.session` and every recipe.
macro_rules! params_with_session {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident : $ty:ty,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, ::serde::Deserialize, ::serde::Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                pub $field: $ty,
            )*
            /// Connect string (default: `ROLECALL_ZK`, else `127.0.0.1:2181`).
            #[serde(default)]
            pub servers: Option<String>,
            /// Session timeout to negotiate, in milliseconds (default 4000).
            #[serde(default)]
            pub session_timeout_ms: Option<u64>,
            /// Digest credentials `user:password`.
            #[serde(default)]
            pub auth: Vec<String>,
        }

        impl $name {
            /// The session parameters.
            pub fn connect(&self) -> $crate::zk::config::Connect {
                $crate::zk::config::Connect {
                    servers: self.servers.clone(),
                    session_timeout_ms: self.session_timeout_ms,
                    auth: self.auth.clone(),
                }
            }
        }
    };
}
pub(crate) use params_with_session;
