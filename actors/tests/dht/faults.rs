//! Faults: killed nodes, unreachable bootstrap peers, malformed and
//! oversized records (from our own API and from a plain libp2p peer).

use std::num::NonZeroUsize;
use std::time::Duration;

use futures::StreamExt;
use libp2p::kad::{self, Quorum, Record};
use libp2p::swarm::SwarmEvent;
use rolecall_actors::dht::swarm::BehaviourEvent;
use rolecall_actors::dht::{self, Get, GetError, KeyError, Params, Put, PutError};
use rolecall_runtime::NodeExit;

use crate::support::*;

async fn get(m: &Member, key: &str) -> Result<dht::Found, GetError> {
    tokio::time::timeout(Duration::from_secs(20), m.dht.send(Get::new(key)))
        .await
        .expect("get within 20 s")
        .expect("node runs")
}

#[actix_rt::test]
async fn values_survive_while_fewer_than_k_holders_are_killed() {
    const K: usize = 4;
    let mut members = ring(400, 12, &format!("replication = {K}"), 3).await;
    members[5]
        .dht
        .send(Put::new("survivor", "still here"))
        .await
        .expect("runs")
        .expect("stored");
    // Who holds it: the nodes that find it in their own store.
    let mut holders = Vec::new();
    for (i, m) in members.iter().enumerate() {
        if get(m, "survivor").await.expect("found").local {
            holders.push(i);
        }
    }
    assert!(
        holders.len() >= K,
        "the publisher and k peers hold it: {holders:?}"
    );
    // Kill k-1 holders, the publisher first.
    holders.sort_by_key(|&i| i != 5);
    for &i in holders.iter().take(K - 1) {
        members[i].kill().await;
    }
    for (i, m) in members.iter().enumerate().filter(|(_, m)| m.alive()) {
        let found = get(m, "survivor")
            .await
            .unwrap_or_else(|e| panic!("node {i} after killing {:?}: {e}", &holders[..K - 1]));
        assert_eq!(found.value, b"still here");
    }
    // Kill every holder: the value is gone.
    for &i in &holders {
        members[i].kill().await;
    }
    let alive = members.iter().find(|m| m.alive()).expect("a node is left");
    assert!(matches!(
        get(alive, "survivor").await,
        Err(GetError::NotFound { .. })
    ));
    stop_all(&mut members).await;
}

#[actix_rt::test]
async fn unreachable_bootstrap_fails_clearly_and_is_retried_by_the_supervisor() {
    let ghost = dht::seeded_peer_id(9999);
    let text = format!(
        r#"
        [actors.dht]
        kind = "dht.node"
        restart = "on-failure"
        max_restarts = 2
        within = "30s"
        backoff = {{ min = "50ms", max = "100ms" }}
        params = {{ seed = 500, bootstrap_timeout = "300ms", bootstrap = ["/ip4/127.0.0.1/tcp/24990/p2p/{ghost}"] }}
        "#
    );
    let running = node(&text).start().await.expect("starts");
    let exit = tokio::time::timeout(Duration::from_secs(30), running.wait())
        .await
        .expect("gives up within 30 s");
    let NodeExit::Failed(reason) = exit else {
        panic!("expected a failure, got {exit:?}");
    };
    assert!(
        reason.contains("no bootstrap peer reachable") && reason.contains("24990"),
        "{reason}"
    );
}

#[actix_rt::test]
async fn a_node_restarted_by_its_supervisor_joins_once_the_bootstrap_peer_is_up() {
    let first = dht::seeded_peer_id(600);
    let text = format!(
        r#"
        [actors.dht]
        kind = "dht.node"
        restart = "on-failure"
        max_restarts = 50
        within = "60s"
        backoff = {{ min = "100ms", max = "200ms" }}
        params = {{ seed = 601, bootstrap_timeout = "200ms", bootstrap = ["/ip4/127.0.0.1/tcp/24991/p2p/{first}"] }}
        "#
    );
    let running = node(&text).start().await.expect("starts");
    let late = running.actor::<dht::Node>("dht").expect("actor");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut members = vec![start(600, &[], "listen = \"/ip4/127.0.0.1/tcp/24991\"").await];
    // The same Ref reaches the restarted incarnation, which joined the ring.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let known = tokio::time::timeout(Duration::from_secs(5), late.send(dht::GetInfo))
            .await
            .ok()
            .and_then(|r| r.ok())
            .and_then(|r| r.ok())
            .map(|i| i.routing_peers)
            .unwrap_or(0);
        if known >= 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never joined");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    late.send(Put::new("late", "joined"))
        .await
        .expect("runs")
        .expect("stored at the first node");
    assert_eq!(
        get(&members[0], "late").await.expect("found").value,
        b"joined"
    );
    running.shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(5), running.wait()).await;
    stop_all(&mut members).await;
}

