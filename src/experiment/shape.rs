//! Network shapes as pure data: the hosts, switches, routers and links of
//! `single,N`, `linear,N`, `tree,fanout=F,depth=D` and the routed shape
//! `routed,networks=N,lans=L,switches=S,hosts=H`, with every address and
//! route. Nothing here touches the system; [`super::netns`] builds it.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// Most hosts a shape may have (bounded: every host is a namespace).
pub const MAX_HOSTS: usize = 254;

/// A network shape as written in an experiment file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One switch, N hosts.
    Single(usize),
    /// N switches in a chain, one host on each.
    Linear(usize),
    /// A tree of switches `depth` levels deep, `fanout` children each, hosts at the leaves.
    Tree {
        /// Children per switch (and hosts per leaf switch).
        fanout: usize,
        /// Levels of switches.
        depth: usize,
    },
    /// The course's routed shape: `networks` routers on a core switch; each
    /// network has `lans` LANs (one subnet each) of `switches` switches with
    /// `hosts` hosts each.
    Routed {
        /// Networks (one router each).
        networks: usize,
        /// LANs per network.
        lans: usize,
        /// Switches per LAN.
        switches: usize,
        /// Hosts per switch.
        hosts: usize,
    },
}

/// A shape that cannot be read or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShapeError(String);

fn bad(msg: impl Into<String>) -> ShapeError {
    ShapeError(msg.into())
}

impl FromStr for Shape {
    type Err = ShapeError;

    fn from_str(s: &str) -> Result<Shape, ShapeError> {
        let mut parts = s.split(',').map(str::trim);
        let kind = parts.next().unwrap_or_default();
        let args: Vec<&str> = parts.collect();
        let named = |names: &[&str]| -> Result<Vec<usize>, ShapeError> {
            let usage = || {
                format!(
                    "expected `{kind},{}`",
                    names
                        .iter()
                        .map(|n| format!("{n}=N"))
                        .collect::<Vec<_>>()
                        .join(",")
                )
            };
            if args.len() != names.len() {
                return Err(bad(usage()));
            }
            let mut values = vec![0; names.len()];
            for (i, arg) in args.iter().enumerate() {
                // `name=value`, or a bare value in the listed order
                let (name, value) = match arg.split_once('=') {
                    Some((n, v)) => (n.trim(), v.trim()),
                    None => (names[i], *arg),
                };
                let at = names
                    .iter()
                    .position(|n| *n == name)
                    .ok_or_else(|| bad(format!("unknown `{name}` in `{s}`: {}", usage())))?;
                values[at] = count(value, name)?;
            }
            Ok(values)
        };
        let shape = match kind {
            "single" => Shape::Single(named(&["hosts"])?[0]),
            "linear" => Shape::Linear(named(&["hosts"])?[0]),
            "tree" => {
                let v = named(&["fanout", "depth"])?;
                Shape::Tree {
                    fanout: v[0],
                    depth: v[1],
                }
            }
            "routed" => {
                let v = named(&["networks", "lans", "switches", "hosts"])?;
                Shape::Routed {
                    networks: v[0],
                    lans: v[1],
                    switches: v[2],
                    hosts: v[3],
                }
            }
            other => {
                return Err(bad(format!(
                    "unknown network shape `{other}`: expected single,N, linear,N, \
                     tree,fanout=F,depth=D or routed,networks=N,lans=L,switches=S,hosts=H"
                )))
            }
        };
        let hosts = shape.host_count();
        if hosts > MAX_HOSTS {
            return Err(bad(format!(
                "`{s}` has {hosts} hosts, more than {MAX_HOSTS}"
            )));
        }
        Ok(shape)
    }
}

fn count(value: &str, name: &str) -> Result<usize, ShapeError> {
    match value.parse::<usize>() {
        Ok(n) if (1..=MAX_HOSTS).contains(&n) => Ok(n),
        _ => Err(bad(format!(
            "`{name}` must be a whole number 1..={MAX_HOSTS}, not `{value}`"
        ))),
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Shape::Single(n) => write!(f, "single,{n}"),
            Shape::Linear(n) => write!(f, "linear,{n}"),
            Shape::Tree { fanout, depth } => write!(f, "tree,fanout={fanout},depth={depth}"),
            Shape::Routed {
                networks,
                lans,
                switches,
                hosts,
            } => write!(
                f,
                "routed,networks={networks},lans={lans},switches={switches},hosts={hosts}"
            ),
        }
    }
}

/// A host: its address, the switch it hangs on, its gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// `h1`, `h2`, ...
    pub name: String,
    /// Its address.
    pub ip: Ipv4Addr,
    /// Prefix length of its subnet.
    pub prefix: u8,
    /// Default gateway (routed shape only).
    pub gateway: Option<Ipv4Addr>,
}

