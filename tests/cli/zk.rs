//! ZooKeeper across `rolecall` processes: the examples, an election whose
//! leader is killed with SIGKILL (takeover time measured), a barrier of three
//! processes, and the standalone server restarted under a running node.
//! Needs `scripts/servers.sh start` (ROLECALL_ZK, ROLECALL_ZK_CTL).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::support::*;

/// The tests here share the standalone server, and one restarts it.
static SERVER: Mutex<()> = Mutex::new(());

pub(crate) fn serial() -> MutexGuard<'static, ()> {
    SERVER.lock().unwrap_or_else(|p| p.into_inner())
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start the test servers with `scripts/servers.sh start` \
             and `source target/test-servers/env` (make test does both)"
        )
    })
}

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("/rolecall-cli-{name}-{}-{nanos}", std::process::id())
}

/// A running `rolecall` process whose stdout lines arrive on a channel.
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    fn start(args: &[&str]) -> Proc {
        let mut child = rolecall()
            .args(args)
            .env("ROLECALL_ZK", env("ROLECALL_ZK"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("rolecall starts");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::sync_channel(256);
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Proc {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line equal to `want` (or starting with it, if it ends with '*').
    fn expect(&mut self, want: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let matches = |l: &str| match want.strip_suffix('*') {
            Some(prefix) => l.starts_with(prefix),
            None => l == want,
        };
        if self.seen.iter().any(|l| matches(l)) {
            return;
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let hit = matches(&l);
                    self.seen.push(l);
                    if hit {
                        return;
                    }
                }
                Err(_) => panic!("no line {want:?} within {timeout:?}; saw {:?}", self.seen),
            }
        }
    }

    fn sigkill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `scripts/servers.sh zk-kill|zk-start NAME`.
pub(crate) fn server_ctl(action: &str, name: &str) {
    let status = Command::new(env("ROLECALL_ZK_CTL"))
        .args([action, name])
        .env("ROLECALL_TEST_DIR", env("ROLECALL_ZK_DIR"))
        .status()
        .expect("servers.sh runs");
    assert!(status.success(), "servers.sh {action} {name} failed");
}

/// Restarts the standalone server when dropped, even if the test failed.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        server_ctl("zk-start", "zookeeper");
    }
}

/// Deletes `path` and what is below it, if it is there (kazoo).
fn remove_tree(path: &str) {
    kazoo(
        &env("ROLECALL_ZK"),
        path,
        "zk.delete(p, recursive=True) if zk.exists(p) else None",
    );
}

#[test]
fn zk_session_example_runs_its_script() {
    let _s = serial();
    // The example's fixed node, left behind by a run that was interrupted.
    remove_tree("/rolecall-demo");
    let out = run(rolecall()
        .args(["run", "examples/zk_session/topology.toml"])
        .env("ROLECALL_ZK", env("ROLECALL_ZK")));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for line in [
        "zk reply 1 created /rolecall-demo",
        "zk reply 2 data \"hello\" version 0",
        "zk event data-changed /rolecall-demo",
        "zk reply 3 written version 1",
        "zk reply 4 error: node /rolecall-demo: version is not 0",
        "zk reply 6 children [me]",
        "zk event deleted /rolecall-demo/me",
        "zk reply 10 deleted",
        "zk reply 11 error: no node /rolecall-demo",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
}

fn barrier_sets(path: &str) -> Vec<String> {
    ["n0.m0", "n1.m1", "n2.m2"]
        .iter()
        .map(|a| format!("--set={a}.path={path}"))
        .collect()
}

#[test]
fn zk_barrier_example_in_one_process_and_in_three() {
    let _s = serial();
    let topo = "examples/zk_barrier/topology.toml";
    // One process, three actors.
    let path = unique("barrier1");
    let mut args = vec!["run", topo];
    let sets = barrier_sets(&path);
    args.extend(sets.iter().map(String::as_str));
    let out = run(rolecall()
        .args(&args)
        .env("ROLECALL_ZK", env("ROLECALL_ZK")));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for m in ["m0", "m1", "m2"] {
        for what in ["entered", "released m0,m1,m2", "left"] {
            let line = format!("{m} {what}");
            assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
        }
    }
    // Three processes, the driver last: the others wait for the barrier node.
    let path = unique("barrier3");
    let sets = barrier_sets(&path);
    let start = |node: &str| {
        let mut a = vec!["node", topo, "--node", node];
        a.extend(sets.iter().map(String::as_str));
        Proc::start(&a)
    };
    let mut p1 = start("n1");
    let mut p2 = start("n2");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        p1.lines.try_recv().is_err(),
        "m1 must wait for the barrier node"
    );
    let mut p0 = start("n0");
    for (p, m) in [(&mut p0, "m0"), (&mut p1, "m1"), (&mut p2, "m2")] {
        p.expect(&format!("{m} released m0,m1,m2"), Duration::from_secs(20));
        p.expect(&format!("{m} left"), Duration::from_secs(10));
    }
    for p in [&mut p0, &mut p1, &mut p2] {
        assert!(p.wait(Duration::from_secs(10)).is_some_and(|s| s.success()));
    }
}

