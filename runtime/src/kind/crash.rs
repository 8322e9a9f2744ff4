//! [`Crash`]: ending the current incarnation as failed from anywhere in the
//! actor — a future's continuation, a timer, a stream handler — where a
//! handler's `Err` return cannot reach.

use std::fmt::Display;
use std::rc::Rc;

use actix::ActorContext;

use crate::wire::inlet::InletGroup;

/// A handle on the incarnation being built ([`Io::crash`](super::Io::crash)).
/// [`Crash::now`] records the reason and stops the actor; the supervisor then
/// treats the incarnation as failed, exactly as after a panic or a handler's
/// `Err` (its restart policy and backoff apply), and logs the reason once,
/// without a backtrace.
///
/// Each incarnation gets its own handle: keep it in the actor built by
/// [`Role::build`](super::Role::build).
#[derive(Debug, Clone)]
pub struct Crash {
    group: Rc<InletGroup>,
}

impl Crash {
    pub(crate) fn new(group: Rc<InletGroup>) -> Self {
        Crash { group }
    }

    /// Ends this incarnation as failed with `reason`. The actor stops after
    /// the current callback returns (the code after this call still runs:
    /// return from it).
    pub fn now<A>(&self, ctx: &mut actix::Context<A>, reason: impl Display)
    where
        A: actix::Actor<Context = actix::Context<A>>,
    {
        self.group.fail(reason.to_string());
        ctx.stop();
    }
}
