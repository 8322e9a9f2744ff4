//! A traced node with an embedding program's injector and tap: what the
//! program feeds and takes is in the trace, on the lane `(program)`.

use std::sync::Arc;

use rolecall_runtime::trace::{self, Kind, Tracer, PROGRAM};
use rolecall_runtime::wire::WireConfig;
use rolecall_runtime::{Node, NodeExit};

use crate::common::*;

#[actix_rt::test]
async fn injected_and_tapped_messages_are_traced_on_the_programs_lane() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let tracer = Arc::new(Tracer::create(&path, "main", 1000, 2).unwrap());
    let t = topology(
        r#"
        [actors.stage]
        kind = "test.stage"
        params = { tag = "traced-injector" }
        "#,
    );
    let mut node = Node::all(t, registry()).with_trace(Arc::clone(&tracer));
    let input = node
        .inject::<Num>("stage.in", WireConfig::default())
        .expect("inject");
    let tap = node
        .tap::<Num>("stage.out", WireConfig::default())
        .expect("tap");
    let running = node.start().await.expect("start");
    for i in 0..5 {
        assert_eq!(input.output().send_async(Num(i)).await.queued, 1);
    }
    drop(input);
    assert_eq!(tap.collect().await.len(), 5);
    assert_eq!(running.wait().await, NodeExit::Completed);
    tracer.finish().unwrap();

    let events = trace::read(&path).unwrap();
    let lines: Vec<String> = events
        .iter()
        .map(|e| {
            let msg = e.msg.as_deref().unwrap_or("-");
            format!("{} {} {msg}", e.actor, e.kind.name())
        })
        .collect();
    let count = |actor: &str, kind: Kind| {
        events
            .iter()
            .filter(|e| e.actor == actor && e.kind == kind)
            .count()
    };
    assert_eq!(count(PROGRAM, Kind::Send), 5, "{lines:#?}");
    assert_eq!(count("stage", Kind::Receive), 5, "{lines:#?}");
    assert_eq!(count("stage", Kind::Send), 5, "{lines:#?}");
    assert_eq!(count(PROGRAM, Kind::Receive), 5, "{lines:#?}");
    assert_eq!(count(PROGRAM, Kind::Handle), 5, "{lines:#?}");
    // The program's first message comes back after going through the stage.
    let back = events
        .iter()
        .find(|e| e.actor == PROGRAM && e.kind == Kind::Receive)
        .unwrap();
    assert_eq!(back.peer.as_deref(), Some("stage"));
    let first = events
        .iter()
        .find(|e| e.msg.as_deref() == Some("(program)#1") && e.kind == Kind::Receive)
        .unwrap();
    assert_eq!(first.actor, "stage");
    assert!(first.lamport < back.lamport);
}
