//! `rolecall run` and `rolecall node`: start a topology and wait until it ends.

use rolecall::runtime::{Node, NodeExit};

use super::{load, TopologyArgs};

pub(crate) fn run(
    args: &TopologyArgs,
    node: Option<&str>,
    seed: Option<u64>,
    health: Option<&str>,
) -> i32 {
    let registry = rolecall::default_registry();
    let topology = match load(args, &registry) {
        Ok(t) => t,
        Err(code) => return code,
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
