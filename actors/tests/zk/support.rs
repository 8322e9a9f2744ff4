//! Helpers: server addresses, unique paths, nodes from topology text, taps.

use std::time::Duration;

use rolecall_runtime::topology::{load_str, Overrides};
use rolecall_runtime::{Node, Registry, Tap};

/// The standalone server (`ROLECALL_ZK`); fails with how to start it.
pub(crate) fn servers() -> String {
    std::env::var("ROLECALL_ZK").unwrap_or_else(|_| {
        panic!(
            "ROLECALL_ZK is not set: start the test servers with `scripts/servers.sh start` \
             and `source target/test-servers/env` (make test does both)"
        )
    })
}

/// The 3-server ensemble (`ROLECALL_ZK_ENSEMBLE`).
pub(crate) fn ensemble() -> String {
    std::env::var("ROLECALL_ZK_ENSEMBLE").unwrap_or_else(|_| {
        panic!(
            "ROLECALL_ZK_ENSEMBLE is not set: start the test servers with `scripts/servers.sh start` \
             and `source target/test-servers/env` (make test does both)"
        )
    })
}

/// A path no other test (or earlier run) uses.
pub(crate) fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("/rolecall-test-{name}-{}-{nanos}", std::process::id())
}

pub(crate) fn registry() -> Registry {
    let mut r = Registry::new();
    rolecall_actors::register_all(&mut r).expect("kinds register");
    r
}

pub(crate) fn node(text: &str) -> Node {
    let t = load_str(text, "zk-test.toml", &registry(), &Overrides::new())
        .unwrap_or_else(|e| panic!("{e}"));
    Node::all(t, registry()).with_seed(4)
}

/// The next message on `tap` within `secs` seconds.
pub(crate) async fn next<T: Send + 'static>(tap: &mut Tap<T>, secs: u64) -> T {
    actix_rt::time::timeout(Duration::from_secs(secs), tap.recv())
        .await
        .unwrap_or_else(|_| panic!("a message within {secs} s"))
        .expect("the wire is open")
}

/// A bare client, to check from outside what the actors did.
pub(crate) async fn bare(servers: &str) -> rolecall_actors::zk::client::Client {
    rolecall_actors::zk::client::Client::connect(servers)
        .await
        .expect("bare client connects")
}

/// Waits (at most 10 s) until `path` has no children: closed sessions'
/// ephemeral nodes go when the server has processed the close.
pub(crate) async fn until_empty(c: &rolecall_actors::zk::client::Client, path: &str) {
    for _ in 0..100 {
        if c.list_children(path).await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} still has children after 10 s");
}