/// One interface of a router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterPort {
    /// The switch it plugs into.
    pub switch: String,
    /// Its address.
    pub ip: Ipv4Addr,
    /// Prefix length.
    pub prefix: u8,
}

/// A route `dest/prefix via gateway`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Destination subnet.
    pub dest: Ipv4Addr,
    /// Its prefix length.
    pub prefix: u8,
    /// Next hop.
    pub via: Ipv4Addr,
}

/// A router: one port per LAN of its network and one on the core switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Router {
    /// `r1`, `r2`, ...
    pub name: String,
    /// Its interfaces, `eth0`, `eth1`, ... in order.
    pub ports: Vec<RouterPort>,
    /// Routes to the other networks.
    pub routes: Vec<Route>,
}

/// A cable between two named devices (host, switch or router).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// One end.
    pub a: String,
    /// The other end.
    pub b: String,
}

/// A built shape: every device, address and cable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Net {
    /// Hosts in order `h1`, `h2`, ...
    pub hosts: Vec<Host>,
    /// Switch names.
    pub switches: Vec<String>,
    /// Routers (routed shape only).
    pub routers: Vec<Router>,
    /// Cables; host links first name the switch, then the host.
    pub links: Vec<Link>,
}

impl Net {
    /// The host named `name`.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The switch a host hangs on.
    pub fn switch_of(&self, host: &str) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.b == host)
            .map(|l| l.a.as_str())
    }

    fn link(&mut self, a: &str, b: &str) {
        self.links.push(Link {
            a: a.to_owned(),
            b: b.to_owned(),
        });
    }

    fn flat_host(&mut self, switch: &str) {
        let n = self.hosts.len() + 1;
        let name = format!("h{n}");
        self.hosts.push(Host {
            name: name.clone(),
            ip: Ipv4Addr::new(10, 0, (n / 256) as u8, (n % 256) as u8),
            prefix: 8,
            gateway: None,
        });
        self.link(switch, &name);
    }

    fn switch(&mut self) -> String {
        let name = format!("s{}", self.switches.len() + 1);
        self.switches.push(name.clone());
        name
    }
}

impl Shape {
    /// How many hosts the shape has.
    pub fn host_count(&self) -> usize {
        match *self {
            Shape::Single(n) | Shape::Linear(n) => n,
            Shape::Tree { fanout, depth } => fanout.saturating_pow(depth as u32),
            Shape::Routed {
                networks,
                lans,
                switches,
                hosts,
            } => networks
                .saturating_mul(lans)
                .saturating_mul(switches)
                .saturating_mul(hosts),
        }
    }

    /// Every device, address, cable and route of the shape. Flat shapes put
    /// all hosts in 10.0.0.0/8 (h1 = 10.0.0.1, as Mininet does); the routed
    /// shape gives LAN `l` of network `n` the subnet 10.n.l.0/24 (hosts from
    /// .1, the router .254) and the routers 192.168.0.n/24 on core switch `s0`.
    pub fn build(&self) -> Net {
        let mut net = Net::default();
        match *self {
            Shape::Single(n) => {
                let s = net.switch();
                for _ in 0..n {
                    net.flat_host(&s);
                }
            }
            Shape::Linear(n) => {
                let mut prev: Option<String> = None;
                for _ in 0..n {
                    let s = net.switch();
                    net.flat_host(&s);
                    if let Some(p) = prev {
                        net.link(&p, &s);
                    }
                    prev = Some(s);
                }
            }
            Shape::Tree { fanout, depth } => tree(&mut net, None, fanout, depth),
            Shape::Routed {
                networks,
                lans,
                switches,
                hosts,
            } => routed(&mut net, networks, lans, switches, hosts),
        }
        net
    }
}

/// Depth-first, as Mininet's `TreeTopo`: hosts are numbered left to right.
fn tree(net: &mut Net, parent: Option<&str>, fanout: usize, depth: usize) {
    let s = net.switch();
    if let Some(p) = parent {
        net.link(p, &s);
    }
    for _ in 0..fanout {
        if depth <= 1 {
            net.flat_host(&s);
        } else {
            tree(net, Some(&s), fanout, depth - 1);
        }
    }
}

