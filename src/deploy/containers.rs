//! `rolecall docker up|down|logs`: one container per node on a user-defined
//! network, ZooKeeper containers beside them when needed. Every object is
//! named with the [`Names`] prefix and labelled with the topology, so `down`
//! finds exactly what `up` created.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use super::docker::{Docker, DockerError};
use super::names::Names;
use super::plan::{Plan, STATE_DIR, TOPOLOGY_PATH};
use super::zk;

/// Label holding the topology name on every container, network and volume.
pub const TOPOLOGY_LABEL: &str = "org.rolecall.topology";

/// Why `up`, `down` or `logs` failed.
#[derive(Debug, thiserror::Error)]
pub enum ContainersError {
    /// Docker failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// The image to run is not there.
    #[error("image `{0}` not found: build it with `rolecall image --tag {0}`")]
    NoImage(String),
    /// The topology is already up.
    #[error("network `{0}` already exists: the topology is up (run `rolecall docker down` first)")]
    AlreadyUp(String),
    /// ZooKeeper did not become ready.
    #[error("ZooKeeper container `{0}` did not answer within {1} s (see `docker logs {0}`)")]
    ZkTimeout(String, u64),
    /// A ZooKeeper container stopped while starting.
    #[error("ZooKeeper container `{0}` exited while starting (see `docker logs {0}`)")]
    ZkExited(String),
    /// ZooKeeper containers need the host's JRE and jars.
    #[error("ZooKeeper containers mount this host's JRE and ZooKeeper jars: {0} not found (apt-get install zookeeper)")]
    NoZooKeeper(String),
    /// The topology file's path cannot be made absolute.
    #[error("{0}: {1}")]
    Path(String, std::io::Error),
}

/// Images and options of `up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// The image running `rolecall`.
    pub image: String,
    /// The ZooKeeper image (see `rolecall image --zookeeper`).
    pub zk_image: String,
    /// How long to wait for ZooKeeper.
    pub zk_timeout: Duration,
}

fn label_arg(plan: &Plan) -> String {
    format!("{TOPOLOGY_LABEL}={}", plan.name)
}

/// Starts the ZooKeeper servers (if any) and one container per node.
pub fn up(
    docker: &Docker,
    plan: &Plan,
    names: &Names,
    topology: &Path,
    o: &UpOptions,
) -> Result<Vec<String>, ContainersError> {
    docker.ping()?;
    let topology = std::fs::canonicalize(topology)
        .map_err(|e| ContainersError::Path(topology.display().to_string(), e))?;
    let mut images = vec![o.image.clone()];
    if plan.zk.is_some() {
        images.push(o.zk_image.clone());
    }
    for image in images {
        if !docker.exists("image", &image)? {
            return Err(ContainersError::NoImage(image));
        }
    }
    let net = names.network(plan);
    if docker.exists("network", &net)? {
        return Err(ContainersError::AlreadyUp(net));
    }
    if plan.zk.is_some() {
        if zk::java_home().is_none() {
            return Err(ContainersError::NoZooKeeper("java (on the PATH)".into()));
        }
        let jar = std::path::Path::new(zk::JARS).join("zookeeper.jar");
        if !jar.is_file() {
            return Err(ContainersError::NoZooKeeper(jar.display().to_string()));
        }
    }
    let label = label_arg(plan);
    docker.run(&["network", "create", "--label", &label, &net])?;
    start(docker, plan, names, &topology, o, &net, &label).inspect_err(|_| {
        // Leave nothing half-started; volumes (durable state) stay.
        let _ = down(docker, plan, names, false);
    })
}

fn start(
    docker: &Docker,
    plan: &Plan,
    names: &Names,
    topology: &Path,
    o: &UpOptions,
    net: &str,
    label: &str,
) -> Result<Vec<String>, ContainersError> {
    let mut started = Vec::new();
    if let Some(z) = &plan.zk {
        for (i, host) in z.hosts.iter().enumerate() {
            let vol = names.zk_volume(plan, i);
            docker.run(&["volume", "create", "--label", label, &vol])?;
            let mut args: Vec<String> = common_args(host, &format!("zk{}", i + 1), net, label);
            for (h, c) in zk::host_mounts() {
                args.extend(["-v".into(), format!("{h}:{c}:ro")]);
            }
            args.extend(["-v".into(), format!("{vol}:/data")]);
            for (k, v) in zk::env(z, i) {
                args.extend(["-e".into(), format!("{k}={v}")]);
            }
            args.push(o.zk_image.clone());
            args.extend(zk::args());
            run_detached(docker, &args)?;
            started.push(host.clone());
        }
        for host in &z.hosts {
            wait_zk(docker, host, o.zk_timeout)?;
        }
    }
    for n in &plan.nodes {
        let mut args = common_args(&n.host, &n.label, net, label);
        args.extend([
            "-v".into(),
            format!("{}:{TOPOLOGY_PATH}:ro", topology.display()),
        ]);
        if !n.state.is_empty() {
            let vol = names.volume(plan, n);
            docker.run(&["volume", "create", "--label", label, &vol])?;
            args.extend(["-v".into(), format!("{vol}:{STATE_DIR}")]);
        }
        for (k, v) in &plan.env {
            args.extend(["-e".into(), format!("{k}={v}")]);
        }
        args.push(o.image.clone());
        args.extend(plan.node_args(n));
        run_detached(docker, &args)?;
        started.push(n.host.clone());
    }
    Ok(started)
}

