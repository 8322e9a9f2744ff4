//! `metrics.runtime`: per-actor handled counts, rates, backlog, restarts and
//! fault-injected drops and duplicates, written through the reporter to a
//! results file.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix::prelude::*;
use rolecall_actors::metrics::{file, Field, Point};
use rolecall_codecs::Topic;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::topology::{load_str, Overrides};
use rolecall_runtime::wire::Output;
use rolecall_runtime::{Node, NodeExit};

/// Passes Topic messages on; fails on the 50th, 100th and 150th message it
/// ever sees (counted across incarnations) by panicking, so it is restarted
/// three times.
struct Flaky {
    out: Output<Topic>,
}

static SEEN: AtomicU64 = AtomicU64::new(0);

impl Actor for Flaky {
    type Context = Context<Self>;
}

impl Handler<Topic> for Flaky {
    type Result = ();
    fn handle(&mut self, t: Topic, ctx: &mut Context<Self>) {
        let n = SEEN.fetch_add(1, Ordering::SeqCst) + 1;
        // a panicking handler is a crash, as an `Err` from a fallible one is
        assert!(
            !(n % 50 == 0 && n <= 150),
            "flaky: failing on message {n} on purpose"
        );
        self.out.send(t, ctx);
    }
}

impl Role for Flaky {
    type Params = toml::Table;
    fn ports(p: &mut Ports<Self>) {
        p.input::<Topic>("in").output::<Topic>("out");
    }
    fn build(_: &toml::Table, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Flaky {
            out: io.output("out")?,
        })
    }
}

#[actix_rt::test]
async fn handled_counts_rates_backlog_and_restarts_reach_the_results_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runtime.lp");
    let mut registry = crate::registry();
    registry.register::<Flaky>("test.flaky").unwrap();
    let text = format!(
        r#"
        [topology]
        drain_timeout = "5s"
        [actors.source]
        kind = "topic.source"
        params = {{ count = 200, interval_ms = 2 }}
        [actors.flaky]
        kind = "test.flaky"
        restart = "on-failure"
        max_restarts = 10
        [actors.stats]
        kind = "topic.latency"
        params = {{ print = false }}
        [actors.runtime]
        kind = "metrics.runtime"
        params = {{ interval_ms = 50, until = ["stats"] }}
        [actors.reporter]
        kind = "metrics.reporter"
        params = {{ path = "{}" }}
        [[wires]]
        from = "source.out"
        to = "flaky.in"
        [[wires]]
        from = "flaky.out"
        to = "stats.in"
        [[wires]]
        from = "runtime.points"
        to = "reporter.in"
        [[faults]]
        wires = ["flaky.out -> stats.in"]
        drop = 0.1
        duplicate = 0.1
        "#,
        path.display()
    );
    let t = load_str(&text, "runtime.toml", &registry, &Overrides::new()).unwrap();
    let running = Node::all(t, registry).with_seed(9).start().await.unwrap();
    let exit = actix_rt::time::timeout(Duration::from_secs(30), running.wait())
        .await
        .expect("the node ends once `stats` stopped and the reporter flushed");
    assert_eq!(exit, NodeExit::Completed);
    let points: Vec<Point> = file::read(&path).unwrap();
    let last = |actor: &str| {
        points
            .iter()
            .rev()
            .find(|p| p.tags.get("actor").map(String::as_str) == Some(actor))
            .unwrap_or_else(|| panic!("no sample of {actor}: {points:?}"))
            .clone()
    };
    let int = |p: &Point, f: &str| match p.fields[f] {
        Field::Int(i) => i,
        ref other => panic!("{f} is {other:?}"),
    };
    let flaky = last("flaky");
    assert_eq!(int(&flaky, "restarts"), 3, "{flaky:?}");
    assert_eq!(
        int(&flaky, "handled"),
        200,
        "every message was handled once: {flaky:?}"
    );
    let stats = last("stats");
    let (lost, twice) = (
        int(&stats, "fault_dropped"),
        int(&stats, "fault_duplicated"),
    );
    assert!(lost > 0 && twice > 0, "{stats:?}");
    assert_eq!(
        int(&stats, "handled"),
        197 - lost + twice,
        "three failed, the rest passed on through the faulty wire: {stats:?}"
    );
    assert_eq!(int(&flaky, "fault_dropped"), 0, "{flaky:?}");
    assert_eq!(int(&flaky, "fault_duplicated"), 0, "{flaky:?}");
    assert_eq!(int(&last("source"), "restarts"), 0);
    assert_eq!(int(&last("stats"), "backlog"), 0);
    // the three messages whose handler panicked hold no slot of the wire
    assert_eq!(int(&flaky, "backlog"), 0, "{flaky:?}");
    assert!(points
        .iter()
        .all(|p| p.tags["node"] == "main" || !p.tags["node"].is_empty()));
    // while messages flowed, some sample saw a positive rate for `stats`
    let peak = points
        .iter()
        .filter(|p| p.tags["actor"] == "stats")
        .filter_map(|p| p.fields["handled_per_s"].as_f64())
        .fold(0.0, f64::max);
    assert!(peak > 50.0, "peak handled/s of stats: {peak}");
}
