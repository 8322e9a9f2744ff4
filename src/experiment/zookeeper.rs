//! The ZooKeeper server of every run (`[zookeeper]`), standalone or an
//! ensemble: each server's `zoo.cfg` (and `myid`) and data folder in the
//! run's folder, the server (Debian's `QuorumPeerMain`, as
//! `scripts/servers.sh` starts it) on its host, and the wait until every
//! one serves (`srvr` says its mode) — asked from inside the host's
//! namespace by `rolecall experiment probe --serving`, since the root
//! namespace cannot reach it.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rolecall_runtime::topology::Diagnostic;

use super::apps::ZOOKEEPER;
use super::netns::Emulation;
use super::run::{io, spawn, tail, RunError};
use super::shape::Net;

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

/// The `zoo.cfg` of `me` keeping its data in `data`: standalone when it is
/// the only server of `all`, else a member of the ensemble `all` (each
/// server's `server.N=IP:PEER:ELECTION` line; its id is in `data/myid`).
pub fn config(data: &Path, me: &ZkServer, all: &[ZkServer]) -> String {
    let mut cfg = format!(
        "tickTime={TICK_MS}\n\
         dataDir={}\n\
         clientPort={}\n\
         clientPortAddress={}\n\
         admin.enableServer=false\n\
         4lw.commands.whitelist=srvr,ruok,stat\n\
         maxClientCnxns=0\n",
        data.display(),
        me.port,
        me.ip
    );
    if all.len() > 1 {
        // 10 and 5 ticks (5 s, 2.5 s) for followers to connect and sync.
        cfg.push_str("initLimit=10\nsyncLimit=5\n");
        for s in all {
            let (peer, election) = s.peer_ports;
            cfg.push_str(&format!("server.{}={}:{peer}:{election}\n", s.id, s.ip));
        }
    }
    cfg
}

/// True when `reply` is a server's answer to `ruok` saying it runs.
pub fn is_ok(reply: &[u8]) -> bool {
    reply.starts_with(b"imok")
}

/// True when `reply` is a server's answer to `srvr` saying it serves
/// clients: standalone, or the leader or a follower of an ensemble with a
/// quorum (a member without one says it is "not currently serving requests").
pub fn is_serving(reply: &[u8]) -> bool {
    String::from_utf8_lossy(reply)
        .lines()
        .any(|l| l.starts_with("Mode: "))
}

/// The ZooKeeper server of every run: one standalone server, or an
/// ensemble of several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkPlan {
    /// Its servers, in id order (`server.1` first); one: standalone.
    pub servers: Vec<ZkServer>,
}

/// One ZooKeeper server of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkServer {
    /// Its id in the ensemble (`myid`, from 1).
    pub id: u32,
    /// The host it runs on.
    pub host: String,
    /// Its address (the host's, or 127.0.0.1 with `--local`).
    pub ip: Ipv4Addr,
    /// Its client port.
    pub port: u16,
    /// The ports it talks to the other servers on (followers to the
    /// leader, leader election); unused by a standalone server.
    pub peer_ports: (u16, u16),
}

impl ZkServer {
    /// `IP:PORT`, where clients reach it.
    pub fn address(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// Its name in records and folders: `zookeeper`, or `zookeeperN` in an ensemble.
    pub fn name(&self, ensemble: bool) -> String {
        if ensemble {
            format!("{ZOOKEEPER}{}", self.id)
        } else {
            ZOOKEEPER.to_owned()
        }
    }
}

impl ZkPlan {
    /// `IP:PORT[,IP:PORT…]`, as `{addr:zookeeper}` and `ROLECALL_ZK` give it.
    pub fn connect(&self) -> String {
        let all: Vec<String> = self.servers.iter().map(ZkServer::address).collect();
        all.join(",")
    }

