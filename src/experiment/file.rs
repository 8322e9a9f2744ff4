//! The experiment file (TOML): reading and validating it into an
//! [`Experiment`], every problem reported as `file:line:column: message`.
//! Checks that need the topology (node names, override paths) happen when
//! the runs are planned ([`super::plan`]), still pointing into this file.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use rolecall_runtime::topology::Diagnostic;
use serde::Deserialize;
use toml::Spanned;

use super::apps::{self, RawApp, RawZookeeper};
use super::model::{Event, Experiment, Network, Placement, Pos, Process, Rule, Variant};
use super::shape::Shape;
use super::sweep::{self, RawSweep};

/// Most variants after sweeping, and most repetitions (every run is real work).
pub const MAX_RUNS: usize = 1000;

/// An experiment file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file has problems; one line each.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    experiment: Spanned<RawExperiment>,
    network: Option<RawNetwork>,
    placement: Option<RawPlacement>,
    results: Option<RawResults>,
    #[serde(default)]
    variants: Vec<RawVariant>,
    sweep: Option<RawSweep>,
    #[serde(default)]
    events: Vec<RawEvent>,
    #[serde(default)]
    processes: Vec<RawProcess>,
    zookeeper: Option<Spanned<RawZookeeper>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcess {
    name: Spanned<String>,
    host: String,
    command: Spanned<Vec<String>>,
    wait: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExperiment {
    name: Option<String>,
    topology: Option<Spanned<String>>,
    repetitions: Option<Spanned<i64>>,
    timeout: Option<Spanned<String>>,
    seed: Option<u64>,
    #[serde(default)]
    services: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    shape: Spanned<String>,
    bandwidth: Option<Spanned<f64>>,
    delay: Option<Spanned<String>>,
    loss: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlacement {
    rule: Option<Spanned<String>>,
    seed: Option<u64>,
    #[serde(default)]
    nodes: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResults {
    series: Option<String>,
    field: Option<String>,
    expect: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    name: Spanned<String>,
    topology: Option<Spanned<String>>,
    #[serde(default)]
    set: Vec<String>,
    x: Option<f64>,
    expect: Option<u64>,
    services: Option<Vec<String>>,
    events: Option<Vec<RawEvent>>,
    apps: Option<Spanned<Vec<RawApp>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    at: Spanned<String>,
    host: String,
    link: Spanned<String>,
}

/// The file being validated and the problems found so far.
pub(super) struct Ctx<'a> {
    origin: String,
    text: &'a str,
    diagnostics: Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub(super) fn pos(&self, span: Range<usize>) -> Pos {
        let start = span.start.min(self.text.len());
        let start = (0..=start)
            .rev()
            .find(|i| self.text.is_char_boundary(*i))
            .unwrap_or(0);
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        Pos {
            origin: self.origin.clone(),
            line,
            column: self.text[line_start..start].chars().count() + 1,
        }
    }

    pub(super) fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let d = self.pos(span).diagnostic(message);
        self.diagnostics.push(d);
    }

    /// Records a diagnostic made elsewhere (at a [`Pos`] kept from parsing).
    pub(super) fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }
}

/// `250ms`, `2s`, `1.5s`, `1m`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (number, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        return None;
    };
    let v: f64 = number.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0 && v * scale < 1e7).then(|| Duration::from_secs_f64(v * scale))
}

/// Reads and validates the experiment file at `path`.
pub fn load(path: &Path) -> Result<Experiment, FileError> {
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text, path)
}

