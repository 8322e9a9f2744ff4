//! `rolecall run` and `rolecall node`: start a topology and wait until it ends.

use std::path::PathBuf;
use std::sync::Arc;

use rolecall::runtime::trace::{Tracer, DEFAULT_CAP};
use rolecall::runtime::{Node, NodeExit};

use super::{load, TopologyArgs};

/// Causal tracing of a run.
#[derive(Debug, clap::Args)]
pub(crate) struct TraceArgs {
    /// Record a causal trace of the run here (JSON lines; `rolecall trace` draws it):
    /// every message between actors of this process, sent, received and handled.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Most events the trace records; the rest are counted and stated at its end.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CAP, requires = "trace")]
    trace_cap: usize,
}

pub(crate) fn run(
    args: &TopologyArgs,
    node: Option<&str>,
    seed: Option<u64>,
    health: Option<&str>,
    trace: &TraceArgs,
) -> i32 {
    let registry = rolecall::default_registry();
    let topology = match load(args, &registry) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let tracer = match &trace.trace {
        None => None,
        Some(path) => {
            let actors = topology.actors.len();
            let nodes = topology
                .actors
                .iter()
                .map(|a| (a.name.clone(), a.node.clone()));
            let here = node.unwrap_or("all");
            match Tracer::create(path, here, trace.trace_cap, actors) {
                Ok(t) => Some(Arc::new(t.with_actor_nodes(nodes))),
                Err(e) => {
                    eprintln!("error: --trace: {e}");
                    return 2;
                }
            }
        }
    };
    let node = match node {
        None => Ok(Node::all(topology, registry)),
        Some(name) => Node::new(topology, registry, name),
    };
    let node = match node {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let node = match seed {
        Some(s) => node.with_seed(s),
        None => node,
    };
    let node = match &tracer {
        Some(t) => node.with_trace(Arc::clone(t)),
        None => node,
    };
    tracing::info!(
        seed = node.seed(),
        "starting (replay with --seed {})",
        node.seed()
    );
    let ready = match health.map(super::health::serve).transpose() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: --health {}: {e}", health.unwrap_or_default());
            return 2;
        }
    };
    let system = actix::System::new();
    let exit = system.block_on(async move {
        let running = match node.start().await {
            Ok(r) => r,
            Err(e) => return Err(e),
        };
        running.shutdown_on_signals();
        if let Some(r) = &ready {
            r.set();
        }
        Ok(running.wait().await)
    });
    drop(system);
    terminate_endpoints();
    if let Some(t) = tracer {
        if let Err(e) = t.finish() {
            eprintln!("error: --trace: {e}");
            return 1;
        }
    }
    match exit {
        Ok(NodeExit::Completed) => 0,
        Ok(NodeExit::Failed(reason)) => {
            eprintln!("error: node failed: {reason}");
            1
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// Closed endpoints may still be delivering within their linger: waits for
/// that (terminating the endpoints' ZeroMQ context) before the process exits.
pub(crate) fn terminate_endpoints() {
    if let Err(e) = rolecall::actors::zmq::io::terminate() {
        tracing::warn!("{e}; exiting anyway");
    }
}
