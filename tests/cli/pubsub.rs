//! The course's publish/subscribe assignments: discovery, publishers,
//! subscribers and broker on loopback, counted exactly.

use std::collections::BTreeMap;

use crate::support::*;

/// `(actor, total, {publisher/topic: count})` of every `subscriber COMPLETED` line.
pub(crate) fn completed(log: &str) -> BTreeMap<String, (u64, BTreeMap<String, u64>)> {
    let mut out = BTreeMap::new();
    for line in log
        .lines()
        .filter(|l| l.contains("subscriber COMPLETED: received"))
    {
        let actor = line
            .rsplit("actor=")
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let rest = line.split("received ").nth(1).unwrap_or_default();
        let total: u64 = rest
            .split_whitespace()
            .next()
            .unwrap_or("x")
            .parse()
            .expect("a count");
        let inner = rest
            .split('[')
            .nth(1)
            .and_then(|s| s.split(']').next())
            .unwrap_or_default();
        let pairs = inner
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.parse().expect("a count")))
            .collect();
        out.insert(actor, (total, pairs));
    }
    out
}

/// What the examples' subscribers must receive: 50 of every (publisher, topic) they want.
fn expected() -> BTreeMap<String, (u64, BTreeMap<String, u64>)> {
    let want: [(&str, &[&str]); 4] = [
        ("sub1", &["pub1/weather", "pub2/weather", "pub5/weather"]),
        (
            "sub2",
            &["pub2/light", "pub3/sound", "pub4/light", "pub5/sound"],
        ),
        ("sub3", &["pub1/humidity", "pub4/location"]),
        (
            "sub4",
            &[
                "pub1/weather",
                "pub2/weather",
                "pub5/temperature",
                "pub5/weather",
            ],
        ),
    ];
    want.iter()
        .map(|(s, pairs)| {
            (
                (*s).to_owned(),
                (
                    50 * pairs.len() as u64,
                    pairs.iter().map(|p| ((*p).to_owned(), 50)).collect(),
                ),
            )
        })
        .collect()
}

/// `rolecall run PATH`, which must succeed: (stdout, stderr).
pub(crate) fn run_topology(path: &str) -> (String, String) {
    let out = run(rolecall().args(["run", path]).env("ROLECALL_LOG", "info"));
    let (text, log) = (stdout(&out), stderr(&out));
    assert!(
        out.status.success(),
        "status {:?}\n{text}\n{log}",
        out.status
    );
    (text, log)
}

/// The reporter's rows: series -> count.
fn latency_rows(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter(|l| l.starts_with("latency,"))
        .map(|l| {
            let mut cols = l.split_whitespace();
            let series = cols.next().unwrap_or_default().to_owned();
            let _unit = cols.next();
            (
                series,
                cols.next().and_then(|c| c.parse().ok()).unwrap_or(0),
            )
        })
        .collect()
}

pub(crate) fn check_run(text: &str, log: &str) {
    assert_eq!(completed(log), expected(), "{log}");
    let rows = latency_rows(text);
    assert_eq!(rows.len(), 13, "{text}");
    assert!(rows.values().all(|&c| c == 50), "{text}");
    assert!(
        rows.contains_key("latency,publisher=pub5,subscriber=sub4,topic=temperature"),
        "{text}"
    );
    assert!(!log.contains(" ERROR "), "{log}");
}

/// Runs the 5 × 4 topology at `path` and checks every count; via the broker
/// too that it forwarded all 500 publications.
pub(crate) fn five_by_four(path: &str, broker: bool) {
    let (text, log) = run_topology(path);
    check_run(&text, &log);
    let forwarded = "broker COMPLETED: forwarded 500 publications";
    assert!(!broker || log.contains(forwarded), "{log}");
}

#[test]
fn direct_five_publishers_four_subscribers_every_publication_counted() {
    five_by_four("examples/pubsub_direct/topology.toml", false);
}

#[test]
fn broker_five_publishers_four_subscribers_every_publication_counted() {
    five_by_four("examples/pubsub_broker/topology.toml", true);
}

/// A background process, killed when dropped.
pub(crate) struct Bg(pub(crate) std::process::Child);

