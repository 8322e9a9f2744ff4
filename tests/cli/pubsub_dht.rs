//! PA2: discovery on a Chord ring of `pubsub.chord_node`s and on the
//! Kademlia DHT (`pubsub.kad_discovery` on `dht.node`s), the clients
//! unchanged: 5 publishers × 4 subscribers counted exactly (Direct and
//! Broker), a ring node that is down, the apps with `config.ini`.

use std::collections::BTreeMap;

use rolecall::actors::pubsub::chord::{hash, DhtEntry, DhtJson, Ring, REGISTRY_KEY};
use rolecall::actors::pubsub::topics::TOPICS;

use crate::pubsub::{background, check_run, completed, five_by_four, pubsub, run_topology};
use crate::support::*;

#[test]
fn chord_direct_five_publishers_four_subscribers_every_publication_counted() {
    let (text, log) = run_topology("examples/pubsub_chord/topology.toml");
    check_run(&text, &log);
    assert_eq!(
        log.matches("ring node serving discovery").count(),
        8,
        "{log}"
    );
}

#[test]
fn chord_broker_five_publishers_four_subscribers_every_publication_counted() {
    five_by_four("examples/pubsub_chord/broker.toml", true);
}

/// A ring of `n` nodes on 127.0.0.1 from `port`, 48 bits, as `dht-json` writes it.
fn ring(n: usize, port: u16) -> DhtJson {
    let mut dht: Vec<DhtEntry> = (0..n)
        .map(|i| {
            let id = format!("disc{}", i + 1);
            let port = port + i as u16;
            DhtEntry {
                hash: hash(48, &format!("{id}:127.0.0.1:{port}")),
                id,
                ip: "127.0.0.1".into(),
                port,
                host: "h1".into(),
            }
        })
        .collect();
    dht.sort_by_key(|e| e.hash);
    DhtJson { dht }
}