/// Validates experiment `text` read from `path` (topology paths are relative to it).
pub fn parse(text: &str, path: &Path) -> Result<Experiment, FileError> {
    let mut cx = Ctx {
        origin: path.display().to_string(),
        text,
        diagnostics: Vec::new(),
    };
    let raw: Raw = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let message = e.message().trim().replace('\n', " ");
            match e.span() {
                Some(span) => cx.error(span, message),
                None => cx.diagnostics.push(Diagnostic {
                    origin: cx.origin.clone(),
                    line: 0,
                    column: 0,
                    message,
                    help: None,
                }),
            }
            return Err(FileError::Invalid(cx.diagnostics));
        }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let exp_span = raw.experiment.span();
    let exp = raw.experiment.into_inner();
    let name = exp.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "experiment".to_owned())
    });
    let repetitions = match exp.repetitions {
        None => 1,
        Some(r) if (1..=MAX_RUNS as i64).contains(r.get_ref()) => *r.get_ref() as u32,
        Some(r) => {
            cx.error(r.span(), format!("`repetitions` must be 1..={MAX_RUNS}"));
            1
        }
    };
    let timeout = match &exp.timeout {
        None => Duration::from_secs(120),
        Some(t) => parse_duration(t.get_ref()).unwrap_or_else(|| {
            cx.error(
                t.span(),
                format!(
                    "`timeout` must be a duration like \"60s\", not `{}`",
                    t.get_ref()
                ),
            );
            Duration::from_secs(120)
        }),
    };
    let network = raw.network.and_then(|n| network(&mut cx, n));
    let placement = placement(&mut cx, raw.placement);
    let results = raw.results.unwrap_or(RawResults {
        series: None,
        field: None,
        expect: None,
    });
    let events: Vec<Event> = raw
        .events
        .into_iter()
        .filter_map(|e| event(&mut cx, e))
        .collect();
    let mut processes = Vec::new();
    for p in raw.processes {
        if p.command.get_ref().is_empty() {
            cx.error(p.command.span(), "`command` needs at least the program");
        }
        if processes
            .iter()
            .any(|o: &Process| &o.name == p.name.get_ref())
        {
            cx.error(
                p.name.span(),
                format!("process `{}` twice", p.name.get_ref()),
            );
        }
        let wait = match &p.wait {
            None => Duration::ZERO,
            Some(w) => parse_duration(w.get_ref()).unwrap_or_else(|| {
                cx.error(
                    w.span(),
                    format!(
                        "`wait` must be a duration like \"1s\", not `{}`",
                        w.get_ref()
                    ),
                );
                Duration::ZERO
            }),
        };
        processes.push(Process {
            pos: cx.pos(p.name.span()),
            name: p.name.into_inner(),
            host: p.host,
            command: p.command.into_inner(),
            wait,
        });
    }
    let mut variants = Vec::new();
    if raw.variants.is_empty() {
        match &exp.topology {
            Some(t) => variants.push(Variant {
                name: "default".to_owned(),
                topology: Some(dir.join(t.get_ref())),
                apps: Vec::new(),
                set: Vec::new(),
                x: None,
                expect: results.expect,
                services: exp.services.clone(),
                events: events.clone(),
                pos: cx.pos(t.span()),
            }),
            None => cx.error(
                exp_span.clone(),
                "no topology: give `[experiment] topology` or `[[variants]]` with `topology`",
            ),
        }
    }
    for v in raw.variants {
        let app_set = match v.apps {
            Some(list) => {
                if let Some(t) = &v.topology {
                    cx.error(
                        t.span(),
                        format!(
                            "variant `{}` gives both `topology` and `apps`: a variant is one or the other",
                            v.name.get_ref()
                        ),
                    );
                }
                if v.services.is_some() || !v.set.is_empty() {
                    cx.error(
                        v.name.span(),
                        format!(
                            "variant `{}` runs apps: `set` and `services` are for topology nodes \
                             (an app that serves the others has `wait = false`)",
                            v.name.get_ref()
                        ),
                    );
                }
                Some(apps::apps(&mut cx, list, v.name.get_ref()))
            }
            None => None,
        };
        let topology = match (&v.topology, &exp.topology) {
            _ if app_set.is_some() => None,
            (Some(t), _) | (None, Some(t)) => Some(dir.join(t.get_ref())),
            (None, None) => {
                cx.error(
                    v.name.span(),
                    format!(
                        "variant `{}` has no `topology` (nor `apps`), and `[experiment]` gives none",
                        v.name.get_ref()
                    ),
                );
                continue;
            }
        };
        if variants
            .iter()
            .any(|o: &Variant| &o.name == v.name.get_ref())
        {
            cx.error(
                v.name.span(),
                format!("variant `{}` twice", v.name.get_ref()),
            );
        }
        let own_events = v
            .events
            .map(|list| list.into_iter().filter_map(|e| event(&mut cx, e)).collect());
        variants.push(Variant {
            events: own_events.unwrap_or_else(|| events.clone()),
            name: v.name.get_ref().clone(),
            topology,
            apps: app_set.unwrap_or_default(),
            set: v.set,
            x: v.x,
            expect: v.expect.or(results.expect),
            services: v.services.unwrap_or_else(|| exp.services.clone()),
            pos: cx.pos(v.name.span()),
        });
    }
    if let Some(s) = &raw.sweep {
        match &s.set {
            Some(set) => {
                if let Some(v) = variants.iter().find(|v| !v.apps.is_empty()) {
                    cx.error(
                        set.span(),
                        format!(
                            "`[sweep] set` is a topology override, and variant `{}` runs apps: \
                             apps take the value as `{{x}}` (in `args`, or `count = \"{{x}}\"`)",
                            v.name
                        ),
                    );
                }
            }
            None => {
                if let Some(v) = variants.iter().find(|v| v.apps.is_empty()) {
                    cx.error(
                        exp_span.clone(),
                        format!(
                            "`[sweep]` needs `set` (the override path its values go to) \
                             for topology variant `{}`",
                            v.name
                        ),
                    );
                }
            }
        }
    }
    let zookeeper = raw.zookeeper.map(|z| apps::zookeeper(&mut cx, z));
    let sweep = raw.sweep.map(|s| sweep::expand(&mut cx, s, &mut variants));
    if sweep.is_none() {
        for v in variants.iter_mut().filter(|v| !v.apps.is_empty()) {
            let x = v.x.map(sweep::number_text);
            apps::instantiate(&mut cx, v, x.as_deref());
        }
    }
    if variants.len() * repetitions as usize > MAX_RUNS {
        cx.error(
            exp_span,
            format!(
                "{} variants × {repetitions} repetitions is more than {MAX_RUNS} runs",
                variants.len()
            ),
        );
    }
    if !cx.diagnostics.is_empty() {
        return Err(FileError::Invalid(cx.diagnostics));
    }
    Ok(Experiment {
        name,
        path: path.to_owned(),
        network,
        placement,
        repetitions,
        timeout,
        seed: exp.seed.unwrap_or(1),
        variants,
        sweep,
        zookeeper,
        processes,
        events,
        series: results.series,
        field: results.field,
    })
}