impl Drop for Bg {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `rolecall pubsub ARGS` in the background, quiet.
pub(crate) fn background(args: &[&str]) -> Bg {
    Bg(rolecall()
        .arg("pubsub")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("rolecall runs"))
}

/// `rolecall pubsub ARGS`, run to the end, logging at info.
pub(crate) fn pubsub(args: &[&str]) -> std::process::Output {
    run(rolecall()
        .arg("pubsub")
        .args(args)
        .env("ROLECALL_LOG", "info"))
}

#[test]
fn the_command_line_apps_in_separate_processes() {
    let _discovery = background(&["discovery", "-P", "2", "-S", "1", "-p", "33801"]);
    let fast = ["--pause-ms", "50", "-d", "127.0.0.1:33801"];
    let publisher = |name: &'static str, port: &'static str, topics: &'static str| {
        std::thread::spawn(move || {
            pubsub(&[
                "publisher",
                "-n",
                name,
                "-a",
                "127.0.0.1",
                "-p",
                port,
                "--topics",
                topics,
                "-i",
                "30",
                "-f",
                "100",
                "--pause-ms",
                "50",
                "-d",
                "127.0.0.1:33801",
            ])
        })
    };
    let p1 = publisher("pub1", "33802", "weather,light");
    let p2 = publisher("pub2", "33803", "light,sound");
    let results = tempfile::tempdir().expect("a temp dir");
    let lp = results.path().join("sub.lp");
    let mut args = vec![
        "subscriber",
        "-n",
        "sub1",
        "--topics",
        "light,weather",
        "--idle-timeout-ms",
        "1000",
    ];
    args.extend(fast);
    args.extend(["--results", lp.to_str().expect("utf-8")]);
    let sub = pubsub(&args);
    for p in [p1, p2] {
        let out = p.join().expect("publisher thread");
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("publisher COMPLETED: published"),
            "{}",
            stderr(&out)
        );
    }
    let log = stderr(&sub);
    assert!(sub.status.success(), "{log}");
    let got = completed(&log);
    let want: BTreeMap<String, u64> =
        [("pub1/light", 30), ("pub1/weather", 30), ("pub2/light", 30)]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
    assert_eq!(got.get("subscriber"), Some(&(90, want)), "{log}");
    // The run ends with the percentile table of the latency points.
    let rows = latency_rows(&stdout(&sub));
    assert_eq!(rows.len(), 3, "{}", stdout(&sub));
    assert!(rows.values().all(|&c| c == 30));

    // A second pub1 is refused: a clear error and status 1.
    let dup = pubsub(&[
        "publisher",
        "-n",
        "pub1",
        "-p",
        "33804",
        "-d",
        "127.0.0.1:33801",
    ]);
    assert_eq!(dup.status.code(), Some(1));
    assert!(
        stderr(&dup).contains("error: publisher pub1 failed: discovery refused the registration: pub1 needs to have unique id"),
        "{}",
        stderr(&dup)
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    // Discovery that never answers: resent, then status 1 naming it.
    let out = pubsub(&[
        "subscriber",
        "-n",
        "s",
        "-d",
        "127.0.0.1:33899",
        "--timeout-ms",
        "100",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error: subscriber s failed: discovery at tcp://127.0.0.1:33899 did not answer within 100ms (4 tries)"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().expect("a temp dir");
    let ini = dir.path().join("config.ini");
    std::fs::write(
        &ini,
        "[Discovery]\nStrategy = Centralized\n[Dissemination]\nStrategy = Flood\n",
    )
    .unwrap();
    let out = pubsub(&["publisher", "-c", ini.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(":4: unknown dissemination strategy 'flood' (Direct or Broker)"),
        "{}",
        stderr(&out)
    );
    let out = pubsub(&["subscriber", "--topics", "weather,stocks"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error: unknown topic 'stocks'"),
        "{}",
        stderr(&out)
    );
    let out = pubsub(&["publisher", "-T", "10"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("-T/--num_topics must be 1-9, not 10"),
        "{}",
        stderr(&out)
    );
    // A broker under Direct dissemination.
    let out = pubsub(&["broker"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("a broker needs `[Dissemination] Strategy = Broker`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn config_ini_broker_runs_the_broker_dissemination() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let ini = dir.path().join("config.ini");
    std::fs::write(
        &ini,
        "[Discovery]\nStrategy = Centralized\n\n[Dissemination]\nStrategy = Broker\n",
    )
    .unwrap();
    let ini = ini.to_str().unwrap().to_owned();
    let _discovery = background(&["discovery", "-P", "1", "-S", "1", "-p", "33811", "-c", &ini]);
    let d = "127.0.0.1:33811";
    let _broker = background(&[
        "broker",
        "-n",
        "b",
        "-a",
        "127.0.0.1",
        "-p",
        "33812",
        "-d",
        d,
        "-c",
        &ini,
        "--pause-ms",
        "50",
    ]);
    let ini2 = ini.clone();
    let publisher = std::thread::spawn(move || {
        pubsub(&[
            "publisher",
            "-n",
            "p",
            "-a",
            "127.0.0.1",
            "-p",
            "33813",
            "-d",
            "127.0.0.1:33811",
            "-c",
            &ini2,
            "--topics",
            "sound",
            "-i",
            "40",
            "-f",
            "200",
            "--pause-ms",
            "50",
        ])
    });
    let sub = pubsub(&[
        "subscriber",
        "-n",
        "s",
        "-d",
        d,
        "-c",
        &ini,
        "--topics",
        "sound",
        "--pause-ms",
        "50",
        "--stop-after",
        "40",
        "--results",
        dir.path().join("s.lp").to_str().unwrap(),
    ]);
    let p = publisher.join().expect("publisher thread");
    assert!(p.status.success(), "{}", stderr(&p));
    let log = stderr(&sub);
    assert!(sub.status.success(), "{log}");
    assert!(
        log.contains("connected to [tcp://127.0.0.1:33812]"),
        "{log}"
    );
    let want: BTreeMap<String, u64> = [("p/sound".to_owned(), 40)].into_iter().collect();
    assert_eq!(
        completed(&log).get("subscriber"),
        Some(&(40, want)),
        "{log}"
    );
}

#[test]
fn dht_json_generator_and_lookups_on_its_ring() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let json = dir.path().join("dht.json");
    let json = json.to_str().unwrap();
    let out = run(rolecall().args([
        "pubsub",
        "dht-json",
        "-D",
        "20",
        "-P",
        "5",
        "-S",
        "5",
        "-t",
        "tree,fanout=2,depth=2",
        "-j",
        json,
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let nodes = v["dht"].as_array().expect("a dht array");
    assert_eq!(nodes.len(), 20);
    let hashes: Vec<u64> = nodes.iter().map(|n| n["hash"].as_u64().unwrap()).collect();
    assert!(
        hashes.windows(2).all(|w| w[0] < w[1]),
        "sorted by hash: {hashes:?}"
    );
    // Python: int.from_bytes(hashlib.sha256(b"disc1:10.0.0.1:5555").digest()[:6], "big")
    let disc1 = nodes.iter().find(|n| n["id"] == "disc1").unwrap();
    assert_eq!(disc1["hash"], 252586633574633u64);
    assert_eq!(
        (
            disc1["IP"].as_str(),
            disc1["port"].as_u64(),
            disc1["host"].as_str()
        ),
        (Some("10.0.0.1"), Some(5555), Some("h1"))
    );
    // Four hosts (tree of fanout 2, depth 2): every command runs on h1-h4:
    // 20 ring nodes serving discovery, 5 publishers, 5 subscribers.
    let script = stdout(&out);
    let commands: Vec<&str> = script.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(commands.len(), 30, "{script}");
    let ini = dir.path().join("dht.ini");
    assert!(std::fs::read_to_string(&ini)
        .unwrap()
        .contains("Strategy = DHT"));
    let ini = ini.to_str().unwrap();
    assert!(
        script.contains(&format!(
            "h1 rolecall pubsub discovery -c {ini} -j {json} -n disc1 -b 48 -P 5 -S 5 > disc1.out 2>&1 &"
        )),
        "{script}"
    );
    assert_eq!(
        commands
            .iter()
            .filter(|l| l.contains("pubsub discovery"))
            .count(),
        20,
        "{script}"
    );
    assert!(
        commands.iter().all(|l| ["h1 ", "h2 ", "h3 ", "h4 "]
            .iter()
            .any(|h| l.starts_with(h))),
        "{script}"
    );
    assert!(
        script.contains(&format!(
            "rolecall pubsub publisher -c {ini} -n pub1 -a 10.0.0."
        )),
        "{script}"
    );

    let out = run(rolecall().args(["pubsub", "dht-lookup", "-j", json, "weather", "light"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // Python: ... sha256(b"weather") ... = 252781037047356: the first node at or after it.
    let want = hashes
        .iter()
        .find(|&&h| h >= 252781037047356)
        .or(hashes.first())
        .unwrap();
    let owner = nodes
        .iter()
        .find(|n| n["hash"].as_u64() == Some(*want))
        .unwrap()["id"]
        .as_str()
        .unwrap();
    assert!(
        text.contains(&format!("weather 252781037047356 -> {owner} (hops")),
        "{text}"
    );
    // The responsible node down: a clear error, status 1.
    let out = run(rolecall().args([
        "pubsub",
        "dht-lookup",
        "-j",
        json,
        "--down",
        owner,
        "weather",
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("belongs to {owner}, which is down")),
        "{}",
        stderr(&out)
    );
    let out = run(rolecall().args(["pubsub", "dht-json", "-t", "ring,3", "-j", json]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad topology 'ring,3'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bench_pubsub_reports_paired_lookup_rounds_and_latency_direct_and_broker() {
    // Its failover figure uses the standalone ZooKeeper server, which other
    // tests stop for a while.
    let _serial = crate::zk::serial();
    let out = run(rolecall().args(["bench", "pubsub", "--json", "--messages", "300"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let line = text.lines().last().expect("a JSON line");
    let v: serde_json::Value = serde_json::from_str(line).expect("json");
    assert_eq!(v["suite"], "pubsub");
    assert_eq!(v["lookups_per_round"], 300);
    assert_paired_ratios(&v, 3, line);
    for (i, name) in ["direct", "broker"].iter().enumerate() {
        let l = &v["latency"][i];
        assert_eq!(l["dissemination"], *name, "{line}");
        // Every publication arrived (the suite fails otherwise) and was timed.
        assert_eq!(l["publications"], 2000, "{line}");
        let (p50, p99) = (l["p50_us"].as_f64().unwrap(), l["p99_us"].as_f64().unwrap());
        assert!(p50 > 0.0 && p50 <= p99, "{line}");
    }
    // With ZooKeeper there (make test starts it): the broker failover figure,
    // each run losing nothing (the backup's replay covers the failover).
    if std::env::var_os("ROLECALL_ZK").is_some() {
        let f = &v["failover"];
        assert_eq!(f["bound_ms"], 5000, "{line}");
        assert!(f["ratio"].as_f64().is_some_and(|r| r > 0.0), "{line}");
        let lost = f["lost"].as_array().expect("lost per run");
        assert_eq!(lost.len(), 2, "{line}");
        assert!(lost.iter().all(|l| l == 0), "{line}");
    }
}

#[test]
fn flatbuffers_publications_are_counted_and_timed() {
    let _discovery = background(&["discovery", "-P", "1", "-S", "1", "-p", "33851"]);
    let publisher = std::thread::spawn(|| {
        pubsub(&[
            "publisher",
            "-n",
            "fb",
            "-a",
            "127.0.0.1",
            "-p",
            "33852",
            "-d",
            "127.0.0.1:33851",
            "--topics",
            "altitude,location",
            "-i",
            "25",
            "-f",
            "100",
            "--pause-ms",
            "50",
            "--format",
            "flatbuffers",
        ])
    });
    let dir = tempfile::tempdir().expect("a temp dir");
    let sub = pubsub(&[
        "subscriber",
        "-n",
        "s",
        "-d",
        "127.0.0.1:33851",
        "--topics",
        "location",
        "--pause-ms",
        "50",
        "--stop-after",
        "25",
        "--results",
        dir.path().join("s.lp").to_str().unwrap(),
    ]);
    let p = publisher.join().expect("publisher thread");
    assert!(p.status.success(), "{}", stderr(&p));
    let log = stderr(&sub);
    assert!(sub.status.success(), "{log}");
    assert!(
        log.contains("subscriber COMPLETED: received 25 [fb/location=25] malformed 0"),
        "{log}"
    );
    let rows = latency_rows(&stdout(&sub));
    assert_eq!(
        rows.get("latency,publisher=fb,subscriber=s,topic=location"),
        Some(&25),
        "{}",
        stdout(&sub)
    );
}

#[test]
fn a_role_whose_port_is_taken_fails_its_process() {
    // Whatever the timing, a client that cannot bind ends its process with
    // status 1 naming the endpoint (the node fails, not only the actor).
    let _taken = std::net::TcpListener::bind("0.0.0.0:33961").expect("a free port");
    for role in ["publisher", "broker"] {
        let mut args = vec![role, "-n", "x", "-p", "33961", "-d", "127.0.0.1:33962"];
        let dir = tempfile::tempdir().unwrap();
        let ini = dir.path().join("config.ini");
        std::fs::write(&ini, "[Dissemination]\nStrategy = Broker\n").unwrap();
        let ini = ini.to_str().unwrap().to_owned();
        args.extend(["-c", &ini]);
        let out = pubsub(&args);
        assert_eq!(out.status.code(), Some(1), "{role}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("binding tcp://*:33961: Address already in use"),
            "{role}: {}",
            stderr(&out)
        );
    }
}
