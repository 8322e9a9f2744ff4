//! [`Sink`]: where the reporter's batches go (InfluxDB 1.x, InfluxDB 2, a file).

use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;

use super::batcher::Failure;
use super::line_protocol::{self, Dialect, EncodeError};
use super::point::Point;

/// Why writing one batch failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// No answer: connection refused or reset, timeout.
    #[error("{target}: {message}")]
    Transport {
        /// Where to.
        target: String,
        /// What happened.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{target}: HTTP {status}: {body}")]
    Status {
        /// Where to.
        target: String,
        /// HTTP status code.
        status: u16,
        /// The response body (the server's reason).
        body: String,
    },
    /// A local file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

impl WriteError {
    /// Whether trying again may help: transport and I/O errors, 5xx and 429
    /// are retried, and so are the answers of an InfluxDB 1.x that is
    /// starting or stopping ([`WriteError::server_not_ready`]); any other
    /// status means the server refused the data.
    pub fn failure(&self) -> Failure {
        match self {
            _ if self.server_not_ready() => Failure::Retry,
            WriteError::Status { status, .. } if *status < 500 && *status != 429 => Failure::Reject,
            _ => Failure::Retry,
        }
    }

    /// InfluxDB 1.x answers a write that meets its shards opening or closing
    /// with 400 `partial write: ... engine is closed` (or `store is closed`),
    /// and a write before its databases are loaded — or after the database
    /// went away — with 404 `database not found`. Neither says anything
    /// about the data: the batch is written again (points already written
    /// are overwritten with themselves).
    pub fn server_not_ready(&self) -> bool {
        match self {
            WriteError::Status {
                status: 400, body, ..
            } => {
                body.contains("partial write")
                    && (body.contains("engine is closed") || body.contains("store is closed"))
            }
            WriteError::Status {
                status: 404, body, ..
            } => body.contains("database not found"),
            _ => false,
        }
    }
}

/// Building a sink from its parameters failed.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The server URL does not parse.
    #[error("bad url `{url}`: {message}")]
    Url {
        /// The URL given.
        url: String,
        /// Why it does not parse.
        message: String,
    },
    /// A parameter the output needs is missing.
    #[error("output `{output}` needs parameter `{param}` (or the environment variable {env})")]
    Missing {
        /// The output kind.
        output: &'static str,
        /// The parameter.
        param: &'static str,
        /// The environment variable that may give it instead.
        env: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(String),
    /// The results file cannot be created.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// An output for batches of points.
///
/// `encode` runs on the reporter's thread; the future `write` returns runs on
/// the reporter's I/O thread (`metrics/writer.rs`), so a slow or absent
/// server never blocks the reporter's mailbox or its senders, and writing one
/// batch overlaps encoding the next.
pub trait Sink: std::fmt::Debug {
    /// Encodes one point in this sink's format, appending to `out`.
    fn encode(&self, point: &Point, out: &mut String) -> Result<(), EncodeError> {
        line_protocol::encode(point, Dialect::V2, out)
    }

    /// Writes one batch (the concatenation of encoded points).
    fn write(&self, body: Bytes) -> BoxFuture<'static, Result<(), WriteError>>;

    /// Where it writes, for logs.
    fn target(&self) -> String;

    /// A request showing whether the server answers at all (any HTTP
    /// status counts), made when the reporter starts; `None` for outputs
    /// without a server.
    fn probe(&self) -> Option<BoxFuture<'static, Result<(), WriteError>>> {
        None
    }
}

/// Parses and checks an `http://` URL.
pub(crate) fn parse_url(url: &str) -> Result<reqwest::Url, SinkError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| SinkError::Url {
        url: url.to_owned(),
        message: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(SinkError::Url {
            url: url.to_owned(),
            message: "expected http://HOST:PORT or https://HOST:PORT".into(),
        });
    }
    Ok(parsed)
}

/// A reqwest client with a request timeout.
pub(crate) fn http_client(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
}

/// Maps a reqwest transport error.
pub(crate) fn transport(target: &str, e: &reqwest::Error) -> WriteError {
    WriteError::Transport {
        target: target.to_owned(),
        message: describe(e),
    }
}

/// A reqwest error in words a user can act on: reqwest's own text ("error
/// sending request for url ...") hides the cause, which is at the end of
/// its source chain ("connection refused").
pub(crate) fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer within `timeout_ms`".into();
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.to_lowercase()
}

/// Asks `GET {base}/ping`; any HTTP answer means a server is there (InfluxDB
/// 1.x and 2 answer 204; other servers may answer 404, which is fine too).
pub(crate) fn ping(
    client: &reqwest::Client,
    base: &reqwest::Url,
    target: &str,
) -> BoxFuture<'static, Result<(), WriteError>> {
    use futures::FutureExt;
    let request = base.join("ping").map(|url| client.get(url).send());
    let target = target.to_owned();
    async move {
        let request = request.map_err(|e| WriteError::Transport {
            target: target.clone(),
            message: e.to_string(),
        })?;
        request.await.map_err(|e| transport(&target, &e))?;
        Ok(())
    }
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, body: &str) -> WriteError {
        WriteError::Status {
            target: "influxdb 1.x".into(),
            status,
            body: body.into(),
        }
    }

    #[test]
    fn a_server_starting_or_stopping_is_retried_and_bad_data_is_refused() {
        for retried in [
            status(
                400,
                r#"{"error":"partial write: engine is closed dropped=17"}"#,
            ),
            status(
                400,
                r#"{"error":"partial write: store is closed dropped=3"}"#,
            ),
            status(404, r#"{"error":"database not found: \"rc\""}"#),
            status(500, "timeout"),
            status(429, "slow down"),
        ] {
            assert_eq!(retried.failure(), Failure::Retry, "{retried}");
        }
        for refused in [
            status(
                400,
                r#"{"error":"unable to parse 'x y=': missing field value"}"#,
            ),
            status(
                400,
                r#"{"error":"partial write: field type conflict dropped=1"}"#,
            ),
            status(401, "authorization failed"),
            status(404, "page not found"),
        ] {
            assert_eq!(refused.failure(), Failure::Reject, "{refused}");
        }
    }
}
