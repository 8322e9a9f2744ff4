//! [`Connect`]: where the ZooKeeper servers are and how to open a session.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use zookeeper_client as zkc;

use super::error::{Error, Result};

/// Environment variable read when `servers` is not given.
pub const SERVERS_ENV: &str = "ROLECALL_ZK";

/// The connect string used when neither `servers` nor `ROLECALL_ZK` is set.
const DEFAULT_SERVERS: &str = "127.0.0.1:2181";

/// Session parameters: the same five fields in `zk.session`'s and every
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
    /// How long opening a session keeps trying before giving up, in
    /// milliseconds (default 5000). A kind that cannot open one within it
    /// fails its node with one line naming the servers.
    #[serde(default)]
    pub connect_timeout_ms: Option<u64>,
    /// How long opening a session *again* keeps trying — after a session
    /// expired, or in a restarted incarnation (a server was reachable
    /// before) — in milliseconds; then the node fails as above. Default:
    /// as long as it takes, with a WARN every 30 s (a ZooKeeper outage
    /// longer than the session timeout is waited out, as kazoo and Curator
    /// do).
    #[serde(default)]
    pub reconnect_timeout_ms: Option<u64>,
}

/// How often a reconnection that keeps failing says so again.
const STILL_TRYING_EVERY: Duration = Duration::from_secs(30);

/// First delay between two attempts to open a session; doubles up to
/// [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(1);

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
        self.servers_and_origin().0
    }

    /// The connect string in use and where it came from (for messages).
    fn servers_and_origin(&self) -> (String, &'static str) {
        if let Some(s) = &self.servers {
            return (s.clone(), "the `servers` parameter");
        }
        match std::env::var(SERVERS_ENV) {
            Ok(s) => (s, "ROLECALL_ZK"),
            Err(_) => (DEFAULT_SERVERS.to_owned(), "the default"),
        }
    }

    /// The session timeout asked for.
    pub fn session_timeout(&self) -> Duration {
        Duration::from_millis(self.session_timeout_ms.unwrap_or(4000))
    }

    /// How long [`connect`](Self::connect) keeps trying.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms.unwrap_or(5000))
    }

    /// Checks the parameters: a non-empty connect string, `user:password`
    /// credentials, timeouts of at least 100 ms.
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
        if self.connect_timeout() < Duration::from_millis(100) {
            return Err("`connect_timeout_ms` is below 100".into());
        }
        if self
            .reconnect_timeout()
            .is_some_and(|t| t < Duration::from_millis(100))
        {
            return Err("`reconnect_timeout_ms` is below 100".into());
        }
        Ok(())
    }

    /// How long [`reconnect`](Self::reconnect) keeps trying (`None`: until it succeeds).
    pub fn reconnect_timeout(&self) -> Option<Duration> {
        self.reconnect_timeout_ms.map(Duration::from_millis)
    }

    /// Opens a session. While no server of the connect string answers it
    /// tries again (100 ms, doubling up to 1 s between attempts, one WARN at
    /// the first failure) until [`connect_timeout`](Self::connect_timeout)
    /// has passed, then fails with [`Error::Unreachable`].
    pub async fn connect(&self) -> Result<zkc::Client> {
        self.open_within(Some(self.connect_timeout())).await
    }

    /// Opens a session again, when one was open before: as
    /// [`connect`](Self::connect), but for
    /// [`reconnect_timeout`](Self::reconnect_timeout), by default until a
    /// server answers (a WARN at the first failure, then every 30 s).
    pub async fn reconnect(&self) -> Result<zkc::Client> {
        self.open_within(self.reconnect_timeout()).await
    }

    /// Opens a session, trying for `patience` (`None`: until it succeeds).
    async fn open_within(&self, patience: Option<Duration>) -> Result<zkc::Client> {
        let (servers, origin) = self.servers_and_origin();
        let started = Instant::now();
        let deadline = patience.map(|p| started + p);
        let mut delay = RETRY_FIRST;
        let mut warned: Option<Instant> = None;
        loop {
            // Without a deadline each attempt gets what a session needs to open.
            let left = deadline.map_or(self.session_timeout() + Duration::from_secs(1), |d| {
                d.saturating_duration_since(Instant::now())
            });
            let reason = match self.connect_once(&servers, left).await {
                Ok(client) => {
                    if warned.is_some() {
                        tracing::info!(
                            "reached ZooKeeper at {servers} again after {:.1?}",
                            started.elapsed()
                        );
                    }
                    return Ok(client);
                }
                Err(Some(e)) => return Err(e),
                Err(None) => why_unreachable(&servers).await,
            };
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(Error::Unreachable {
                    servers,
                    origin: origin.to_owned(),
                    waited_ms: started.elapsed().as_millis() as u64,
                    reason,
                });
            }
            match (warned, patience) {
                (None, Some(p)) => tracing::warn!(
                    "cannot reach ZooKeeper at {servers} (from {origin}): {reason}; \
                     trying again for up to {p:?}"
                ),
                (None, None) => tracing::warn!(
                    "cannot reach ZooKeeper at {servers} (from {origin}): {reason}; \
                     trying again until it answers (a WARN every {STILL_TRYING_EVERY:?})"
                ),
                (Some(last), _) if now - last >= STILL_TRYING_EVERY => tracing::warn!(
                    "still cannot reach ZooKeeper at {servers} (from {origin}) after {:.0?}: \
                     {reason}; trying again",
                    started.elapsed()
                ),
                _ => {}
            }
            if warned.is_none_or(|last| now - last >= STILL_TRYING_EVERY) {
                warned = Some(now);
            }
            // The last attempt is made when the deadline comes.
            let pause = deadline.map_or(delay, |d| delay.min(d - now));
            tokio::time::sleep(pause).await;
            delay = (delay * 2).min(RETRY_MAX);
        }
    }

    /// One attempt within `left`: the client, or `Err(None)` when no server
    /// answered, or `Err(Some(e))` for an error trying again will not fix.
    async fn connect_once(
        &self,
        servers: &str,
        left: Duration,
    ) -> std::result::Result<zkc::Client, Option<Error>> {
        let mut connector = zkc::Client::connector()
            .with_session_timeout(self.session_timeout())
            .with_fail_eagerly();
        for a in &self.auth {
            connector = connector.with_auth("digest", a.as_bytes());
        }
        let timeout = (self.session_timeout() + Duration::from_secs(1))
            .min(left)
            .max(Duration::from_millis(100));
        match tokio::time::timeout(timeout, connector.connect(servers)).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(zkc::Error::AuthFailed)) => Err(Some(Error::AuthFailed)),
            Ok(Err(zkc::Error::BadArguments(why))) => Err(Some(Error::Other {
                path: String::new(),
                message: format!("connect string {servers:?}: {why}"),
            })),
            Ok(Err(_)) | Err(_) => Err(None),
        }
    }
}

