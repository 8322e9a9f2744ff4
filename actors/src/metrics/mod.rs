//! Metrics: typed measurements ([`Point`]s) batched into InfluxDB 1.x, InfluxDB 2
//! or a local results file by the [`Reporter`] actor (`metrics.reporter`).
//!
//! * [`point`]: the [`Point`] message (measurement, tags, fields, timestamp);
//! * [`line_protocol`]: InfluxDB line protocol, encoding and parsing, with the
//!   escaping of the reference (both servers' dialects);
//! * [`batcher`]: I/O-free batching by size and time, bounded buffer with exact
//!   drop counting, retry schedule;
//! * [`sink`], [`influx_v1`], [`influx_v2`], [`file`](mod@file), [`csv`]: the outputs;
//! * [`reporter`]: the actor; its batches are written on its own I/O thread
//!   (`writer.rs`), overlapping the encoding of the next batch;
//! * [`runtime`]: per-actor runtime statistics (handled/s, backlog, restarts) as points;
//! * [`summary`]: percentile tables per series, for reports;
//! * [`plot`]: latency histogram, CDF and throughput plots (PNG and SVG), for
//!   the reporter's end-of-run report and `rolecall report`.
//!
//! | kind | ports | what it does |
//! |---|---|---|
//! | `metrics.reporter` | in: `Point`, out: `Stats` | batches points to the configured output; see [`reporter`] |
//! | `metrics.runtime` | out: `points` (`Point`) | samples every actor's handled/s, backlog, drops, restarts; see [`runtime`] |

pub mod batcher;
pub mod csv;
mod end_report;
pub mod file;
pub mod influx_v1;
pub mod influx_v2;
pub mod line_protocol;
pub mod plot;
pub mod point;
pub mod reporter;
mod reporter_params;
pub mod runtime;
pub mod sink;
pub mod summary;
mod writer;

pub use batcher::{Batcher, Stats};
pub use point::{now_ns, Field, Point};
pub use reporter::{Flush, GetStats, Reporter};
pub use runtime::RuntimeStats;

use rolecall_runtime::kind::{RegisterError, Registry};

/// Registers the metrics kinds.
pub fn register(registry: &mut Registry) -> Result<(), RegisterError> {
    registry
        .register::<Reporter>("metrics.reporter")?
        .register::<RuntimeStats>("metrics.runtime")?;
    Ok(())
}
