//! The ZooKeeper server of every run (`[zookeeper]`): its `zoo.cfg` and data
//! folder in the run's folder, the server (Debian's `QuorumPeerMain`, as
//! `scripts/servers.sh` starts it) on its host, and the wait until it
//! answers `ruok` — asked from inside the host's namespace by `rolecall
//! experiment probe --ruok`, since the root namespace cannot reach it.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::netns::Emulation;
use super::plan::ZkPlan;
use super::run::{io, spawn, tail, RunError};

/// Debian's ZooKeeper classes (package `zookeeper`) and their logging.
pub const CLASSPATH: &str =
    "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";

/// Longest wait for a server to answer `ruok` (a JVM on a busy machine).
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Its tick (ms): sessions may last 2–20 ticks, so 1–10 s (the pub/sub
/// apps' default session timeout, 4 s, is inside).
pub const TICK_MS: u32 = 500;

/// The server's output, in its folder.
pub const LOG: &str = "server.log";

/// The `zoo.cfg` of a standalone server on `ip:port` keeping its data in `data`.
pub fn config(data: &Path, ip: Ipv4Addr, port: u16) -> String {
    format!(
        "tickTime={TICK_MS}\n\
         dataDir={}\n\
         clientPort={port}\n\
         clientPortAddress={ip}\n\
         admin.enableServer=false\n\
         4lw.commands.whitelist=srvr,ruok,stat\n\
         maxClientCnxns=0\n",
        data.display()
    )
}

/// True when `reply` is a server's answer to `ruok` saying it runs.
pub fn is_ok(reply: &[u8]) -> bool {
    reply.starts_with(b"imok")
}

/// A started server; dropping it kills it (every exit path), [`Server::stop`]
/// stops it gracefully.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    dir: PathBuf,
}

impl Server {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// SIGTERM, up to two seconds' grace, then SIGKILL; its exit status.
    pub fn stop(mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        super::run::terminate(&mut child)
    }

    /// The last lines of its log.
    fn log_tail(&self) -> String {
        tail(&self.dir.join(LOG), 15)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Writes the configuration into `dir` (the run's `zookeeper/` folder),
/// starts the server on its host and waits until it answers; `exe` is
/// this binary (for the probe). `stop` (Ctrl-C) ends the wait.
pub fn start(
    zk: &ZkPlan,
    dir: &Path,
    exe: &Path,
    emulation: Option<&Emulation>,
    stop: &AtomicBool,
) -> Result<Server, RunError> {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).map_err(io(data.display().to_string()))?;
    let cfg = dir.join("zoo.cfg");
    std::fs::write(&cfg, config(&data, zk.ip, zk.port)).map_err(io(cfg.display().to_string()))?;
    if !Path::new("/usr/share/java/zookeeper.jar").exists() {
        return Err(RunError::Zookeeper(
            "/usr/share/java/zookeeper.jar is missing: install Debian's `zookeeper` \
             (and `default-jre-headless`)"
                .to_owned(),
        ));
    }
    let args = vec![
        "-Xmx256m".to_owned(),
        format!("-Dzookeeper.log.dir={}", dir.display()),
        "-Dzookeeper.admin.enableServer=false".to_owned(),
        "-cp".to_owned(),
        CLASSPATH.to_owned(),
        "org.apache.zookeeper.server.quorum.QuorumPeerMain".to_owned(),
        cfg.display().to_string(),
    ];
    let child = spawn(
        dir,
        LOG,
        &zk.host,
        Path::new("java"),
        &args,
        emulation,
        None,
    )?;
    let mut server = Server {
        child: Some(child),
        dir: dir.to_owned(),
    };
    let started = Instant::now();
    loop {
        if stop.load(Ordering::SeqCst) {
            return Err(RunError::Interrupted);
        }
        if let Some(c) = &mut server.child {
            if let Ok(Some(status)) = c.try_wait() {
                return Err(RunError::Zookeeper(format!(
                    "the ZooKeeper server on {} exited ({status}) before serving; {}:\n{}",
                    zk.host,
                    dir.join(LOG).display(),
                    server.log_tail()
                )));
            }
        }
        if answers(zk, exe, emulation) {
            return Ok(server);
        }
        if started.elapsed() > READY_TIMEOUT {
            return Err(RunError::Zookeeper(format!(
                "the ZooKeeper server on {} did not answer on {} within {}s; {}:\n{}",
                zk.host,
                zk.connect(),
                READY_TIMEOUT.as_secs(),
                dir.join(LOG).display(),
                server.log_tail()
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Asks `ruok` from the server's host.
fn answers(zk: &ZkPlan, exe: &Path, emulation: Option<&Emulation>) -> bool {
    let mut cmd = match emulation {
        Some(em) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &em.namespace(&zk.host)]).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(["experiment", "probe", "--ruok", &zk.connect()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standalone_config_on_the_hosts_address() {
        let c = config(
            Path::new("/r/zookeeper/data"),
            Ipv4Addr::new(10, 0, 0, 1),
            2181,
        );
        assert!(c.contains("dataDir=/r/zookeeper/data\n"), "{c}");
        assert!(
            c.contains("clientPort=2181\nclientPortAddress=10.0.0.1\n"),
            "{c}"
        );
        assert!(c.contains("tickTime=500\n") && c.contains("ruok"), "{c}");
        assert!(!c.contains("server."), "standalone: {c}");
    }

    #[test]
    fn ruok_replies() {
        assert!(is_ok(b"imok"));
        assert!(!is_ok(b""));
        assert!(!is_ok(
            b"ruok is not executed because it is not in the whitelist."
        ));
    }
}
