//! Topologies running as one container per node, with faults: a killed
//! acceptor restarted from its volume, a killed ZooKeeper leader, a node cut
//! off the network and reconnected.

use std::time::{Duration, Instant};

use super::harness::*;

const PAXOS: &str = "tests/cli/fixtures/containers_paxos.toml";
const ELECTION: &str = "examples/zk_election/topology.toml";

/// The store's summary and final values, as printed by `paxos.kv`.
fn store(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with("kv: ")).collect()
}

#[test]
fn paxos_acceptor_container_killed_and_restarted_from_its_volume() {
    let Some(lab) = Lab::new("paxos") else { return };
    lab.images(false);
    let up = lab.rolecall(&["docker", "up"], &[PAXOS]);
    assert!(up.status.success(), "{}", text(&up));
    let name = "paxos-containers";
    let (core, replica, a2) = (
        lab.container(name, "core"),
        lab.container(name, "replica"),
        lab.container(name, "a2"),
    );
    wait_for_log(&core, "node started", Duration::from_secs(30));
    // 1500 commands take about 6 s: kill acceptor 2 after some have been
    // decided, start the same container again (same volume) a second later.
    std::thread::sleep(Duration::from_millis(1500));
    docker(&["kill", &a2]);
    std::thread::sleep(Duration::from_secs(1));
    docker(&["start", &a2]);
    assert_eq!(
        wait_exit(&core, Duration::from_secs(90)),
        0,
        "{}",
        logs(&core)
    );
    assert_eq!(
        wait_exit(&replica, Duration::from_secs(30)),
        0,
        "{}",
        logs(&replica)
    );
    let (core_out, replica_out) = (logs(&core), logs(&replica));
    let (s1, s2) = (store(&core_out), store(&replica_out));
    assert!(
        s1.first()
            .is_some_and(|l| l.starts_with("kv: applied 1500 commands")),
        "{core_out}"
    );
    assert!(
        s2.first()
            .is_some_and(|l| l.starts_with("kv: applied 1500 commands")),
        "{replica_out}"
    );
    // The final values agree, and are the last write of each key.
    assert_eq!(s1[1..], s2[1..]);
    for k in 0..5 {
        let line = format!("kv: key{k} = v{}", 1495 + k);
        assert!(s1.contains(&line.as_str()), "{line}: {core_out}");
    }
    // The restarted acceptor read a promise back from its volume.
    let a2_out = logs(&a2);
    let recovered: Vec<&str> = a2_out
        .lines()
        .filter(|l| l.contains("acceptor recovered"))
        .collect();
    assert_eq!(recovered.len(), 2, "{a2_out}");
    assert!(recovered[0].contains("promised=0.0"), "{a2_out}");
    assert!(
        !recovered[1].contains("promised=0.0") && recovered[1].contains("durable=true"),
        "{a2_out}"
    );
    let status = lab.rolecall(&["docker", "logs"], &[PAXOS]);
    assert!(
        text(&status).contains(&format!("==> {core}: exited (exit code 0)")),
        "{}",
        text(&status)
    );
    lab.finish(PAXOS);
}

fn elected(lab: &Lab, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|c| logs(&lab.container("zk-election", c)).contains(&format!("{c} elected")))
        .map(|c| (*c).to_owned())
}