    /// True for an ensemble (more than one server).
    pub fn is_ensemble(&self) -> bool {
        self.servers.len() > 1
    }
}

/// `n` distinct ports on 127.0.0.1 that nothing listens on now (for
/// `--local`'s ZooKeeper servers): all held open until all are chosen.
fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    let held = (0..n)
        .map(|_| std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<std::io::Result<Vec<_>>>()?;
    held.iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// The servers of `[zookeeper]` on their hosts: the hosts' addresses and the
/// given client port (quorum ports 2888/3888 as ZooKeeper's own defaults),
/// or with `--local` free ports on 127.0.0.1, three per server.
pub(super) fn zk_plan(
    z: &super::model::Zookeeper,
    net: &Net,
    local: bool,
    host_count: usize,
    problems: &mut Vec<Diagnostic>,
) -> Option<ZkPlan> {
    let mut ports = if local {
        match free_ports(3 * z.hosts.len()) {
            Ok(p) => p.into_iter(),
            Err(e) => {
                problems.push(
                    z.pos
                        .diagnostic(format!("no free ports on 127.0.0.1 for ZooKeeper: {e}")),
                );
                return None;
            }
        }
    } else {
        Vec::new().into_iter()
    };
    let mut servers = Vec::new();
    for (i, name) in z.hosts.iter().enumerate() {
        let Some(h) = net.host(name) else {
            problems.push(z.pos.diagnostic(format!(
                "[zookeeper] on host `{name}`, which the network lacks (hosts h1..h{host_count})"
            )));
            return None;
        };
        let (ip, port, peer_ports) =
            if let (Some(c), Some(q), Some(e)) = (ports.next(), ports.next(), ports.next()) {
                (Ipv4Addr::LOCALHOST, c, (q, e))
            } else {
                (h.ip, z.port, (2888, 3888))
            };
        servers.push(ZkServer {
            id: i as u32 + 1,
            host: name.clone(),
            ip,
            port,
            peer_ports,
        });
    }
    Some(ZkPlan { servers })
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

/// Writes each server's configuration (into `dir`, the run's `zookeeper/`
/// folder; `dir/zkN/` for the servers of an ensemble), starts them on their
/// hosts and waits until every one serves; `exe` is this binary (for the
/// probe). `stop` (Ctrl-C) ends the wait. On an error the servers started
/// so far are killed (dropped).
pub fn start(
    zk: &ZkPlan,
    dir: &Path,
    exe: &Path,
    emulation: Option<&Emulation>,
    stop: &AtomicBool,
) -> Result<Vec<Server>, RunError> {
    if !Path::new("/usr/share/java/zookeeper.jar").exists() {
        return Err(RunError::Zookeeper(
            "/usr/share/java/zookeeper.jar is missing: install Debian's `zookeeper` \
             (and `default-jre-headless`)"
                .to_owned(),
        ));
    }
    let mut servers = Vec::new();
    for me in &zk.servers {
        let dir = if zk.is_ensemble() {
            dir.join(format!("zk{}", me.id))
        } else {
            dir.to_owned()
        };
        servers.push(start_one(me, zk, &dir, emulation)?);
    }
    let started = Instant::now();
    loop {
        if stop.load(Ordering::SeqCst) {
            return Err(RunError::Interrupted);
        }
        let mut all = true;
        for (me, server) in zk.servers.iter().zip(&mut servers) {
            if let Some(c) = &mut server.child {
                if let Ok(Some(status)) = c.try_wait() {
                    return Err(RunError::Zookeeper(format!(
                        "the ZooKeeper server on {} exited ({status}) before serving; {}:\n{}",
                        me.host,
                        server.dir.join(LOG).display(),
                        server.log_tail()
                    )));
                }
            }
            all &= serves(me, exe, emulation);
        }
        if all {
            return Ok(servers);
        }
        if started.elapsed() > READY_TIMEOUT {
            let (me, server) = zk
                .servers
                .iter()
                .zip(&servers)
                .find(|(me, _)| !serves(me, exe, emulation))
                .unwrap_or((&zk.servers[0], &servers[0]));
            return Err(RunError::Zookeeper(format!(
                "the ZooKeeper server on {} did not serve on {} within {}s; {}:\n{}",
                me.host,
                me.address(),
                READY_TIMEOUT.as_secs(),
                server.dir.join(LOG).display(),
                server.log_tail()
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Writes `me`'s configuration (and `myid` in an ensemble) into `dir` and
/// starts it on its host.
fn start_one(
    me: &ZkServer,
    zk: &ZkPlan,
    dir: &Path,
    emulation: Option<&Emulation>,
) -> Result<Server, RunError> {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).map_err(io(data.display().to_string()))?;
    if zk.is_ensemble() {
        let myid = data.join("myid");
        std::fs::write(&myid, format!("{}\n", me.id)).map_err(io(myid.display().to_string()))?;
    }
    let cfg = dir.join("zoo.cfg");
    std::fs::write(&cfg, config(&data, me, &zk.servers)).map_err(io(cfg.display().to_string()))?;
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
        &me.host,
        Path::new("java"),
        &args,
        emulation,
        None,
    )?;
    Ok(Server {
        child: Some(child),
        dir: dir.to_owned(),
    })
}

/// Asks `srvr` from the server's host: true when it serves.
fn serves(me: &ZkServer, exe: &Path, emulation: Option<&Emulation>) -> bool {
    let mut cmd = match emulation {
        Some(em) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &em.namespace(&me.host)]).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(["experiment", "probe", "--serving", &me.address()])
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

    fn server(id: u32, last: u8) -> ZkServer {
        ZkServer {
            id,
            host: format!("h{id}"),
            ip: Ipv4Addr::new(10, 0, 0, last),
            port: 2181,
            peer_ports: (2888, 3888),
        }
    }

    #[test]
    fn an_ensemble_config_names_every_server() {
        let all = [server(1, 1), server(2, 2), server(3, 3)];
        let c = config(Path::new("/r/zookeeper/zk2/data"), &all[1], &all);
        assert!(
            c.contains("clientPort=2181\nclientPortAddress=10.0.0.2\n"),
            "{c}"
        );
        assert!(
            c.ends_with(
                "initLimit=10\nsyncLimit=5\nserver.1=10.0.0.1:2888:3888\n\
                 server.2=10.0.0.2:2888:3888\nserver.3=10.0.0.3:2888:3888\n"
            ),
            "{c}"
        );
    }

    #[test]
    fn srvr_replies() {
        assert!(is_serving(b"Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nMode: follower\nNode count: 5\n"));
        assert!(is_serving(b"Zookeeper version: 3.8.0\nMode: standalone\n"));
        assert!(!is_serving(
            b"This ZooKeeper instance is not currently serving requests\n"
        ));
        assert!(!is_serving(b""));
    }

    #[test]
    fn a_standalone_config_on_the_hosts_address() {
        let c = config(
            Path::new("/r/zookeeper/data"),
            &server(1, 1),
            &[server(1, 1)],
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
