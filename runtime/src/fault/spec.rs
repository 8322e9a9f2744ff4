//! What the topology's `[[faults]]` tables say, after validation.

use std::time::Duration;

use crate::wire::PortRef;

/// How long a message is held back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    /// Always this long.
    Fixed(Duration),
    /// Uniform in `[min, max]`.
    Uniform {
        /// Shortest.
        min: Duration,
        /// Longest.
        max: Duration,
    },
    /// Exponential with this mean, cut at `max`.
    Exponential {
        /// Mean.
        mean: Duration,
        /// Longest.
        max: Duration,
    },
}

/// A time window `[from, until)` measured from node start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Start.
    pub from: Duration,
    /// End.
    pub until: Duration,
}

impl Window {
    /// True if `at` is inside.
    pub fn contains(&self, at: Duration) -> bool {
        at >= self.from && at < self.until
    }
}

/// What happens to the messages of a selected wire.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WireFault {
    /// Delay distribution (none: no delay).
    pub delay: Option<Delay>,
    /// Probability in `[0, 1]` that a message is dropped.
    pub drop: f64,
    /// Probability in `[0, 1]` that a message is delivered twice.
    pub duplicate: f64,
    /// Windows during which nothing gets through (a partition).
    pub partitions: Vec<Window>,
}

/// Which wires a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every wire from this output port, or only the one into `to`.
    Wire {
        /// The output port.
        from: PortRef,
        /// One destination, or all.
        to: Option<PortRef>,
    },
    /// Every wire into or out of this actor.
    Actor(String),
    /// Every wire with an end on an actor of this node.
    Node(String),
}

/// One `[[faults]]` table about wires.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// The wires (any selector matching).
    pub select: Vec<Selector>,
    /// What happens on them.
    pub fault: WireFault,
}

/// One `[[faults]]` table about crashes: the actors crash at each instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrashSpec {
    /// Actors to crash (a node's name stands for all its actors).
    pub actors: Vec<String>,
    /// Instants from node start.
    pub at: Vec<Duration>,
}

/// Every fault of a topology.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Faults {
    /// Rules for wires, in file order.
    pub rules: Vec<FaultRule>,
    /// Crash schedules.
    pub crashes: Vec<CrashSpec>,
}

impl Faults {
    /// True when there is nothing to inject.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.crashes.is_empty()
    }

    /// The faults of the wire `from -> to`, whose ends run on `from_node` and
    /// `to_node`, in file order (all apply, one after the other).
    pub fn for_wire(
        &self,
        from: &PortRef,
        to: &PortRef,
        from_node: &str,
        to_node: &str,
    ) -> Vec<WireFault> {
        self.rules
            .iter()
            .filter(|r| {
                r.select.iter().any(|s| match s {
                    Selector::Wire { from: f, to: t } => {
                        f == from && t.as_ref().is_none_or(|t| t == to)
                    }
                    Selector::Actor(a) => *a == from.actor || *a == to.actor,
                    Selector::Node(n) => n == from_node || n == to_node,
                })
            })
            .map(|r| r.fault.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(actor: &str, port: &str) -> PortRef {
        PortRef {
            actor: actor.into(),
            port: port.into(),
        }
    }

    #[test]
    fn rules_select_by_port_pair_actor_and_node() {
        let f = |drop| WireFault {
            drop,
            ..WireFault::default()
        };
        let faults = Faults {
            rules: vec![
                FaultRule {
                    select: vec![Selector::Wire {
                        from: port("p", "out"),
                        to: None,
                    }],
                    fault: f(0.1),
                },
                FaultRule {
                    select: vec![Selector::Wire {
                        from: port("p", "out"),
                        to: Some(port("a1", "in")),
                    }],
                    fault: f(0.2),
                },
                FaultRule {
                    select: vec![Selector::Actor("a2".into())],
                    fault: f(0.3),
                },
                FaultRule {
                    select: vec![Selector::Node("edge".into())],
                    fault: f(0.4),
                },
            ],
            crashes: vec![],
        };
        let drops = |from: PortRef, to: PortRef, node: &str| -> Vec<f64> {
            faults
                .for_wire(&from, &to, "main", node)
                .iter()
                .map(|w| w.drop)
                .collect()
        };
        assert_eq!(
            drops(port("p", "out"), port("a1", "in"), "main"),
            [0.1, 0.2]
        );
        assert_eq!(
            drops(port("p", "out"), port("a2", "in"), "main"),
            [0.1, 0.3]
        );
        assert_eq!(
            drops(port("q", "out"), port("a3", "in"), "main"),
            [] as [f64; 0]
        );
        assert_eq!(drops(port("q", "out"), port("a3", "in"), "edge"), [0.4]);
        assert!(!faults.is_empty());
        assert!(Faults::default().is_empty());
    }
}