#[test]
fn election_across_processes_survives_sigkill_of_the_leader() {
    let _s = serial();
    let topo = "examples/zk_election/topology.toml";
    let path = unique("election");
    let sets: Vec<String> = ["a.ca", "b.cb", "c.cc"]
        .iter()
        .map(|a| format!("--set={a}.path={path}"))
        .collect();
    let start = |node: &str| {
        let mut a = vec!["node", topo, "--node", node];
        a.extend(sets.iter().map(String::as_str));
        Proc::start(&a)
    };
    let mut a = start("a");
    a.expect("a elected", Duration::from_secs(20));
    let mut b = start("b");
    b.expect("b following a", Duration::from_secs(20));
    let mut c = start("c");
    c.expect("c following a", Duration::from_secs(20));
    // SIGKILL: the leader's session is not closed; the server expires it
    // after the session timeout (2 s), then the next candidate leads.
    let killed = Instant::now();
    a.sigkill();
    b.expect("b elected", Duration::from_secs(10));
    let takeover = killed.elapsed();
    c.expect("c following b", Duration::from_secs(5));
    let everyone = killed.elapsed();
    println!("takeover after SIGKILL: {takeover:?} (every follower told: {everyone:?}; session timeout 2 s)");
    assert!(
        takeover <= Duration::from_secs(3),
        "takeover {takeover:?} > session timeout + 1 s"
    );
}