fn routed(net: &mut Net, networks: usize, lans: usize, switches: usize, hosts: usize) {
    let core = "s0".to_owned();
    net.switches.push(core.clone());
    let core_ip = |n: usize| Ipv4Addr::new(192, 168, 0, n as u8);
    for n in 1..=networks {
        let mut router = Router {
            name: format!("r{n}"),
            ports: Vec::new(),
            routes: Vec::new(),
        };
        for l in 1..=lans {
            let gateway = Ipv4Addr::new(10, n as u8, l as u8, 254);
            let mut first: Option<String> = None;
            let mut k = 0;
            for _ in 0..switches {
                let s = format!("s{}", net.switches.len());
                net.switches.push(s.clone());
                match &first {
                    None => {
                        router.ports.push(RouterPort {
                            switch: s.clone(),
                            ip: gateway,
                            prefix: 24,
                        });
                        first = Some(s.clone());
                    }
                    Some(f) => net.link(f, &s),
                }
                for _ in 0..hosts {
                    k += 1;
                    let name = format!("h{}", net.hosts.len() + 1);
                    net.hosts.push(Host {
                        name: name.clone(),
                        ip: Ipv4Addr::new(10, n as u8, l as u8, k as u8),
                        prefix: 24,
                        gateway: Some(gateway),
                    });
                    net.link(&s, &name);
                }
            }
        }
        router.ports.push(RouterPort {
            switch: core.clone(),
            ip: core_ip(n),
            prefix: 24,
        });
        for m in (1..=networks).filter(|m| *m != n) {
            router.routes.push(Route {
                dest: Ipv4Addr::new(10, m as u8, 0, 0),
                prefix: 16,
                via: core_ip(m),
            });
        }
        net.routers.push(router);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(s: &str) -> Shape {
        s.parse().unwrap()
    }

    #[test]
    fn parses_every_shape_and_prints_it_back() {
        for (text, hosts) in [
            ("single,4", 4),
            ("linear,3", 3),
            ("tree,fanout=2,depth=2", 4),
            ("tree,3,2", 9),
            ("routed,networks=2,lans=2,switches=1,hosts=2", 8),
        ] {
            let s = shape(text);
            assert_eq!(s.host_count(), hosts, "{text}");
            assert_eq!(s.build().hosts.len(), hosts, "{text}");
            assert_eq!(shape(&s.to_string()), s);
        }
    }

    #[test]
    fn rejects_bad_shapes_with_a_reason() {
        for (text, says) in [
            ("ring,3", "unknown network shape `ring`"),
            ("single", "expected `single,hosts=N`"),
            ("single,0", "1..=254"),
            ("tree,fanout=2,height=2", "unknown `height`"),
            ("tree,fanout=4,depth=5", "more than 254"),
            ("linear,x", "not `x`"),
        ] {
            let e = text.parse::<Shape>().unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn single_puts_every_host_on_one_switch() {
        let net = shape("single,3").build();
        assert_eq!(net.switches, ["s1"]);
        assert_eq!(net.hosts[2].ip, Ipv4Addr::new(10, 0, 0, 3));
        assert!(net
            .hosts
            .iter()
            .all(|h| net.switch_of(&h.name) == Some("s1")));
    }

    #[test]
    fn linear_chains_switches() {
        let net = shape("linear,3").build();
        assert_eq!(net.switches, ["s1", "s2", "s3"]);
        let trunks: Vec<_> = net
            .links
            .iter()
            .filter(|l| l.b.starts_with('s'))
            .map(|l| (l.a.as_str(), l.b.as_str()))
            .collect();
        assert_eq!(trunks, [("s1", "s2"), ("s2", "s3")]);
        assert_eq!(net.switch_of("h3"), Some("s3"));
    }

    #[test]
    fn tree_numbers_hosts_left_to_right_like_mininet() {
        let net = shape("tree,fanout=2,depth=2").build();
        assert_eq!(net.switches, ["s1", "s2", "s3"]);
        assert_eq!(net.switch_of("h1"), Some("s2"));
        assert_eq!(net.switch_of("h2"), Some("s2"));
        assert_eq!(net.switch_of("h3"), Some("s3"));
        assert_eq!(net.links.len(), 2 + 4);
    }

    #[test]
    fn routed_gives_subnets_gateways_and_routes() {
        let net = shape("routed,networks=2,lans=2,switches=2,hosts=1").build();
        assert_eq!(net.hosts.len(), 8);
        assert_eq!(net.routers.len(), 2);
        // h1, h2: network 1 LAN 1 (two switches); h3, h4: LAN 2
        assert_eq!(net.hosts[1].ip, Ipv4Addr::new(10, 1, 1, 2));
        assert_eq!(net.hosts[2].ip, Ipv4Addr::new(10, 1, 2, 1));
        assert_eq!(net.hosts[4].ip, Ipv4Addr::new(10, 2, 1, 1));
        assert_eq!(net.hosts[4].gateway, Some(Ipv4Addr::new(10, 2, 1, 254)));
        let r1 = &net.routers[0];
        assert_eq!(r1.ports.len(), 3);
        assert_eq!(r1.ports[2].switch, "s0");
        assert_eq!(
            r1.routes,
            [Route {
                dest: Ipv4Addr::new(10, 2, 0, 0),
                prefix: 16,
                via: Ipv4Addr::new(192, 168, 0, 2)
            }]
        );
        // the second switch of a LAN hangs on the first
        assert!(net.links.iter().any(|l| l.a == "s1" && l.b == "s2"));
        assert_eq!(net.switch_of("h2"), Some("s2"));
    }
}
