//! The clock and the one pending timer of a Paxos role actor.
//!
//! The state machines count time in milliseconds since the actor started and
//! say when they next want to be ticked (`next_timer`); an [`Alarm`] keeps one
//! actix timer armed for that deadline, re-arming only when it changes.

use std::time::{Duration, Instant};

use actix::prelude::*;

use super::retry::Millis;

/// Milliseconds since `start`: the state machines' clock.
pub(crate) fn since(start: Instant) -> Millis {
    start.elapsed().as_millis() as Millis
}

/// Default request timeout of proposers and leaders, in milliseconds.
pub(crate) fn default_timeout() -> Millis {
    100
}

/// Default interval between re-announcements of decisions, in milliseconds.
pub(crate) fn default_announce() -> Millis {
    200
}

/// One timer, armed for the machine's next deadline.
#[derive(Debug, Default)]
pub(crate) struct Alarm {
    pending: Option<(Millis, SpawnHandle)>,
}

impl Alarm {
    /// Arms the timer for `next` (milliseconds since `start`), cancelling the
    /// one armed for another deadline; `None` disarms. When it goes off,
    /// `fire` runs after the alarm has been cleared (so `fire` may set it again).
    pub(crate) fn set<A>(
        &mut self,
        next: Option<Millis>,
        start: Instant,
        ctx: &mut Context<A>,
        fire: fn(&mut A, &mut Context<A>),
    ) where
        A: Actor<Context = Context<A>> + AsMut<Alarm>,
    {
        if next == self.pending.as_ref().map(|(t, _)| *t) {
            return;
        }
        if let Some((_, h)) = self.pending.take() {
            ctx.cancel_future(h);
        }
        if let Some(at) = next {
            let wait = at.saturating_sub(since(start));
            let h = ctx.run_later(Duration::from_millis(wait), move |act, ctx| {
                act.as_mut().pending = None;
                fire(act, ctx);
            });
            self.pending = Some((at, h));
        }
    }
}
