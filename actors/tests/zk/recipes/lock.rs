//! `zk.lock`: mutual exclusion in FIFO order, no herd.

use std::time::Duration;

use rolecall_actors::zk::{LockCommand, LockEvent};
use rolecall_runtime::wire::WireConfig;
use rolecall_runtime::{Injector, Running, Tap};

use crate::support::{bare, next, node, servers, unique};

pub(crate) struct Contender {
    pub(crate) running: Running,
    pub(crate) commands: Injector<LockCommand>,
    pub(crate) events: Tap<LockEvent>,
}

pub(crate) async fn contender(path: &str, id: &str, servers: &str) -> Contender {
    let mut n = node(&format!(
        r#"
        [actors.{id}]
        kind = "zk.lock"
        params = {{ servers = "{servers}", path = "{path}", identifier = "{id}" }}
        "#
    ));
    let commands = n
        .inject::<LockCommand>(&format!("{id}.commands"), WireConfig::default())
        .unwrap();
    let events = n
        .tap::<LockEvent>(&format!("{id}.events"), WireConfig::default())
        .unwrap();
    Contender {
        running: n.start().await.expect("start"),
        commands,
        events,
    }
}

pub(crate) async fn quiet(tap: &mut Tap<LockEvent>, ms: u64) {
    if let Ok(e) = actix_rt::time::timeout(Duration::from_millis(ms), tap.recv()).await {
        panic!("expected nothing, got {e:?}");
    }
}

#[actix_rt::test]
async fn one_holder_at_a_time_in_arrival_order() {
    let path = unique("lock");
    let s = servers();
    let mut all = Vec::new();
    for id in ["l0", "l1", "l2"] {
        all.push(contender(&path, id, &s).await);
    }
    for c in &all {
        c.commands.output().send_async(LockCommand::Acquire).await;
        // Arrival order = sequence order.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(matches!(
        next(&mut all[0].events, 10).await,
        LockEvent::Acquired { .. }
    ));
    quiet(&mut all[1].events, 300).await;
    quiet(&mut all[2].events, 10).await;
    for i in 0..3 {
        all[i]
            .commands
            .output()
            .send_async(LockCommand::Release)
            .await;
        assert_eq!(next(&mut all[i].events, 10).await, LockEvent::Released);
        if i + 1 < 3 {
            assert!(matches!(
                next(&mut all[i + 1].events, 10).await,
                LockEvent::Acquired { .. }
            ));
        }
        if i + 2 < 3 {
            quiet(&mut all[i + 2].events, 200).await;
        }
    }
    let c = bare(&s).await;
    crate::support::until_empty(&c, &path).await;
    for x in all {
        x.running.shutdown();
        x.running.wait().await;
    }
    c.delete(&path, None).await.unwrap();
}
