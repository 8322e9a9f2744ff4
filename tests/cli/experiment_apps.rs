//! `rolecall experiment` with app-set variants (`rolecall pubsub ...`
//! command lines) and the `[zookeeper]` server the runner starts for every
//! run: the example on emulated hosts (root, which CI has) with a broker
//! failover, the same apps on loopback, a failing app, and file:line errors.

use std::path::Path;

use crate::experiment::{assert_nothing_left, have_root, summary};
use crate::support::{rolecall, run, run_within, stderr, stdout};

/// True while `pid` is a process whose command line contains `what`.
fn alive(pid: u64, what: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(what))
        .unwrap_or(false)
}

/// Every run ok with `expect` samples; every app (and the ZooKeeper server,
/// when `zk`) gone; each waited-for app exited 0.
fn assert_app_runs(s: &serde_json::Value, runs: usize, expect: u64, zk: bool) {
    let list = s["runs"].as_array().expect("runs");
    assert_eq!(list.len(), runs, "{s}");
    for r in list {
        assert_eq!(r["samples"].as_u64(), Some(expect), "{r}");
        assert_eq!(r["timed_out"], false, "{r}");
        assert!(r["failure"].is_null(), "{r}");
        assert!(r["nodes"].as_array().unwrap().is_empty(), "{r}");
        for a in r["apps"].as_array().expect("apps") {
            if a["wait"] == true {
                assert_eq!(a["status"].as_i64(), Some(0), "{a}");
            }
            let pid = a["pid"].as_u64().expect("pid");
            assert!(pid > 0 && !alive(pid, "pubsub"), "app {a} still running");
        }
        let servers = r["zookeeper"].as_array().expect("zookeeper servers");
        assert_eq!(servers.is_empty(), !zk, "{r}");
        for z in servers {
            let pid = z["pid"].as_u64().expect("zookeeper pid");
            assert!(!alive(pid, "QuorumPeerMain"), "ZooKeeper {pid} left");
        }
    }
}

