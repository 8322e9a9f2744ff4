//! `rolecall experiment`: runs on emulated hosts (network namespaces; these
//! need root, which CI has), on loopback (`--local`), the routed shape's
//! reachability, teardown after the end and after Ctrl-C, the Mininet
//! script, and file:line errors.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{rolecall, root, run, stderr, stdout};

/// Root is needed for network namespaces. In CI (which runs as root) a
/// missing root fails the test; elsewhere the test says why and passes.
pub(crate) fn have_root() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false);
    if !root {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the experiment tests as root"
        );
        eprintln!("skipped: needs root (network namespaces)");
    }
    root
}

fn text(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Nothing named with `prefix` is left: namespace, bridge or firewall rule.
pub(crate) fn assert_nothing_left(prefix: &str) {
    assert!(
        prefix.starts_with("rx") && prefix.len() > 2,
        "prefix {prefix}"
    );
    let mine = format!("{prefix}-");
    let netns = text("ip", &["netns", "list"]);
    assert!(!netns.contains(&mine), "namespaces left: {netns}");
    let bridges = text("ip", &["-o", "link", "show", "type", "bridge"]);
    assert!(!bridges.contains(&mine), "bridges left: {bridges}");
    let rules = text("iptables", &["-S"]);
    assert!(!rules.contains(&mine), "firewall rules left: {rules}");
    let nft = text("nft", &["list", "ruleset"]);
    assert!(!nft.contains(&mine), "nftables rules left");
}

pub(crate) fn summary(out: &Path) -> serde_json::Value {
    let s = std::fs::read_to_string(out.join("summary.json")).expect("summary.json written");
    serde_json::from_str(&s).expect("summary.json is JSON")
}

/// Every run ok with `expect` samples; every node process gone.
fn assert_runs(summary: &serde_json::Value, runs: usize, expect: u64) {
    let list = summary["runs"].as_array().expect("runs");
    assert_eq!(list.len(), runs, "{summary}");
    for r in list {
        assert_eq!(r["samples"].as_u64(), Some(expect), "{r}");
        assert_eq!(r["timed_out"], false, "{r}");
        for n in r["nodes"].as_array().expect("nodes") {
            assert_eq!(n["status"].as_i64(), Some(0), "{n}");
            let pid = n["pid"].as_u64().expect("pid");
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&cmdline).contains("rolecall"),
                "node process {pid} still running"
            );
        }
    }
}

fn assert_report_files(out: &Path) {
    for f in [
        "table.txt",
        "summary.json",
        "plots/cdf.png",
        "plots/cdf.svg",
    ] {
        let meta = std::fs::metadata(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(meta.len() > 100, "{f} is nearly empty");
    }
}

#[test]
fn pubsub_on_single_4_counts_every_message_and_writes_the_report() {
    if !have_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let o = run(rolecall()
        .args([
            "experiment",
            "run",
            "examples/experiment_pubsub/experiment.toml",
            "--out",
        ])
        .arg(&out));
    let (so, se) = (stdout(&o), stderr(&o));
    assert!(o.status.success(), "{so}\n{se}");
    assert!(so.contains("on single,4"), "{so}");
    let s = summary(&out);
    // direct, broker × interval 1, 4 × 2 repetitions; 3 subscribers × 200
    assert_runs(&s, 8, 600);
    assert_eq!(s["variants"].as_array().unwrap().len(), 4);
    for v in s["variants"].as_array().unwrap() {
        assert_eq!(v["all"]["count"].as_u64(), Some(1200), "{v}");
        assert!(v["all"]["p50"].as_f64().unwrap() > 0.0, "{v}");
    }
    assert_report_files(&out);
    for f in ["plots/sweep.png", "plots/sweep.svg"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let table = std::fs::read_to_string(out.join("table.txt")).unwrap();
    assert!(table.contains("broker interval_ms=4"), "{table}");
    assert!(out
        .join("raw/broker_interval_ms_1/rep-2/sub3/latency.lp")
        .exists());
    assert_nothing_left(s["prefix"].as_str().unwrap());
}

#[test]
fn pubsub_on_a_tree_direct_and_broker() {
    if !have_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let o = run(rolecall()
        .args([
            "experiment",
            "run",
            "tests/cli/fixtures/experiment_tree.toml",
            "--out",
        ])
        .arg(&out));
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("on tree,fanout=2,depth=2"),
        "{}",
        stdout(&o)
    );
    let s = summary(&out);
    assert_runs(&s, 2, 600);
    for r in s["runs"].as_array().unwrap() {
        // the helper process ran on h1 and was stopped (SIGTERM) after the nodes
        let p = &r["processes"][0];
        assert_eq!(p["node"], "probe", "{r}");
        assert_eq!(p["host"], "h1", "{r}");
        let pid = p["pid"].as_u64().unwrap();
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists() || {
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                !String::from_utf8_lossy(&cmd).contains("probe")
            },
            "helper process {pid} left"
        );
        let variant = r["variant"].as_str().unwrap();
        assert!(out
            .join(format!("raw/{variant}/rep-1/probe/process.log"))
            .exists());
    }
    assert_report_files(&out);
    assert_nothing_left(s["prefix"].as_str().unwrap());
}

