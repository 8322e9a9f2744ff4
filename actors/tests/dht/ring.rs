//! Many nodes in one process: every value put from any node is got from
//! every other; providers are found; wired requests are answered by id.

use std::time::Duration;

use futures::future::join_all;
use rolecall_actors::dht::{
    Event, FindProviders, Get, Op, Outcome, Provide, Put, Request, Response,
};
use rolecall_runtime::wire::WireConfig;

use crate::support::*;

#[actix_rt::test]
async fn twenty_nodes_every_value_put_anywhere_is_got_everywhere() {
    // Replication 3: most nodes do not hold a key and must fetch it remotely.
    let mut members = ring(100, 20, "replication = 3", 3).await;
    for (i, m) in members.iter().enumerate() {
        let put = Put::new(&format!("key-{i}"), format!("value from node {i}"));
        let stored = tokio::time::timeout(Duration::from_secs(20), m.dht.send(put))
            .await
            .expect("put within 20 s")
            .expect("node runs");
        stored.unwrap_or_else(|e| panic!("put from node {i}: {e}"));
    }
    let mut remote = 0;
    for (j, m) in members.iter().enumerate() {
        let gets = (0..members.len()).map(|i| {
            let dht = m.dht.clone();
            async move {
                let r = tokio::time::timeout(
                    Duration::from_secs(20),
                    dht.send(Get::new(&format!("key-{i}"))),
                )
                .await;
                (i, r)
            }
        });
        for (i, r) in join_all(gets).await {
            let found = r
                .expect("get within 20 s")
                .expect("node runs")
                .unwrap_or_else(|e| panic!("node {j} getting key-{i}: {e}"));
            assert_eq!(found.value, format!("value from node {i}").into_bytes());
            if !found.local {
                assert_ne!(found.from, m.info.peer_id);
                remote += 1;
            }
        }
    }
    // With 3 holders per key among 20 nodes, most gets cross the network.
    assert!(remote > 200, "only {remote} of 400 gets were remote");
    stop_all(&mut members).await;
}

#[actix_rt::test]
async fn providers_are_found_from_another_node() {
    let mut members = ring(200, 8, "replication = 4", 2).await;
    tokio::time::timeout(
        Duration::from_secs(20),
        members[3].dht.send(Provide {
            key: b"topic/weather".to_vec(),
        }),
    )
    .await
    .expect("in time")
    .expect("runs")
    .expect("provide succeeds");
    let providers = tokio::time::timeout(
        Duration::from_secs(20),
        members[6].dht.send(FindProviders {
            key: b"topic/weather".to_vec(),
        }),
    )
    .await
    .expect("in time")
    .expect("runs")
    .expect("find succeeds");
    assert_eq!(providers.peers, vec![members[3].info.peer_id.clone()]);
    stop_all(&mut members).await;
}

#[actix_rt::test]
async fn wired_requests_are_answered_with_their_ids() {
    let mut members = ring(300, 4, "replication = 3", 1).await;
    let text = format!(
        r#"
        [actors.dht]
        kind = "dht.node"
        params = {{ seed = 399, bootstrap = ["{}"], replication = 3 }}
        "#,
        members[0].addr()
    );
    let mut n = node(&text);
    let requests = n
        .inject::<Request>("dht.requests", WireConfig::default())
        .expect("inject");
    let mut responses = n
        .tap::<Response>("dht.responses", WireConfig::default())
        .expect("tap");
    let mut events = n
        .tap::<Event>("dht.events", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");
    // Joining the ring shows on `events`: routing-table updates, bootstrap done.
    let (mut routed, mut bootstrapped) = (false, false);
    while !(routed && bootstrapped) {
        match tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .expect("events within 20 s")
            .expect("wire open")
        {
            Event::RoutingUpdated { peers, .. } => routed |= peers >= 1,
            Event::BootstrapDone { .. } => bootstrapped = true,
        }
    }
    let put = |id, key: &str, value: &str| Request {
        id,
        op: Op::Put(Put::new(key, value.as_bytes())),
    };
    requests.output().send_async(put(1, "a", "alpha")).await;
    requests.output().send_async(put(2, "b", "beta")).await;
    requests
        .output()
        .send_async(put(3, "", "empty key is malformed"))
        .await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let r = tokio::time::timeout(Duration::from_secs(20), responses.recv())
            .await
            .expect("a response within 20 s")
            .expect("wire open");
        seen.push(r);
    }
    seen.sort_by_key(|r| r.id);
    assert!(matches!(seen[0].outcome, Outcome::Put(Ok(_))), "{seen:?}");
    assert!(matches!(seen[1].outcome, Outcome::Put(Ok(_))), "{seen:?}");
    assert!(matches!(seen[2].outcome, Outcome::Put(Err(_))), "{seen:?}");
    // Another node reads them.
    let found = members[2]
        .dht
        .send(Get::new("b"))
        .await
        .expect("runs")
        .expect("found");
    assert_eq!(found.value, b"beta");
    requests
        .output()
        .send_async(Request {
            id: 9,
            op: Op::Get(Get::new("a")),
        })
        .await;
    let r = tokio::time::timeout(Duration::from_secs(20), responses.recv())
        .await
        .expect("in time")
        .expect("open");
    assert_eq!(r.id, 9);
    match r.outcome {
        Outcome::Get(Ok(found)) => assert_eq!(found.value, b"alpha"),
        other => panic!("{other:?}"),
    }
    running.shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(5), running.wait()).await;
    stop_all(&mut members).await;
}

#[actix_rt::test]
async fn quorums_count_distinct_holders() {
    let mut members = ring(900, 6, "replication = 3", 2).await;
    let put = Put {
        key: b"agreed".to_vec(),
        value: b"by three".to_vec(),
        quorum: Some(3),
    };
    tokio::time::timeout(Duration::from_secs(20), members[2].dht.send(put))
        .await
        .expect("in time")
        .expect("runs")
        .expect("three peers acknowledged");
    let get = Get {
        key: b"agreed".to_vec(),
        quorum: Some(3),
    };
    let found = tokio::time::timeout(Duration::from_secs(20), members[5].dht.send(get))
        .await
        .expect("in time")
        .expect("runs")
        .expect("three copies found");
    assert_eq!(found.value, b"by three");
    assert!(found.copies >= 3, "{found:?}");
    stop_all(&mut members).await;
}
