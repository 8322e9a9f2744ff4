//! `zk.election`: one leader, followers told who it is, takeover when the
//! leader's session closes.

use std::time::Instant;

use rolecall_actors::zk::Leadership;
use rolecall_runtime::wire::WireConfig;
use rolecall_runtime::{Running, Tap};

use crate::support::{bare, next, node, servers, unique};

pub(crate) async fn candidate(path: &str, id: &str, servers: &str) -> (Running, Tap<Leadership>) {
    let mut n = node(&format!(
        r#"
        [actors.{id}]
        kind = "zk.election"
        params = {{ servers = "{servers}", path = "{path}", identifier = "{id}", session_timeout_ms = 2000 }}
        "#
    ));
    let tap = n
        .tap::<Leadership>(&format!("{id}.leadership"), WireConfig::default())
        .unwrap();
    (n.start().await.expect("start"), tap)
}

#[actix_rt::test]
async fn three_candidates_one_leader_and_takeover_when_its_session_closes() {
    let path = unique("election");
    let s = servers();
    let (r0, mut t0) = candidate(&path, "c0", &s).await;
    assert_eq!(
        next(&mut t0, 10).await,
        Leadership::Elected {
            identifier: "c0".into()
        }
    );
    let (r1, mut t1) = candidate(&path, "c1", &s).await;
    let (r2, mut t2) = candidate(&path, "c2", &s).await;
    for t in [&mut t1, &mut t2] {
        assert_eq!(
            next(t, 10).await,
            Leadership::Following {
                leader: "c0".into()
            }
        );
    }
    // Anyone can read the leader's payload: the lowest child's data.
    let c = bare(&s).await;
    let mut kids = c.list_children(&path).await.unwrap();
    kids.sort_by_key(|k| rolecall_actors::zk::contention::sequence(k));
    let (data, _) = c.get_data(&format!("{path}/{}", kids[0])).await.unwrap();
    assert_eq!(data, b"c0");
    // The leader's session closes: c1 leads, c2 learns it.
    let closed = Instant::now();
    r0.shutdown();
    r0.wait().await;
    assert_eq!(
        next(&mut t1, 10).await,
        Leadership::Elected {
            identifier: "c1".into()
        }
    );
    let takeover = closed.elapsed();
    assert_eq!(
        next(&mut t2, 10).await,
        Leadership::Following {
            leader: "c1".into()
        }
    );
    println!("takeover after the leader's session closed: {takeover:?}");
    assert!(takeover.as_secs() < 3, "{takeover:?}");
    // A follower leaving changes nothing for the leader.
    r2.shutdown();
    r2.wait().await;
    r1.shutdown();
    r1.wait().await;
    crate::support::until_empty(&c, &path).await;
    c.delete(&path, None).await.unwrap();
}

#[actix_rt::test]
async fn a_candidate_waits_out_an_outage_longer_than_its_connect_timeout() {
    // The candidate's session goes through a proxy that is cut until the
    // server has expired the session and then for three connect timeouts
    // more: the incarnation whose session expired crashes, the restarted one
    // keeps trying (it is not the first to reach the server), and the
    // candidate is elected again once the link is back.
    let proxy = crate::proxy::Proxy::to(&servers());
    let path = unique("election-outage");
    let mut n = node(&format!(
        r#"
        [actors.c0]
        kind = "zk.election"
        params = {{ servers = "{}", path = "{path}", identifier = "c0", session_timeout_ms = 2000, connect_timeout_ms = 1000 }}
        "#,
        proxy.addr()
    ));
    let mut t0 = n
        .tap::<Leadership>("c0.leadership", WireConfig::default())
        .unwrap();
    let r0 = n.start().await.expect("start");
    let elected = Leadership::Elected {
        identifier: "c0".into(),
    };
    assert_eq!(next(&mut t0, 10).await, elected);
    let c = bare(&servers()).await;
    proxy.cut();
    let mut gone = false;
    for _ in 0..200 {
        if c.list_children(&path).await.unwrap().is_empty() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        gone,
        "the server expires the session within 10 s of the cut"
    );
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    proxy.mend();
    assert_eq!(next(&mut t0, 20).await, elected);
    assert_eq!(c.list_children(&path).await.unwrap().len(), 1);
    r0.shutdown();
    assert_eq!(r0.wait().await, rolecall_runtime::NodeExit::Completed);
    crate::support::until_empty(&c, &path).await;
    c.delete(&path, None).await.unwrap();
}
