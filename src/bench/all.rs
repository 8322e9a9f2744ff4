//! `rolecall bench all` (or a list, `rolecall bench actor,zmq`): every suite
//! in a process of its own, one after the other, then a summary.
//!
//! A process per suite makes each suite's peak resident memory its own (the
//! kernel's high-water mark of that process) and keeps one suite's leftovers
//! (threads, sockets, a loaded allocator) out of the next one's figures. Each
//! suite's JSON line is printed as it completes (with `--json`), so a long
//! run shows progress; the last line is the summary: each suite's `ratio`,
//! its peak RSS and wall time, the suites that failed and why, and `ratio` =
//! the lowest suite ratio (every suite's ratio is rolecall ÷ its baseline,
//! higher is better, so the lowest is the one furthest from the goal).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Serialize;

/// Every suite, in the order `all` runs them (quick ones first).
pub(super) const SUITES: [&str; 8] = [
    "actor", "zmq", "metrics", "zk", "model", "pubsub", "paxos", "dht",
];

/// The last line of `bench all`.
#[derive(Debug, Serialize, PartialEq)]
pub(super) struct Summary {
    suite: &'static str,
    /// The lowest ratio of the suites that ran (0 when none did).
    ratio: f64,
    /// The suite with that ratio.
    lowest: Option<String>,
    ratios: BTreeMap<String, f64>,
    peak_rss_mib: BTreeMap<String, f64>,
    seconds: BTreeMap<String, f64>,
    /// Suites that did not produce a report, with the reason.
    failed: BTreeMap<String, String>,
}

/// One suite's outcome: its report, or why there is none.
struct Outcome {
    name: String,
    seconds: f64,
    report: Result<serde_json::Value, String>,
}

/// Which suites `spec` names: `all`, or a comma-separated list of suites.
pub(super) fn suites(spec: &str) -> Result<Vec<&'static str>, String> {
    if spec == "all" {
        return Ok(SUITES.to_vec());
    }
    let mut chosen = Vec::new();
    for name in spec.split(',').map(str::trim) {
        let suite = SUITES.iter().find(|s| **s == name).ok_or_else(|| {
            format!(
                "unknown bench suite `{name}` in `{spec}`: available: all, {}",
                SUITES.join(", ")
            )
        })?;
        if !chosen.contains(suite) {
            chosen.push(*suite);
        }
    }
    Ok(chosen)
}

/// Runs `suites` one after the other; returns the exit status (1 when one failed).
pub(super) fn run(suites: &[&'static str], json: bool, messages: Option<u64>) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: bench: cannot find this program to run the suites: {e}");
            return 1;
        }
    };
    let mut outcomes = Vec::new();
    for (i, name) in suites.iter().enumerate() {
        eprintln!("bench: suite {name} ({} of {})", i + 1, suites.len());
        let mut command = Command::new(&exe);
        command.args(["bench", name, "--json"]);
        if let Some(n) = messages.filter(|_| takes_messages(name)) {
            command.args(["--messages", &n.to_string()]);
        }
        let started = Instant::now();
        let report = run_one(command);
        let outcome = Outcome {
            name: (*name).to_owned(),
            seconds: started.elapsed().as_secs_f64(),
            report,
        };
        match &outcome.report {
            Ok(report) if json => println!("{report}"),
            Ok(_) => {}
            Err(e) => eprintln!("bench: suite {name} failed: {e}"),
        }
        outcomes.push(outcome);
    }
    let summary = summarize(&outcomes);
    if json {
        println!(
            "{}",
            serde_json::to_string(&summary).unwrap_or_else(|_| "{}".into())
        );
    } else {
        print!("{}", table(&summary));
    }
    i32::from(!summary.failed.is_empty())
}

/// Suites whose size `--messages` sets.
fn takes_messages(suite: &str) -> bool {
    matches!(suite, "actor" | "zmq" | "metrics" | "paxos" | "pubsub")
}

