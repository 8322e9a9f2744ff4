//! Benchmarks behind `rolecall bench <suite> [--json]`.
//!
//! Each suite measures rolecall against a baseline doing the same work in the
//! same run, and reports ratios (machines here are noisy; absolute times are
//! not comparable between runs). With `--json` the last line printed is one
//! JSON object with a `ratio` field.

mod actor;
mod all;
mod codec;
mod dht;
mod metrics;
mod model;
mod paxos;
mod pubsub;
mod pubsub_failover;
mod zk;
mod zmq;

/// Runs suite `name`; returns the process exit status.
/// `all` or a comma-separated list runs each suite in a process of its own
/// and ends with a summary ([`all`]).
pub(crate) fn run_suite(name: &str, json: bool, messages: Option<u64>) -> i32 {
    if name == "all" || name.contains(',') {
        return match all::suites(name) {
            Ok(suites) => all::run(&suites, json, messages),
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        };
    }
    let report = match name {
        "actor" => actor::run(messages.unwrap_or(10_000_000))
            .and_then(|r| serde_json::to_value(r).map_err(|e| e.to_string())),
        "zmq" => zmq::run(messages.unwrap_or(zmq::MESSAGES))
            .and_then(|r| serde_json::to_value(r).map_err(|e| e.to_string())),
        "zk" => zk::run().and_then(|r| serde_json::to_value(r).map_err(|e| e.to_string())),
        "metrics" => metrics::run(messages.unwrap_or(100_000))
            .and_then(|r| serde_json::to_value(r).map_err(|e| e.to_string())),
        "dht" => dht::run().and_then(|r| serde_json::to_value(r).map_err(|e| e.to_string())),
        "pubsub" => pubsub::run(messages.unwrap_or(pubsub::LOOKUPS))
            .and_then(|r| serde_json::to_value(r).map_err(|e| e.to_string())),
        "paxos" => paxos::run(messages.unwrap_or(200_000))
            .and_then(|r| serde_json::to_value(r).map_err(|e| e.to_string())),
        "model" => model::run().and_then(|r| serde_json::to_value(r).map_err(|e| e.to_string())),
        other => {
            eprintln!(
                "error: unknown bench suite `{other}`: available: all, {}",
                all::SUITES.join(", ")
            );
            return 2;
        }
    };
    // Every report says how much memory the suite's process took at its peak.
    let report = report.map(|mut report| {
        if let (Some(fields), Some(rss)) = (report.as_object_mut(), all::peak_rss_mib()) {
            fields.insert("peak_rss_mib".into(), rss.into());
        }
        report
    });
    match report {
        Ok(report) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&report).unwrap_or_else(|_| "{}".into())
                );
            } else {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            }
            0
        }
        Err(e) => {
            eprintln!("error: bench {name}: {e}");
            1
        }
    }
}

/// Loads `text` with `registry`; fails with the loader's message.
fn load(
    text: &str,
    registry: &rolecall_runtime::Registry,
) -> Result<rolecall_runtime::topology::Topology, String> {
    use rolecall_runtime::topology::{load_str, Overrides};
    load_str(text, "bench", registry, &Overrides::new()).map_err(|e| e.to_string())
}

/// Loads `text` with `registry` and runs it in this actix system until the
/// node ends; fails if the topology does not load or the node fails.
async fn run_topology(text: &str, registry: rolecall_runtime::Registry) -> Result<(), String> {
    let topology = load(text, &registry)?;
    run_loaded(topology, registry).await
}

/// Runs an already loaded topology until the node ends.
async fn run_loaded(
    topology: rolecall_runtime::topology::Topology,
    registry: rolecall_runtime::Registry,
) -> Result<(), String> {
    use rolecall_runtime::{Node, NodeExit};
    let running = Node::all(topology, registry)
        .with_seed(1)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    match running.wait().await {
        NodeExit::Completed => Ok(()),
        NodeExit::Failed(reason) => Err(reason),
    }
}

/// Median of a non-empty slice (sorts it).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Rounds measured in pairs, one of each order (the baseline first in even
/// rounds): each pair's ratio is the geometric mean of its two rounds'
/// ratios, in which the order's effect cancels. Returns the median of the
/// pairs' ratios and the pairs' ratios.
fn paired_ratio(round_ratios: &[f64]) -> (f64, Vec<f64>) {
    let pairs: Vec<f64> = round_ratios
        .chunks(2)
        .map(|pair| pair.iter().product::<f64>().sqrt())
        .collect();
    (median(&mut pairs.clone()), pairs)
}
