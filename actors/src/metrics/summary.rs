//! Percentile summaries of numeric fields, one row per series
//! (measurement + tag set + field), as `rolecall report` and the reporter's
//! `print_report` print them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::point::Point;

/// The values of one series, in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// `measurement,tag=value,... field`.
    pub name: String,
    /// (time_ns, value) pairs, sorted by time.
    pub samples: Vec<(i64, f64)>,
}

/// Figures of one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Series name.
    pub series: String,
    /// Number of samples.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p99_9: f64,
    /// Largest value.
    pub max: f64,
    /// Samples per second between the first and last sample (0 for one sample).
    pub per_second: f64,
}

/// Groups the numeric fields of `points` into series (string and boolean
/// fields are left out), sorted by name, samples in time order.
pub fn series(points: &[Point]) -> Vec<Series> {
    let mut map: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    for p in points {
        let mut prefix = p.measurement.clone();
        for (k, v) in &p.tags {
            let _ = write!(prefix, ",{k}={v}");
        }
        for (k, v) in &p.fields {
            if let Some(x) = v.as_f64() {
                map.entry(format!("{prefix} {k}"))
                    .or_default()
                    .push((p.time_ns, x));
            }
        }
    }
    map.into_iter()
        .map(|(name, mut samples)| {
            samples.sort_by_key(|s| s.0);
            Series { name, samples }
        })
        .collect()
}

/// The nearest-rank percentile `p` (0-100] of sorted values (0 if empty).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // nearest rank; the epsilon keeps 99.9% of 1000 at rank 999, not 1000
    let rank = ((p / 100.0) * sorted.len() as f64 - 1e-9).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Row {
    /// The figures of one series.
    pub fn of(series: &Series) -> Row {
        let mut v: Vec<f64> = series.samples.iter().map(|s| s.1).collect();
        v.sort_by(f64::total_cmp);
        let span_ns = match (series.samples.first(), series.samples.last()) {
            (Some(a), Some(b)) => b.0.saturating_sub(a.0),
            _ => 0,
        };
        Row {
            series: series.name.clone(),
            count: v.len(),
            p50: percentile(&v, 50.0),
            p90: percentile(&v, 90.0),
            p99: percentile(&v, 99.0),
            p99_9: percentile(&v, 99.9),
            max: v.last().copied().unwrap_or(0.0),
            per_second: if span_ns > 0 {
                (v.len() - 1) as f64 / (span_ns as f64 / 1e9)
            } else {
                0.0
            },
        }
    }
}

/// One row per series of `points`.
pub fn rows(points: &[Point]) -> Vec<Row> {
    series(points).iter().map(Row::of).collect()
}

/// A printable table of `rows`.
pub fn table(rows: &[Row]) -> String {
    let width = rows
        .iter()
        .map(|r| r.series.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<width$} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "series", "count", "p50", "p90", "p99", "p99.9", "max", "per s"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<width$} {:>8} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            r.series, r.count, r.p50, r.p90, r.p99, r.p99_9, r.max, r.per_second
        );
    }
    s
}
