//! What a wire does when it is full, and what it counts.

use std::fmt;
use std::str::FromStr;

/// The overflow policy of a wire: what happens to a message pushed into a full wire.
///
/// No policy grows memory: a wire never holds more than its capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// The producer waits until there is room (an actor pauses its own mailbox;
    /// a thread blocks). Nothing is dropped. This is the default.
    #[default]
    Block,
    /// The incoming message is dropped and counted.
    DropNewest,
    /// The oldest queued message is dropped and counted to make room.
    DropOldest,
}

impl Policy {
    /// Every policy with its topology-file name.
    pub const ALL: [(Policy, &'static str); 3] = [
        (Policy::Block, "block"),
        (Policy::DropNewest, "drop-newest"),
        (Policy::DropOldest, "drop-oldest"),
    ];

    /// The name used in topology files.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(p, _)| *p == self)
            .map(|(_, n)| *n)
            .unwrap_or("block")
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A policy name that is not one of `block`, `drop-newest`, `drop-oldest`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown wire policy `{0}`: expected one of block, drop-newest, drop-oldest")]
pub struct UnknownPolicy(pub String);

impl FromStr for Policy {
    type Err = UnknownPolicy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(p, _)| *p)
            .ok_or_else(|| UnknownPolicy(s.to_owned()))
    }
}

/// What a cross-node wire promises (topology key `delivery`; see
/// docs/runtime-semantics.md, "Cross-node wires").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    /// No loss, no duplicates and order kept within one sender incarnation.
    #[default]
    AtLeastOnce,
    /// Nothing is sent twice; losses are counted where they can be detected.
    AtMostOnce,
}

impl Delivery {
    /// Parses the topology value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "at-least-once" => Some(Delivery::AtLeastOnce),
            "at-most-once" => Some(Delivery::AtMostOnce),
            _ => None,
        }
    }

    /// The topology value.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::AtLeastOnce => "at-least-once",
            Delivery::AtMostOnce => "at-most-once",
        }
    }
}

/// A wire's capacity and overflow policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireConfig {
    capacity: usize,
    policy: Policy,
}

impl WireConfig {
    /// The capacity used when a topology does not give one.
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// A wire of `capacity` messages (at least 1) with `policy`.
    pub fn new(capacity: usize, policy: Policy) -> Self {
        WireConfig {
            capacity: capacity.max(1),
            policy,
        }
    }

    /// Most messages queued at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// What happens when full.
    pub fn policy(&self) -> Policy {
        self.policy
    }
}

impl Default for WireConfig {
    fn default() -> Self {
        WireConfig::new(Self::DEFAULT_CAPACITY, Policy::Block)
    }
}

/// Counters of one wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WireStats {
    /// Messages enqueued.
    pub accepted: u64,
    /// Messages handed to the consumer and handled.
    pub delivered: u64,
    /// Messages dropped by the policy, or because the consumer was gone.
    pub dropped: u64,
    /// Messages the fault layer (`[[faults]]`) dropped before they reached the
    /// wire: drops, partitions, and delayed copies lost because their sender
    /// stopped first. Not counted in `dropped` nor `accepted`.
    pub fault_dropped: u64,
    /// Messages the fault layer delivered twice: each adds one extra copy to
    /// what the wire is offered.
    pub fault_duplicated: u64,
    /// Messages waiting now.
    pub queued: u64,
    /// Messages taken by the consumer, not yet handled.
    pub in_flight: u64,
}
