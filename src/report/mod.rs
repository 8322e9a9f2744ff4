//! `rolecall report`: percentile tables and plots of measurements, read from a
//! results file or queried from a server.
//!
//! * [`source`]: where the points come from — a results file (line protocol or
//!   CSV, as `metrics.reporter` writes it), InfluxDB 1.x through InfluxQL, or
//!   VictoriaMetrics through its export API;
//! * the table: one row per series (measurement, tag set, numeric field) with
//!   p50, p90, p99, p99.9, max and samples per second
//!   ([`rolecall_actors::metrics::summary`]);
//! * [`plot`] (in `rolecall-actors`, shared with the reporter's end-of-run
//!   report): latency histogram, CDF and throughput over time, each as PNG
//!   and SVG.

pub use rolecall_actors::metrics::plot;
pub mod source;

use std::path::PathBuf;

use rolecall_actors::metrics::summary::{self, Row, Series};

pub use source::Source;

/// What to report on and where to put the plots.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the points come from.
    pub source: Source,
    /// Only series whose name contains this text.
    pub series: Option<String>,
    /// Write the plots into this directory.
    pub plots: Option<PathBuf>,
}

/// A report failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The points could not be read.
    #[error(transparent)]
    Source(#[from] source::SourceError),
    /// The plots could not be drawn.
    #[error(transparent)]
    Plot(#[from] plot::PlotError),
    /// Nothing to report.
    #[error("no numeric series{} in {from}", filter.as_ref().map(|f| format!(" matching `{f}`")).unwrap_or_default())]
    Empty {
        /// The source.
        from: String,
        /// The series filter.
        filter: Option<String>,
    },
}

/// The outcome: the table rows and the plot files written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// One row per series.
    pub rows: Vec<Row>,
    /// Plot files written.
    pub plots: Vec<PathBuf>,
}

impl Report {
    /// The printable percentile table.
    pub fn table(&self) -> String {
        summary::table(&self.rows)
    }
}

/// Reads the points, computes the table, draws the plots.
pub fn report(options: &Options) -> Result<Report, ReportError> {
    let points = options.source.read()?;
    let series: Vec<Series> = summary::series(&points)
        .into_iter()
        .filter(|s| options.series.as_ref().is_none_or(|f| s.name.contains(f)))
        .collect();
    if series.is_empty() {
        return Err(ReportError::Empty {
            from: options.source.to_string(),
            filter: options.series.clone(),
        });
    }
    let rows = series.iter().map(Row::of).collect();
    let plots = match &options.plots {
        Some(dir) => plot::all(dir, &series)?,
        None => Vec::new(),
    };
    Ok(Report { rows, plots })
}
