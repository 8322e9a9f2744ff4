//! `rolecall k8s` and `rolecall compose` for every example topology: the
//! manifests pass `kubernetes-validate --strict` against Kubernetes 1.30 and
//! the newest schema it ships; the compose files pass `docker-compose config`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::harness::*;
use crate::support::root;

/// Topologies using kinds that only their own program registers: that
/// program plans them with its registry (`rolecall::deploy::Plan`).
const OWN_KINDS: &[&str] = &[
    "examples/custom_role/topology.toml",
    "examples/custom_app/topology.toml",
    "examples/paxos_single/student.toml",
];

fn example_topologies() -> Vec<String> {
    let mut all = Vec::new();
    for dir in std::fs::read_dir(root().join("examples"))
        .unwrap()
        .flatten()
    {
        for f in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = f.path();
            // An experiment's folder holds the experiment file and the variant
            // topologies it fills in with each host's address: not deployable as they are.
            let experiment = dir.path().join("experiment.toml").exists();
            if p.extension().is_some_and(|e| e == "toml") && !experiment {
                let rel = p.strip_prefix(root()).unwrap().display().to_string();
                if !OWN_KINDS.contains(&rel.as_str()) {
                    all.push(rel);
                }
            }
        }
    }
    all.sort();
    all
}

/// `.tools/k8svenv/bin/kubernetes-validate`, installed by the script if needed.
fn validator() -> PathBuf {
    let out = Command::new(root().join("scripts/k8s-validate-venv.sh"))
        .output()
        .expect("the script runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// The newest Kubernetes version whose strict schemas the validator ships.
fn newest_schema(tool: &Path) -> String {
    let venv = tool.parent().and_then(Path::parent).unwrap();
    let mut versions: Vec<(u32, u32, u32)> = Vec::new();
    for lib in std::fs::read_dir(venv.join("lib")).unwrap().flatten() {
        let dir = lib
            .path()
            .join("site-packages/kubernetes_validate/kubernetes-json-schema");
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(v) = name
                .strip_prefix('v')
                .and_then(|n| n.strip_suffix("-local-strict"))
            {
                let n: Vec<u32> = v.split('.').filter_map(|x| x.parse().ok()).collect();
                if n.len() == 3 {
                    versions.push((n[0], n[1], n[2]));
                }
            }
        }
    }
    let (a, b, c) = versions.into_iter().max().expect("schemas shipped");
    format!("{a}.{b}.{c}")
}

#[test]
fn every_example_gives_manifests_that_validate_strictly() {
    let tool = validator();
    let newest = newest_schema(&tool);
    assert!(newest.as_str() >= "1.30.0", "{newest}");
    let dir = tempfile::tempdir().unwrap();
    let topologies = example_topologies();
    assert!(topologies.len() >= 18, "{topologies:?}");
    let mut files = Vec::new();
    for (i, t) in topologies.iter().enumerate() {
        let out = dir.path().join(format!("{i}.yaml"));
        let mut args = vec!["k8s", t.as_str(), "-o"];
        let out_s = out.display().to_string();
        args.push(&out_s);
        let o = rolecall_out(&args);
        assert!(o.status.success(), "{t}: {}", text(&o));
        files.push(out_s);
    }
    // A program of its own kinds writes the manifests of its topologies,
    // running its own image.
    let own = dir.path().join("own.yaml");
    let o = crate::support::run(
        crate::support::example("custom_app")
            .args(["k8s", "examples/custom_app/topology.toml", "-o"])
            .arg(&own),
    );
    assert!(o.status.success(), "custom_app k8s: {}", text(&o));
    let yaml = std::fs::read_to_string(&own).unwrap();
    assert!(yaml.contains("\"custom-app:latest\""), "{yaml}");
    files.push(own.display().to_string());
    for version in ["1.30.0", newest.as_str()] {
        let o = Command::new(&tool)
            .args(["--strict", "--quiet", "-k", version])
            .args(&files)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "against {version}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // The validator does reject an unknown field.
    let bad = dir.path().join("bad.yaml");
    let good = std::fs::read_to_string(&files[0]).unwrap();
    std::fs::write(
        &bad,
        good.replacen("  replicas: 1", "  replicaz: 1", 1) + "",
    )
    .unwrap();
    if good.contains("  replicas: 1") {
        let o = Command::new(&tool)
            .args(["--strict", "--quiet", "-k", "1.30.0"])
            .arg(&bad)
            .output()
            .unwrap();
        assert!(!o.status.success(), "an unknown field passed");
    }
}

/// Counts `kind: K` documents.
fn kinds(yaml: &str, kind: &str) -> usize {
    yaml.lines()
        .filter(|l| *l == format!("kind: \"{kind}\""))
        .count()
}

#[test]
fn the_course_example_has_zookeeper_three_tiers_and_client_jobs() {
    let o = rolecall_out(&[
        "k8s",
        "examples/k8s_chain/topology.toml",
        "--job",
        "client1",
        "--job",
        "client2",
        "--namespace",
        "course",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let y = String::from_utf8_lossy(&o.stdout);
    assert_eq!(kinds(&y, "Namespace"), 1);
    assert_eq!(kinds(&y, "ConfigMap"), 1);
    assert_eq!(kinds(&y, "Deployment"), 3, "{y}");
    assert_eq!(kinds(&y, "Job"), 2);
    assert_eq!(kinds(&y, "StatefulSet"), 1, "ZooKeeper");
    assert_eq!(kinds(&y, "Service"), 6, "one per node and ZooKeeper's");
    assert!(y.contains("value: \"zk-0.zk:2181\""), "ROLECALL_ZK: {y}");
    assert!(y.contains("port: 4444"), "{y}");
    assert!(y.contains("namespace: \"course\""));
    assert!(y.contains("path: \"/healthz\""));
    let o = rolecall_out(&["k8s", "examples/k8s_chain/topology.toml", "--job", "nobody"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--job nobody: no node `nobody`"),
        "{}",
        text(&o)
    );
}

#[test]
fn durable_roles_become_stateful_sets_with_volume_claims() {
    let o = rolecall_out(&["k8s", "examples/paxos_kv/nodes.toml"]);
    assert!(o.status.success(), "{}", text(&o));
    let y = String::from_utf8_lossy(&o.stdout);
    assert_eq!(kinds(&y, "StatefulSet"), 3, "the acceptors");
    assert_eq!(kinds(&y, "Deployment"), 1, "the core");
    assert_eq!(y.matches("volumeClaimTemplates:").count(), 3);
    assert!(
        y.contains("value: \"a1.acceptor1.path=/state/acceptor1.state\""),
        "{y}"
    );
    assert!(y.contains("value: \"core.address=core\""), "{y}");
}

#[test]
fn compose_files_of_the_examples_pass_docker_compose_config() {
    if Command::new("docker-compose")
        .arg("version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "docker-compose is not installed: scripts/install-deps.sh test installs it"
        );
        eprintln!("skipped: docker-compose is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for t in [
        "examples/paxos_kv/nodes.toml",
        "examples/zk_election/topology.toml",
        "examples/k8s_chain/topology.toml",
        "examples/quickstart/topology.toml",
    ] {
        let out = dir.path().join("docker-compose.yml");
        let out_s = out.display().to_string();
        let o = rolecall_out(&["compose", t, "--zk-ensemble", "-o", &out_s]);
        assert!(o.status.success(), "{t}: {}", text(&o));
        let c = Command::new("docker-compose")
            .args(["-f", &out_s, "config", "-q"])
            .output()
            .unwrap();
        assert!(
            c.status.success(),
            "{t}: {}",
            String::from_utf8_lossy(&c.stderr)
        );
        let yaml = std::fs::read_to_string(&out).unwrap();
        assert!(
            yaml.starts_with("networks:") || yaml.contains("version: \"2.4\""),
            "{yaml}"
        );
    }
}