/// Why no server of `servers` answers, in words a user can act on: each
/// address tried with a plain TCP connect (the client itself only says "no
/// available hosts").
async fn why_unreachable(servers: &str) -> String {
    let hosts = servers.split('/').next().unwrap_or(servers);
    let mut reasons = Vec::new();
    for host in hosts.split(',').map(str::trim).filter(|h| !h.is_empty()) {
        let addr = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:2181")
        };
        let probe = tokio::net::TcpStream::connect(addr.as_str());
        let why = match tokio::time::timeout(Duration::from_secs(1), probe).await {
            Ok(Ok(_)) => "a server listens but opened no session".to_owned(),
            Ok(Err(e)) => io_reason(&e),
            Err(_) => "no answer within 1s".to_owned(),
        };
        reasons.push(format!("{addr}: {why}"));
    }
    reasons.join(", ")
}

/// An I/O error's text without the "(os error N)" suffix.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_lowercase(),
        None => text.to_lowercase(),
    }
}

/// Declares a kind's `Params` struct (`Debug`, `Clone`, serde, unknown
/// fields refused) with [`Connect`]'s five session fields (`servers`,
/// `session_timeout_ms`, `auth`, `connect_timeout_ms`,
/// `reconnect_timeout_ms`) appended, and its
/// `connect()`.
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
            /// How long opening a session keeps trying, in milliseconds
            /// (default 5000); then the node fails.
            #[serde(default)]
            pub connect_timeout_ms: Option<u64>,
            /// How long opening a session again (after an expiry, or in a
            /// restarted incarnation) keeps trying, in milliseconds
            /// (default: until a server answers).
            #[serde(default)]
            pub reconnect_timeout_ms: Option<u64>,
        }

        impl $name {
            /// The session parameters.
            pub fn connect(&self) -> $crate::zk::config::Connect {
                $crate::zk::config::Connect {
                    servers: self.servers.clone(),
                    session_timeout_ms: self.session_timeout_ms,
                    auth: self.auth.clone(),
                    connect_timeout_ms: self.connect_timeout_ms,
                    reconnect_timeout_ms: self.reconnect_timeout_ms,
                }
            }
        }
    };
}
pub(crate) use params_with_session;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_below_100_ms_are_refused_by_name() {
        let mut c = Connect::to("127.0.0.1:2181");
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.reconnect_timeout(), None, "by default: until it answers");
        c.reconnect_timeout_ms = Some(99);
        assert_eq!(
            c.validate(),
            Err("`reconnect_timeout_ms` is below 100".into())
        );
        c.reconnect_timeout_ms = Some(100);
        assert_eq!(c.reconnect_timeout(), Some(Duration::from_millis(100)));
        c.connect_timeout_ms = Some(50);
        assert_eq!(
            c.validate(),
            Err("`connect_timeout_ms` is below 100".into())
        );
    }

    #[allow(unreachable_pub)]
    mod kind {
        params_with_session! {
            /// A kind's parameters, for the test.
            pub struct P {}
        }
    }

    #[test]
    fn a_kinds_params_carry_the_reconnect_timeout() {
        use kind::P;
        let p: P = toml::from_str("servers = \"h:1\"\nreconnect_timeout_ms = 60000").unwrap();
        assert_eq!(
            p.connect().reconnect_timeout(),
            Some(Duration::from_secs(60))
        );
        let bad = toml::from_str::<P>("reconnect_timeout = 5").unwrap_err();
        assert!(
            bad.to_string()
                .contains("unknown field `reconnect_timeout`"),
            "{bad}"
        );
    }
}
