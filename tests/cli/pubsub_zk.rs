//! The ZooKeeper strategy (the course's PA3/PA4) across `rolecall pubsub`
//! processes against the real servers of `scripts/servers.sh`: the primary
//! discovery, a primary broker and the strongest publisher each killed with
//! SIGKILL, a server of the 3-server ensemble stopped mid-run, and a kazoo
//! client that must see the primary rolecall reports.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

/// Session timeout the tests give every process.
const SESSION: Duration = Duration::from_millis(4000);
/// The failover bound the issue states: session timeout + 1 s.
const FAILOVER: Duration = Duration::from_millis(5000);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: `scripts/servers.sh start` and `source target/test-servers/env` (make test does both)")
    })
}

/// A root of its own per test, so runs never meet in ZooKeeper.
fn root_for(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "/rolecall-test/pubsub-{name}-{}-{nanos}",
        std::process::id()
    )
}

/// A `rolecall pubsub` process whose log lines are kept with their arrival time.
struct Proc {
    name: String,
    child: Child,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Proc {
    fn start(name: &str, args: &[String]) -> Proc {
        let mut child = rolecall()
            .arg("pubsub")
            .args(args)
            .env("ROLECALL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rolecall starts");
        let err = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let keep = lines.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                keep.lock().unwrap().push((Instant::now(), l));
            }
        });
        Proc {
            name: name.to_owned(),
            child,
            lines,
        }
    }

    fn text(&self) -> String {
        let l = self.lines.lock().unwrap();
        l.iter()
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// When the first line containing `needle` arrived, waiting up to `timeout`.
    fn wait_for(&self, needle: &str, timeout: Duration) -> Instant {
        self.wait_for_after(needle, None, timeout)
    }

    /// When the first line containing `needle` that arrived after `after`
    /// (any, with `None`) arrived, waiting up to `timeout`.
    fn wait_for_after(&self, needle: &str, after: Option<Instant>, timeout: Duration) -> Instant {
        let until = Instant::now() + timeout;
        loop {
            if let Some((t, _)) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|(t, l)| after.is_none_or(|a| *t > a) && l.contains(needle))
            {
                return *t;
            }
            assert!(
                Instant::now() < until,
                "`{needle}` not logged by {} within {timeout:?}:\n{}",
                self.name,
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to end; its exit code.
    fn finish(&mut self, timeout: Duration) -> Option<i32> {
        let status = wait_with_timeout(&mut self.child, timeout);
        std::thread::sleep(Duration::from_millis(100));
        status.and_then(|s| s.code())
    }

    fn kill9(&mut self) -> Instant {
        let _ = self.child.kill();
        let _ = self.child.wait();
        Instant::now()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The system's `config.ini` in a temp dir, and the flags every process shares.
struct System {
    _dir: tempfile::TempDir,
    config: PathBuf,
    servers: String,
    root: String,
}

impl System {
    fn new(name: &str, servers: &str, dissemination: &str, groups: usize) -> System {
        let dir = tempfile::tempdir().expect("a temp dir");
        let config = dir.path().join("config.ini");
        std::fs::write(
            &config,
            format!("[Discovery]\nStrategy = ZooKeeper\n[Dissemination]\nStrategy = {dissemination}\nGroups = {groups}\n"),
        )
        .unwrap();
        System {
            _dir: dir,
            config,
            servers: servers.to_owned(),
            root: root_for(name),
        }
    }

    fn args(&self, role: &str, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = vec![
            role.into(),
            "-c".into(),
            self.config.display().to_string(),
            "-z".into(),
            self.servers.clone(),
            "--zk-root".into(),
            self.root.clone(),
            "--session-timeout-ms".into(),
            SESSION.as_millis().to_string(),
        ];
        if role != "discovery" {
            a.extend(["--pause-ms".into(), "100".into()]);
        }
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        a
    }

    fn start(&self, name: &str, role: &str, extra: &[&str]) -> Proc {
        Proc::start(name, &self.args(role, extra))
    }

    /// Runs a kazoo script with the servers and `ROOT/path` as arguments;
    /// its output's one line, split at commas.
    fn kazoo(&self, script: &str, path: &str) -> Vec<String> {
        let script = format!(
            "import sys\nfrom kazoo.client import KazooClient\n\
             zk = KazooClient(hosts=sys.argv[1], timeout=4.0)\nzk.start(timeout=10)\n\
             p = sys.argv[2]\n{script}\nzk.stop()\n"
        );
        let out = Command::new(python())
            .args([
                "-c",
                &script,
                &self.servers,
                &format!("{}/{path}", self.root),
            ])
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "kazoo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// kazoo's view of the children of a node under the root: `name=data`, sorted.
    fn kazoo_children(&self, parent: &str) -> Vec<String> {
        self.kazoo(
            r#"print(",".join(sorted(c + "=" + zk.get(p + "/" + c)[0].decode() for c in zk.get_children(p))), flush=True)"#,
            parent,
        )
    }

    /// kazoo's view of an election under the root: its contenders' identifiers, leader first.
    fn kazoo_contenders(&self, election: &str) -> Vec<String> {
        self.kazoo(
            r#"print(",".join(zk.Election(p).contenders()), flush=True)"#,
            election,
        )
    }
}

/// `(delivered, lost, duplicates dropped, not from the owner)` of a subscriber's COMPLETED line.
fn accounts(log: &str) -> (u64, u64, u64, u64) {
    let line = log
        .lines()
        .find(|l| l.contains("subscriber COMPLETED"))
        .unwrap_or_else(|| panic!("no COMPLETED line:\n{log}"));
    let num = |key: &str| -> u64 {
        line.split(key)
            .nth(1)
            .and_then(|r| r.split([',', ' ', ';']).find(|w| !w.is_empty()))
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no `{key}` in {line}"))
    };
    (
        num("delivered "),
        num("lost "),
        num("duplicates dropped "),
        num("not from the owner "),
    )
}

/// Delivery times (ns) per (publisher, topic) from a subscriber's `--results` file.
fn deliveries(path: &Path) -> Vec<(String, String, i64)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("latency,"))
        .filter_map(|l| {
            let tag = |k: &str| {
                l.split([',', ' '])
                    .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                    .map(str::to_owned)
            };
            let ts = l.rsplit(' ').next()?.parse().ok()?;
            Some((tag("publisher")?, tag("topic")?, ts))
        })
        .collect()
}

fn wall_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

#[test]
fn the_primary_discovery_killed_a_backup_takes_over_and_clients_register_again() {
    let _serial = crate::zk::serial();
    let sys = System::new("discovery", &env("ROLECALL_ZK"), "Direct", 1);
    let d1 = sys.start("d1", "discovery", &["-p", "34501", "-P", "1", "-S", "1"]);
    d1.wait_for(
        "discovery PRIMARY: elected, serving at tcp://localhost:34501",
        Duration::from_secs(20),
    );
    let mut d1 = d1;
    let d2 = sys.start("d2", "discovery", &["-p", "34502", "-P", "1", "-S", "1"]);
    d2.wait_for(
        "discovery BACKUP: the primary is tcp://localhost:34501",
        Duration::from_secs(20),
    );
    // kazoo sees the same primary.
    assert_eq!(
        sys.kazoo_contenders("discovery"),
        vec!["tcp://localhost:34501", "tcp://localhost:34502"]
    );
    let mut publisher = sys.start(
        "pub1",
        "publisher",
        &[
            "-n", "pub1", "-p", "34503", "--topics", "weather", "-f", "20", "-i", "240",
        ],
    );
    let mut sub = sys.start(
        "sub1",
        "subscriber",
        &[
            "-n",
            "sub1",
            "--topics",
            "weather",
            "--stop-after",
            "240",
            "--idle-timeout-ms",
            "8000",
        ],
    );
    publisher.wait_for("publisher DISSEMINATE", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(2));
    let killed = d1.kill9();
    let elected = d2.wait_for(
        "discovery PRIMARY: elected, serving at tcp://localhost:34502",
        Duration::from_secs(15),
    );
    assert!(
        elected - killed <= FAILOVER,
        "the backup took {:?} to take over (bound {FAILOVER:?})",
        elected - killed
    );
    publisher.wait_for(
        "pub1 again with the new primary discovery tcp://localhost:34502",
        Duration::from_secs(10),
    );
    sub.wait_for(
        "sub1 again with the new primary discovery tcp://localhost:34502",
        Duration::from_secs(10),
    );
    assert_eq!(
        sys.kazoo_contenders("discovery"),
        vec!["tcp://localhost:34502"]
    );
    // A subscriber that joins after the failover finds the publisher through the new primary.
    let mut late = sys.start(
        "sub2",
        "subscriber",
        &[
            "-n",
            "sub2",
            "--topics",
            "weather",
            "--stop-after",
            "20",
            "--idle-timeout-ms",
            "8000",
        ],
    );
    assert_eq!(
        late.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        late.text()
    );
    assert_eq!(accounts(&late.text()).0, 20, "{}", late.text());
    // The first subscriber never noticed: every publication, none lost, none twice.
    assert_eq!(
        sub.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        sub.text()
    );
    assert_eq!(accounts(&sub.text()), (240, 0, 0, 0), "{}", sub.text());
    assert_eq!(
        publisher.finish(Duration::from_secs(30)),
        Some(0),
        "{}",
        publisher.text()
    );
}

#[test]
fn a_primary_broker_killed_its_backup_replays_and_subscribers_lose_nothing() {
    let _serial = crate::zk::serial();
    let sys = System::new("brokers", &env("ROLECALL_ZK"), "Broker", 2);
    let _d = sys.start(
        "d",
        "discovery",
        &["-p", "34511", "-P", "1", "-S", "1", "-B", "3"],
    );
    let idle = ["--idle-timeout-ms", "4000"];
    let mut b1 = sys.start(
        "b1",
        "broker",
        &[&["-n", "b1", "-p", "34512", "--group", "0"][..], &idle].concat(),
    );
    b1.wait_for("broker PRIMARY of its group", Duration::from_secs(20));
    let mut b2 = sys.start(
        "b2",
        "broker",
        &[&["-n", "b2", "-p", "34513", "--group", "0"][..], &idle].concat(),
    );
    b2.wait_for(
        "broker BACKUP: the primary is tcp://localhost:34512",
        Duration::from_secs(20),
    );
    let mut b3 = sys.start(
        "b3",
        "broker",
        &[&["-n", "b3", "-p", "34514", "--group", "1"][..], &idle].concat(),
    );
    let results = tempfile::tempdir().unwrap();
    let lp = results.path().join("sub.lp");
    let mut publisher = sys.start(
        "pub1",
        "publisher",
        // weather is group 0, humidity group 1 (of 2).
        &[
            "-n",
            "pub1",
            "-p",
            "34515",
            "--topics",
            "weather,humidity",
            "-f",
            "25",
            "-i",
            "300",
        ],
    );
    let mut sub = sys.start(
        "sub1",
        "subscriber",
        &[
            "-n",
            "sub1",
            "--topics",
            "weather,humidity",
            "--stop-after",
            "600",
            "--idle-timeout-ms",
            "10000",
            "--results",
            lp.to_str().unwrap(),
        ],
    );
    publisher.wait_for("publisher DISSEMINATE", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(3));
    let killed_ns = wall_ns();
    let killed = b1.kill9();
    let promoted = b2.wait_for(
        "broker PRIMARY: elected: replaying",
        Duration::from_secs(15),
    );
    assert!(
        promoted - killed <= FAILOVER,
        "promotion took {:?}",
        promoted - killed
    );
    assert_eq!(
        sub.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        sub.text()
    );
    let (delivered, lost, duplicates, _) = accounts(&sub.text());
    // The backup buffered what the primary forwarded: nothing is lost, the
    // overlap it replays is dropped as duplicates (and counted).
    assert_eq!((delivered, lost), (600, 0), "{}", sub.text());
    assert!(
        duplicates > 0,
        "the replay overlaps what the primary forwarded: {}",
        sub.text()
    );
    // Weather (group 0) resumed through the new primary within the bound.
    let first_after = deliveries(&lp)
        .into_iter()
        .filter(|(_, t, ts)| t == "weather" && *ts > killed_ns)
        .map(|(_, _, ts)| ts)
        .min()
        .expect("weather deliveries after the kill");
    let gap = Duration::from_nanos((first_after - killed_ns) as u64);
    assert!(
        gap <= FAILOVER,
        "first weather delivery {gap:?} after the kill (bound {FAILOVER:?})"
    );
    // The load by broker: group 1's broker forwarded humidity only, the backup weather after its promotion.
    for b in [&mut b2, &mut b3, &mut publisher] {
        assert_eq!(b.finish(Duration::from_secs(30)), Some(0), "{}", b.text());
    }
    assert!(
        b3.text().contains("forwarded 300 publications of group 1"),
        "{}",
        b3.text()
    );
    assert!(
        b2.text().contains("publications of group 0"),
        "{}",
        b2.text()
    );
}

#[test]
fn the_strongest_publisher_owns_its_topic_and_the_next_takes_over_on_the_ensemble() {
    let _serial = crate::zk::serial();
    let sys = System::new("owners", &env("ROLECALL_ZK_ENSEMBLE"), "Direct", 1);
    let _d = sys.start("d", "discovery", &["-p", "34521", "-P", "2", "-S", "1"]);
    let results = tempfile::tempdir().unwrap();
    let lp = results.path().join("sub.lp");
    let pubs = |name: &str, port: &str, strength: &str| {
        sys.start(
            name,
            "publisher",
            &[
                "-n",
                name,
                "-p",
                port,
                "--topics",
                "weather",
                "--strength",
                strength,
                "-f",
                "20",
                "-i",
                "400",
            ],
        )
    };
    let mut strong = pubs("p1", "34522", "10");
    let _weak = pubs("p2", "34523", "5");
    let mut sub = sys.start(
        "sub1",
        "subscriber",
        &[
            "-n",
            "sub1",
            "--topics",
            "weather",
            "--stop-after",
            "260",
            "--idle-timeout-ms",
            "10000",
            "--results",
            lp.to_str().unwrap(),
        ],
    );
    sub.wait_for(
        "owner of weather: p1 (strength 10)",
        Duration::from_secs(30),
    );
    strong.wait_for("publisher DISSEMINATE", Duration::from_secs(60));
    // kazoo sees the ownership nodes the subscriber decides by.
    assert_eq!(sys.kazoo_children("owners/weather"), vec!["p1=10", "p2=5"]);
    // A server of the ensemble stops: sessions move to the others, nothing
    // changes (p2 may have owned the topic for a moment at the start, before
    // p1's node was there: only later changes count).
    std::thread::sleep(Duration::from_secs(2));
    let stopped = Instant::now();
    let _restart = RestartEnsembleServer::stop("zk-ens1");
    std::thread::sleep(Duration::from_secs(4));
    let changed = sub
        .lines
        .lock()
        .unwrap()
        .iter()
        .any(|(t, l)| *t > stopped && l.contains("owner of weather"));
    assert!(
        !changed,
        "the owner changed while a server was down:\n{}",
        sub.text()
    );
    let killed_ns = wall_ns();
    let killed = strong.kill9();
    let took_over = sub.wait_for_after(
        "owner of weather: p2 (strength 5)",
        Some(killed),
        Duration::from_secs(15),
    );
    assert!(
        took_over - killed <= FAILOVER,
        "ownership moved after {:?}",
        took_over - killed
    );
    assert_eq!(sys.kazoo_children("owners/weather"), vec!["p2=5"]);
    assert_eq!(
        sub.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        sub.text()
    );
    let (delivered, lost, _, not_owner) = accounts(&sub.text());
    assert_eq!(delivered, 260, "{}", sub.text());
    assert_eq!(lost, 0, "{}", sub.text());
    assert!(
        not_owner > 0,
        "p2's publications before the takeover are not delivered: {}",
        sub.text()
    );
    let seen = deliveries(&lp);
    // Before the kill only the owner's publications were delivered.
    assert!(seen
        .iter()
        .filter(|(_, _, ts)| *ts < killed_ns)
        .all(|(p, _, _)| p == "p1"));
    let first_p2 = seen
        .iter()
        .filter(|(p, _, _)| p == "p2")
        .map(|(_, _, ts)| *ts)
        .min()
        .expect("p2 delivered after the takeover");
    let gap = Duration::from_nanos((first_p2 - killed_ns).max(0) as u64);
    assert!(
        gap <= FAILOVER,
        "p2's first delivery {gap:?} after the kill (bound {FAILOVER:?})"
    );
}

/// Stops a server of the ensemble; starts it again when dropped.
struct RestartEnsembleServer(&'static str);

impl RestartEnsembleServer {
    fn stop(name: &'static str) -> Self {
        crate::zk::server_ctl("zk-kill", name);
        RestartEnsembleServer(name)
    }
}

impl Drop for RestartEnsembleServer {
    fn drop(&mut self) {
        crate::zk::server_ctl("zk-start", self.0);
    }
}

#[test]
fn the_pa3_example_script_survives_both_kills_with_nothing_lost() {
    let _serial = crate::zk::serial();
    let logs = tempfile::tempdir().unwrap();
    let out = run_within(
        Command::new(root().join("examples/pubsub_zk/pa3.sh"))
            .env("ROLECALL", root().join("target/debug/rolecall"))
            .env("ROLECALL_ZK", env("ROLECALL_ZK"))
            .env("PORT", "34600")
            .env("LOGS", logs.path()),
        // Ten processes: slow to start on a loaded machine.
        240,
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for line in [
        "disc2: discovery PRIMARY: elected, serving at tcp://localhost:34601",
        "b2: broker PRIMARY: elected: replaying",
        "pub1: publisher REGISTER: pub1 again with the new primary discovery tcp://localhost:34601",
        "sub1: subscriber COMPLETED: received 900 [pub1/humidity=300 pub1/weather=300 pub2/weather=300]",
        "sub2: subscriber COMPLETED: received 300 [pub2/light=300]",
        "b3: broker COMPLETED: forwarded 600 publications of group 1",
    ] {
        assert!(text.contains(line), "`{line}` missing:\n{text}");
    }
    for sub in ["sub1", "sub2"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{sub}: subscriber COMPLETED")))
            .unwrap();
        assert!(line.contains("lost 0,"), "{line}");
    }
}

#[test]
fn the_pa4_example_script_shows_ownership_failover_and_history() {
    let _serial = crate::zk::serial();
    let logs = tempfile::tempdir().unwrap();
    let out = run_within(
        Command::new(root().join("examples/pubsub_zk/pa4.sh"))
            .env("ROLECALL", root().join("target/debug/rolecall"))
            .env("ROLECALL_ZK", env("ROLECALL_ZK"))
            .env("PORT", "34700")
            .env("LOGS", logs.path()),
        240,
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for line in [
        "sub1: owner of weather: p1 (strength 10)",
        "sub1: owner of weather: p2 (strength 5)",
        "sub2: subscriber HISTORY: p3/humidity: 5 from history, 55 live",
        "sub2: subscriber COMPLETED: received 60 [p3/humidity=60]",
        "sub3: subscriber sub3: history refused: p3 on humidity keeps N=10, asked H=20",
        "sub3: subscriber HISTORY: p4/light: 20 from history, 40 live",
        "sub3: subscriber COMPLETED: received 60 [p4/light=60]",
        "p3: history REFUSED: sub3 asked for the last H=20 publications of humidity; p3 keeps N=10",
        "p4: history: sent 20 of the last 20 publications of light to sub3",
    ] {
        assert!(text.contains(line), "`{line}` missing:\n{text}");
    }
    // sub1: p1's until the kill, then p2's; nothing lost, p2's earlier ones not delivered.
    let sub1 = text
        .lines()
        .find(|l| l.starts_with("sub1: subscriber COMPLETED"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(sub1.contains("received 150 [p1/weather="), "{sub1}");
    assert!(sub1.contains("lost 0,"), "{sub1}");
    assert!(!sub1.contains("not from the owner 0,"), "{sub1}");
}

#[test]
fn clients_started_before_the_broker_and_discovery_wait_for_their_election() {
    let _serial = crate::zk::serial();
    let sys = System::new("order", &env("ROLECALL_ZK"), "Broker", 1);
    // The reverse of the usual order: subscriber, publisher, broker, discovery last.
    let mut sub = sys.start(
        "sub1",
        "subscriber",
        &[
            "-n",
            "sub1",
            "--topics",
            "weather",
            "--stop-after",
            "40",
            "--idle-timeout-ms",
            "8000",
        ],
    );
    let mut publisher = sys.start(
        "pub1",
        "publisher",
        &[
            "-n", "pub1", "-p", "34531", "--topics", "weather", "-f", "20", "-i", "60",
        ],
    );
    std::thread::sleep(Duration::from_secs(2));
    let mut broker = sys.start(
        "b1",
        "broker",
        &["-n", "b1", "-p", "34532", "--idle-timeout-ms", "3000"],
    );
    std::thread::sleep(Duration::from_secs(2));
    let _d = sys.start("d", "discovery", &["-p", "34533", "-P", "1", "-S", "1"]);
    assert_eq!(
        sub.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        sub.text()
    );
    assert_eq!(accounts(&sub.text()), (40, 0, 0, 0), "{}", sub.text());
    for p in [&mut publisher, &mut broker] {
        assert_eq!(p.finish(Duration::from_secs(30)), Some(0), "{}", p.text());
    }
}
