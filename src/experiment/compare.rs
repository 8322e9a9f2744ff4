//! The comparison report: reads what every run's nodes wrote (`.lp` and
//! `.csv` results files under the run's folder), then writes a per-variant
//! percentile table, a latency CDF of every variant on one chart, median
//! and p99 against the swept parameter, and `summary.json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rolecall_actors::metrics::plot::{self, Lines};
use rolecall_actors::metrics::summary::{self, Row, Series};
use serde::Serialize;

use super::model::Experiment;
use super::run::RunRecord;
use crate::report::Source;

/// Writing the report failed.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A results file could not be read.
    #[error(transparent)]
    Source(#[from] crate::report::source::SourceError),
    /// A plot could not be drawn.
    #[error(transparent)]
    Plot(#[from] plot::PlotError),
    /// A report file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The samples of one run, by series.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// What happened to its processes.
    #[serde(flatten)]
    pub record: RunRecord,
    /// Samples of the results series.
    pub samples: usize,
    /// Samples expected, if the experiment says.
    pub expected: Option<u64>,
    /// The results files read.
    pub files: Vec<PathBuf>,
}

impl RunResult {
    /// Processes ended well and the count is as expected.
    pub fn ok(&self) -> bool {
        self.record.ok() && self.expected.is_none_or(|e| e == self.samples as u64)
    }
}

/// One variant's figures.
#[derive(Debug, Clone, Serialize)]
pub struct VariantSummary {
    /// Name.
    pub name: String,
    /// The swept value.
    pub x: Option<f64>,
    /// All runs' samples of the results series, merged.
    pub all: Row,
    /// One row per series.
    pub rows: Vec<Row>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Experiment name.
    pub experiment: String,
    /// Namespace prefix used (empty with `--local`).
    pub prefix: String,
    /// Every run.
    pub runs: Vec<RunResult>,
    /// Every variant.
    pub variants: Vec<VariantSummary>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

impl Summary {
    /// Every run ended well with the expected counts.
    pub fn ok(&self) -> bool {
        self.runs.iter().all(RunResult::ok)
    }
}

fn results_files(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() && depth < 6 {
            results_files(&p, out, depth + 1);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("lp" | "csv")) {
            out.push(p);
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), CompareError> {
    std::fs::write(path, text).map_err(|source| CompareError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Reads every run's results and writes the report into `out`.
pub fn report(
    exp: &Experiment,
    records: Vec<RunRecord>,
    out: &Path,
    prefix: &str,
) -> Result<Summary, CompareError> {
    let filter = exp.series.clone().unwrap_or_default();
    // variant -> series -> samples
    let mut merged: BTreeMap<String, BTreeMap<String, Vec<(i64, f64)>>> = BTreeMap::new();
    let mut runs = Vec::new();
    for record in records {
        let mut files = Vec::new();
        results_files(&record.dir, &mut files, 0);
        let mut samples = 0;
        for f in &files {
            let points = Source::File(f.clone()).read()?;
            for s in summary::series(&points) {
                let field_ok = exp
                    .field
                    .as_ref()
                    .is_none_or(|f| s.name.ends_with(&format!(" {f}")));
                if !s.name.contains(&filter) || !field_ok {
                    continue;
                }
                samples += s.samples.len();
                merged
                    .entry(record.variant.clone())
                    .or_default()
                    .entry(s.name)
                    .or_default()
                    .extend(s.samples);
            }
        }
        let expected = exp
            .variants
            .iter()
            .find(|v| v.name == record.variant)
            .and_then(|v| v.expect);
        runs.push(RunResult {
            record,
            samples,
            expected,
            files,
        });
    }
    let mut variants = Vec::new();
    let mut per_variant = Vec::new();
    for v in &exp.variants {
        let by_series = merged.remove(&v.name).unwrap_or_default();
        let mut all = Series {
            name: v.name.clone(),
            samples: Vec::new(),
        };
        let mut rows = Vec::new();
        for (name, mut samples) in by_series {
            samples.sort_by_key(|s| s.0);
            all.samples.extend(samples.iter().copied());
            rows.push(Row::of(&Series { name, samples }));
        }
        all.samples.sort_by_key(|s| s.0);
        variants.push(VariantSummary {
            name: v.name.clone(),
            x: v.x,
            all: Row::of(&all),
            rows,
        });
        per_variant.push(all);
    }
    std::fs::create_dir_all(out).map_err(|source| CompareError::Io {
        path: out.display().to_string(),
        source,
    })?;
    let mut files = Vec::new();
    let table = table(exp, &variants, &runs);
    let table_path = out.join("table.txt");
    write(&table_path, &table)?;
    files.push(table_path);
    let plots = out.join("plots");
    if per_variant.iter().any(|s| !s.samples.is_empty()) {
        files.extend(plot::cdf_only(&plots, &per_variant)?);
    }
    files.extend(plot::lines(&plots, "runs", &runs_chart(&runs))?);
    if let Some(sweep) = &exp.sweep {
        files.extend(plot::lines(
            &plots,
            "sweep",
            &sweep_chart(sweep, exp.field.as_deref().unwrap_or("value"), &variants),
        )?);
    }
    let mut summary = Summary {
        experiment: exp.name.clone(),
        prefix: prefix.to_owned(),
        runs,
        variants,
        files,
    };
    let json_path = out.join("summary.json");
    summary.files.push(json_path.clone());
    let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
    write(&json_path, &json)?;
    Ok(summary)
}

/// Each variant's run durations against the repetition number.
fn runs_chart(runs: &[RunResult]) -> Lines {
    let mut chart = Lines {
        title: "Run duration (start of the nodes to the last one's end)".to_owned(),
        x_desc: "repetition".to_owned(),
        y_desc: "seconds".to_owned(),
        lines: Vec::new(),
    };
    for r in runs {
        let point = (f64::from(r.record.repetition), r.record.seconds);
        match chart.lines.iter_mut().find(|l| l.0 == r.record.variant) {
            Some(line) => line.1.push(point),
            None => chart.lines.push((r.record.variant.clone(), vec![point])),
        }
    }
    chart
}

/// Median and p99 of each variant family (the name before the swept value)
/// against the swept value.
fn sweep_chart(sweep: &str, y: &str, variants: &[VariantSummary]) -> Lines {
    let mut families: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for v in variants {
        let Some(x) = v.x else { continue };
        let family = v
            .name
            .rsplit_once(&format!("{sweep}="))
            .map(|(f, _)| f.trim())
            .filter(|f| !f.is_empty())
            .unwrap_or("all")
            .to_owned();
        families
            .entry(family)
            .or_default()
            .push((x, v.all.p50, v.all.p99));
    }
    let mut chart = Lines {
        title: format!("Median and p99 against {sweep}"),
        x_desc: sweep.to_owned(),
        y_desc: y.to_owned(),
        lines: Vec::new(),
    };
    for (family, mut points) in families {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart.lines.push((
            format!("{family} p50"),
            points.iter().map(|p| (p.0, p.1)).collect(),
        ));
        chart.lines.push((
            format!("{family} p99"),
            points.iter().map(|p| (p.0, p.2)).collect(),
        ));
    }
    chart
}

fn table(exp: &Experiment, variants: &[VariantSummary], runs: &[RunResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "experiment {}: {} variant(s) × {} repetition(s){}",
        exp.name,
        variants.len(),
        exp.repetitions,
        exp.series
            .as_ref()
            .map(|f| format!(", series matching `{f}`"))
            .unwrap_or_default()
            + &exp
                .field
                .as_ref()
                .map(|f| format!(", field `{f}`"))
                .unwrap_or_default()
    );
    let rows: Vec<Row> = variants.iter().map(|v| v.all.clone()).collect();
    if rows.iter().all(|r| r.count == 0) {
        let _ = writeln!(
            s,
            "\nno results series: the nodes wrote no matching .lp or .csv results file"
        );
    } else {
        let _ = writeln!(s, "\nper variant (all repetitions merged):");
        s.push_str(&summary::table(&rows));
    }
    for v in variants.iter().filter(|v| v.rows.len() > 1) {
        let _ = writeln!(s, "\n{} by series:", v.name);
        s.push_str(&summary::table(&v.rows));
    }
    let _ = writeln!(s, "\nruns:");
    for r in runs {
        let _ = writeln!(
            s,
            "{} #{}: {} in {:.1}s, {} samples{}{}{}",
            r.record.variant,
            r.record.repetition,
            if r.ok() {
                "ok"
            } else if r.record.timed_out {
                "TIMED OUT"
            } else {
                "FAILED"
            },
            r.record.seconds,
            r.samples,
            r.expected
                .map(|e| format!(" (expected {e})"))
                .unwrap_or_default(),
            if r.record.events.is_empty() {
                String::new()
            } else {
                format!("; links: {}", r.record.events.join(", "))
            },
            r.record
                .failure
                .as_deref()
                .and_then(|f| f.lines().next())
                .map(|f| format!("; {f}"))
                .unwrap_or_default()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::file::parse;
    use super::super::run::NodeRecord;
    use super::*;

    fn record(dir: &Path, variant: &str, lines: &[String]) -> RunRecord {
        let node_dir = dir.join(variant).join("n1");
        std::fs::create_dir_all(&node_dir).unwrap();
        std::fs::write(node_dir.join("latency.lp"), lines.join("\n") + "\n").unwrap();
        RunRecord {
            variant: variant.to_owned(),
            repetition: 1,
            dir: dir.join(variant),
            seconds: 1.0,
            timed_out: false,
            nodes: vec![NodeRecord {
                node: "n1".to_owned(),
                host: "h1".to_owned(),
                pid: 1,
                status: Some(0),
            }],
            apps: Vec::new(),
            failure: None,
            processes: Vec::new(),
            zookeeper: Vec::new(),
            events: Vec::new(),
        }
    }

    fn points(n: usize, scale: f64) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(
                    "latency,subscriber=s us={},seq={i}i {}",
                    (i + 1) as f64 * scale,
                    1_000_000_000 + i * 1000
                )
            })
            .collect()
    }

    #[test]
    fn counts_filters_and_compares_variants() {
        let dir = tempfile::tempdir().unwrap();
        let exp = parse(
            "[experiment]\ntopology = \"t.toml\"\n[results]\nseries = \"latency\"\nfield = \"us\"\nexpect = 100\n\
             [[variants]]\nname = \"a\"\n[[variants]]\nname = \"b\"\n\
             [sweep]\nname = \"k\"\nset = \"n.x.k\"\nvalues = [1, 2]\n",
            Path::new("e.toml"),
        )
        .unwrap();
        let names: Vec<String> = exp.variants.iter().map(|v| v.name.clone()).collect();
        assert_eq!(names, ["a k=1", "a k=2", "b k=1", "b k=2"]);
        let records = vec![
            record(dir.path(), "a k=1", &points(100, 1.0)),
            record(dir.path(), "a k=2", &points(100, 2.0)),
            record(dir.path(), "b k=1", &points(100, 3.0)),
            // one message short
            record(dir.path(), "b k=2", &points(99, 4.0)),
        ];
        let out = dir.path().join("out");
        let s = report(&exp, records, &out, "rx0000").unwrap();
        let counts: Vec<usize> = s.runs.iter().map(|r| r.samples).collect();
        assert_eq!(counts, [100, 100, 100, 99], "the `seq` field is left out");
        assert!(!s.ok());
        assert_eq!(s.variants[0].all.p50, 50.0);
        assert_eq!(s.variants[1].all.p99, 198.0);
        let table = std::fs::read_to_string(out.join("table.txt")).unwrap();
        assert!(
            table.contains("b k=2 #1: FAILED in 1.0s, 99 samples (expected 100)"),
            "{table}"
        );
        assert!(table.contains("a k=1 #1: ok"), "{table}");
        for f in [
            "plots/cdf.png",
            "plots/cdf.svg",
            "plots/sweep.png",
            "plots/sweep.svg",
            "summary.json",
        ] {
            assert!(out.join(f).exists(), "{f}");
        }
        let chart = sweep_chart("k", "us", &s.variants);
        let legends: Vec<&str> = chart.lines.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(legends, ["a p50", "a p99", "b p50", "b p99"]);
        assert_eq!(chart.lines[0].1, [(1.0, 50.0), (2.0, 100.0)]);
    }
}
