//! [`InfluxV2`]: batches to the InfluxDB 2 write API (`/api/v2/write`) through
//! the `influxdb2` crate.
//!
//! The crate's `Client::write` takes a stream of its own `DataPoint`s and
//! cannot carry integer-vs-float or our drop accounting; its
//! `write_line_protocol_with_precision` takes a ready body, which is exactly
//! what the [`Batcher`](super::Batcher) produces, so that is what is used.

use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use influxdb2::api::write::TimestampPrecision;
use influxdb2::RequestError;

use super::sink::{http_client, parse_url, ping, Sink, SinkError, WriteError};

/// Writes line protocol to an InfluxDB 2 compatible server (org, bucket, token).
#[derive(Debug)]
pub struct InfluxV2 {
    client: influxdb2::Client,
    /// For [`Sink::probe`] (the crate's client has no plain request).
    http: reqwest::Client,
    base: reqwest::Url,
    org: String,
    bucket: String,
    target: String,
}

impl InfluxV2 {
    /// A sink for `bucket` of `org` at `url`; an empty `token` sends no
    /// Authorization header.
    pub fn new(
        url: &str,
        org: &str,
        bucket: &str,
        token: &str,
        timeout: Duration,
    ) -> Result<Self, SinkError> {
        let base = parse_url(url)?;
        let http = http_client(timeout)
            .build()
            .map_err(|e| SinkError::Client(e.to_string()))?;
        let client = influxdb2::ClientBuilder::with_builder(http_client(timeout), url, org, token)
            .build()
            .map_err(|e| SinkError::Client(e.to_string()))?;
        Ok(InfluxV2 {
            client,
            http,
            base,
            org: org.to_owned(),
            bucket: bucket.to_owned(),
            target: format!("influxdb v2 {url} org {org} bucket {bucket}"),
        })
    }
}

impl Sink for InfluxV2 {
    fn write(&self, body: Bytes) -> BoxFuture<'static, Result<(), WriteError>> {
        let client = self.client.clone();
        let org = self.org.clone();
        let bucket = self.bucket.clone();
        let target = self.target.clone();
        async move {
            client
                .write_line_protocol_with_precision(
                    &org,
                    &bucket,
                    body,
                    TimestampPrecision::Nanoseconds,
                )
                .await
                .map_err(|e| match e {
                    RequestError::Http { status, text } => WriteError::Status {
                        target,
                        status: status.as_u16(),
                        body: text,
                    },
                    other => WriteError::Transport {
                        target,
                        message: other.to_string(),
                    },
                })
        }
        .boxed()
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn probe(&self) -> Option<BoxFuture<'static, Result<(), WriteError>>> {
        Some(ping(&self.http, &self.base, &self.target))
    }
}
