//! `rolecall experiment`: run an experiment on emulated hosts (or loopback),
//! write its Mininet script, or check reachability of its network.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rolecall::experiment::{self, compare, netns, plan, run, script};

/// Port the reachability probes listen on inside each host.
const PROBE_PORT: u16 = 36999;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum ExperimentCommand {
    /// Build the network, run every variant × repetition, write the results folder.
    Run {
        /// The experiment file.
        file: PathBuf,
        /// Every node a process on loopback: no root, no network shaping, no link events.
        #[arg(long)]
        local: bool,
        /// The results folder (default: target/experiments/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the Mininet command script (`h1 rolecall node ... &`) of a variant.
    Script {
        /// The experiment file.
        file: PathBuf,
        /// The variant (default: the first).
        #[arg(long)]
        variant: Option<String>,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Build the network, check that every host reaches every other over TCP, remove it.
    Pingall {
        /// The experiment file.
        file: PathBuf,
    },
    /// Reachability probe inside one host (used by `pingall`).
    #[command(hide = true)]
    Probe {
        /// Accept connections on this address for `--seconds`.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Connect to each of these.
        #[arg(long, num_args = 1..)]
        connect: Vec<SocketAddr>,
        /// How long to listen.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Ask the ZooKeeper server at this address `ruok`; exit 0 on `imok`.
        #[arg(long)]
        ruok: Option<SocketAddr>,
        /// Ask the ZooKeeper server at this address `srvr`; exit 0 when it
        /// serves clients (standalone, leader, or follower of a quorum).
        #[arg(long, conflicts_with = "ruok")]
        serving: Option<SocketAddr>,
    },
}

pub(crate) fn main(command: ExperimentCommand) -> i32 {
    match command {
        ExperimentCommand::Run { file, local, out } => run_cmd(&file, local, out),
        ExperimentCommand::Script { file, variant, out } => script_cmd(&file, variant, out),
        ExperimentCommand::Pingall { file } => pingall(&file),
        ExperimentCommand::Probe {
            listen,
            connect,
            seconds,
            ruok,
            serving,
        } => match (ruok, serving) {
            (Some(addr), _) => zk_probe(addr, b"ruok", experiment::zookeeper::is_ok),
            (None, Some(addr)) => zk_probe(addr, b"srvr", experiment::zookeeper::is_serving),
            (None, None) => probe(listen, &connect, seconds),
        },
    }
}

fn load(file: &Path, local: bool) -> Result<(experiment::Experiment, plan::Plan), i32> {
    let exp = experiment::load(file).map_err(|e| {
        eprintln!("{e}");
        2
    })?;
    let plan = plan::plan(&exp, local).map_err(|e| {
        eprintln!("{e}");
        2
    })?;
    Ok((exp, plan))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn need_root(file: &Path) -> bool {
    if is_root() {
        return false;
    }
    eprintln!(
        "error: {}: emulated hosts need root (network namespaces): run as root, or with --local on loopback",
        file.display()
    );
    true
}

fn stop_flag() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }
    stop
}

fn exe() -> Result<PathBuf, i32> {
    std::env::current_exe().map_err(|e| {
        eprintln!("error: cannot find the rolecall binary: {e}");
        1
    })
}

fn run_cmd(file: &Path, local: bool, out: Option<PathBuf>) -> i32 {
    let (exp, plan) = match load(file, local) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if !local && need_root(file) {
        return 2;
    }
    let exe = match exe() {
        Ok(e) => e,
        Err(code) => return code,
    };
    let out = out.unwrap_or_else(|| PathBuf::from("target/experiments").join(run::slug(&exp.name)));
    let out = std::path::absolute(&out).unwrap_or(out);
    if out.join("raw").exists() {
        if let Err(e) = std::fs::remove_dir_all(out.join("raw")) {
            eprintln!("error: {}: {e}", out.join("raw").display());
            return 1;
        }
    }
    let prefix = if local {
        String::new()
    } else {
        netns::unique_prefix()
    };
    println!(
        "experiment {}: {} variant(s) × {} repetition(s) on {}{}",
        exp.name,
        plan.variants.len(),
        exp.repetitions,
        if local {
            "loopback".to_owned()
        } else {
            plan.shape.to_string()
        },
        if local {
            String::new()
        } else {
            format!(" (namespaces {prefix}-*)")
        }
    );
    if local && plan.variants.iter().any(|v| !v.events.is_empty()) {
        println!("note: --local plays no link events and shapes no links");
    }
    for v in &plan.variants {
        let placed: Vec<String> = v
            .nodes
            .iter()
            .map(|n| format!("{}@{}", n.node, n.host))
            .chain(v.apps.iter().map(|a| format!("{}@{}", a.name, a.host)))
            .collect();
        println!("variant {}: {}", v.name, placed.join(" "));
    }
    let opts = run::Options {
        local,
        out: out.clone(),
        exe,
        prefix: prefix.clone(),
    };
    let stop = stop_flag();
    let records = match run::run_all(&exp, &plan, &opts, &stop) {
        Ok(r) => r,
        Err(run::RunError::Interrupted) => {
            eprintln!("interrupted: nodes stopped, network removed");
            return 130;
        }
        Err(e @ run::RunError::Zookeeper(_)) => {
            eprintln!("error: {}: {e}", file.display());
            return 1;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    match compare::report(&exp, records, &out, &prefix) {
        Ok(summary) => {
            if let Ok(t) = std::fs::read_to_string(out.join("table.txt")) {
                print!("{t}");
            }
            for f in &summary.files {
                println!("wrote {}", f.display());
            }
            if summary.ok() {
                0
            } else {
                eprintln!(
                    "error: some runs failed or missed samples (see {})",
                    out.join("table.txt").display()
                );
                1
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn script_cmd(file: &Path, variant: Option<String>, out: Option<PathBuf>) -> i32 {
    let (exp, plan) = match load(file, false) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let chosen = match &variant {
        None => plan.variants.first(),
        Some(name) => plan.variants.iter().find(|v| &v.name == name),
    };
    let Some(chosen) = chosen else {
        let names: Vec<&str> = plan.variants.iter().map(|v| v.name.as_str()).collect();
        eprintln!(
            "error: no variant `{}` (variants: {})",
            variant.unwrap_or_default(),
            names.join(", ")
        );
        return 2;
    };
    let text = match script::script(&exp, &plan, chosen) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    match out {
        None => {
            print!("{text}");
            0
        }
        Some(path) => match std::fs::write(&path, text) {
            Ok(()) => {
                println!("wrote {}", path.display());
                0
            }
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                1
            }
        },
    }
}

fn pingall(file: &Path) -> i32 {
    let (exp, plan) = match load(file, false) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if need_root(file) {
        return 2;
    }
    let exe = match exe() {
        Ok(e) => e,
        Err(code) => return code,
    };
    let prefix = netns::unique_prefix();
    let em = match netns::Emulation::build(&plan.net, exp.network.as_ref(), &prefix) {
        Ok(em) => em,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    println!("network {} (namespaces {prefix}-*)", plan.shape);
    let hosts = &plan.net.hosts;
    let mut listeners = Vec::new();
    for h in hosts {
        let child = std::process::Command::new("ip")
            .args(["netns", "exec", &em.namespace(&h.name)])
            .arg(&exe)
            .args(["experiment", "probe", "--seconds", "30", "--listen"])
            .arg(format!("{}:{PROBE_PORT}", h.ip))
            .stdout(std::process::Stdio::null())
            .spawn();
        match child {
            Ok(c) => listeners.push(c),
            Err(e) => {
                eprintln!("error: starting a probe on {}: {e}", h.name);
                return 1;
            }
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut reached = 0;
    let mut missing = Vec::new();
    for h in hosts {
        let targets: Vec<String> = hosts
            .iter()
            .filter(|o| o.name != h.name)
            .map(|o| format!("{}:{PROBE_PORT}", o.ip))
            .collect();
        if targets.is_empty() {
            continue;
        }
        let out = std::process::Command::new("ip")
            .args(["netns", "exec", &em.namespace(&h.name)])
            .arg(&exe)
            .args(["experiment", "probe", "--connect"])
            .args(&targets)
            .output();
        let text = out
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("ok", _)) => reached += 1,
                Some(("unreachable", to)) => missing.push(format!("{} -> {to}", h.name)),
                _ => {}
            }
        }
    }
    for mut l in listeners {
        let _ = l.kill();
        let _ = l.wait();
    }
    drop(em);
    let pairs = hosts.len() * hosts.len().saturating_sub(1);
    println!("reachability: {reached}/{pairs} host pairs");
    for m in &missing {
        println!("unreachable: {m}");
    }
    if reached == pairs {
        0
    } else {
        1
    }
}

/// A four-letter word to a ZooKeeper server: 0 when `good` likes the answer.
fn zk_probe(addr: SocketAddr, word: &[u8], good: fn(&[u8]) -> bool) -> i32 {
    let reply = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).and_then(|mut s| {
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        s.write_all(word)?;
        let mut buf = Vec::new();
        s.take(4096).read_to_end(&mut buf)?;
        Ok(buf)
    });
    match reply {
        Ok(r) if good(&r) => 0,
        Ok(r) => {
            eprintln!("{addr}: {}", String::from_utf8_lossy(&r));
            1
        }
        Err(e) => {
            eprintln!("{addr}: {e}");
            1
        }
    }
}

fn probe(listen: Option<SocketAddr>, connect: &[SocketAddr], seconds: u64) -> i32 {
    if let Some(addr) = listen {
        let listener = match TcpListener::bind(addr) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {addr}: {e}");
                return 1;
            }
        };
        let _ = listener.set_nonblocking(true);
        let deadline = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < deadline {
            match listener.accept() {
                Ok((mut s, _)) => {
                    let _ = s.set_nonblocking(false);
                    let _ = s.write_all(b"rolecall\n");
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        return 0;
    }
    let mut failed = 0;
    for addr in connect {
        let ok = TcpStream::connect_timeout(addr, Duration::from_secs(3))
            .and_then(|mut s| {
                s.set_read_timeout(Some(Duration::from_secs(3)))?;
                let mut buf = [0u8; 9];
                s.read_exact(&mut buf)?;
                Ok(&buf == b"rolecall\n")
            })
            .unwrap_or(false);
        if ok {
            println!("ok {addr}");
        } else {
            failed += 1;
            println!("unreachable {addr}");
        }
    }
    i32::from(failed > 0)
}