#[test]
fn pubsub_zk_example_fails_over_and_counts_every_publication() {
    if !have_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let o = run_within(
        rolecall()
            .args([
                "experiment",
                "run",
                "examples/experiment_pubsub_zk/experiment.toml",
                "--out",
            ])
            .arg(&out),
        150,
    );
    let so = stdout(&o);
    assert!(o.status.success(), "{so}\n{}", stderr(&o));
    assert!(so.contains("on single,6"), "{so}");
    let s = summary(&out);
    // three variants, 2 subscribers × 200 publications each
    assert_app_runs(&s, 3, 400, true);
    for v in s["variants"].as_array().unwrap() {
        assert_eq!(v["all"]["count"].as_u64(), Some(400), "{v}");
    }
    let raw = out.join("raw");
    for r in s["runs"].as_array().unwrap() {
        let variant = r["variant"].as_str().unwrap();
        let run_dir = raw.join(variant).join("rep-1");
        // the runner's ZooKeeper: its own configuration and data in the run's folder
        let cfg = std::fs::read_to_string(run_dir.join("zookeeper/zoo.cfg")).unwrap();
        assert!(
            cfg.contains("clientPort=2181\nclientPortAddress=10.0.0.1\n"),
            "{cfg}"
        );
        assert!(run_dir.join("zookeeper/data").is_dir());
        assert_eq!(r["zookeeper"][0]["host"], "h1", "{r}");
        assert_eq!(r["zookeeper"][0]["node"], "zookeeper", "{r}");
        for sub in ["sub1", "sub2"] {
            let log = std::fs::read_to_string(run_dir.join(sub).join("app.log")).unwrap();
            assert!(
                log.contains("delivered 200; lost 0"),
                "{variant} {sub}: {log}"
            );
        }
        let events: Vec<&str> = r["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e.as_str())
            .collect();
        if variant == "zookeeper-failover" {
            assert!(
                events.len() == 1 && events[0].ends_with("h2 down"),
                "{events:?}"
            );
            // the backup was elected and replayed what the cut-off primary had not sent
            let b2 = std::fs::read_to_string(run_dir.join("b2/app.log")).unwrap();
            assert!(b2.contains("broker PRIMARY: elected: replaying"), "{b2}");
        } else {
            assert!(events.is_empty(), "{r}");
        }
    }
    assert!(out.join("plots/cdf.png").exists());
    assert_nothing_left(s["prefix"].as_str().unwrap());
}

/// `examples/experiment_pubsub_sweep`: one subscriber app written once,
/// copied `count = "{x}"` times for each value of the sweep (1, 2, 4) on
/// h3..h6 in turn; every copy delivers every publication, and the sweep plot
/// is drawn.
#[test]
fn a_sweep_over_the_number_of_subscribers_copies_the_app() {
    if !have_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let o = run_within(
        rolecall()
            .args([
                "experiment",
                "run",
                "examples/experiment_pubsub_sweep/experiment.toml",
                "--out",
            ])
            .arg(&out),
        150,
    );
    let so = stdout(&o);
    assert!(o.status.success(), "{so}\n{}", stderr(&o));
    let s = summary(&out);
    let runs = s["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 6, "3 values × 2 repetitions: {s}");
    for (subscribers, expect) in [(1, 200), (2, 400), (4, 800)] {
        let variant = format!("direct subscribers={subscribers}");
        let mine: Vec<&serde_json::Value> = runs
            .iter()
            .filter(|r| r["variant"] == variant.as_str())
            .collect();
        assert_eq!(mine.len(), 2, "{variant}: {s}");
        for r in mine {
            assert_eq!(r["samples"].as_u64(), Some(expect), "{r}");
            let apps: Vec<(&str, &str)> = r["apps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (a["node"].as_str().unwrap(), a["host"].as_str().unwrap()))
                .collect();
            let hosts = ["h3", "h4", "h5", "h6"];
            let subs: Vec<(String, &str)> = (1..=subscribers)
                .map(|i| (format!("sub{i}"), hosts[i - 1]))
                .collect();
            assert_eq!(apps.len(), 2 + subscribers, "{r}");
            for (name, host) in &subs {
                assert!(
                    apps.contains(&(name.as_str(), *host)),
                    "{name} on {host}: {apps:?}"
                );
            }
        }
        let folder = format!("direct_subscribers_{subscribers}");
        let rep = out.join("raw").join(folder).join("rep-1");
        for i in 1..=subscribers {
            let log = std::fs::read_to_string(rep.join(format!("sub{i}/app.log"))).unwrap();
            assert!(
                log.contains("delivered 200; lost 0"),
                "{variant} sub{i}: {log}"
            );
        }
    }
    assert!(out.join("plots/sweep.png").exists());
    assert_nothing_left(s["prefix"].as_str().unwrap());
}

/// `[zookeeper] hosts = ["h1", "h2", "h3"]`: an ensemble, each server with
/// its own `zoo.cfg` (every `server.N` line) and `myid`; the apps get all
/// three addresses; h3 (the first leader) is cut off 3 s into the run and
/// the other two carry on: every publication delivered, nothing left.
#[test]
fn a_zookeeper_ensemble_keeps_serving_with_one_server_cut_off() {
    if !have_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let o = run_within(
        rolecall()
            .args([
                "experiment",
                "run",
                "tests/cli/fixtures/experiment_zk_ensemble.toml",
                "--out",
            ])
            .arg(&out),
        150,
    );
    let so = stdout(&o);
    assert!(o.status.success(), "{so}\n{}", stderr(&o));
    let s = summary(&out);
    assert_app_runs(&s, 1, 200, true);
    let r = &s["runs"][0];
    let servers: Vec<(&str, &str)> = r["zookeeper"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| (z["node"].as_str().unwrap(), z["host"].as_str().unwrap()))
        .collect();
    assert_eq!(
        servers,
        [
            ("zookeeper1", "h1"),
            ("zookeeper2", "h2"),
            ("zookeeper3", "h3")
        ]
    );
    let run_dir = out.join("raw/ensemble-cut/rep-1");
    for id in 1..=3 {
        let zk = run_dir.join(format!("zookeeper/zk{id}"));
        let cfg = std::fs::read_to_string(zk.join("zoo.cfg")).unwrap();
        assert!(
            cfg.contains(&format!("clientPortAddress=10.0.0.{id}\n"))
                && cfg.contains("server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888\nserver.3=10.0.0.3:2888:3888\n"),
            "{cfg}"
        );
        let myid = std::fs::read_to_string(zk.join("data/myid")).unwrap();
        assert_eq!(myid.trim(), id.to_string());
    }
    let events: Vec<&str> = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    assert!(
        events.len() == 1 && events[0].ends_with("h3 down"),
        "{events:?}"
    );
    let sub = std::fs::read_to_string(run_dir.join("sub1/app.log")).unwrap();
    assert!(sub.contains("delivered 200; lost 0"), "{sub}");
    // Every server served (a leader and followers) before the apps started.
    let modes: String = (1..=3)
        .map(|id| {
            std::fs::read_to_string(run_dir.join(format!("zookeeper/zk{id}/server.log")))
                .unwrap_or_default()
        })
        .collect();
    assert!(modes.contains(" - LEADING") && modes.contains(" - FOLLOWING"));
    assert_nothing_left(s["prefix"].as_str().unwrap());
}

#[test]
fn app_set_with_zookeeper_runs_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(rolecall()
        .args([
            "experiment",
            "run",
            "tests/cli/fixtures/experiment_apps_local.toml",
            "--local",
            "--out",
        ])
        .arg(dir.path()));
    let so = stdout(&o);
    assert!(o.status.success(), "{so}\n{}", stderr(&o));
    assert!(so.contains("on loopback"), "{so}");
    assert!(
        so.contains("variant zookeeper-broker: disc@h1 b1@h2 b2@h3 pub1@h4 sub1@h5 sub2@h6"),
        "{so}"
    );
    let s = summary(dir.path());
    assert_eq!(s["prefix"], "");
    assert_app_runs(&s, 1, 120, true);
    let run_dir = dir.path().join("raw/zookeeper-broker/rep-1");
    let cfg = std::fs::read_to_string(run_dir.join("zookeeper/zoo.cfg")).unwrap();
    assert!(cfg.contains("clientPortAddress=127.0.0.1\n"), "{cfg}");
    // `{dir}` and a relative path both land in the app's folder
    for sub in ["sub1", "sub2"] {
        assert!(run_dir.join(sub).join("latency.lp").exists(), "{sub}");
    }
    // no `-z` given: the apps found ZooKeeper through ROLECALL_ZK
    let disc = std::fs::read_to_string(run_dir.join("disc/app.log")).unwrap();
    assert!(disc.contains("discovery PRIMARY"), "{disc}");
}

#[test]
fn a_failing_app_fails_the_run_with_its_log_and_stops_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let o = run(rolecall()
        .args([
            "experiment",
            "run",
            "tests/cli/fixtures/experiment_apps_fail.toml",
            "--local",
            "--out",
        ])
        .arg(dir.path()));
    let so = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{so}\n{}", stderr(&o));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the run waited for its timeout"
    );
    assert!(so.contains("run 1/1: bad #1: FAILED"), "{so}");
    assert!(
        so.contains("app bad on h2 exited with 2; last lines of") && so.contains("--no-such-flag"),
        "{so}"
    );
    let s = summary(dir.path());
    let r = &s["runs"][0];
    assert!(
        r["failure"]
            .as_str()
            .is_some_and(|f| f.contains("bad/app.log")),
        "{r}"
    );
    let listener = &r["apps"][0];
    assert_eq!(listener["wait"], false, "{r}");
    assert!(!alive(listener["pid"].as_u64().unwrap(), "probe"), "{r}");
    let table = std::fs::read_to_string(dir.path().join("table.txt")).unwrap();
    assert!(table.contains("bad #1: FAILED"), "{table}");
}

