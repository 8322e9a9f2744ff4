//! Running the plan: for every variant and repetition, start the ZooKeeper
//! server (`[zookeeper]`) and the `[[processes]]`, then each node as a
//! `rolecall node` process on its host (or each app of an app set, see
//! [`super::appset`]; on loopback with `--local`), play the link events,
//! wait until every process ends (or the timeout, or Ctrl-C), and collect
//! what each node wrote.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::apps::ZOOKEEPER;
use super::appset::{self, AppRecord, AppSet};
use super::model::Experiment;
use super::netns::{Emulation, NetError};
use super::plan::{Plan, VariantPlan, ZkPlan};
use super::zookeeper;

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Every node on loopback, no network.
    pub local: bool,
    /// The results folder.
    pub out: PathBuf,
    /// The `rolecall` binary to start nodes with.
    pub exe: PathBuf,
    /// Namespace prefix (`rx...`).
    pub prefix: String,
}

/// A run could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The network could not be built or changed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// A file or process problem.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// The ZooKeeper server did not start (with its log's last lines).
    #[error("{0}")]
    Zookeeper(String),
    /// Ctrl-C (or SIGTERM): everything was torn down.
    #[error("interrupted; nodes stopped and network removed")]
    Interrupted,
}

pub(super) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Io { what, source }
}

/// What one node process did.
#[derive(Debug, Clone, Serialize)]
pub struct NodeRecord {
    /// Node name.
    pub node: String,
    /// Host.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Exit status (None: killed).
    pub status: Option<i32>,
}

/// What one run (variant, repetition) did.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// Variant name.
    pub variant: String,
    /// Repetition, from 1.
    pub repetition: u32,
    /// Its folder of raw results.
    pub dir: PathBuf,
    /// Seconds from start to the last process ending.
    pub seconds: f64,
    /// True when the timeout killed it.
    pub timed_out: bool,
    /// Each node.
    pub nodes: Vec<NodeRecord>,
    /// Each app (of an app-set variant).
    pub apps: Vec<AppRecord>,
    /// Why the run failed, when an app it waited for did not exit 0
    /// (with the last lines of its log).
    pub failure: Option<String>,
    /// The experiment's extra processes (`[[processes]]`); their exit status
    /// is recorded, not judged.
    pub processes: Vec<NodeRecord>,
    /// The ZooKeeper servers (`[zookeeper]`: one, or each of an ensemble);
    /// their exit status is not judged.
    pub zookeeper: Vec<NodeRecord>,
    /// Link events played, e.g. `0.50s h2 down`.
    pub events: Vec<String>,
}

impl RunRecord {
    /// Every node, and every app waited for, exited with status 0 before
    /// the timeout.
    pub fn ok(&self) -> bool {
        !self.timed_out
            && self.failure.is_none()
            && self.nodes.iter().all(|n| n.status == Some(0))
            && self
                .apps
                .iter()
                .filter(|a| a.wait)
                .all(|a| a.record.status == Some(0))
    }
}