fn network(cx: &mut Ctx<'_>, n: RawNetwork) -> Option<Network> {
    let shape = match n.shape.get_ref().parse::<Shape>() {
        Ok(s) => Some(s),
        Err(e) => {
            cx.error(n.shape.span(), e.to_string());
            None
        }
    };
    let bandwidth = n.bandwidth.and_then(|b| {
        let v = *b.get_ref();
        if v > 0.0 && v <= 100_000.0 {
            Some(v)
        } else {
            cx.error(b.span(), "`bandwidth` (Mbit/s) must be in (0, 100000]");
            None
        }
    });
    let delay = n.delay.and_then(|d| {
        let v = parse_duration(d.get_ref());
        if v.is_none() {
            cx.error(
                d.span(),
                format!(
                    "`delay` must be a duration like \"5ms\", not `{}`",
                    d.get_ref()
                ),
            );
        }
        v
    });
    let loss = n.loss.and_then(|l| {
        let v = *l.get_ref();
        if (0.0..=100.0).contains(&v) {
            Some(v)
        } else {
            cx.error(l.span(), "`loss` (percent) must be in 0..=100");
            None
        }
    });
    Some(Network {
        shape: shape?,
        bandwidth,
        delay,
        loss,
    })
}

fn placement(cx: &mut Ctx<'_>, p: Option<RawPlacement>) -> Placement {
    let Some(p) = p else {
        return Placement {
            rule: Rule::RoundRobin,
            nodes: Vec::new(),
        };
    };
    let rule = match p.rule.as_ref().map(|r| (r.get_ref().as_str(), r.span())) {
        None | Some(("round-robin", _)) => Rule::RoundRobin,
        Some(("random", _)) => Rule::Random(p.seed.unwrap_or(1)),
        Some((other, span)) => {
            cx.error(
                span,
                format!("unknown placement rule `{other}`: expected `round-robin` or `random`"),
            );
            Rule::RoundRobin
        }
    };
    let nodes = p
        .nodes
        .into_iter()
        .map(|(node, host)| {
            let pos = cx.pos(host.span());
            (node, host.into_inner(), pos)
        })
        .collect();
    Placement { rule, nodes }
}

