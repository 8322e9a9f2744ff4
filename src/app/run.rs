//! `rolecall run` and `rolecall node`: start a topology and wait until it ends.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::runtime::topology::Topology;
use crate::runtime::trace::{Tracer, DEFAULT_CAP};
use crate::runtime::{Node, NodeExit};

use super::{load, TopologyArgs};

/// Causal tracing of a run.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// Record a causal trace of the run here (JSON lines; `rolecall trace` draws it):
    /// every message between actors of this process, sent, received and handled.
    /// Overrides the topology's `[trace]`.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Most events the trace records; the rest are counted and stated at its end
    /// (default: the topology's `[trace] cap`, else 1,000,000).
    #[arg(long, value_name = "N")]
    trace_cap: Option<usize>,
}

impl TraceArgs {
    /// The file and cap for node `here`: the command line's, else the
    /// topology's `[trace]`.
    /// Also says where the choice came from, for errors.
    fn chosen(
        &self,
        topology: &Topology,
        file: &Path,
        here: &str,
    ) -> Option<(PathBuf, usize, String)> {
        let spec = topology.trace.as_ref();
        let (path, from) = match (&self.trace, spec) {
            (Some(p), _) => (p.clone(), "--trace".to_owned()),
            (None, Some(s)) => (
                s.path_for(here, file),
                format!("[trace] of {}", file.display()),
            ),
            (None, None) => return None,
        };
        let cap = self
            .trace_cap
            .or_else(|| spec.and_then(|s| s.cap))
            .unwrap_or(DEFAULT_CAP);
        Some((path, cap, from))
    }
}

pub(super) fn run(
    kinds: super::Kinds<'_>,
    args: &TopologyArgs,
    node: Option<&str>,
    seed: Option<u64>,
    health: Option<&str>,
    trace: &TraceArgs,
) -> i32 {
    let registry = kinds();
    let topology = match load(args, &registry) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if trace.trace_cap.is_some() && trace.trace.is_none() && topology.trace.is_none() {
        eprintln!("error: --trace-cap needs --trace FILE (or a [trace] table in the topology)");
        return 2;
    }
    let here = node.unwrap_or("all");
    let tracer = match trace.chosen(&topology, &args.topology, here) {
        None => None,
        Some((path, cap, from)) => {
            let actors = topology.actors.len();
            let nodes = topology
                .actors
                .iter()
                .map(|a| (a.name.clone(), a.node.clone()));
            match Tracer::create(&path, here, cap, actors) {
                Ok(t) => Some(Arc::new(t.with_actor_nodes(nodes))),
                Err(e) => {
                    eprintln!("error: {from}: {e}");
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
    let zmq = node.zmq().clone();
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
    terminate_endpoints(&zmq);
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

/// Closed endpoints and hops may still be delivering within their linger:
/// waits for that (terminating the node's ZeroMQ context `node`, then the
/// process's context of sockets opened outside a node) before the process
/// exits. Call it once the node's actix system is gone.
pub fn terminate_endpoints(node: &crate::runtime::remote::ZmqContext) {
    if let Err(e) = node.terminate() {
        tracing::warn!("{e}; exiting anyway");
    }
    #[cfg(feature = "zmq")]
    if let Err(e) = crate::actors::zmq::io::terminate() {
        tracing::warn!("{e}; exiting anyway");
    }
}
