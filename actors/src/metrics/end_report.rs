//! The reporter's end-of-run report: when a `metrics.reporter` with
//! `print_report = true` or `plots_dir` stops, it prints the percentile table
//! ([`summary`]) and draws the histogram, CDF and throughput plots ([`plot`])
//! of what it reported — the same code `rolecall report` runs.
//!
//! Where the points come from:
//! * file output: the results file is read back once written, so the report
//!   covers exactly what the file holds;
//! * server outputs (InfluxDB 1.x / 2): the reporter keeps a copy of every
//!   point it accepted into its buffer, at most `report_max_points` (the first
//!   ones; later ones are counted and the report says how many were left
//!   out). Keeping them avoids a query dialect per server (InfluxQL, Flux) and
//!   a read-your-writes wait; points the server then refused are still in the
//!   report (the stop log line counts them as `rejected`).

use std::fmt::Write as _;
use std::path::PathBuf;

use super::file::{self, Format};
use super::plot;
use super::point::Point;
use super::summary::{self, Row, Series};

/// Where the report's points come from.
#[derive(Debug)]
pub(crate) enum Origin {
    /// Read the results file back.
    File {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: Format,
    },
    /// The points kept while running (server outputs).
    Kept {
        /// The points, at most `max`.
        points: Vec<Point>,
        /// Bound of `points`.
        max: usize,
        /// Points accepted beyond `max`, left out of the report.
        left_out: u64,
    },
}

/// What to do when the reporter stops.
#[derive(Debug)]
pub(crate) struct EndReport {
    /// Print the percentile table.
    pub(crate) table: bool,
    /// Draw the plots into this directory.
    pub(crate) plots: Option<PathBuf>,
    /// Only series whose name contains this.
    pub(crate) filter: Option<String>,
    /// Where the points come from.
    pub(crate) origin: Origin,
}

/// The end-of-run report could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EndReportError {
    /// The results file could not be read back.
    #[error("cannot read results back: {0}")]
    Read(#[from] file::ReadError),
    /// Drawing failed.
    #[error(transparent)]
    Plot(#[from] plot::PlotError),
}

impl EndReport {
    /// Keeps a copy of `point` for the report (server outputs; bounded).
    pub(crate) fn keep(&mut self, point: &Point) {
        if let Origin::Kept {
            points,
            max,
            left_out,
        } = &mut self.origin
        {
            if points.len() < *max {
                points.push(point.clone());
            } else {
                *left_out += 1;
            }
        }
    }

    /// Builds the report; returns the text to print (table, plot files, notes).
    pub(crate) fn run(&self) -> Result<String, EndReportError> {
        let read;
        let (points, left_out) = match &self.origin {
            Origin::File { path, format } => {
                read = file::read_as(path, *format)?;
                (&read, 0)
            }
            Origin::Kept {
                points, left_out, ..
            } => (points, *left_out),
        };
        let series: Vec<Series> = summary::series(points)
            .into_iter()
            .filter(|s| self.filter.as_ref().is_none_or(|f| s.name.contains(f)))
            .collect();
        let mut out = String::new();
        if self.table {
            let rows: Vec<Row> = series.iter().map(Row::of).collect();
            out.push_str(&summary::table(&rows));
        }
        if left_out > 0 {
            let _ = writeln!(
                out,
                "report: {left_out} points after the first {} left out (report_max_points)",
                points.len()
            );
        }
        if let Some(dir) = &self.plots {
            if series.is_empty() {
                let _ = writeln!(out, "plots: no numeric series to draw");
            } else {
                for p in plot::all(dir, &series)? {
                    let _ = writeln!(out, "plot: {}", p.display());
                }
            }
        }
        Ok(out)
    }
}
