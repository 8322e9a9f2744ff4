//! `rolecall experiment script`: the Mininet command script of one variant,
//! in the course's style — `h1 rolecall node ... &` lines a student
//! `source`s at the `mininet>` prompt.

use std::fmt::Write as _;

use super::model::Experiment;
use super::plan::{Plan, VariantPlan};
use super::shape::Shape;

/// A shape Mininet has no `--topo` for.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the {0} shape has no `mn --topo`: run it with `rolecall experiment run` (network namespaces)"
)]
pub struct NoMininetTopo(String);

/// `mn --topo ...` for `shape`.
pub fn mn_topo(shape: &Shape) -> Result<String, NoMininetTopo> {
    match *shape {
        Shape::Single(n) => Ok(format!("single,{n}")),
        Shape::Linear(n) => Ok(format!("linear,{n}")),
        Shape::Tree { fanout, depth } => Ok(format!("tree,depth={depth},fanout={fanout}")),
        Shape::Routed { .. } => Err(NoMininetTopo("routed".to_owned())),
    }
}

/// Quotes `s` for the shell Mininet runs host commands in.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The script of `variant` (planned with host addresses).
pub fn script(
    exp: &Experiment,
    plan: &Plan,
    variant: &VariantPlan,
) -> Result<String, NoMininetTopo> {
    let topo = mn_topo(&plan.shape)?;
    let mut link = String::new();
    if let Some(n) = &exp.network {
        let mut opts = Vec::new();
        if let Some(bw) = n.bandwidth {
            opts.push(format!("bw={bw}"));
        }
        if let Some(d) = n.delay {
            opts.push(format!("delay={}ms", d.as_millis()));
        }
        if let Some(l) = n.loss {
            opts.push(format!("loss={l}"));
        }
        if !opts.is_empty() {
            link = format!(" --link tc,{}", opts.join(","));
        }
    }
    let file = format!("{}.mn", super::run::slug(&variant.name));
    let mut s = String::new();
    // Mininet's `source` takes no comments (a `#` line is an unknown
    // command): what a reader needs to know is echoed instead.
    let say = |s: &mut String, text: &str| {
        let _ = writeln!(s, "sh echo {}", quote(text));
    };
    say(
        &mut s,
        &format!(
            "rolecall experiment {}, variant {}, for: sudo mn --topo {topo} --switch lxbr \
             --controller none{link}",
            exp.name, variant.name
        ),
    );
    say(
        &mut s,
        &format!(
            "source {file} at the mininet> prompt (or mn ... --test none --post {file}); \
             each program writes its output to NAME.log here"
        ),
    );
    let mut jobs = Jobs::default();
    if let Some(z) = &plan.zookeeper {
        for me in &z.servers {
            // Standalone: zookeeper/; an ensemble: zookeeper/zkN/ with its myid.
            let name = me.name(z.is_ensemble());
            let folder = if z.is_ensemble() {
                format!("zookeeper/zk{}", me.id)
            } else {
                "zookeeper".to_owned()
            };
            let data = format!("{folder}/data");
            let cfg = super::zookeeper::config(std::path::Path::new(&data), me, &z.servers);
            let _ = writeln!(s, "sh mkdir -p {data}");
            if z.is_ensemble() {
                let _ = writeln!(s, "sh echo {} > {data}/myid", me.id);
            }
            let _ = writeln!(
                s,
                "sh printf '{}' > {folder}/zoo.cfg",
                cfg.replace('\n', "\\n")
            );
            let _ = writeln!(
                s,
                "{} java -Xmx256m -Dzookeeper.admin.enableServer=false -cp {} \
                 org.apache.zookeeper.server.quorum.QuorumPeerMain {folder}/zoo.cfg > {name}.log 2>&1 &",
                me.host,
                super::zookeeper::CLASSPATH
            );
            jobs.started(&mut s, &me.host, &name, false);
        }
        let _ = writeln!(s, "sh sleep 3");
    }
    for p in &plan.processes {
        let mut argv: Vec<String> = p.argv.iter().map(|a| quote(a)).collect();
        if argv.first().is_some_and(|a| a == "'{rolecall}'") {
            argv[0] = "rolecall".to_owned();
        }
        let _ = writeln!(s, "{} {} > {}.log 2>&1 &", p.host, argv.join(" "), p.name);
        jobs.started(&mut s, &p.host, &p.name, false);
        if !p.wait.is_zero() {
            let _ = writeln!(s, "sh sleep {:.3}", p.wait.as_secs_f64());
        }
    }
    for n in &variant.nodes {
        let args: Vec<String> = n.args.iter().map(|a| quote(a)).collect();
        let _ = writeln!(
            s,
            "{} rolecall {} > {}.log 2>&1 &",
            n.host,
            args.join(" "),
            n.node
        );
        let ends_by_itself = !variant.services.contains(&n.node);
        jobs.started(&mut s, &n.host, &n.node, ends_by_itself);
    }
    for a in &variant.apps {
        if !a.after.is_zero() {
            let _ = writeln!(s, "sh sleep {:.3}", a.after.as_secs_f64());
        }
        let args: Vec<String> = a
            .args
            .iter()
            .map(|x| quote(&x.replace(super::apps::DIR, ".")))
            .collect();
        let _ = writeln!(
            s,
            "{} rolecall {} > {}.log 2>&1 &",
            a.host,
            args.join(" "),
            a.name
        );
        jobs.started(&mut s, &a.host, &a.name, a.wait);
    }
    let mut events: Vec<_> = variant.events.iter().collect();
    events.sort_by_key(|e| e.at);
    let mut at = std::time::Duration::ZERO;
    for e in events {
        let wait = e.at.saturating_sub(at);
        at = e.at;
        let switch = plan.net.switch_of(&e.host).unwrap_or("s1");
        let _ = writeln!(s, "sh sleep {:.3}", wait.as_secs_f64());
        let _ = writeln!(
            s,
            "link {switch} {} {}",
            e.host,
            if e.up { "up" } else { "down" }
        );
    }
    jobs.finish(&mut s);
    Ok(s)
}