/// Kills and reaps every child on drop, so no node outlives the experiment.
struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A file/folder name for a variant.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs every variant `repetitions` times; `stop` ends it early (Ctrl-C).
/// The network (unless local) exists only inside this call.
pub fn run_all(
    exp: &Experiment,
    plan: &Plan,
    opts: &Options,
    stop: &Arc<AtomicBool>,
) -> Result<Vec<RunRecord>, RunError> {
    let mut emulation = if opts.local {
        None
    } else {
        Some(Emulation::build(
            &plan.net,
            exp.network.as_ref(),
            &opts.prefix,
        )?)
    };
    let total = plan.variants.len() as u64 * u64::from(exp.repetitions);
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs, {elapsed} — {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut records = Vec::new();
    for v in &plan.variants {
        for rep in 1..=exp.repetitions {
            bar.set_message(format!("{} #{rep}", v.name));
            let dir = opts
                .out
                .join("raw")
                .join(slug(&v.name))
                .join(format!("rep-{rep}"));
            let record = run_one(exp, v, plan, rep, &dir, opts, emulation.as_ref(), stop);
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    bar.abandon();
                    if let Some(em) = emulation.as_mut() {
                        em.teardown();
                    }
                    return Err(e);
                }
            };
            bar.suspend(|| {
                println!(
                    "run {}/{total}: {} #{rep}: {} in {:.1}s",
                    records.len() + 1,
                    v.name,
                    if record.ok() {
                        "ok"
                    } else if record.timed_out {
                        "TIMED OUT"
                    } else {
                        "FAILED"
                    },
                    record.seconds
                );
                if let Some(f) = &record.failure {
                    println!("  {}", f.replace('\n', "\n  "));
                }
            });
            records.push(record);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    if let Some(em) = emulation.as_mut() {
        let left = em.teardown();
        if !left.is_empty() {
            eprintln!("warning: could not delete namespaces {left:?}");
        }
    }
    Ok(records)
}

#[allow(clippy::too_many_arguments)]
fn run_one(
    exp: &Experiment,
    v: &VariantPlan,
    plan: &Plan,
    rep: u32,
    dir: &Path,
    opts: &Options,
    emulation: Option<&Emulation>,
    stop: &Arc<AtomicBool>,
) -> Result<RunRecord, RunError> {
    let zk = plan.zookeeper.as_ref();
    let zk_connect = zk.map(ZkPlan::connect);
    let zk_env = zk_connect.as_deref();
    let servers = match zk {
        Some(z) => zookeeper::start(z, &dir.join(ZOOKEEPER), &opts.exe, emulation, stop)?,
        None => Vec::new(),
    };
    let mut procs = Procs(Vec::new());
    let mut helpers = Procs(Vec::new());
    let mut processes = Vec::new();
    for p in &plan.processes {
        let program = if p.argv[0] == "{rolecall}" {
            opts.exe.clone()
        } else {
            PathBuf::from(&p.argv[0])
        };
        let child = spawn(
            &dir.join(&p.name),
            "process.log",
            &p.host,
            &program,
            &p.argv[1..],
            emulation,
            zk_env,
        )?;
        processes.push(NodeRecord {
            node: p.name.clone(),
            host: p.host.clone(),
            pid: child.id(),
            status: None,
        });
        helpers.0.push(child);
    }
    if let Some(wait) = plan.processes.iter().map(|p| p.wait).max() {
        std::thread::sleep(wait);
    }
    let mut nodes = Vec::new();
    for n in &v.nodes {
        let child = spawn(
            &dir.join(&n.node),
            "node.log",
            &n.host,
            &opts.exe,
            &n.args,
            emulation,
            zk_env,
        )?;
        nodes.push(NodeRecord {
            node: n.node.clone(),
            host: n.host.clone(),
            pid: child.id(),
            status: None,
        });
        procs.0.push(child);
    }
    let mut apps = AppSet::new(&v.apps, dir);
    let start = Instant::now();
    let mut events: Vec<_> = if emulation.is_some() {
        v.events.iter().collect()
    } else {
        Vec::new()
    };
    events.sort_by_key(|e| e.at);
    let mut next_event = 0;
    let mut timed_out = false;
    let mut services_stopped = false;
    let mut played = Vec::new();
    loop {
        if stop.load(Ordering::SeqCst) {
            return Err(RunError::Interrupted);
        }
        while next_event < events.len() && start.elapsed() >= events[next_event].at {
            let e = events[next_event];
            if let Some(em) = emulation {
                em.set_link(&e.host, e.up)?;
                played.push(format!(
                    "{:.2}s {} {}",
                    start.elapsed().as_secs_f64(),
                    e.host,
                    if e.up { "up" } else { "down" }
                ));
            }
            next_event += 1;
        }
        if !v.apps.is_empty() {
            apps.start_due(start.elapsed(), |a, app_dir, args| {
                spawn(
                    app_dir,
                    appset::LOG,
                    &a.host,
                    &opts.exe,
                    args,
                    emulation,
                    zk_env,
                )
            })?;
            if apps.poll()? {
                break;
            }
        } else {
            let (mut running, mut workers) = (0, 0);
            for (c, rec) in procs.0.iter_mut().zip(&mut nodes) {
                match c.try_wait().map_err(io("waiting for a node"))? {
                    Some(status) => rec.status = status.code(),
                    None => {
                        running += 1;
                        if !v.services.contains(&rec.node) {
                            workers += 1;
                        }
                    }
                }
            }
            if running == 0 {
                break;
            }
            if workers == 0 && !services_stopped {
                // every worker is done: stop the services gracefully
                for rec in nodes.iter().filter(|r| r.status.is_none()) {
                    kill_term(rec.pid);
                }
                services_stopped = true;
            }
        }
        if start.elapsed() > exp.timeout {
            timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let seconds = start.elapsed().as_secs_f64();
    drop(procs);
    let (apps, failure) = apps.finish();
    for (c, rec) in helpers.0.iter_mut().zip(&mut processes) {
        rec.status = terminate(c);
    }
    drop(helpers);
    // Last started, first stopped: the ensemble's first server goes last.
    let mut zookeeper: Vec<NodeRecord> = zk
        .map(|z| z.servers.iter().rev().zip(servers.into_iter().rev()))
        .into_iter()
        .flatten()
        .map(|(me, s)| NodeRecord {
            node: me.name(zk.is_some_and(ZkPlan::is_ensemble)),
            host: me.host.clone(),
            pid: s.pid(),
            status: s.stop(),
        })
        .collect();
    zookeeper.reverse();
    if let Some(em) = emulation {
        // heal every link an event touched, for the next run
        for e in &v.events {
            em.set_link(&e.host, true)?;
        }
    }
    Ok(RunRecord {
        variant: v.name.clone(),
        repetition: rep,
        dir: dir.to_owned(),
        seconds,
        timed_out,
        nodes,
        apps,
        failure,
        processes,
        zookeeper,
        events: played,
    })
}

/// SIGTERM to `pid` (through `kill`: no `unsafe`).
pub(super) fn kill_term(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The last `lines` lines of the file at `path` (empty if unreadable).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text[text.len().saturating_sub(64 * 1024)..]);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Starts `program args` on `host` (in its namespace, unless local) with its
/// working directory `dir`, its output in `dir/log` and `ROLECALL_ZK` set
/// to `zk` if given.
pub(super) fn spawn(
    dir: &Path,
    log: &str,
    host: &str,
    program: &Path,
    args: &[String],
    emulation: Option<&Emulation>,
    zk: Option<&str>,
) -> Result<Child, RunError> {
    std::fs::create_dir_all(dir).map_err(io(dir.display().to_string()))?;
    let log_path = dir.join(log);
    let out = File::create(&log_path).map_err(io(log_path.display().to_string()))?;
    let err = out
        .try_clone()
        .map_err(io(log_path.display().to_string()))?;
    let mut cmd = match emulation {
        Some(em) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &em.namespace(host)]).arg(program);
            c
        }
        None => Command::new(program),
    };
    if let Some(zk) = zk {
        cmd.env("ROLECALL_ZK", zk);
    }
    cmd.args(args)
        .current_dir(dir)
        .env("ROLECALL_LOG", "info")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    // `ip netns exec` execs the program: the child is the program itself
    cmd.spawn()
        .map_err(io(format!("starting {} on {host}", program.display())))
}

/// SIGTERM, up to two seconds' grace, then SIGKILL; the exit status.
pub(super) fn terminate(child: &mut Child) -> Option<i32> {
    if let Ok(Some(status)) = child.try_wait() {
        return status.code();
    }
    kill_term(child.id());
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().ok().and_then(|s| s.code())
}
