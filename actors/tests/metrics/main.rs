//! The metrics reporter: line protocol (property tests), the batcher (fake
//! clock), the reporter actor with file output, and against real InfluxDB 1.x
//! and VictoriaMetrics servers (read back through their query APIs), including
//! a server stopped and restarted mid-run.
//!
//! Server tests need `scripts/servers.sh start` and `source target/test-servers/env`
//! (make test does both).

mod batcher;
mod file_output;
mod line_protocol;
mod runtime_stats;
mod servers;
mod summary;

use rolecall_runtime::topology::{load_str, Overrides};
use rolecall_runtime::{Node, Registry};

fn registry() -> Registry {
    let mut r = Registry::new();
    rolecall_actors::register_all(&mut r).expect("kinds register");
    r
}

fn node(text: &str) -> Node {
    let t = load_str(text, "metrics-test.toml", &registry(), &Overrides::new())
        .unwrap_or_else(|e| panic!("{e}"));
    Node::all(t, registry()).with_seed(5)
}

/// The address of a test server from the environment, or a failure saying how to start it.
fn server(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: start the test servers with `scripts/servers.sh start` \
             and `source target/test-servers/env` (make test does this)"
        )
    })
}