#[test]
fn a_ring_node_down_is_routed_around_or_named_in_a_clear_error() {
    let dht = ring(8, 26901);
    let dir = tempfile::tempdir().expect("a temp dir");
    let json = dir.path().join("dht.json");
    std::fs::write(&json, serde_json::to_string(&dht).unwrap()).unwrap();
    let json = json.to_str().unwrap().to_owned();
    let ini = dir.path().join("config.ini");
    std::fs::write(
        &ini,
        "[Discovery]\nStrategy = DHT\n[Dissemination]\nStrategy = Direct\n",
    )
    .unwrap();
    let ini = ini.to_str().unwrap().to_owned();

    // Which node is responsible for what.
    let r = Ring::from_json(&dht, 48).unwrap();
    let owner = |key: &str| r.brute_force_successor(hash(48, key)).id.clone();
    let registry = owner(REGISTRY_KEY);
    let (lost, down) = TOPICS
        .iter()
        .map(|t| (*t, owner(t)))
        .find(|(_, o)| *o != registry)
        .expect("a topic away from the registry");
    let kept = TOPICS
        .iter()
        .copied()
        .find(|t| owner(t) != down)
        .expect("a topic on a live node");
    let endpoint = |id: &str| {
        let e = dht.dht.iter().find(|e| e.id == id).unwrap();
        format!("127.0.0.1:{}", e.port)
    };
    let live: Vec<String> = dht
        .dht
        .iter()
        .map(|e| e.id.clone())
        .filter(|id| *id != down)
        .collect();
    let _nodes: Vec<_> = live
        .iter()
        .map(|id| {
            background(&[
                "discovery",
                "-c",
                &ini,
                "-j",
                &json,
                "-n",
                id,
                "-a",
                "127.0.0.1",
                "-P",
                "1",
                "-S",
                "1",
            ])
        })
        .collect();

    // Every publication of a topic on a live node arrives, clients at different nodes.
    let (pub_at, sub_at) = (endpoint(&live[0]), endpoint(&live[live.len() - 1]));
    let (ini2, kept2) = (ini.clone(), kept.to_owned());
    let publisher = std::thread::spawn(move || {
        pubsub(&[
            "publisher",
            "-c",
            &ini2,
            "-n",
            "pub1",
            "-a",
            "127.0.0.1",
            "-p",
            "26911",
            "-d",
            &pub_at,
            "--topics",
            &kept2,
            "-i",
            "30",
            "-f",
            "100",
            "--pause-ms",
            "50",
        ])
    });
    let sub = pubsub(&[
        "subscriber",
        "-c",
        &ini,
        "-n",
        "sub1",
        "-d",
        &sub_at,
        "--topics",
        kept,
        "--pause-ms",
        "50",
        "--stop-after",
        "30",
        "--results",
        dir.path().join("s.lp").to_str().unwrap(),
    ]);
    let p = publisher.join().expect("publisher thread");
    assert!(p.status.success(), "{}", stderr(&p));
    let log = stderr(&sub);
    assert!(sub.status.success(), "{log}");
    let want: BTreeMap<String, u64> = [(format!("pub1/{kept}"), 30)].into_iter().collect();
    assert_eq!(
        completed(&log).get("subscriber"),
        Some(&(30, want)),
        "{log}"
    );

    // A topic whose node is down: a clear error naming the node, status 1.
    let lost_sub = pubsub(&[
        "subscriber",
        "-c",
        &ini,
        "-n",
        "sub2",
        "-d",
        &endpoint(&live[1]),
        "--topics",
        lost,
        "--pause-ms",
        "50",
        "--idle-timeout-ms",
        "500",
    ]);
    let log = stderr(&lost_sub);
    assert_eq!(lost_sub.status.code(), Some(1), "{log}");
    // Strategy = DHT without the ring: a clear error, status 2.
    let out = pubsub(&["discovery", "-c", &ini, "-n", "disc1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("needs the ring: -j/--dht-json dht.json and -n/--name NODE"),
        "{}",
        stderr(&out)
    );
    assert!(
        log.contains("lookup failed: key")
            && log.contains(&format!("belongs to {down}, which is down")),
        "{log}"
    );
}

#[test]
fn kademlia_direct_five_publishers_four_subscribers_every_publication_counted() {
    five_by_four("examples/pubsub_kademlia/topology.toml", false);
}

#[test]
fn kademlia_broker_five_publishers_four_subscribers_every_publication_counted() {
    five_by_four("examples/pubsub_kademlia/broker.toml", true);
}

#[test]
fn kademlia_discovery_apps_in_separate_processes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let ini = dir.path().join("config.ini");
    std::fs::write(
        &ini,
        "[Discovery]\nStrategy = Kademlia\n[Dissemination]\nStrategy = Direct\n",
    )
    .unwrap();
    let ini = ini.to_str().unwrap().to_owned();
    let first = format!(
        "/ip4/127.0.0.1/tcp/25771/p2p/{}",
        rolecall::actors::dht::seeded_peer_id(21)
    );
    let _fronts: Vec<_> = (1..=3)
        .map(|i| {
            let (name, listen, port, seed) = (
                format!("kad{i}"),
                format!("/ip4/127.0.0.1/tcp/{}", 25770 + i),
                format!("{}", 25780 + i),
                format!("{}", 20 + i),
            );
            let mut args = vec![
                "discovery",
                "-c",
                &ini,
                "-n",
                &name,
                "--frontends",
                "kad1,kad2,kad3",
                "-a",
                "127.0.0.1",
                "-p",
                &port,
                "--dht-listen",
                &listen,
                "--seed",
                &seed,
                "--replication",
                "2",
                "-P",
                "2",
                "-S",
                "1",
            ];
            if i > 1 {
                args.extend(["--bootstrap", &first]);
            }
            background(&args)
        })
        .collect();
    let publisher =
        |name: &'static str, port: &'static str, at: &'static str, topics: &'static str| {
            let ini = ini.clone();
            std::thread::spawn(move || {
                pubsub(&[
                    "publisher",
                    "-c",
                    &ini,
                    "-n",
                    name,
                    "-a",
                    "127.0.0.1",
                    "-p",
                    port,
                    "-d",
                    at,
                    "--topics",
                    topics,
                    "-i",
                    "30",
                    "-f",
                    "100",
                    "--pause-ms",
                    "50",
                ])
            })
        };
    let p1 = publisher("pub1", "25791", "127.0.0.1:25781", "weather,light");
    let p2 = publisher("pub2", "25792", "127.0.0.1:25782", "light,sound");
    let sub = pubsub(&[
        "subscriber",
        "-c",
        &ini,
        "-n",
        "sub1",
        "-d",
        "127.0.0.1:25783",
        "--topics",
        "light,weather",
        "--pause-ms",
        "50",
        "--stop-after",
        "90",
        "--results",
        dir.path().join("s.lp").to_str().unwrap(),
    ]);
    let log = stderr(&sub);
    for p in [p1, p2] {
        match p.join() {
            Ok(out) => assert!(out.status.success(), "{}\nsubscriber: {log}", stderr(&out)),
            Err(_) => panic!("a publisher did not finish; subscriber: {log}"),
        }
    }
    assert!(sub.status.success(), "{log}");
    let want: BTreeMap<String, u64> =
        [("pub1/light", 30), ("pub1/weather", 30), ("pub2/light", 30)]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
    assert_eq!(
        completed(&log).get("subscriber"),
        Some(&(90, want)),
        "{log}"
    );
    // A front-end without its name is a clear error.
    let out = pubsub(&["discovery", "-c", &ini]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("needs -n/--name"), "{}", stderr(&out));
}
