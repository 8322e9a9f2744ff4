//! `zk.barrier`: N members in one process; a kazoo course-style member.

use rolecall_actors::zk::{BarrierCommand, BarrierEvent};
use rolecall_runtime::wire::WireConfig;
use rolecall_runtime::Tap;

use super::kazoo::Kazoo;
use crate::support::{bare, next, node, servers, unique};

fn members(path: &str, names: &[&str], size: usize, leave_after_ms: &str) -> String {
    let s = servers();
    let mut t = String::new();
    for (i, n) in names.iter().enumerate() {
        t.push_str(&format!(
            r#"
            [actors.{n}]
            kind = "zk.barrier"
            params = {{ servers = "{s}", path = "{path}", size = {size}, driver = {} {leave_after_ms} }}
            "#,
            i == 0
        ));
    }
    t
}

#[actix_rt::test]
async fn n_members_in_one_process_enter_are_released_and_leave() {
    let path = unique("barrier");
    let names = ["m0", "m1", "m2", "m3"];
    let mut n = node(&members(&path, &names, 4, ", leave_after_ms = 100"));
    let mut taps: Vec<Tap<BarrierEvent>> = names
        .iter()
        .map(|m| {
            n.tap(&format!("{m}.events"), WireConfig::default())
                .unwrap()
        })
        .collect();
    let running = n.start().await.expect("start");
    for t in &mut taps {
        assert_eq!(next(t, 10).await, BarrierEvent::Entered);
    }
    let all: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    for t in &mut taps {
        assert_eq!(
            next(t, 10).await,
            BarrierEvent::Released {
                members: all.clone()
            }
        );
    }
    for t in &mut taps {
        assert_eq!(next(t, 10).await, BarrierEvent::Left);
    }
    // Every member stopped after leaving: the node ends by itself; the driver
    // removed the barrier.
    running.wait().await;
    let c = bare(&servers()).await;
    assert_eq!(c.check_stat(&path).await.unwrap(), None);
}

#[actix_rt::test]
async fn double_barrier_waits_for_everyone_to_leave() {
    let path = unique("double-barrier");
    let mut n = node(&members(&path, &["d0", "d1"], 2, ""));
    let mut e0 = n
        .tap::<BarrierEvent>("d0.events", WireConfig::default())
        .unwrap();
    let mut e1 = n
        .tap::<BarrierEvent>("d1.events", WireConfig::default())
        .unwrap();
    let l0 = n
        .inject::<BarrierCommand>("d0.commands", WireConfig::default())
        .unwrap();
    let l1 = n
        .inject::<BarrierCommand>("d1.commands", WireConfig::default())
        .unwrap();
    let running = n.start().await.expect("start");
    for e in [&mut e0, &mut e1] {
        assert_eq!(next(e, 10).await, BarrierEvent::Entered);
        assert!(matches!(next(e, 10).await, BarrierEvent::Released { .. }));
    }
    l0.output().send_async(BarrierCommand::Leave).await;
    // d0 has left but d1 is still inside: d0 waits.
    assert!(
        actix_rt::time::timeout(std::time::Duration::from_millis(500), e0.recv())
            .await
            .is_err(),
        "d0 must not pass the exit while d1 is inside"
    );
    l1.output().send_async(BarrierCommand::Leave).await;
    assert_eq!(next(&mut e0, 10).await, BarrierEvent::Left);
    assert_eq!(next(&mut e1, 10).await, BarrierEvent::Left);
    running.wait().await;
}

#[actix_rt::test]
async fn a_course_style_kazoo_client_is_a_member() {
    let path = unique("kazoo-barrier");
    let mut n = node(&members(&path, &["r0", "r1"], 3, ", leave_after_ms = 100"));
    let mut e0 = n
        .tap::<BarrierEvent>("r0.events", WireConfig::default())
        .unwrap();
    let mut e1 = n
        .tap::<BarrierEvent>("r1.events", WireConfig::default())
        .unwrap();
    let running = n.start().await.expect("start");
    for e in [&mut e0, &mut e1] {
        assert_eq!(next(e, 10).await, BarrierEvent::Entered);
    }
    // Two of three: nobody is released until kazoo joins.
    assert!(
        actix_rt::time::timeout(std::time::Duration::from_millis(500), e0.recv())
            .await
            .is_err()
    );
    let mut py = Kazoo::run("barrier.py", &[&servers(), &path, "py", "3"]);
    py.expect("connected", 15).await;
    py.expect("entered", 10).await;
    py.expect("released", 10).await;
    let all = vec!["py".to_owned(), "r0".to_owned(), "r1".to_owned()];
    for e in [&mut e0, &mut e1] {
        assert_eq!(
            next(e, 10).await,
            BarrierEvent::Released {
                members: all.clone()
            }
        );
    }
    // Everyone is through: kazoo cleans up, and the Rust members, which
    // leave 100 ms after their release, see everyone gone.
    py.tell("leave");
    py.expect("left", 10).await;
    for e in [&mut e0, &mut e1] {
        assert_eq!(next(e, 10).await, BarrierEvent::Left);
    }
    running.wait().await;
}
