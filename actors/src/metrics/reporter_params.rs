//! The parameters of `metrics.reporter` ([`Params`]): where the points go,
//! batching and retry limits, and how they become the reporter's
//! [`batcher::Config`] and [`Sink`].

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::batcher;
use super::file::{self, Format};
use super::influx_v1::InfluxV1;
use super::influx_v2::InfluxV2;
use super::sink::Sink;

/// Where the points go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputKind {
    /// A local results file (`path`, `format`): the embedded default.
    #[default]
    File,
    /// InfluxDB 1.x `/write` (`url`, `db`).
    InfluxV1,
    /// InfluxDB 2 `/api/v2/write` (`url`, `org`, `bucket`, `token`).
    InfluxV2,
}

/// Parameters of `metrics.reporter`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// `file` (default), `influx-v1` or `influx-v2`.
    #[serde(default)]
    pub output: OutputKind,
    /// Results file (default `results/metrics.lp`).
    #[serde(default = "default_path")]
    pub path: PathBuf,
    /// `line-protocol` or `csv` (default: from the file's extension).
    #[serde(default)]
    pub format: Option<Format>,
    /// Empty the results file when this process first opens it (default true).
    #[serde(default = "yes")]
    pub truncate: bool,
    /// Server URL, e.g. `http://127.0.0.1:8086`. Default: the environment
    /// variable `ROLECALL_INFLUXDB_V1` (output `influx-v1`) or
    /// `ROLECALL_INFLUX_V2` (output `influx-v2`), as `scripts/servers.sh`
    /// exports them.
    #[serde(default)]
    pub url: Option<String>,
    /// InfluxDB 1.x database (default `rolecall`).
    #[serde(default = "default_name")]
    pub db: String,
    /// Create the 1.x database before the first write (default true).
    #[serde(default = "yes")]
    pub create_database: bool,
    /// InfluxDB 2 organization (default `rolecall`).
    #[serde(default = "default_name")]
    pub org: String,
    /// InfluxDB 2 bucket (default `rolecall`).
    #[serde(default = "default_name")]
    pub bucket: String,
    /// InfluxDB 2 token (default none).
    #[serde(default)]
    pub token: String,
    /// Points per batch, at most (default 1000).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Write a partial batch after its oldest point waited this long (default 200).
    #[serde(default = "default_flush")]
    pub flush_interval_ms: u64,
    /// Points held at most, buffered plus being written (default 100000).
    #[serde(default = "default_capacity")]
    pub capacity: usize,
    /// First retry delay after a failed write (default 100), doubling...
    #[serde(default = "default_retry_initial")]
    pub retry_initial_ms: u64,
    /// ...up to this (default 5000).
    #[serde(default = "default_retry_max")]
    pub retry_max_ms: u64,
    /// HTTP request timeout (default 5000).
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Server outputs: how long the reporter keeps asking at start for its
    /// server to answer before the node fails (default 5000; 0: no check,
    /// points wait in the buffer until the server comes).
    #[serde(default = "default_timeout")]
    pub wait_for_server_ms: u64,
    /// Send [`Stats`](super::Stats) on `stats` this often (default 1000; 0: only at stop).
    #[serde(default = "default_stats")]
    pub stats_interval_ms: u64,
    /// How long stopping waits for the buffer to be written (default 5000).
    #[serde(default = "default_timeout")]
    pub shutdown_timeout_ms: u64,
    /// At stop, print the percentile table of what was reported (default false).
    #[serde(default)]
    pub print_report: bool,
    /// At stop, write histogram, CDF and throughput plots (PNG and SVG) into
    /// this directory (default none).
    #[serde(default)]
    pub plots_dir: Option<PathBuf>,
    /// With `print_report` / `plots_dir`, only series whose name
    /// (`measurement,tags field`) contains this text.
    #[serde(default)]
    pub report_series: Option<String>,
    /// Server outputs with a report: points kept for it, at most (default 200000).
    #[serde(default = "default_report_max")]
    pub report_max_points: usize,
}

fn default_report_max() -> usize {
    200_000
}

fn yes() -> bool {
    true
}
fn default_path() -> PathBuf {
    PathBuf::from("results/metrics.lp")
}
fn default_name() -> String {
    "rolecall".into()
}
fn default_batch() -> usize {
    1000
}
fn default_flush() -> u64 {
    200
}
fn default_capacity() -> usize {
    100_000
}
fn default_retry_initial() -> u64 {
    100
}
fn default_retry_max() -> u64 {
    5000
}
fn default_timeout() -> u64 {
    5000
}
fn default_stats() -> u64 {
    1000
}

/// Environment variable giving `url` for output `influx-v1`.
pub const INFLUXDB_V1_ENV: &str = "ROLECALL_INFLUXDB_V1";
/// Environment variable giving `url` for output `influx-v2`.
pub const INFLUX_V2_ENV: &str = "ROLECALL_INFLUX_V2";

/// Parameters that do not make a working reporter.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// Batching limits.
    #[error("metrics.reporter: {0}")]
    Batcher(#[from] batcher::ConfigError),
    /// The output cannot be built.
    #[error("metrics.reporter: {0}")]
    Sink(#[from] super::sink::SinkError),
}

impl Params {
    pub(super) fn config(&self) -> batcher::Config {
        batcher::Config::default()
            .batch_size(self.batch_size)
            .flush_interval(Duration::from_millis(self.flush_interval_ms))
            .capacity(self.capacity)
            .retry(
                Duration::from_millis(self.retry_initial_ms),
                Duration::from_millis(self.retry_max_ms),
            )
    }

    /// For a server output: its name, the environment variable that may
    /// give its URL, and the URL in use with where it came from.
    pub(super) fn server(&self) -> Option<Server> {
        let (name, env) = match self.output {
            OutputKind::File => return None,
            OutputKind::InfluxV1 => ("InfluxDB 1.x", INFLUXDB_V1_ENV),
            OutputKind::InfluxV2 => ("the InfluxDB 2 write API", INFLUX_V2_ENV),
        };
        let url = match &self.url {
            Some(u) => Some((u.clone(), "the `url` parameter")),
            None => std::env::var(env).ok().map(|u| (u, env)),
        };
        Some(Server { name, env, url })
    }

    pub(super) fn sink(&self) -> Result<Box<dyn Sink>, ParamsError> {
        use super::sink::SinkError::Missing;
        let timeout = Duration::from_millis(self.timeout_ms);
        let server = self.server();
        let url = |output| {
            let server = server.as_ref();
            server
                .and_then(|s| s.url.as_ref())
                .map(|(u, _)| u.as_str())
                .ok_or(Missing {
                    output,
                    param: "url",
                    env: server.map_or("", |s| s.env),
                })
        };
        Ok(match self.output {
            OutputKind::File => {
                let format = self.format.unwrap_or_else(|| Format::of_path(&self.path));
                Box::new(file::File::new(&self.path, format, self.truncate)?)
            }
            OutputKind::InfluxV1 => Box::new(InfluxV1::new(
                url("influx-v1")?,
                &self.db,
                self.create_database,
                timeout,
            )?),
            OutputKind::InfluxV2 => Box::new(InfluxV2::new(
                url("influx-v2")?,
                &self.org,
                &self.bucket,
                &self.token,
                timeout,
            )?),
        })
    }
}

/// A server output's URL and how a user sets it, for the messages.
#[derive(Debug, Clone)]
pub(super) struct Server {
    /// What kind of server, for people.
    pub(super) name: &'static str,
    /// The environment variable read when `url` is not given.
    pub(super) env: &'static str,
    /// The URL and where it came from.
    pub(super) url: Option<(String, &'static str)>,
}
