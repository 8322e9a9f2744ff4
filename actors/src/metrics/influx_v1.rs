//! [`InfluxV1`]: batches to InfluxDB 1.x's `/write?db=...&precision=ns`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;

use super::line_protocol::{self, Dialect, EncodeError};
use super::point::Point;
use super::sink::{http_client, parse_url, ping, transport, Sink, SinkError, WriteError};

/// Writes line protocol (1.x dialect) to an InfluxDB 1.x server.
///
/// With `create_database`, the first write (and any write after a failure
/// until it succeeds) first sends `CREATE DATABASE` (idempotent in InfluxDB).
#[derive(Debug)]
pub struct InfluxV1 {
    client: reqwest::Client,
    base: reqwest::Url,
    write_url: reqwest::Url,
    query_url: reqwest::Url,
    db: String,
    target: String,
    create_database: bool,
    database_ready: Arc<AtomicBool>,
}

impl InfluxV1 {
    /// A sink for database `db` at `url` (`http://host:port`).
    pub fn new(
        url: &str,
        db: &str,
        create_database: bool,
        timeout: Duration,
    ) -> Result<Self, SinkError> {
        let base = parse_url(url)?;
        let mut write_url = base.join("write").map_err(|e| SinkError::Url {
            url: url.to_owned(),
            message: e.to_string(),
        })?;
        write_url
            .query_pairs_mut()
            .append_pair("db", db)
            .append_pair("precision", "ns");
        let query_url = base.join("query").map_err(|e| SinkError::Url {
            url: url.to_owned(),
            message: e.to_string(),
        })?;
        let client = http_client(timeout)
            .build()
            .map_err(|e| SinkError::Client(e.to_string()))?;
        Ok(InfluxV1 {
            client,
            base,
            write_url,
            query_url,
            db: db.to_owned(),
            target: format!("influxdb 1.x {url} db {db}"),
            create_database,
            database_ready: Arc::new(AtomicBool::new(!create_database)),
        })
    }
}

async fn check(target: &str, response: reqwest::Response) -> Result<(), WriteError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    Err(WriteError::Status {
        target: target.to_owned(),
        status: status.as_u16(),
        body,
    })
}

impl Sink for InfluxV1 {
    fn encode(&self, point: &Point, out: &mut String) -> Result<(), EncodeError> {
        line_protocol::encode(point, Dialect::V1, out)
    }

    fn write(&self, body: Bytes) -> BoxFuture<'static, Result<(), WriteError>> {
        let client = self.client.clone();
        let write_url = self.write_url.clone();
        let query_url = self.query_url.clone();
        let target = self.target.clone();
        let ready = Arc::clone(&self.database_ready);
        let create = format!("CREATE DATABASE \"{}\"", self.db.replace('"', "\\\""));
        let create_database = self.create_database;
        async move {
            if create_database && !ready.load(Ordering::Acquire) {
                let response = client
                    .post(query_url)
                    .form(&[("q", create.as_str())])
                    .send()
                    .await
                    .map_err(|e| transport(&target, &e))?;
                check(&target, response).await?;
                ready.store(true, Ordering::Release);
            }
            let response = client
                .post(write_url)
                .body(body)
                .send()
                .await
                .map_err(|e| transport(&target, &e))?;
            let written = check(&target, response).await;
            if let Err(e @ WriteError::Status { status: 404, .. }) = &written {
                // `database not found`: the database went away (a server that
                // came back without its data); made again before the retry.
                if create_database && e.server_not_ready() {
                    ready.store(false, Ordering::Release);
                }
            }
            written
        }
        .boxed()
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn probe(&self) -> Option<BoxFuture<'static, Result<(), WriteError>>> {
        Some(ping(&self.client, &self.base, &self.target))
    }
}
