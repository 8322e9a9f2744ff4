//! A 3-server ensemble loses its ZooKeeper leader, then a follower: clients
//! carry on (same session, requests succeed again, the election keeps its
//! leader).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use rolecall_actors::zk::{Call, ConnectionState, Leadership, Mode, Op, Outcome, Session};
use rolecall_runtime::wire::WireConfig;

use crate::support::{ensemble, next, node, unique};

/// `Mode: leader` / `follower` of the server on `port` (4-letter `srvr`).
fn mode(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"srvr").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.lines()
        .find_map(|l| l.strip_prefix("Mode: ").map(str::to_owned))
}

fn ctl(action: &str, name: &str) {
    let var = |n: &str| {
        std::env::var(n).unwrap_or_else(|_| {
            panic!("{n} is not set: start the test servers with `scripts/servers.sh start` and `source target/test-servers/env`")
        })
    };
    let ok = Command::new(var("ROLECALL_ZK_CTL"))
        .args([action, name])
        .env("ROLECALL_TEST_DIR", var("ROLECALL_ZK_DIR"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "servers.sh {action} {name} failed");
}

/// Starts the killed member again when dropped, even if the test failed.
struct Revive(String);

impl Drop for Revive {
    fn drop(&mut self) {
        ctl("zk-start", &self.0);
    }
}

#[actix_rt::test]
async fn killing_the_ensemble_leader_does_not_stop_clients() {
    let servers = ensemble();
    let root = unique("ensemble");
    let mut n = node(&format!(
        r#"
        [actors.zk]
        kind = "zk.session"
        params = {{ servers = "{servers}", session_timeout_ms = 6000 }}
        [actors.cand]
        kind = "zk.election"
        params = {{ servers = "{servers}", path = "{root}-election", identifier = "only", session_timeout_ms = 6000 }}
        "#
    ));
    let mut state = n
        .tap::<ConnectionState>("zk.state", WireConfig::default())
        .unwrap();
    let mut leadership = n
        .tap::<Leadership>("cand.leadership", WireConfig::default())
        .unwrap();
    let running = n.start().await.expect("start");
    let ConnectionState::Connected { session, .. } = next(&mut state, 15).await else {
        panic!("connected")
    };
    assert_eq!(
        next(&mut leadership, 15).await,
        Leadership::Elected {
            identifier: "only".into()
        }
    );
    let zk = running.actor::<Session>("zk").unwrap();
    zk.send(Call(Op::create(&root, b"0", Mode::Persistent)))
        .await
        .unwrap()
        .unwrap();

    // The ZooKeeper leader first, then a follower (each restarted after).
    for role in ["leader", "follower"] {
        let target = (1..=3u16)
            .find(|i| mode(21820 + i).as_deref() == Some(role))
            .unwrap_or_else(|| panic!("one ensemble member is a {role}"));
        let name = format!("zk-ens{target}");
        let revive = Revive(name.clone());
        ctl("zk-kill", &name);
        let killed = Instant::now();
        // Writes fail for a moment (election among the two left), then go through.
        let mut written = 0;
        let mut failures = 0;
        while written < 5 {
            assert!(
                killed.elapsed() < Duration::from_secs(30),
                "no write succeeded in 30 s"
            );
            let r = zk
                .send(Call(Op::Set {
                    path: root.clone(),
                    data: b"x".to_vec(),
                    version: None,
                }))
                .await
                .unwrap();
            match r {
                Ok(Outcome::Written { .. }) => written += 1,
                Ok(other) => panic!("{other:?}"),
                Err(_) => {
                    failures += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        println!(
            "ensemble {role} {name} killed: writes again after {:?} ({failures} failed meanwhile)",
            killed.elapsed()
        );
        // Same session throughout: no expiry, no new session.
        while let Ok(Some(s)) =
            actix_rt::time::timeout(Duration::from_millis(50), state.recv()).await
        {
            match s {
                ConnectionState::Connected { session: s, fresh } => {
                    assert_eq!((s, fresh), (session, false), "the same session reconnects")
                }
                ConnectionState::Disconnected => {}
                other => panic!("{other:?}"),
            }
        }
        // The election kept its leader: nothing new on its port.
        assert!(
            actix_rt::time::timeout(Duration::from_millis(200), leadership.recv())
                .await
                .is_err()
        );
        // Restart the member off the actors' thread (the JVM takes seconds to
        // start; the sessions must keep pinging meanwhile).
        tokio::task::spawn_blocking(move || drop(revive))
            .await
            .expect("servers.sh zk-start");
    }
    zk.send(Call(Op::Delete {
        path: root,
        version: None,
    }))
    .await
    .unwrap()
    .unwrap();
    running.shutdown();
    running.wait().await;
}