/// The programs a script starts in the background on the hosts' shells, so
/// that it can wait for the ones that end by themselves and then stop the
/// others (services, ZooKeeper, `[[processes]]`), as `experiment run` does.
#[derive(Default)]
struct Jobs {
    /// (host, shell variable holding the PID, name) of each.
    awaited: Vec<(String, String, String)>,
    stopped: Vec<(String, String, String)>,
}

impl Jobs {
    /// Records the PID of the program just started on `host` (`$!` in that
    /// host's shell) under a variable named after it.
    fn started(&mut self, s: &mut String, host: &str, name: &str, ends_by_itself: bool) {
        let var: String = std::iter::once("pid_".to_owned())
            .chain(name.chars().map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_string()
                } else {
                    "_".to_owned()
                }
            }))
            .collect();
        let _ = writeln!(s, "{host} {var}=$!");
        let job = (host.to_owned(), var, name.to_owned());
        if ends_by_itself {
            self.awaited.push(job);
        } else {
            self.stopped.push(job);
        }
    }

    /// Waits for the programs that end by themselves, then stops the others
    /// with SIGTERM (last started first) and waits for them.
    fn finish(self, s: &mut String) {
        let names = |jobs: &[(String, String, String)]| {
            jobs.iter()
                .map(|(_, _, n)| n.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        if !self.awaited.is_empty() {
            let _ = writeln!(
                s,
                "sh echo {}",
                quote(&format!("waiting for {}", names(&self.awaited)))
            );
        }
        for (host, var, _) in &self.awaited {
            let _ = writeln!(s, "{host} wait ${var}");
        }
        if !self.stopped.is_empty() {
            let _ = writeln!(
                s,
                "sh echo {}",
                quote(&format!("stopping {}", names(&self.stopped)))
            );
        }
        for (host, var, _) in self.stopped.iter().rev() {
            let _ = writeln!(s, "{host} kill ${var}");
            let _ = writeln!(s, "{host} wait ${var}");
        }
        let _ = writeln!(s, "sh echo done");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("a.address=10.0.0.1"), "a.address=10.0.0.1");
        assert_eq!(quote("x=[\"tcp://a:1\"]"), "'x=[\"tcp://a:1\"]'");
        assert_eq!(quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn mininet_topologies() {
        assert_eq!(
            mn_topo(&"tree,fanout=2,depth=3".parse().unwrap()).unwrap(),
            "tree,depth=3,fanout=2"
        );
        assert!(mn_topo(&"routed,1,1,1,1".parse().unwrap()).is_err());
    }
}