fn event(cx: &mut Ctx<'_>, e: RawEvent) -> Option<Event> {
    let at = parse_duration(e.at.get_ref());
    if at.is_none() {
        cx.error(
            e.at.span(),
            format!(
                "`at` must be a duration like \"2s\", not `{}`",
                e.at.get_ref()
            ),
        );
    }
    let up = match e.link.get_ref().as_str() {
        "up" => Some(true),
        "down" => Some(false),
        other => {
            cx.error(
                e.link.span(),
                format!("`link` must be `up` or `down`, not `{other}`"),
            );
            None
        }
    };
    Some(Event {
        at: at?,
        host: e.host,
        up: up?,
        pos: cx.pos(e.at.span()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> String {
        parse(text, Path::new("exp.toml")).unwrap_err().to_string()
    }

    #[test]
    fn reads_a_full_file_and_expands_the_sweep() {
        let e = parse(
            r#"
[experiment]
topology = "t.toml"
repetitions = 2
timeout = "30s"

[network]
shape = "tree,fanout=2,depth=2"
bandwidth = 10
loss = 1

[placement]
rule = "random"
seed = 7
nodes = { pub = "h1" }

[[variants]]
name = "direct"

[[variants]]
name = "broker"
topology = "b.toml"
set = ["broker.address={addr:broker}"]

[sweep]
name = "subscribers"
set = "pub.source.count"
values = [1, 2]
expect = [10, 20]

[[events]]
at = "1s"
host = "h2"
link = "down"
"#,
            Path::new("dir/exp.toml"),
        )
        .unwrap();
        assert_eq!(e.name, "exp");
        assert_eq!(e.repetitions, 2);
        assert_eq!(e.timeout, Duration::from_secs(30));
        assert_eq!(e.placement.rule, Rule::Random(7));
        let names: Vec<_> = e.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "direct subscribers=1",
                "direct subscribers=2",
                "broker subscribers=1",
                "broker subscribers=2"
            ]
        );
        assert_eq!(
            e.variants[3].topology.as_deref(),
            Some(Path::new("dir/b.toml"))
        );
        assert_eq!(e.variants[3].expect, Some(20));
        assert_eq!(e.variants[3].set.last().unwrap(), "pub.source.count=2");
        assert_eq!(e.events[0].at, Duration::from_secs(1));
        assert_eq!(e.variants[0].events, e.events);
        assert!(!e.events[0].up);
        assert_eq!(e.network.unwrap().bandwidth, Some(10.0));
    }

    #[test]
    fn reports_problems_with_file_line_and_column() {
        let e = errors("[experiment]\ntopology = \"t.toml\"\n[network]\nshape = \"ring,3\"\n");
        assert!(
            e.starts_with("exp.toml:4:9: unknown network shape `ring`"),
            "{e}"
        );
        let e = errors("[experiment]\ntopology = \"t.toml\"\nrepetition = 2\n");
        assert!(
            e.starts_with("exp.toml:3:1: unknown field `repetition`"),
            "{e}"
        );
        let e = errors("[experiment]\n");
        assert!(e.contains("no topology"), "{e}");
        let e = errors(
            "[experiment]\ntopology = \"t\"\n[[events]]\nat = \"soon\"\nhost = \"h1\"\nlink = \"sideways\"\n",
        );
        assert!(e.contains("exp.toml:4:6: `at` must be a duration"), "{e}");
        assert!(
            e.contains("exp.toml:6:8: `link` must be `up` or `down`"),
            "{e}"
        );
        let e = errors("[experiment]\ntopology = \"t\"\n[placement]\nrule = \"packed\"\n");
        assert!(
            e.contains("exp.toml:4:8: unknown placement rule `packed`"),
            "{e}"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("2"), None);
        assert_eq!(parse_duration("-1s"), None);
    }
}