/// Waits for the first leader and both followers; the leader's name.
fn first_leader(lab: &Lab) -> String {
    let start = Instant::now();
    let leader = loop {
        if let Some(l) = elected(lab, &["a", "b", "c"]) {
            break l;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no leader");
        std::thread::sleep(Duration::from_millis(100));
    };
    for c in ["a", "b", "c"].into_iter().filter(|c| *c != leader) {
        let needle = format!("{c} following {leader}");
        wait_for_log(
            &lab.container("zk-election", c),
            &needle,
            Duration::from_secs(30),
        );
    }
    leader
}

fn others<'a>(leader: &str) -> Vec<&'a str> {
    ["a", "b", "c"]
        .into_iter()
        .filter(|c| *c != leader)
        .collect()
}

/// Kills the first leader's container: another candidate leads within the
/// session timeout (2 s in the example) + 1 s.
fn leader_killed(test: &str, up_args: &[&str]) {
    let Some(lab) = Lab::new(test) else { return };
    lab.images(true);
    let mut args = up_args.to_vec();
    args.push(ELECTION);
    let up = lab.rolecall(&["docker", "up"], &args);
    assert!(up.status.success(), "{}", text(&up));
    let zk_servers = String::from_utf8_lossy(&up.stdout)
        .lines()
        .filter_map(|l| l.rsplit('-').next()?.strip_prefix("zk"))
        .filter(|n| n.parse::<u8>().is_ok())
        .count();
    assert_eq!(
        zk_servers,
        if up_args.contains(&"--zk-ensemble") {
            3
        } else {
            1
        }
    );
    let first = first_leader(&lab);
    let rest = others(&first);
    let killed = Instant::now();
    docker(&["kill", &lab.container("zk-election", &first)]);
    let leader = loop {
        if let Some(l) = elected(&lab, &rest) {
            break l;
        }
        assert!(killed.elapsed() < Duration::from_secs(10), "no new leader");
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = killed.elapsed();
    // The examples' session timeout is 2 s.
    assert!(took < Duration::from_secs(3), "takeover took {took:?}");
    let other = rest
        .iter()
        .find(|c| **c != leader)
        .copied()
        .unwrap_or_default();
    wait_for_log(
        &lab.container("zk-election", other),
        &format!("{other} following {leader}"),
        Duration::from_secs(5),
    );
    eprintln!("takeover after {took:?}");
    lab.finish(ELECTION);
}

#[test]
fn zk_election_leader_container_killed_followers_take_over_within_the_session_timeout() {
    leader_killed("zkkill", &[]);
}

#[test]
fn zk_election_on_a_three_server_ensemble_in_containers_survives_the_leader_kill() {
    leader_killed("zkens", &["--zk-ensemble"]);
}

#[test]
fn zk_election_leader_cut_off_the_network_and_reconnected_rejoins_as_a_follower() {
    let Some(lab) = Lab::new("zkcut") else { return };
    lab.images(true);
    let up = lab.rolecall(&["docker", "up"], &[ELECTION]);
    assert!(up.status.success(), "{}", text(&up));
    let net = format!("{}zk-election", lab.prefix);
    let first = first_leader(&lab);
    let rest = others(&first);
    let a = lab.container("zk-election", &first);
    let cut = Instant::now();
    docker(&["network", "disconnect", &net, &a]);
    let leader = loop {
        if let Some(l) = elected(&lab, &rest) {
            break l;
        }
        assert!(
            cut.elapsed() < Duration::from_secs(10),
            "no new leader while a is cut off"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        cut.elapsed() < Duration::from_secs(3),
        "takeover took {:?}",
        cut.elapsed()
    );
    std::thread::sleep(Duration::from_millis(500));
    docker(&["network", "connect", &net, &a]);
    // Back on the network, its session has expired: it rejoins as a follower.
    wait_for_log(
        &a,
        &format!("{first} following {leader}"),
        Duration::from_secs(20),
    );
    let state = docker(&["inspect", "--format", "{{.State.Status}}", &a]);
    assert_eq!(state.trim(), "running", "{}", logs(&a));
    lab.finish(ELECTION);
}

#[test]
fn the_course_chain_runs_in_containers_and_its_clients_finish() {
    const CHAIN: &str = "examples/k8s_chain/topology.toml";
    let Some(lab) = Lab::new("chain") else { return };
    lab.images(true);
    let up = lab.rolecall(&["docker", "up"], &[CHAIN]);
    assert!(up.status.success(), "{}", text(&up));
    for c in ["client1", "client2"] {
        let name = lab.container("k8s-chain", c);
        assert_eq!(
            wait_exit(&name, Duration::from_secs(60)),
            0,
            "{}",
            logs(&name)
        );
        let out = logs(&name);
        // Every reply went through the three tiers.
        for i in 0..5 {
            assert!(
                out.contains(&format!("reply {i}: tier3: {c} {i} (")),
                "{out}"
            );
        }
    }
    let tier3 = lab.container("k8s-chain", "tier3");
    wait_for_log(
        &tier3,
        "chain members [tier1=tcp://tier1:4444,tier2=tcp://tier2:4444,tier3=tcp://tier3:4444]",
        Duration::from_secs(10),
    );
    // The tiers are servers: still running.
    let state = docker(&["inspect", "--format", "{{.State.Status}}", &tier3]);
    assert_eq!(state.trim(), "running");
    lab.finish(CHAIN);
}

#[test]
fn the_compose_file_runs_the_same_containers_with_docker_compose() {
    const NODES: &str = "examples/paxos_kv/nodes.toml";
    let Some(lab) = Lab::new("compose") else {
        return;
    };
    let compose_ok = std::process::Command::new("docker-compose")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !compose_ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "docker-compose is not installed: scripts/install-deps.sh test installs it"
        );
        eprintln!("skipped: docker-compose is not installed");
        return;
    }
    lab.images(false);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docker-compose.yml").display().to_string();
    let o = lab.rolecall(&["compose"], &[NODES, "-o", &file]);
    assert!(o.status.success(), "{}", text(&o));
    let compose = |args: &[&str]| {
        let project = format!("{}proj", lab.prefix).replace('-', "");
        let out = std::process::Command::new("docker-compose")
            .args(["-p", &project, "-f", &file])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "docker-compose {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    compose(&["up", "-d"]);
    let core = lab.container("paxos-kv-nodes", "core");
    assert_eq!(
        wait_exit(&core, Duration::from_secs(60)),
        0,
        "{}",
        logs(&core)
    );
    let out = logs(&core);
    assert!(out.contains("kv: applied 300 commands"), "{out}");
    for a in ["a1", "a2", "a3"] {
        let name = lab.container("paxos-kv-nodes", a);
        assert_eq!(
            wait_exit(&name, Duration::from_secs(30)),
            0,
            "{}",
            logs(&name)
        );
    }
    compose(&["down", "-v"]);
    lab.finish(NODES);
}