#[test]
fn routed_shape_reaches_every_host_and_leaves_nothing() {
    if !have_root() {
        return;
    }
    let o = run(rolecall().args([
        "experiment",
        "pingall",
        "tests/cli/fixtures/experiment_routed.toml",
    ]));
    let so = stdout(&o);
    assert!(o.status.success(), "{so}\n{}", stderr(&o));
    // 8 hosts in 4 subnets behind 2 routers: 8 × 7 ordered pairs
    assert!(so.contains("reachability: 56/56 host pairs"), "{so}");
    let prefix = so
        .split("(namespaces ")
        .nth(1)
        .and_then(|s| s.split('-').next())
        .expect("prefix printed");
    assert_nothing_left(prefix);
}

#[test]
fn ctrl_c_tears_everything_down() {
    if !have_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = rolecall()
        .args([
            "experiment",
            "run",
            "examples/experiment_paxos/experiment.toml",
            "--out",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let prefix = format!("rx{:x}", child.id());
    // wait until the nodes run on their hosts
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let started = text("ip", &["netns", "list"]).contains(&format!("{prefix}-h4"))
            && dir.path().join("raw/steady/rep-1/a3/node.log").exists();
        if started {
            break;
        }
        assert!(Instant::now() < deadline, "the experiment did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_nothing_left(&prefix);
    let procs = text("ps", &["-eo", "args"]);
    assert!(
        !procs.contains(&dir.path().display().to_string())
            && !procs.contains("paxos_kv/nodes.toml --node a3"),
        "node processes left:\n{procs}"
    );
}

#[test]
fn local_runs_on_loopback_without_events() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(rolecall()
        .args([
            "experiment",
            "run",
            "tests/cli/fixtures/experiment_local.toml",
            "--local",
            "--out",
        ])
        .arg(dir.path()));
    let so = stdout(&o);
    assert!(o.status.success(), "{so}\n{}", stderr(&o));
    assert!(so.contains("on loopback"), "{so}");
    assert!(so.contains("--local plays no link events"), "{so}");
    assert!(so.contains("pub@h1 sub1@h2"), "{so}");
    let s = summary(dir.path());
    assert_runs(&s, 1, 600);
    assert_eq!(s["prefix"], "");
    assert_report_files(dir.path());
}

/// The script of the broker variant, run in real Mininet (`mn --switch lxbr
/// --controller none`, inside a network namespace of its own so that the
/// bridge is behind that namespace's empty firewall, not Docker's FORWARD
/// DROP): every subscriber gets its 200 samples, the script waits for the
/// nodes and stops the broker, and nothing is left running.
#[test]
fn the_generated_script_runs_in_real_mininet() {
    if !have_root() {
        return;
    }
    let mn = Command::new("mn").arg("--version").output();
    if !mn.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Mininet (make test installs it)"
        );
        eprintln!("skipped: no Mininet (`mn`)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("broker.mn");
    let o = run(rolecall()
        .args([
            "experiment",
            "script",
            "examples/experiment_pubsub/experiment.toml",
        ])
        .args(["--variant", "broker interval_ms=1", "--out"])
        .arg(&script));
    assert!(o.status.success(), "{}", stderr(&o));
    let ns = format!("rc-mn-{}", std::process::id());
    let _ns = Namespace::add(&ns);
    let bin = Path::new(env!("CARGO_BIN_EXE_rolecall")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("timeout")
        .args([
            "120", "ip", "netns", "exec", &ns, "mn", "--topo", "single,4",
        ])
        .args([
            "--switch",
            "lxbr",
            "--controller",
            "none",
            "--link",
            "tc,bw=100",
        ])
        .args(["--test", "none", "--post"])
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .output()
        .unwrap();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{text}");
    let shown = text.find("waiting for pub sub1 sub2 sub3");
    let stopping = text.find("stopping broker");
    let done = text.find("\ndone\n");
    assert!(
        shown < stopping && stopping < done && shown.is_some(),
        "{text}"
    );
    let samples = std::fs::read_to_string(dir.path().join("latency.lp")).unwrap();
    assert_eq!(samples.lines().count(), 600, "3 subscribers × 200");
    for sub in ["sub1", "sub2", "sub3"] {
        let log = std::fs::read_to_string(dir.path().join(format!("{sub}.log"))).unwrap();
        assert!(log.contains("exit=Completed"), "{sub}: {log}");
    }
    let broker = std::fs::read_to_string(dir.path().join("broker.log")).unwrap();
    assert!(broker.contains("node stopped"), "{broker}");
    let left = Command::new("pgrep")
        .args(["-f", &dir.path().display().to_string()])
        .output()
        .unwrap();
    assert!(
        stdout(&left).trim().is_empty(),
        "left running: {}",
        stdout(&left)
    );
}

/// A network namespace, deleted (with Mininet's bridge and links in it)
/// when dropped.
struct Namespace(String);

impl Namespace {
    fn add(name: &str) -> Self {
        let s = Command::new("ip")
            .args(["netns", "add", name])
            .status()
            .unwrap();
        assert!(s.success(), "ip netns add {name}");
        Namespace(name.to_owned())
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn script_writes_mininet_lines_in_the_course_style() {
    let o = run(rolecall().args([
        "experiment",
        "script",
        "examples/experiment_paxos/experiment.toml",
        "--variant",
        "cut",
    ]));
    let so = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        so.contains("for: sudo mn --topo single,4 --switch lxbr --controller none --link tc,bw=10"),
        "{so}"
    );
    // Mininet's `source` takes no comments: every line is a command.
    assert!(!so.lines().any(|l| l.starts_with('#')), "{so}");
    let nodes: Vec<&str> = so.lines().filter(|l| l.ends_with(" &")).collect();
    assert_eq!(nodes.len(), 4, "{so}");
    assert!(nodes[0].starts_with("h1 rolecall node "), "{so}");
    assert!(
        nodes[0].contains("--node core") && nodes[0].contains("--set a1.address=10.0.0.2"),
        "{so}"
    );
    assert!(
        nodes[1].starts_with("h2 rolecall node ") && nodes[1].contains("--node a1"),
        "{so}"
    );
    assert!(
        so.contains("sh sleep 0.500\nlink s1 h2 down\nsh sleep 2.000\nlink s1 h2 up\n"),
        "{so}"
    );
    // the routed shape has no Mininet --topo
    let o = run(rolecall().args([
        "experiment",
        "script",
        "tests/cli/fixtures/experiment_routed.toml",
    ]));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the routed shape has no `mn --topo`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_files_name_file_line_and_column() {
    let o = run(rolecall().args([
        "experiment",
        "run",
        "tests/cli/fixtures/experiment_bad.toml",
        "--local",
    ]));
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("tests/cli/fixtures/experiment_bad.toml:5:9: unknown `height`"),
        "{e}"
    );
    let fixed = std::fs::read_to_string(root().join("tests/cli/fixtures/experiment_bad.toml"))
        .unwrap()
        .replace("height", "depth")
        .replace(
            "../../../examples",
            &root().join("examples").display().to_string(),
        );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exp.toml");
    std::fs::write(&path, fixed).unwrap();
    let o = run(rolecall().args(["experiment", "script"]).arg(&path));
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("exp.toml:8:22: placement puts `analysis` on host `h9`"),
        "{e}"
    );
}

#[test]
fn paxos_decides_everything_after_a_link_cut() {
    if !have_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = run(rolecall()
        .args([
            "experiment",
            "run",
            "examples/experiment_paxos/experiment.toml",
            "--out",
        ])
        .arg(dir.path()));
    let so = stdout(&o);
    assert!(o.status.success(), "{so}\n{}", stderr(&o));
    let s = summary(dir.path());
    assert_runs(&s, 4, 0);
    for r in s["runs"].as_array().unwrap() {
        let variant = r["variant"].as_str().unwrap();
        let events: Vec<&str> = r["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e.as_str())
            .collect();
        if variant == "cut" {
            assert_eq!(events.len(), 2, "{r}");
            assert!(
                events[0].ends_with("h2 down") && events[1].ends_with("h2 up"),
                "{events:?}"
            );
        } else {
            assert!(events.is_empty(), "{r}");
        }
        // the store applied every command
        let rep = r["repetition"].as_u64().unwrap();
        let log = std::fs::read_to_string(
            dir.path()
                .join(format!("raw/{variant}/rep-{rep}/core/node.log")),
        )
        .unwrap();
        assert!(log.contains("kv: key4 = v299"), "{log}");
    }
    assert!(dir.path().join("plots/runs.png").exists());
    assert_nothing_left(s["prefix"].as_str().unwrap());
}

#[test]
fn loss_drops_on_the_links_and_leaves_nothing() {
    if !have_root() {
        return;
    }
    let o = run(rolecall().args([
        "experiment",
        "pingall",
        "tests/cli/fixtures/experiment_loss.toml",
    ]));
    let so = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{so}\n{}", stderr(&o));
    assert!(so.contains("reachability: 0/2 host pairs"), "{so}");
    assert!(so.contains("unreachable: h1 -> 10.0.0.2:36999"), "{so}");
    let prefix = so
        .split("(namespaces ")
        .nth(1)
        .and_then(|s| s.split('-').next())
        .expect("prefix printed");
    assert_nothing_left(prefix);
}

#[test]
fn delay_without_netem_says_where_delays_come_from() {
    if !have_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("delay.toml");
    let topology = root().join("examples/two_nodes/topology.toml");
    std::fs::write(
        &path,
        format!("[experiment]\ntopology = {topology:?}\n[network]\nshape = \"single,2\"\ndelay = \"5ms\"\n"),
    )
    .unwrap();
    let child = rolecall()
        .args(["experiment", "pingall"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let prefix = format!("rx{:x}", child.id());
    let o = child.wait_with_output().unwrap();
    let e = stderr(&o);
    // does this kernel have netem? asked in a namespace of our own
    let ns = format!("rxq{:x}", std::process::id());
    let _ = Command::new("ip").args(["netns", "add", &ns]).status();
    let netem = Command::new("tc")
        .args([
            "-n", &ns, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms",
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    if netem {
        assert!(o.status.success(), "{e}");
    } else {
        assert_eq!(o.status.code(), Some(1), "{e}");
        assert!(
            e.contains("netem qdisc, which this kernel lacks") && e.contains("[[faults]]"),
            "{e}"
        );
    }
    assert_nothing_left(&prefix);
    assert!(!text("ip", &["netns", "list"]).contains(&ns));
}

#[test]
fn without_root_one_line_says_so() {
    if !have_root() {
        return;
    }
    // drop to `nobody` for this one command
    let o = run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_rolecall"))
        .args([
            "experiment",
            "run",
            "examples/experiment_paxos/experiment.toml",
        ])
        .current_dir(root())
        .env("ROLECALL_LOG", "warn"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "error: examples/experiment_paxos/experiment.toml: emulated hosts need root \
         (network namespaces): run as root, or with --local on loopback\n"
    );
}
