//! Two emulated hosts (network namespaces PREFIX-a at 10.77.0.1 and PREFIX-b
//! at 10.77.0.2 on one bridge), made by `examples/zmq_multicast/netns.sh`.
//!
//! Making them needs root with CAP_NET_ADMIN (links, addresses, routes) and
//! CAP_SYS_ADMIN (`ip netns add` mounts the namespace), and iproute2's `ip`.
//! A test run without them fails with one line naming what is missing.

use std::process::{Command, Stdio};

use crate::support::root;

const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;

/// The namespaces; removed when dropped, whatever the test does.
pub(crate) struct Hosts {
    prefix: String,
}

impl Hosts {
    /// Makes the two hosts, or panics with one line saying what is missing.
    pub(crate) fn up(prefix: &str) -> Hosts {
        if let Err(missing) = can_make_namespaces() {
            panic!("{missing}");
        }
        let hosts = Hosts {
            prefix: prefix.to_owned(),
        };
        let out = Command::new("examples/zmq_multicast/netns.sh")
            .current_dir(root())
            .args(["up", prefix])
            .stdin(Stdio::null())
            .output()
            .expect("examples/zmq_multicast/netns.sh runs");
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().last().unwrap_or("no output");
            panic!("setting up the emulated hosts failed: netns.sh: {last}");
        }
        hosts
    }

    /// `PREFIX-a` or `PREFIX-b`.
    pub(crate) fn name(&self, host: char) -> String {
        format!("{}-{host}", self.prefix)
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let _ = Command::new("examples/zmq_multicast/netns.sh")
            .current_dir(root())
            .args(["down", &self.prefix])
            .status();
    }
}

/// Whether this process may make network namespaces; otherwise the one-line
/// reason.
fn can_make_namespaces() -> Result<(), String> {
    const HOW: &str = "run `make test` as root (in a container: \
        --cap-add NET_ADMIN --cap-add SYS_ADMIN)";
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("emulated hosts: cannot read /proc/self/status: {e}"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or("")
            .to_owned()
    };
    let uid = field("Uid:");
    if uid.split_whitespace().nth(1) != Some("0") {
        return Err(format!(
            "emulated hosts need root with CAP_NET_ADMIN and CAP_SYS_ADMIN (network namespaces); \
             this test runs as uid {}: {HOW}",
            uid.split_whitespace().nth(1).unwrap_or("?")
        ));
    }
    let caps = u64::from_str_radix(&field("CapEff:"), 16).unwrap_or(0);
    let lacking: Vec<&str> = [
        (CAP_NET_ADMIN, "CAP_NET_ADMIN"),
        (CAP_SYS_ADMIN, "CAP_SYS_ADMIN"),
    ]
    .into_iter()
    .filter(|(bit, _)| caps & (1 << bit) == 0)
    .map(|(_, name)| name)
    .collect();
    if !lacking.is_empty() {
        return Err(format!(
            "emulated hosts need root with CAP_NET_ADMIN and CAP_SYS_ADMIN (network namespaces); \
             this test lacks {}: {HOW}",
            lacking.join(" and ")
        ));
    }
    let ip = Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !ip.map(|s| s.success()).unwrap_or(false) {
        return Err(
            "emulated hosts need iproute2's `ip`, which is not installed: \
             run scripts/install-deps.sh (or apt-get install iproute2)"
                .to_owned(),
        );
    }
    Ok(())
}
