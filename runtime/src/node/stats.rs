//! Per-actor runtime statistics: messages handled, mailbox backlog (messages
//! waiting on the actor's input wires), restarts — read from the wires'
//! counters and the supervisor's incarnation numbers, at no cost to the actors.

use super::supervisor::Supervisor;
use crate::kind::stats::{ActorStats, GetActorStats, GetHopStats, HopSample};
use actix::prelude::*;

impl Handler<GetActorStats> for Supervisor {
    type Result = MessageResult<GetActorStats>;

    fn handle(&mut self, _: GetActorStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(
            self.children()
                .iter()
                .map(|c| {
                    let mut s = ActorStats {
                        actor: c.name.clone(),
                        handled: 0,
                        backlog: 0,
                        dropped: 0,
                        fault_dropped: 0,
                        fault_duplicated: 0,
                        restarts: c.incarnations().saturating_sub(1),
                        running: c.is_running(),
                        started: c.incarnations() > 0,
                    };
                    for (_, wire) in &c.inputs {
                        let w = wire.stats();
                        s.handled += w.delivered;
                        s.backlog += w.queued + w.in_flight;
                        s.dropped += w.dropped;
                        s.fault_dropped += w.fault_dropped;
                        s.fault_duplicated += w.fault_duplicated;
                    }
                    s
                })
                .collect(),
        )
    }
}

impl Handler<GetHopStats> for Supervisor {
    type Result = MessageResult<GetHopStats>;

    fn handle(&mut self, _: GetHopStats, _: &mut Context<Self>) -> Self::Result {
        use std::sync::atomic::Ordering::Relaxed;
        MessageResult(
            self.links()
                .iter()
                .map(|l| {
                    let (h, r) = (l.hop_stats(), l.stats());
                    HopSample {
                        hop: l.label().to_owned(),
                        sender: l.is_sender(),
                        messages: r.messages.load(Relaxed),
                        resent: h.resent.load(Relaxed),
                        unacknowledged: h.unacknowledged.load(Relaxed),
                        restarts: h.receiver_restarts.load(Relaxed)
                            + h.sender_restarts.load(Relaxed),
                        refused: h.refused.load(Relaxed),
                        duplicates: h.duplicates.load(Relaxed),
                        lost: h.lost.load(Relaxed),
                        bad_frames: r.bad_frames.load(Relaxed),
                    }
                })
                .collect(),
        )
    }
}
