//! `zk.membership`: members register, watchers see every change.

use std::collections::BTreeMap;

use rolecall_actors::zk::Members;
use rolecall_runtime::wire::WireConfig;
use rolecall_runtime::Running;

use crate::support::{next, node, servers, unique};

async fn member(path: &str, name: &str, address: &str) -> Running {
    let s = servers();
    node(&format!(
        r#"
        [actors.{name}]
        kind = "zk.membership"
        params = {{ servers = "{s}", path = "{path}", name = "{name}", address = "{address}" }}
        "#
    ))
    .start()
    .await
    .expect("start")
}

fn list(path: &str, pairs: &[(&str, &str)]) -> Members {
    Members {
        path: path.to_owned(),
        members: pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

#[actix_rt::test]
async fn watchers_get_the_member_list_on_every_change() {
    let path = unique("group");
    let s = servers();
    let mut w = node(&format!(
        r#"
        [actors.watch]
        kind = "zk.membership"
        params = {{ servers = "{s}", path = "{path}" }}
        "#
    ));
    let mut seen = w
        .tap::<Members>("watch.members", WireConfig::default())
        .unwrap();
    let watcher = w.start().await.expect("start");
    assert_eq!(next(&mut seen, 10).await, list(&path, &[]));
    let a = member(&path, "a", "10.0.0.1:7000").await;
    assert_eq!(
        next(&mut seen, 10).await,
        list(&path, &[("a", "10.0.0.1:7000")])
    );
    let b = member(&path, "b", "10.0.0.2:7000").await;
    assert_eq!(
        next(&mut seen, 10).await,
        list(&path, &[("a", "10.0.0.1:7000"), ("b", "10.0.0.2:7000")])
    );
    a.shutdown();
    a.wait().await;
    assert_eq!(
        next(&mut seen, 10).await,
        list(&path, &[("b", "10.0.0.2:7000")])
    );
    b.shutdown();
    b.wait().await;
    assert_eq!(next(&mut seen, 10).await, list(&path, &[]));
    watcher.shutdown();
    watcher.wait().await;
}

#[actix_rt::test]
async fn a_member_replaces_the_node_an_earlier_incarnation_left() {
    let path = unique("group-restart");
    let s = servers();
    // An earlier incarnation's session still holds `a`.
    let old = crate::support::bare(&s).await;
    use rolecall_actors::zk::client::{Acls, CreateMode};
    old.mkdir(&path, &CreateMode::Persistent.with_acls(Acls::anyone_all()))
        .await
        .unwrap();
    old.create(
        &format!("{path}/a"),
        b"old",
        &CreateMode::Ephemeral.with_acls(Acls::anyone_all()),
    )
    .await
    .unwrap();
    let mut w = node(&format!(
        r#"
        [actors.a]
        kind = "zk.membership"
        params = {{ servers = "{s}", path = "{path}", name = "a", address = "new" }}
        "#
    ));
    let mut seen = w
        .tap::<Members>("a.members", WireConfig::default())
        .unwrap();
    let running = w.start().await.expect("start");
    assert_eq!(next(&mut seen, 10).await, list(&path, &[("a", "new")]));
    running.shutdown();
    running.wait().await;
}