#[actix_rt::test]
async fn malformed_and_oversized_records_are_rejected_with_errors() {
    let mut members = ring(700, 2, "replication = 2, max_record_size = 1000", 1).await;
    let node = &members[0].dht;
    let put = |key: Vec<u8>, value: Vec<u8>, quorum| Put { key, value, quorum };
    let r = node.send(put(vec![], b"v".to_vec(), None)).await.unwrap();
    assert_eq!(r, Err(PutError::Key(KeyError::Empty)));
    let r = node
        .send(put(vec![b'k'; 2000], b"v".to_vec(), None))
        .await
        .unwrap();
    assert!(
        matches!(r, Err(PutError::Key(KeyError::TooLong { len: 2000, .. }))),
        "{r:?}"
    );
    let r = node
        .send(put(b"big".to_vec(), vec![0; 1001], None))
        .await
        .unwrap();
    assert_eq!(
        r,
        Err(PutError::TooLarge {
            size: 1001,
            max: 1000
        })
    );
    assert!(r
        .unwrap_err()
        .to_string()
        .contains("max_record_size = 1000"));
    let r = node
        .send(put(b"q".to_vec(), b"v".to_vec(), Some(3)))
        .await
        .unwrap();
    assert!(
        matches!(
            r,
            Err(PutError::BadQuorum {
                quorum: 3,
                replication: 2
            })
        ),
        "{r:?}"
    );
    let r = node
        .send(Get {
            key: vec![],
            quorum: None,
        })
        .await
        .unwrap();
    assert_eq!(r, Err(GetError::Key(KeyError::Empty)));
    // At the limit it is fine.
    node.send(put(b"fits".to_vec(), vec![7; 1000], None))
        .await
        .unwrap()
        .expect("a record at the limit is stored");

    // A plain libp2p peer (not an actor) that allows 4 KB records sends an
    // oversized one straight to node 1: its store refuses it.
    let params = Params {
        max_record_size: 4096,
        replication: 2,
        ..Params::default()
    };
    let config = params.validate().expect("valid");
    let keypair = dht::seeded_keypair(799);
    let mut raw = dht::swarm::build(keypair, &config).expect("swarm");
    let target = dht::Peer::parse(&members[1].addr()).expect("addr");
    raw.behaviour_mut()
        .kad
        .add_address(&target.id, target.addr.clone());
    let record = Record::new(b"too-big".to_vec(), vec![1; 2000]);
    let id = raw.behaviour_mut().kad.put_record_to(
        record,
        std::iter::once(target.id),
        Quorum::N(NonZeroUsize::MIN),
    );
    let outcome = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let SwarmEvent::Behaviour(BehaviourEvent::Kad(
                kad::Event::OutboundQueryProgressed {
                    id: qid,
                    result: kad::QueryResult::PutRecord(r),
                    ..
                },
            )) = raw.select_next_some().await
            {
                if qid == id {
                    return r;
                }
            }
        }
    })
    .await
    .expect("an answer within 20 s");
    assert!(outcome.is_err(), "node 1 must refuse a 2000-byte record");
    assert!(matches!(
        get(&members[1], "too-big").await,
        Err(GetError::NotFound { .. })
    ));
    stop_all(&mut members).await;
}

#[actix_rt::test]
async fn records_expire_after_their_ttl_everywhere() {
    let mut members = ring(800, 4, "replication = 2, record_ttl = \"1500ms\"", 1).await;
    members[1]
        .dht
        .send(Put::new("short-lived", "soon gone"))
        .await
        .expect("runs")
        .expect("stored");
    for m in &members {
        assert_eq!(
            get(m, "short-lived").await.expect("found").value,
            b"soon gone"
        );
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for (i, m) in members.iter().enumerate() {
        let r = get(m, "short-lived").await;
        assert!(
            matches!(r, Err(GetError::NotFound { .. })),
            "node {i}: {r:?}"
        );
    }
    stop_all(&mut members).await;
}
