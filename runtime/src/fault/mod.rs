//! Fault injection, usable by every actor and wire: message delay
//! distributions (which reorder), drops, duplicates, partitions on a schedule,
//! and crashes of actors or whole nodes on a schedule.
//!
//! The topology's `[[faults]]` tables ([`Faults`], read by the loader) select
//! wires — by output port, by `from -> to` pair, by actor or by node — and say
//! what happens to their messages. When a node builds a selected wire it
//! attaches a [`FaultPlan`]: an I/O-free state machine that decides, for each
//! message, [`Verdict::Drop`], [`Verdict::Deliver`] after a delay, or
//! [`Verdict::Duplicate`]. [`Output::send`](crate::wire::Output::send) asks the
//! plan and uses timers on the sending actor's context for delays; messages
//! sent from plain threads or async code (`send_blocking`, `send_async`,
//! `try_send`) bypass fault injection. Crash schedules make the node's
//! supervisor abort the actor's incarnation as a failure, so it restarts
//! under its own restart policy and backoff.
//!
//! All randomness comes from the node's seed (`rolecall run/node --seed`, printed
//! at start) mixed with the wire's name, so the n-th message on a wire gets the
//! same verdict in every run with that seed.

mod plan;
mod spec;

pub use crate::wire::Verdict;
pub use plan::{FaultPlan, FaultStats};
pub use spec::{CrashSpec, Delay, FaultRule, Faults, Selector, Window, WireFault};

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

/// A wire's plan with the instant its schedule is measured from (node start).
/// When the wire goes away, what the plan did is logged.
#[derive(Debug, Clone)]
pub struct WireFaults {
    plan: Arc<Reported>,
    start: Instant,
}

/// A plan that logs its statistics when dropped.
#[derive(Debug)]
struct Reported {
    wire: String,
    plan: Mutex<FaultPlan>,
}

impl Drop for Reported {
    fn drop(&mut self) {
        let s = self.plan.get_mut().stats();
        tracing::info!(
            wire = %self.wire,
            messages = s.messages,
            dropped = s.dropped,
            duplicated = s.duplicated,
            delayed = s.delayed,
            "fault injection done"
        );
    }
}

impl WireFaults {
    /// The plan of `wire`, whose windows count from `start`.
    pub fn new(wire: impl Into<String>, plan: FaultPlan, start: Instant) -> Self {
        WireFaults {
            plan: Arc::new(Reported {
                wire: wire.into(),
                plan: Mutex::new(plan),
            }),
            start,
        }
    }

    /// What the plan did so far.
    pub fn stats(&self) -> FaultStats {
        self.plan.plan.lock().stats()
    }
}

impl crate::wire::Gate for WireFaults {
    fn decide(&self) -> Verdict {
        self.plan.plan.lock().decide(self.start.elapsed())
    }
}

/// FNV-1a of `s`, to mix a wire's name into the node's seed.
pub(crate) fn mix(seed: u64, s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
