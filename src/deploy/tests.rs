//! Plans, compose files and manifests from topologies, without Docker.

use std::path::Path;

use super::k8s::{manifests, Options};
use super::plan::{Plan, PlanError, Target, ZkMode};
use super::{compose, Names};

fn plan(text: &str, target: &Target, zk: ZkMode) -> Result<Plan, PlanError> {
    Plan::from_str(text, "t.toml", &crate::default_registry(), &[], target, zk)
}

fn docker() -> Target {
    Target::Docker {
        prefix: "p-".into(),
    }
}

const PAXOS: &str = r#"
[topology]
name = "Kv_Test"
[nodes.core]
[nodes.a_1]
base_port = 7510
[actors.leader]
kind = "paxos.leader"
node = "core"
params = { id = 1, acceptors = 1 }
[actors.acc]
kind = "paxos.acceptor"
node = "a_1"
params = { id = 1, path = "x.log" }
[[wires]]
from = "leader.out"
to = "acc.in"
[[wires]]
from = "acc.out"
to = "leader.in"
"#;

#[test]
fn addresses_listen_and_state_become_overrides() {
    let p = plan(PAXOS, &docker(), ZkMode::Standalone).unwrap();
    assert_eq!(p.name, "kv-test");
    let hosts: Vec<&str> = p.nodes.iter().map(|n| n.host.as_str()).collect();
    assert_eq!(hosts, ["p-kv-test-core", "p-kv-test-a-1"]);
    let env: Vec<&str> = p.env.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(
        env,
        [
            "core.address=p-kv-test-core",
            "core.listen=0.0.0.0",
            "a_1.address=p-kv-test-a-1",
            "a_1.listen=0.0.0.0",
            "a_1.acc.path=/state/acc.state",
        ]
    );
    // The reloaded topology routes by container name.
    let routes: Vec<&str> = p
        .topology
        .wires
        .iter()
        .flat_map(|w| w.to.iter().filter_map(|d| d.remote.as_ref()))
        .map(|r| r.connect.as_str())
        .collect();
    assert_eq!(
        routes,
        ["tcp://p-kv-test-a-1:7510", "tcp://p-kv-test-core:7400"]
    );
    assert_eq!(p.nodes[1].ports, [7510]);
    assert!(p.nodes[0].state.is_empty() && p.nodes[1].state.len() == 1);
    assert!(p.zk.is_none());
}

#[test]
fn user_overrides_come_last_and_node_names_must_stay_distinct() {
    let p = Plan::from_str(
        PAXOS,
        "t.toml",
        &crate::default_registry(),
        &["core.leader.id=2".into()],
        &docker(),
        ZkMode::Standalone,
    )
    .unwrap();
    assert_eq!(
        p.env.last().unwrap(),
        &(
            "ROLECALL_SET_USER_000".to_owned(),
            "core.leader.id=2".to_owned()
        )
    );
    let clash = PAXOS.replace("[nodes.core]", "[nodes.core]\n[nodes.a-1]");
    let e = plan(&clash, &docker(), ZkMode::Standalone)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("nodes `a-1` and `a_1` both become the host name `a-1`"),
        "{e}"
    );
}

#[test]
fn zookeeper_clients_get_the_servers() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/zk_election/topology.toml"),
    )
    .unwrap();
    let p = plan(&text, &docker(), ZkMode::Ensemble).unwrap();
    let zk = p.zk.as_ref().unwrap();
    assert_eq!(
        zk.connect(),
        "p-zk-election-zk1:2181,p-zk-election-zk2:2181,p-zk-election-zk3:2181"
    );
    assert!(p.env.contains(&("ROLECALL_ZK".into(), zk.connect())));
    let k = plan(&text, &Target::Kubernetes, ZkMode::Standalone).unwrap();
    assert_eq!(k.zk.unwrap().connect(), "zk-0.zk:2181");
    let c = compose::compose(&p, &Names::new("p-"), Path::new("/t.toml"), "img", "zkimg");
    assert_eq!(c.matches("image: \"zkimg\"").count(), 3, "{c}");
    assert!(
        c.contains("- \"/t.toml:/etc/rolecall/topology.toml:ro\""),
        "{c}"
    );
}

#[test]
fn manifests_pick_the_workload_per_node() {
    let p = plan(PAXOS, &Target::Kubernetes, ZkMode::Standalone).unwrap();
    let o = Options {
        namespace: "ns".into(),
        image: "i".into(),
        zk_image: "z".into(),
        jobs: vec!["core".into()],
    };
    let kinds: Vec<String> = manifests(&p, PAXOS, &o)
        .iter()
        .map(|m| m["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "Namespace",
            "ConfigMap",
            "Service",
            "Job",
            "Service",
            "StatefulSet"
        ]
    );
}