/// Runs one suite's process: its stderr goes to ours, its last stdout line
/// is its report.
fn run_one(mut command: Command) -> Result<serde_json::Value, String> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let mut last = String::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            match line {
                Ok(line) if !line.trim().is_empty() => last = line,
                Ok(_) => {}
                Err(e) => return Err(format!("reading its output: {e}")),
            }
        }
    }
    let status = child.wait().map_err(|e| format!("waiting for it: {e}"))?;
    if !status.success() {
        return Err(format!("exited with {status} (its error is above)"));
    }
    let report: serde_json::Value = serde_json::from_str(&last)
        .map_err(|e| format!("its last line is not a JSON report ({e}): {last}"))?;
    match report.get("ratio").and_then(serde_json::Value::as_f64) {
        Some(_) => Ok(report),
        None => Err(format!("its report has no numeric `ratio`: {last}")),
    }
}

fn summarize(outcomes: &[Outcome]) -> Summary {
    let mut summary = Summary {
        suite: "all",
        ratio: 0.0,
        lowest: None,
        ratios: BTreeMap::new(),
        peak_rss_mib: BTreeMap::new(),
        seconds: BTreeMap::new(),
        failed: BTreeMap::new(),
    };
    for o in outcomes {
        summary
            .seconds
            .insert(o.name.clone(), (o.seconds * 10.0).round() / 10.0);
        match &o.report {
            Ok(report) => {
                let ratio = report["ratio"].as_f64().unwrap_or(0.0);
                summary.ratios.insert(o.name.clone(), ratio);
                if let Some(rss) = report["peak_rss_mib"].as_f64() {
                    summary.peak_rss_mib.insert(o.name.clone(), rss);
                }
                if summary.lowest.is_none() || ratio < summary.ratio {
                    summary.ratio = ratio;
                    summary.lowest = Some(o.name.clone());
                }
            }
            Err(e) => {
                summary.failed.insert(o.name.clone(), e.clone());
            }
        }
    }
    summary
}

/// The summary as a table, for people.
fn table(s: &Summary) -> String {
    let mut text = format!(
        "{:<8} {:>7} {:>13} {:>9}\n",
        "suite", "ratio", "peak RSS MiB", "seconds"
    );
    for (name, seconds) in &s.seconds {
        let ratio = s
            .ratios
            .get(name)
            .map_or_else(|| "failed".to_owned(), |r| format!("{r:.3}"));
        let rss = s
            .peak_rss_mib
            .get(name)
            .map_or_else(|| "-".to_owned(), |r| format!("{r:.1}"));
        text.push_str(&format!("{name:<8} {ratio:>7} {rss:>13} {seconds:>9.1}\n"));
    }
    if let Some(lowest) = &s.lowest {
        text.push_str(&format!("lowest ratio: {:.3} ({lowest})\n", s.ratio));
    }
    text
}

/// The process's peak resident memory so far in MiB (`VmHWM`), if the
/// kernel says.
pub(super) fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &str, report: Result<serde_json::Value, String>) -> Outcome {
        Outcome {
            name: name.into(),
            seconds: 1.26,
            report,
        }
    }

    #[test]
    fn the_summary_names_the_lowest_ratio_and_every_failure() {
        let s = summarize(&[
            outcome(
                "actor",
                Ok(serde_json::json!({"ratio": 2.9, "peak_rss_mib": 30.5})),
            ),
            outcome("zmq", Ok(serde_json::json!({"ratio": 0.8}))),
            outcome("zk", Err("exited with 1".into())),
        ]);
        assert_eq!(s.ratio, 0.8);
        assert_eq!(s.lowest.as_deref(), Some("zmq"));
        assert_eq!(s.ratios.len(), 2);
        assert_eq!(s.peak_rss_mib.get("actor"), Some(&30.5));
        assert_eq!(
            s.failed.get("zk").map(String::as_str),
            Some("exited with 1")
        );
        assert_eq!(s.seconds.get("zk"), Some(&1.3));
        let t = table(&s);
        assert!(t.contains("zk        failed"), "{t}");
        assert!(t.contains("lowest ratio: 0.800 (zmq)"), "{t}");
    }

    #[test]
    fn suites_are_all_or_a_list_of_known_names() {
        assert_eq!(suites("all").unwrap().len(), SUITES.len());
        assert_eq!(suites("zmq, actor,zmq").unwrap(), ["zmq", "actor"]);
        let e = suites("actor,zmqq").unwrap_err();
        assert!(
            e.starts_with("unknown bench suite `zmqq` in `actor,zmqq`"),
            "{e}"
        );
    }

    #[test]
    fn peak_rss_is_read_from_the_kernel() {
        assert!(peak_rss_mib().is_some_and(|m| m > 0.0));
    }
}
