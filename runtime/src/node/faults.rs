//! The node's side of fault injection: which of the wires it builds get a
//! [`FaultPlan`] (the topology's `[[faults]]` select them), and the crash
//! schedule of the actors it hosts. The plans themselves are in
//! [`crate::fault`].

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use crate::fault::{mix, FaultPlan, WireFaults};
use crate::topology::{Destination, Topology, WireSpec};
use crate::wire::erased::AnyWire;

/// Attaches the plan of the wire `wire.from -> dest` (if `[[faults]]` select it)
/// to its producer-side queue.
pub(super) fn attach(
    topology: &Topology,
    wire: &WireSpec,
    dest: &Destination,
    label: &str,
    seed: u64,
    start: Instant,
    queue: &Arc<dyn AnyWire>,
) {
    let node = |actor: &str| topology.actor(actor).map(|a| a.node.as_str()).unwrap_or("");
    let faults = topology.faults.for_wire(
        &wire.from,
        &dest.port,
        node(&wire.from.actor),
        node(&dest.port.actor),
    );
    if !faults.is_empty() {
        tracing::info!(wire = label, "fault injection on this wire");
        queue.set_gate(Arc::new(WireFaults::new(
            label,
            FaultPlan::new(faults, mix(seed, label)),
            start,
        )));
    }
}

/// Schedules the `crash_at` instants of the hosted actors: `crash(actor)` runs at each.
pub(super) fn schedule_crashes(
    topology: &Topology,
    hosted: &HashSet<&str>,
    start: Instant,
    crash: impl Fn(String) + Clone + 'static,
) {
    for c in &topology.faults.crashes {
        for actor in &c.actors {
            let on_here = topology
                .actor(actor)
                .is_some_and(|a| hosted.contains(a.node.as_str()));
            if !on_here {
                continue;
            }
            for at in &c.at {
                let when = start + *at;
                let name = actor.clone();
                let crash = crash.clone();
                actix::spawn(async move {
                    actix_rt::time::sleep_until(when.into()).await;
                    crash(name);
                });
            }
        }
    }
}
