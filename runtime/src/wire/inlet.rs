//! The inlet: how messages leave a wire and enter an actor's handler.
//!
//! An inlet is an [`ActorFuture`] spawned into the consuming actor's own
//! context, one per incoming wire. Each time the context polls it, it pops a
//! batch from the wire and calls the actor's [`Handler`] for each message
//! directly, on the actor's thread, with no per-message envelope or allocation.
//! It stops early when a handler makes the context wait (`ctx.wait`) or stop,
//! and yields after a budget so one busy wire cannot starve the others.
//!
//! A handler that returns an error crashes the actor (the supervisor decides
//! what happens next). Messages popped but not handled when the incarnation
//! ends are put back in front of the wire for the next incarnation; only the
//! message being handled at the moment of a panic is lost.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use actix::{Actor, ActorContext, ActorFuture, AsyncContext, Handler, Message};

use super::outcome::Outcome;
use super::queue::{Popped, Queue};

/// Messages an inlet handles per poll before yielding to other work.
const BUDGET: usize = 256;
/// Messages popped from the wire at once.
const BATCH: usize = 64;

/// State shared by every inlet of one actor incarnation.
#[derive(Debug, Default)]
pub(crate) struct InletGroup {
    /// Incoming wires not yet ended.
    open: Cell<usize>,
    /// The first handler error of this incarnation, if any.
    failure: RefCell<Option<String>>,
}

impl InletGroup {
    pub(crate) fn new() -> Rc<Self> {
        Rc::new(InletGroup::default())
    }

    /// Records `reason` as what ended this incarnation, unless a failure
    /// is already recorded.
    pub(crate) fn fail(&self, reason: String) {
        self.failure.borrow_mut().get_or_insert(reason);
    }

    /// The handler error that ended this incarnation, if one did.
    pub(crate) fn take_failure(&self) -> Option<String> {
        self.failure.borrow_mut().take()
    }
}

/// Called when every incoming wire of an actor has ended.
pub(crate) type EndOfInput<A> = fn(&mut A, &mut <A as Actor>::Context);

/// Feeds one wire into the handler `Handler<T>` of actor `A`.
pub(crate) struct Inlet<A: Actor, T> {
    wire: Queue<T>,
    buf: VecDeque<T>,
    handled: usize,
    group: Rc<InletGroup>,
    end_of_input: EndOfInput<A>,
    ended: bool,
}

impl<A: Actor, T> Inlet<A, T> {
    pub(crate) fn new(wire: Queue<T>, group: Rc<InletGroup>, end_of_input: EndOfInput<A>) -> Self {
        group.open.set(group.open.get() + 1);
        Inlet {
            wire,
            buf: VecDeque::with_capacity(BATCH),
            handled: 0,
            group,
            end_of_input,
            ended: false,
        }
    }

    fn settle(&mut self) {
        let handled = std::mem::take(&mut self.handled);
        if handled > 0 {
            self.wire.settle(handled, &mut VecDeque::new());
        }
    }
}

// The inlet is never pin-projected: moving it is always fine.
impl<A: Actor, T> Unpin for Inlet<A, T> {}

impl<A: Actor, T> Drop for Inlet<A, T> {
    fn drop(&mut self) {
        // Hand back what this incarnation took but did not handle.
        let handled = std::mem::take(&mut self.handled);
        self.wire.settle(handled, &mut self.buf);
    }
}

impl<A, T> ActorFuture<A> for Inlet<A, T>
where
    A: Actor + Handler<T>,
    A::Context: AsyncContext<A> + ActorContext,
    T: Message + 'static,
    <A as Handler<T>>::Result: Outcome,
{
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut A,
        ctx: &mut A::Context,
        task: &mut TaskContext<'_>,
    ) -> Poll<()> {
        let this = self.get_mut();
        let mut budget = BUDGET;
        loop {
            if ctx.waiting() {
                return Poll::Pending;
            }
            let Some(msg) = this.buf.pop_front() else {
                this.settle();
                match this
                    .wire
                    .pop_batch(&mut this.buf, BATCH, Some(task.waker()))
                {
                    Popped::Items(_) => continue,
                    Popped::Empty => return Poll::Pending,
                    Popped::Ended => {
                        this.ended = true;
                        let open = this.group.open.get().saturating_sub(1);
                        this.group.open.set(open);
                        if open == 0 {
                            (this.end_of_input)(act, ctx);
                        }
                        return Poll::Ready(());
                    }
                }
            };
            // Counted before the call: a message whose handler panics was
            // delivered too, and must not hold a slot of the wire for good.
            this.wire.trace_handle(this.handled);
            this.handled += 1;
            let outcome = <A as Handler<T>>::handle(act, msg, ctx);
            if let Some(error) = outcome.failure() {
                this.group.failure.borrow_mut().get_or_insert(error);
                ctx.stop();
                return Poll::Pending;
            }
            budget -= 1;
            if budget == 0 {
                this.settle();
                task.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }
}
