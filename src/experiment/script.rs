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
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# rolecall experiment `{}`, variant `{}`",
        exp.name, variant.name
    );
    let _ = writeln!(
        s,
        "# Start Mininet, then source this file at the mininet> prompt:"
    );
    let _ = writeln!(
        s,
        "#   sudo mn --topo {topo} --switch lxbr --controller none{link}"
    );
    let _ = writeln!(
        s,
        "#   mininet> source {}.mn",
        super::run::slug(&variant.name)
    );
    let _ = writeln!(
        s,
        "# Each node writes its output to NODE.log in the current directory."
    );
    if let Some(z) = &plan.zookeeper {
        let cfg = super::zookeeper::config(std::path::Path::new("zookeeper/data"), z.ip, z.port);
        let _ = writeln!(s, "sh mkdir -p zookeeper/data");
        let _ = writeln!(
            s,
            "sh printf '{}' > zookeeper/zoo.cfg",
            cfg.replace('\n', "\\n")
        );
        let _ = writeln!(
            s,
            "{} java -Xmx256m -Dzookeeper.admin.enableServer=false -cp {} \
             org.apache.zookeeper.server.quorum.QuorumPeerMain zookeeper/zoo.cfg > zookeeper.log 2>&1 &",
            z.host,
            super::zookeeper::CLASSPATH
        );
        let _ = writeln!(s, "sh sleep 3");
    }
    for p in &plan.processes {
        let mut argv: Vec<String> = p.argv.iter().map(|a| quote(a)).collect();
        if argv.first().is_some_and(|a| a == "'{rolecall}'") {
            argv[0] = "rolecall".to_owned();
        }
        let _ = writeln!(s, "{} {} > {}.log 2>&1 &", p.host, argv.join(" "), p.name);
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
    Ok(s)
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