#[test]
fn standalone_server_restart_sessions_reconnect_and_registrations_come_back() {
    let _s = serial();
    let path = unique("registry");
    let topo = format!(
        r#"
        [actors.member]
        kind = "zk.membership"
        params = {{ path = "{path}", name = "svc", address = "127.0.0.1:9000", session_timeout_ms = 10000 }}
        [actors.zk]
        kind = "zk.session"
        params = {{ session_timeout_ms = 10000 }}
        [actors.print]
        kind = "zk.print"
        [[wires]]
        from = "zk.state"
        to = "print.state"
        [[wires]]
        from = "member.members"
        to = "print.members"
        "#
    );
    let dir = std::env::temp_dir().join(format!("rolecall-zk-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("registry.toml");
    std::fs::write(&file, topo).unwrap();
    let mut p = Proc::start(&["run", file.to_str().unwrap()]);
    p.expect("print state connected *", Duration::from_secs(20));
    p.expect(
        "print members [svc=127.0.0.1:9000]",
        Duration::from_secs(20),
    );
    {
        let _restart = Restart;
        server_ctl("zk-kill", "zookeeper");
        p.expect("print state disconnected", Duration::from_secs(15));
    }
    // Reconnected (the same session if the restart was quick, else a new one).
    let mut reconnected = false;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && !reconnected {
        if let Ok(l) = p.lines.recv_timeout(Duration::from_millis(200)) {
            reconnected = l.starts_with("print state connected");
            p.seen.push(l);
        }
    }
    assert!(reconnected, "no reconnection: {:?}", p.seen);
    // A fresh process sees the registration.
    let watcher = dir.join("watch.toml");
    std::fs::write(
        &watcher,
        format!(
            r#"
            [topology]
            finish_when = ["print"]
            [actors.w]
            kind = "zk.membership"
            params = {{ path = "{path}" }}
            [actors.print]
            kind = "zk.print"
            [[wires]]
            from = "w.members"
            to = "print.members"
            "#
        ),
    )
    .unwrap();
    let mut w = Proc::start(&["run", watcher.to_str().unwrap()]);
    w.expect(
        "print members [svc=127.0.0.1:9000]",
        Duration::from_secs(20),
    );
    drop(w);
    drop(p);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_zk_reports_a_ratio_and_a_takeover_within_the_session_timeout_plus_1s() {
    let _s = serial();
    let out = run(rolecall()
        .args(["bench", "zk", "--json"])
        .env("ROLECALL_ZK", env("ROLECALL_ZK")));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let last = text.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert_eq!(v["suite"], "zk");
    let ratio = v["ratio"].as_f64().expect("ratio");
    assert!(ratio > 0.0, "{last}");
    let takeover = v["takeover_target_ratio"].as_f64().expect("takeover");
    assert!(takeover > 0.0 && takeover <= 1.0, "{last}");
}

/// Writes a topology file for one test process.
fn topology(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rolecall-zk-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn lock_across_three_processes_is_held_by_one_at_a_time() {
    let _s = serial();
    let path = unique("lock");
    let hold = Duration::from_millis(700);
    let mut procs: Vec<(String, Proc)> = ["p0", "p1", "p2"]
        .iter()
        .map(|id| {
            let file = topology(
                &format!("lock-{id}"),
                &format!(
                    r#"
                    [actors.lock]
                    kind = "zk.lock"
                    params = {{ path = "{path}", identifier = "{id}", hold_ms = {} }}
                    [actors.print]
                    kind = "zk.print"
                    params = {{ label = "{id}" }}
                    [[wires]]
                    from = "lock.events"
                    to = "print.lock"
                    "#,
                    hold.as_millis()
                ),
            );
            (
                id.to_string(),
                Proc::start(&["run", file.to_str().unwrap()]),
            )
        })
        .collect();
    let started = Instant::now();
    for (id, p) in &mut procs {
        p.expect(&format!("{id} acquired *"), Duration::from_secs(20));
        p.expect(&format!("{id} released"), Duration::from_secs(20));
        assert!(p.wait(Duration::from_secs(10)).is_some_and(|s| s.success()));
    }
    // One at a time: three holds of 700 ms one after the other.
    let took = started.elapsed();
    assert!(
        took >= hold * 3,
        "three holders overlapped: all done in {took:?}"
    );
}

#[test]
fn membership_across_processes_every_watcher_sees_every_change() {
    let _s = serial();
    let path = unique("members");
    let member = |name: &str, addr: &str| {
        let file = topology(
            &format!("member-{name}"),
            &format!(
                r#"
                [actors.m]
                kind = "zk.membership"
                params = {{ path = "{path}", name = "{name}", address = "{addr}" }}
                "#
            ),
        );
        Proc::start(&["run", file.to_str().unwrap()])
    };
    let watch = topology(
        "member-watch",
        &format!(
            r#"
            [actors.w]
            kind = "zk.membership"
            params = {{ path = "{path}" }}
            [actors.print]
            kind = "zk.print"
            params = {{ label = "w" }}
            [[wires]]
            from = "w.members"
            to = "print.members"
            "#
        ),
    );
    let mut w = Proc::start(&["run", watch.to_str().unwrap()]);
    w.expect("w members []", Duration::from_secs(20));
    let mut a = member("a", "10.0.0.1:80");
    w.expect("w members [a=10.0.0.1:80]", Duration::from_secs(20));
    let _b = member("b", "10.0.0.2:80");
    w.expect(
        "w members [a=10.0.0.1:80,b=10.0.0.2:80]",
        Duration::from_secs(20),
    );
    // SIGKILL: the member's node goes when its session times out (4 s).
    a.sigkill();
    w.expect("w members [b=10.0.0.2:80]", Duration::from_secs(15));
}

#[test]
fn zk_examples_check_and_a_misspelt_parameter_is_reported_with_its_place() {
    for e in ["zk_session", "zk_barrier", "zk_election"] {
        let out = run(rolecall().args(["check", &format!("examples/{e}/topology.toml")]));
        assert!(out.status.success(), "{e}: {}", stderr(&out));
    }
    let file = topology(
        "typo",
        "[actors.c]\nkind = \"zk.election\"\nparams = { path = \"/x\", session_timout_ms = 10 }\n",
    );
    let out = run(rolecall().args(["check", file.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out) + &stdout(&out);
    assert!(err.contains("typo.toml:3:25"), "{err}");
    assert!(err.contains("unknown field `session_timout_ms`"), "{err}");
}