#[test]
fn app_sets_and_zookeeper_errors_name_file_line_and_column() {
    let o = run(rolecall().args([
        "experiment",
        "script",
        "tests/cli/fixtures/experiment_apps_bad.toml",
    ]));
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    let f = "tests/cli/fixtures/experiment_apps_bad.toml";
    assert!(
        e.contains(&format!(
            "{f}:8:1: [zookeeper] on host `h7`, which the network lacks"
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "{f}:14:12: app `a` on host `h9`, which the network lacks"
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "{f}:15:12: variant `v`, app `b`: `{{addr:nobody}}:5555`: no app, process or server `nobody`"
        )),
        "{e}"
    );
    // a file-level problem: written into a copy
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f))
        .unwrap()
        .replace("wait = true, ", "")
        .replace("host = \"h7\"", "host = \"h1\"\nport = 0");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let o = run(rolecall().args(["experiment", "run", "--local"]).arg(&path));
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("bad.toml:10:8: `port` must be 1..=65535"), "{e}");
    assert!(
        e.contains("bad.toml:14:8: variant `v`: no app has `wait = true`"),
        "{e}"
    );
}

#[test]
fn a_zookeeper_that_does_not_start_is_an_error_with_its_log() {
    let dir = tempfile::tempdir().unwrap();
    // a `java` that fails as a broken JVM would
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let java = bin.join("java");
    std::fs::write(
        &java,
        "#!/bin/sh\necho 'fake java: no JVM here' >&2\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&java, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = dir.path().join("out");
    let o = run(rolecall()
        .args([
            "experiment",
            "run",
            "tests/cli/fixtures/experiment_apps_local.toml",
            "--local",
            "--out",
        ])
        .arg(&out)
        .env("PATH", path));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{}\n{e}", stdout(&o));
    assert!(
        e.contains("the ZooKeeper server on h1 exited (exit status: 3) before serving")
            && e.contains("zookeeper/server.log")
            && e.contains("fake java: no JVM here"),
        "{e}"
    );
    // no app was started
    assert!(!out.join("raw/zookeeper-broker/rep-1/disc").exists());
}

#[test]
fn script_lists_the_apps_and_starts_zookeeper_first() {
    let o = run(rolecall().args([
        "experiment",
        "script",
        "examples/experiment_pubsub_zk/experiment.toml",
        "--variant",
        "zookeeper-failover",
    ]));
    let so = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<&str> = so
        .lines()
        .filter(|l| !l.starts_with("sh echo ") && !l.contains(" pid_"))
        .collect();
    assert!(
        lines[1].starts_with("sh printf 'tickTime=500\\ndataDir=zookeeper/data\\nclientPort=2181\\nclientPortAddress=10.0.0.1\\n"),
        "{so}"
    );
    assert!(
        lines[2].starts_with("h1 java ") && lines[2].contains("QuorumPeerMain zookeeper/zoo.cfg"),
        "{so}"
    );
    let apps: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains(" rolecall pubsub "))
        .collect();
    assert_eq!(apps.len(), 6, "{so}");
    assert!(
        apps[1].starts_with("h2 rolecall pubsub broker ")
            && apps[1].contains("-z 10.0.0.1:2181 -n b1 -a 10.0.0.2 "),
        "{so}"
    );
    assert!(so.contains("sh sleep 5.000\nlink s1 h2 down\n"), "{so}");
    // The script waits for the apps that decide the run, then stops the
    // others, ZooKeeper last.
    let tail = so.split("link s1 h2 down\n").nth(1).unwrap_or_default();
    assert!(
        tail.starts_with(
            "sh echo 'waiting for pub1 sub1 sub2'\nh4 wait $pid_pub1\nh5 wait $pid_sub1\n\
             h6 wait $pid_sub2\nsh echo 'stopping zookeeper disc b1 b2'\nh3 kill $pid_b2\n"
        ),
        "{so}"
    );
    assert!(tail.ends_with("h1 kill $pid_zookeeper\nh1 wait $pid_zookeeper\nsh echo done\n"));
}

#[test]
fn ctrl_c_stops_the_apps_and_zookeeper() {
    if !have_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = rolecall()
        .args([
            "experiment",
            "run",
            "examples/experiment_pubsub_zk/experiment.toml",
            "--out",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let prefix = format!("rx{:x}", child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !dir
        .path()
        .join("raw/centralized-broker/rep-1/sub2/app.log")
        .exists()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the apps did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert_nothing_left(&prefix);
    // every app and the server ran from a folder of the results: none is left there
    let here = std::fs::canonicalize(dir.path()).unwrap();
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|e| {
            std::fs::read_link(e.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(&here))
        })
        .map(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmd).replace('\0', " ")
        })
        .collect();
    assert!(left.is_empty(), "processes left: {left:?}");
}