/// `docker run -d` on the network, reachable by its container name and by
/// `alias` (the node's own name, as on Kubernetes).
fn common_args(host: &str, alias: &str, net: &str, label: &str) -> Vec<String> {
    [
        "run",
        "-d",
        "--name",
        host,
        "--hostname",
        host,
        "--network",
        net,
        "--network-alias",
        alias,
        "--label",
        label,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn run_detached(docker: &Docker, args: &[String]) -> Result<String, DockerError> {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    docker.run(&refs)
}

/// Waits until ZooKeeper in container `host` answers `srvr` with its mode.
fn wait_zk(docker: &Docker, host: &str, timeout: Duration) -> Result<(), ContainersError> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let state = docker.inspect(
            "container",
            host,
            "{{.State.Status}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        )?;
        let (status, ip) = state.split_once(' ').unwrap_or((state.as_str(), ""));
        if status == "exited" || status == "dead" {
            return Err(ContainersError::ZkExited(host.into()));
        }
        let addr: Option<std::net::SocketAddr> =
            format!("{ip}:{}", super::plan::ZK_PORT).parse().ok();
        if let Some(mut s) =
            addr.and_then(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).ok())
        {
            let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
            let mut reply = String::new();
            if s.write_all(b"srvr").is_ok()
                && s.read_to_string(&mut reply).is_ok()
                && reply.contains("Mode:")
            {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(ContainersError::ZkTimeout(host.into(), timeout.as_secs()))
}

/// Removes the topology's containers, its network and, with `volumes`, its
/// volumes. Returns what was removed.
pub fn down(
    docker: &Docker,
    plan: &Plan,
    names: &Names,
    volumes: bool,
) -> Result<Vec<String>, ContainersError> {
    docker.ping()?;
    let filter = format!("label={}", label_arg(plan));
    let mut removed = Vec::new();
    let containers = docker.run(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"])?;
    for c in containers.lines().filter(|c| c.starts_with(names.prefix())) {
        docker.run(&["rm", "-f", c])?;
        removed.push(c.to_owned());
    }
    let net = names.network(plan);
    if docker.exists("network", &net)? {
        docker.run(&["network", "rm", &net])?;
        removed.push(net);
    }
    if volumes {
        let vols = docker.run(&["volume", "ls", "--filter", &filter, "--format", "{{.Name}}"])?;
        for v in vols.lines().filter(|v| v.starts_with(names.prefix())) {
            docker.run(&["volume", "rm", v])?;
            removed.push(v.to_owned());
        }
    }
    Ok(removed)
}

/// State of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState {
    /// Container name.
    pub container: String,
    /// `running`, `exited`, ... or `absent`.
    pub status: String,
    /// Exit code once exited.
    pub exit_code: Option<i32>,
    /// Standard output and error.
    pub logs: String,
}

/// Status, exit code and logs of every container of the plan (ZooKeeper
/// first, then the nodes in file order).
pub fn logs(docker: &Docker, plan: &Plan) -> Result<Vec<NodeState>, ContainersError> {
    docker.ping()?;
    let mut hosts: Vec<String> = plan.zk.iter().flat_map(|z| z.hosts.clone()).collect();
    hosts.extend(plan.nodes.iter().map(|n| n.host.clone()));
    let mut out = Vec::new();
    for h in hosts {
        if !docker.exists("container", &h)? {
            out.push(NodeState {
                container: h,
                status: "absent".into(),
                exit_code: None,
                logs: String::new(),
            });
            continue;
        }
        let state = docker.inspect("container", &h, "{{.State.Status}} {{.State.ExitCode}}")?;
        let (status, code) = state.split_once(' ').unwrap_or((state.as_str(), ""));
        let logs = docker_logs(&h)?;
        out.push(NodeState {
            container: h.clone(),
            status: status.to_owned(),
            exit_code: if status == "exited" {
                code.parse().ok()
            } else {
                None
            },
            logs,
        });
    }
    Ok(out)
}

/// `docker logs NAME`, standard output and error interleaved as Docker kept them.
fn docker_logs(name: &str) -> Result<String, DockerError> {
    let out = std::process::Command::new("docker")
        .args(["logs", name])
        .output()
        .map_err(DockerError::Io)?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(text)
}
