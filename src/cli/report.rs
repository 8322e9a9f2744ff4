//! `rolecall report`: percentile table and plots of a results file or a server query.

use std::path::PathBuf;

use rolecall::report::{self, Options, Source};

/// The arguments of `rolecall report`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// A results file (`.lp` line protocol, `.csv`), or a server URL
    /// (`http://host:port`) with `--db` (InfluxDB 1.x) or `--match` (VictoriaMetrics).
    source: String,
    /// InfluxDB 1.x database to query.
    #[arg(long)]
    db: Option<String>,
    /// InfluxQL query (with `--db`).
    #[arg(long, default_value = "SELECT * FROM /.*/")]
    query: String,
    /// VictoriaMetrics series selector for `/api/v1/export`, e.g. `{__name__=~"latency_.*"}`.
    #[arg(long = "match")]
    selector: Option<String>,
    /// Only series whose name contains this text.
    #[arg(long)]
    series: Option<String>,
    /// Write histogram, CDF and throughput plots (PNG and SVG) into this directory.
    #[arg(long)]
    plots: Option<PathBuf>,
    /// Print the rows as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn report(args: ReportArgs) -> i32 {
    let is_url = args.source.starts_with("http://") || args.source.starts_with("https://");
    let source = match (is_url, args.db, args.selector) {
        (false, None, None) => Source::File(PathBuf::from(&args.source)),
        (true, Some(db), None) => Source::InfluxQl {
            url: args.source.clone(),
            db,
            query: args.query,
        },
        (true, None, Some(selector)) => Source::Victoria {
            url: args.source.clone(),
            selector,
        },
        (true, None, None) => {
            eprintln!("error: {}: a server needs --db DB (InfluxDB 1.x) or --match SELECTOR (VictoriaMetrics)", args.source);
            return 2;
        }
        (true, Some(_), Some(_)) => {
            eprintln!("error: --db and --match exclude each other");
            return 2;
        }
        (false, _, _) => {
            eprintln!(
                "error: --db and --match need a server URL, not the file `{}`",
                args.source
            );
            return 2;
        }
    };
    let options = Options {
        source,
        series: args.series,
        plots: args.plots,
    };
    match report::report(&options) {
        Ok(r) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(&r).unwrap_or_else(|_| "{}".into())
                );
            } else {
                print!("{}", r.table());
                for p in &r.plots {
                    println!("plot: {}", p.display());
                }
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
