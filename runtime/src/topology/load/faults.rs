//! Reading the `[[faults]]` tables (see `docs/topology.md`, "Fault injection").

use std::time::Duration;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{entry, suggest_in, ActorIn, Loader, NodeIn};
use crate::fault::{CrashSpec, Delay, FaultRule, Faults, Selector, Window, WireFault};
use crate::kind::Direction;

const FAULT_KEYS: &[&str] = &[
    "wires",
    "actors",
    "nodes",
    "delay",
    "drop",
    "duplicate",
    "partitions",
    "crash_at",
];
const DELAY_KEYS: &[&str] = &["min", "max", "mean"];
const WINDOW_KEYS: &[&str] = &["from", "until"];

impl Loader<'_> {
    pub(super) fn faults(
        &mut self,
        root: &DeTable<'_>,
        actors: &[ActorIn],
        nodes: &[NodeIn],
    ) -> Faults {
        let mut faults = Faults::default();
        let Some((_, v)) = entry(root, "faults") else {
            return faults;
        };
        let items: Vec<Spanned<DeValue<'_>>> = match v.get_ref() {
            DeValue::Array(a) => a.iter().cloned().collect(),
            _ => {
                self.r.error(
                    Some(v.span()),
                    "`faults` must be an array of tables: write [[faults]]".into(),
                    None,
                );
                return faults;
            }
        };
        for (n, item) in items.iter().enumerate() {
            let what = format!("faults #{}", n + 1);
            let Some(t) = self.r.table(item, "faults", "the topology") else {
                continue;
            };
            self.r.unknown_keys(t, FAULT_KEYS, &what);
            let mut select = Vec::new();
            let wires = self.r.strings(t, "wires", &what).unwrap_or_default();
            for (text, span) in &wires {
                let (from, to) = match text.split_once("->") {
                    Some((f, t)) => (f.trim(), Some(t.trim())),
                    None => (text.trim(), None),
                };
                let from = self.port(from, span, actors, Direction::Output);
                let to = to.map(|t| self.port(t, span, actors, Direction::Input));
                match (from, to) {
                    (Some((f, _, _)), None) => select.push(Selector::Wire {
                        from: f.port,
                        to: None,
                    }),
                    (Some((f, _, _)), Some(Some((t, _, _)))) => select.push(Selector::Wire {
                        from: f.port,
                        to: Some(t.port),
                    }),
                    _ => {}
                }
            }
            let mut crash_targets = Vec::new();
            for (name, span) in self.r.strings(t, "actors", &what).unwrap_or_default() {
                if self.actor_index.contains_key(&name) {
                    select.push(Selector::Actor(name.clone()));
                    crash_targets.push(name);
                } else {
                    self.r.error(
                        Some(span),
                        format!("{what} names unknown actor `{name}`"),
                        suggest_in(&name, actors.iter().map(|a| a.spec.name.as_str())),
                    );
                }
            }
            for (name, span) in self.r.strings(t, "nodes", &what).unwrap_or_default() {
                if nodes.iter().any(|n| n.spec.name == name) {
                    select.push(Selector::Node(name.clone()));
                    crash_targets.extend(
                        actors
                            .iter()
                            .filter(|a| a.spec.node == name)
                            .map(|a| a.spec.name.clone()),
                    );
                } else {
                    self.r.error(
                        Some(span),
                        format!("{what} names unknown node `{name}`"),
                        suggest_in(&name, nodes.iter().map(|n| n.spec.name.as_str())),
                    );
                }
            }
            if entry(t, "wires").is_none()
                && entry(t, "actors").is_none()
                && entry(t, "nodes").is_none()
            {
                self.r.error(
                    Some(item.span()),
                    format!("{what} selects nothing"),
                    Some("add wires = [\"ACTOR.PORT\"], actors = [...] or nodes = [...]".into()),
                );
            }
            let fault = WireFault {
                delay: self.delay(t, &what),
                drop: self.r.number(t, "drop", &what, 0.0..=1.0).unwrap_or(0.0),
                duplicate: self
                    .r
                    .number(t, "duplicate", &what, 0.0..=1.0)
                    .unwrap_or(0.0),
                partitions: self.windows(t, &what),
            };
            let crash_at = self.instants(t, "crash_at", &what);
            if !crash_at.is_empty() {
                if let Some((_, v)) = entry(t, "crash_at") {
                    if !wires.is_empty() {
                        self.r.error(
                            Some(v.span()),
                            format!("`crash_at` in {what} crashes actors, but the table selects wires"),
                            Some("put crashes in their own [[faults]] table with actors = [...] or nodes = [...]".into()),
                        );
                    }
                }
                faults.crashes.push(CrashSpec {
                    actors: crash_targets,
                    at: crash_at,
                });
            }
            let has_wire_fault = fault != WireFault::default();
            if has_wire_fault {
                faults.rules.push(FaultRule { select, fault });
            } else if entry(t, "crash_at").is_none() {
                self.r.error(
                    Some(item.span()),
                    format!("{what} injects nothing"),
                    Some(
                        "add delay, drop, duplicate, partitions (wires) or crash_at (actors, nodes)"
                            .into(),
                    ),
                );
            }
        }
        faults
    }

    fn delay(&mut self, t: &DeTable<'_>, what: &str) -> Option<Delay> {
        let (_, v) = entry(t, "delay")?;
        match v.get_ref() {
            DeValue::String(_) => self.r.duration(t, "delay", what).map(Delay::Fixed),
            DeValue::Table(d) => {
                let dwhat = format!("`delay` of {what}");
                self.r.unknown_keys(d, DELAY_KEYS, &dwhat);
                let min = self.r.duration(d, "min", &dwhat);
                let max = self.r.duration(d, "max", &dwhat);
                let mean = self.r.duration(d, "mean", &dwhat);
                match (min, max, mean) {
                    (_, _, Some(mean)) => {
                        if entry(d, "min").is_some() {
                            self.r.error(
                                Some(v.span()),
                                format!(
                                    "{dwhat} gives both `mean` (exponential) and `min` (uniform)"
                                ),
                                Some("exponential: { mean, max }; uniform: { min, max }".into()),
                            );
                        }
                        Some(Delay::Exponential {
                            mean,
                            max: max.unwrap_or(mean * 10),
                        })
                    }
                    (Some(min), Some(max), None) => {
                        if max < min {
                            self.r.error(
                                Some(v.span()),
                                format!("{dwhat}: `max` ({max:?}) is below `min` ({min:?})"),
                                None,
                            );
                        }
                        Some(Delay::Uniform { min, max })
                    }
                    _ => {
                        self.r.error(
                            Some(v.span()),
                            format!(
                                "{dwhat} needs `min` and `max` (uniform) or `mean` (exponential)"
                            ),
                            Some("or a fixed delay: delay = \"10ms\"".into()),
                        );
                        None
                    }
                }
            }
            _ => {
                self.r.error(
                    Some(v.span()),
                    format!("`delay` in {what} must be a duration string or a table"),
                    Some("delay = \"10ms\", { min = \"1ms\", max = \"50ms\" } or { mean = \"20ms\" }".into()),
                );
                None
            }
        }
    }

    fn windows(&mut self, t: &DeTable<'_>, what: &str) -> Vec<Window> {
        let Some((_, v)) = entry(t, "partitions") else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.r.error(
                Some(v.span()),
                format!("`partitions` in {what} must be an array of tables"),
                Some("partitions = [{ from = \"1s\", until = \"2s\" }]".into()),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let wwhat = format!("a partition of {what}");
            let Some(w) = self.r.table(item, "partitions", what) else {
                continue;
            };
            self.r.unknown_keys(w, WINDOW_KEYS, &wwhat);
            let from = self.r.duration(w, "from", &wwhat).unwrap_or(Duration::ZERO);
            let Some(until) = self.r.duration(w, "until", &wwhat) else {
                if entry(w, "until").is_none() {
                    self.r.error(
                        Some(item.span()),
                        format!("{wwhat} has no `until`"),
                        Some("partitions heal: give until = \"2s\"".into()),
                    );
                }
                continue;
            };
            if until <= from {
                self.r.error(
                    Some(item.span()),
                    format!("{wwhat} ends ({until:?}) before it starts ({from:?})"),
                    None,
                );
                continue;
            }
            out.push(Window { from, until });
        }
        out
    }

    fn instants(&mut self, t: &DeTable<'_>, key: &str, what: &str) -> Vec<Duration> {
        let Some(items) = self.r.strings(t, key, what) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (text, span) in items {
            match super::super::duration::parse(&text) {
                Ok(d) => out.push(d),
                Err(problem) => {
                    self.r
                        .error(Some(span), format!("`{key}` in {what}: {problem}"), None)
                }
            }
        }
        out
    }
}
