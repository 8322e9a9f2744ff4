//! Emulated hosts built from network namespaces: one namespace per host and
//! per router, all switches as Linux bridges inside one switch namespace,
//! veth pairs as cables. The bridges live in a namespace of their own, so
//! the host's firewall (Docker's FORWARD DROP with bridge netfilter) never
//! sees their traffic and no firewall rule is needed. Deleting a namespace
//! deletes its interfaces, bridges, qdiscs and nftables tables, so teardown
//! is deleting the namespaces — done on drop, so on every exit path.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::model::Network;
use super::shape::{Host, Net};

/// Building or changing the emulated network failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A command could not be started.
    #[error("{command}: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A command failed.
    #[error("`{command}` failed: {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Its error output.
        stderr: String,
    },
    /// Namespaces of an earlier experiment with the same prefix exist.
    #[error("namespaces {0} exist already (left by an experiment that was killed): remove them with `ip netns del NAME`")]
    Leftover(String),
    /// Link delay needs netem, which this kernel lacks.
    #[error(
        "link delay needs the kernel's netem qdisc, which this kernel lacks: \
         remove `delay` from [network] and put the delay in the topology's [[faults]]"
    )]
    NoNetem,
}

/// Runs `program args`; its error output becomes the error.
fn run(program: &str, args: &[&str]) -> Result<(), NetError> {
    let command = format!("{program} {}", args.join(" "));
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| NetError::Spawn {
            command: command.clone(),
            source,
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(NetError::Failed {
            command,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// The namespaces whose names start with `prefix`.
pub fn namespaces_with(prefix: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// A prefix for this process's namespaces: `rx` and the process id in hex.
pub fn unique_prefix() -> String {
    format!("rx{:x}", std::process::id())
}

/// A built network; dropping it deletes every namespace it made.
#[derive(Debug)]
pub struct Emulation {
    prefix: String,
    net: Net,
    namespaces: Vec<String>,
}

impl Emulation {
    /// Builds `net` with namespaces named `PREFIX-NAME`, shaped as `shaping` says.
    pub fn build(
        net: &Net,
        shaping: Option<&Network>,
        prefix: &str,
    ) -> Result<Emulation, NetError> {
        let left = namespaces_with(&format!("{prefix}-"));
        if !left.is_empty() {
            return Err(NetError::Leftover(left.join(" ")));
        }
        let mut em = Emulation {
            prefix: prefix.to_owned(),
            net: net.clone(),
            namespaces: Vec::new(),
        };
        em.create(shaping)?;
        Ok(em)
    }

    /// The namespace prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The namespace of host (or router) `name`.
    pub fn namespace(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    fn switch_ns(&self) -> String {
        format!("{}-sw", self.prefix)
    }

    fn add_ns(&mut self, ns: String) -> Result<(), NetError> {
        run("ip", &["netns", "add", &ns])?;
        self.namespaces.push(ns.clone());
        run("ip", &["-n", &ns, "link", "set", "lo", "up"])
    }

    fn create(&mut self, shaping: Option<&Network>) -> Result<(), NetError> {
        let sw = self.switch_ns();
        self.add_ns(sw.clone())?;
        for s in self.net.switches.clone() {
            run("ip", &["-n", &sw, "link", "add", &s, "type", "bridge"])?;
            run("ip", &["-n", &sw, "link", "set", &s, "up"])?;
        }
        for h in self.net.hosts.clone() {
            self.add_ns(self.namespace(&h.name))?;
        }
        for r in self.net.routers.clone() {
            let ns = self.namespace(&r.name);
            self.add_ns(ns.clone())?;
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    &ns,
                    "sh",
                    "-c",
                    // In a container /proc/sys is read-only; `ip netns exec`
                    // gives the command a mount namespace of its own, where
                    // it may be remounted writable for this one write.
                    "f=/proc/sys/net/ipv4/ip_forward; echo 1 2>/dev/null >$f || \
                     { mount -o remount,rw /proc/sys && echo 1 >$f; }",
                ],
            )?;
            for (i, p) in r.ports.iter().enumerate() {
                let eth = format!("eth{i}");
                let peer = format!("{}-{}", p.switch, r.name);
                self.cable(&ns, &eth, &peer, &p.switch)?;
                let cidr = format!("{}/{}", p.ip, p.prefix);
                run("ip", &["-n", &ns, "addr", "add", &cidr, "dev", &eth])?;
            }
            for route in &r.routes {
                let dest = format!("{}/{}", route.dest, route.prefix);
                run(
                    "ip",
                    &[
                        "-n",
                        &ns,
                        "route",
                        "add",
                        &dest,
                        "via",
                        &route.via.to_string(),
                    ],
                )?;
            }
        }
        for link in self.net.links.clone() {
            if self.net.host(&link.b).is_some() {
                continue;
            }
            // switch to switch
            let (ab, ba) = (
                format!("{}-{}", link.a, link.b),
                format!("{}-{}", link.b, link.a),
            );
            run(
                "ip",
                &[
                    "-n", &sw, "link", "add", &ab, "type", "veth", "peer", "name", &ba,
                ],
            )?;
            for (end, bridge) in [(&ab, &link.a), (&ba, &link.b)] {
                run(
                    "ip",
                    &["-n", &sw, "link", "set", end, "master", bridge, "up"],
                )?;
            }
        }
        for h in self.net.hosts.clone() {
            self.host(&h, shaping)?;
        }
        Ok(())
    }

    /// A veth from `eth` in namespace `ns` to `peer` on bridge `switch`.
    fn cable(&self, ns: &str, eth: &str, peer: &str, switch: &str) -> Result<(), NetError> {
        let sw = self.switch_ns();
        run(
            "ip",
            &[
                "link", "add", eth, "netns", ns, "type", "veth", "peer", "name", peer, "netns", &sw,
            ],
        )?;
        run(
            "ip",
            &["-n", &sw, "link", "set", peer, "master", switch, "up"],
        )?;
        run("ip", &["-n", ns, "link", "set", eth, "up"])
    }

    fn host(&self, h: &Host, shaping: Option<&Network>) -> Result<(), NetError> {
        let ns = self.namespace(&h.name);
        let switch = self.net.switch_of(&h.name).unwrap_or("s1").to_owned();
        let peer = format!("{switch}-{}", h.name);
        self.cable(&ns, "eth0", &peer, &switch)?;
        let cidr = format!("{}/{}", h.ip, h.prefix);
        run("ip", &["-n", &ns, "addr", "add", &cidr, "dev", "eth0"])?;
        if let Some(gw) = h.gateway {
            run(
                "ip",
                &["-n", &ns, "route", "add", "default", "via", &gw.to_string()],
            )?;
        }
        let Some(shaping) = shaping else {
            return Ok(());
        };
        let sw = self.switch_ns();
        for (side_ns, dev) in [(ns.as_str(), "eth0"), (sw.as_str(), peer.as_str())] {
            shape_link(side_ns, dev, shaping.bandwidth, shaping.delay)?;
        }
        if let Some(loss) = shaping.loss.filter(|l| *l > 0.0) {
            // per ten thousand: 0.5 % drops 0..=49 of 0..=9999
            let n = ((loss * 100.0).round() as u32).clamp(1, 10_000) - 1;
            let rule = format!(
                "add table inet rxloss; \
                 add chain inet rxloss o {{ type filter hook output priority 0; }}; \
                 add chain inet rxloss i {{ type filter hook input priority 0; }}; \
                 add rule inet rxloss o numgen random mod 10000 <= {n} drop; \
                 add rule inet rxloss i numgen random mod 10000 <= {n} drop"
            );
            run("ip", &["netns", "exec", &ns, "nft", &rule])?;
        }
        Ok(())
    }

    /// Takes host `host`'s link down or up (both ends, as Mininet's `link ... down`).
    pub fn set_link(&self, host: &str, up: bool) -> Result<(), NetError> {
        let switch = self.net.switch_of(host).unwrap_or("s1").to_owned();
        let state = if up { "up" } else { "down" };
        let peer = format!("{switch}-{host}");
        run(
            "ip",
            &["-n", &self.switch_ns(), "link", "set", &peer, state],
        )?;
        run(
            "ip",
            &["-n", &self.namespace(host), "link", "set", "eth0", state],
        )
    }

    /// Deletes every namespace (and with them every interface, bridge,
    /// qdisc and nftables table); returns the ones that could not be deleted.
    pub fn teardown(&mut self) -> Vec<String> {
        let mut left = Vec::new();
        for ns in self.namespaces.drain(..).rev() {
            if run("ip", &["netns", "del", &ns]).is_err() {
                left.push(ns);
            }
        }
        left
    }
}

impl Drop for Emulation {
    fn drop(&mut self) {
        let left = self.teardown();
        if !left.is_empty() {
            tracing::warn!(namespaces = ?left, "could not delete network namespaces");
        }
    }
}

fn shape_link(
    ns: &str,
    dev: &str,
    bandwidth: Option<f64>,
    delay: Option<Duration>,
) -> Result<(), NetError> {
    let rate = bandwidth.map(|b| format!("{}kbit", (b * 1000.0).round() as u64));
    match (delay, rate) {
        (Some(d), rate) => {
            let delay = format!("{}us", d.as_micros());
            let mut args = vec![
                "-n", ns, "qdisc", "add", "dev", dev, "root", "netem", "delay", &delay,
            ];
            if let Some(r) = &rate {
                args.extend(["rate", r.as_str()]);
            }
            match run("tc", &args) {
                Err(NetError::Failed { stderr, .. }) if stderr.contains("unknown") => {
                    Err(NetError::NoNetem)
                }
                other => other,
            }
        }
        (None, Some(rate)) => run(
            "tc",
            &[
                "-n", ns, "qdisc", "add", "dev", dev, "root", "tbf", "rate", &rate, "burst",
                "32kbit", "latency", "50ms",
            ],
        ),
        (None, None) => Ok(()),
    }
}
