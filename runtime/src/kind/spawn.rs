//! Starting one incarnation of an actor, and noticing how it ends.
//!
//! The runtime builds the actix context itself: it attaches one inlet per
//! incoming wire and a control item, calls [`Role::build`], and spawns the
//! context future wrapped so that a panic anywhere in the actor (a handler,
//! `started`, a spawned actor future) is caught. However an incarnation ends,
//! the supervisor is told exactly once with an [`Exit`].

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};

use actix::{ActorContext, ActorFuture, AsyncContext};
use futures::future::{AbortHandle, Abortable};

use super::handle::{NodeHandle, Ref};
use super::io::Incarnation;
use super::{Io, Ports, Role};
use crate::remote::ZmqContext;
use crate::supervision::Exit;
use crate::wire::erased::AnyWire;
use crate::wire::inlet::InletGroup;

/// Output handles by port name, shared by every incarnation of an actor.
pub(crate) type Outputs = HashMap<&'static str, Arc<dyn Any + Send + Sync>>;

/// Asks a running incarnation to stop gracefully.
#[derive(Debug, Default)]
pub(crate) struct StopSignal {
    flag: AtomicBool,
    /// Tasks of the incarnation waiting on [`Stopping`] — its control future
    /// among them — each waker once.
    waiters: Mutex<Vec<Waker>>,
}

impl StopSignal {
    pub(crate) fn raise(&self) {
        self.flag.store(true, Ordering::Release);
        let waiters = std::mem::take(&mut *self.waiters.lock().unwrap_or_else(|p| p.into_inner()));
        for w in waiters {
            w.wake();
        }
    }
    pub(crate) fn raised(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }
}

/// Resolves when the incarnation is asked to stop (the node shuts down, or
/// its supervisor stops it): for work that would otherwise hold up the stop,
/// such as waiting for a server that is not there (see [`Io::stopping`]).
#[derive(Debug, Clone)]
pub struct Stopping {
    signal: Arc<StopSignal>,
}

impl Stopping {
    pub(crate) fn new(signal: Arc<StopSignal>) -> Self {
        Stopping { signal }
    }

    /// Whether the stop was asked for.
    pub fn asked(&self) -> bool {
        self.signal.raised()
    }
}

impl Future for Stopping {
    type Output = ();

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<()> {
        if self.signal.raised() {
            return Poll::Ready(());
        }
        {
            let mut waiters = self
                .signal
                .waiters
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if !waiters.iter().any(|w| w.will_wake(task.waker())) {
                waiters.push(task.waker().clone());
            }
        }
        // Raised between the first look and the registration: seen now.
        if self.signal.raised() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// What one spawn needs.
pub(crate) struct SpawnArgs {
    pub(crate) actor: String,
    /// Which start of the actor this is: 1 first, then one more per restart.
    pub(crate) incarnation: u64,
    pub(crate) inputs: Vec<(&'static str, Arc<dyn AnyWire>)>,
    pub(crate) outputs: Outputs,
    pub(crate) node: NodeHandle,
    /// The node's ZeroMQ context.
    pub(crate) zmq: ZmqContext,
    pub(crate) stop: Arc<StopSignal>,
    /// Called once the actor has started and its `started` waits are done.
    pub(crate) on_ready: Box<dyn FnOnce()>,
    /// Called exactly once when the incarnation ends.
    pub(crate) on_exit: Box<dyn FnOnce(Exit)>,
}

/// Builds incarnations of one configured actor.
pub(crate) trait ActorFactory {
    /// Builds the `Output` handles from each output port's wires.
    fn outputs(&self, wires: &HashMap<&str, Vec<Arc<dyn AnyWire>>>) -> Outputs;
    /// Input port names.
    fn input_ports(&self) -> Vec<&'static str>;
    /// Starts an incarnation; returns a handle that aborts it.
    fn spawn(&self, args: SpawnArgs) -> AbortHandle;
    /// The typed address (`Ref<A>`), erased.
    fn reference(&self) -> Arc<dyn Any + Send + Sync>;
    /// The actor stopped for good: its `Ref` stops waiting for incarnations.
    fn retire(&self);
}

pub(crate) struct TypedFactory<A: Role> {
    params: Arc<A::Params>,
    ports: Arc<Ports<A>>,
    reference: Ref<A>,
}

impl<A: Role> TypedFactory<A> {
    pub(crate) fn new(params: Arc<A::Params>, ports: Arc<Ports<A>>) -> Self {
        TypedFactory {
            params,
            ports,
            reference: Ref::new(),
        }
    }
}

impl<A: Role> ActorFactory for TypedFactory<A> {
    fn outputs(&self, wires: &HashMap<&str, Vec<Arc<dyn AnyWire>>>) -> Outputs {
        self.ports
            .decls
            .iter()
            .filter_map(|d| {
                let make = d.make_output?;
                let w = wires.get(d.name).map(Vec::as_slice).unwrap_or(&[]);
                Some((d.name, make(d.name, w)))
            })
            .collect()
    }

    fn input_ports(&self) -> Vec<&'static str> {
        self.ports
            .decls
            .iter()
            .filter(|d| d.direction == super::Direction::Input)
            .map(|d| d.name)
            .collect()
    }

    fn spawn(&self, args: SpawnArgs) -> AbortHandle {
        let (abort, registration) = AbortHandle::new_pair();
        let mut ctx = actix::Context::<A>::new();
        let group = InletGroup::new();
        let mut direct = Vec::new();
        for (port, wire) in &args.inputs {
            let decl = self.ports.decls.iter().find(|d| d.name == *port);
            match decl.and_then(|d| d.attach) {
                Some(attach) => attach(&mut ctx, wire, &group),
                None => direct.push((*port, Arc::clone(wire))),
            }
        }
        ctx.spawn(Control {
            stopping: Stopping::new(Arc::clone(&args.stop)),
            on_ready: Some(args.on_ready),
        });
        let crash = super::Crash::new(Rc::clone(&group));
        let incarnation = Incarnation {
            number: args.incarnation,
            stopping: Stopping::new(Arc::clone(&args.stop)),
            crash,
        };
        let mut io = Io::new(
            args.actor.clone(),
            incarnation,
            args.outputs,
            direct,
            args.node,
            args.zmq,
        );
        let params = Arc::clone(&self.params);
        let created = catch_unwind(AssertUnwindSafe(|| <A as Role>::build(&params, &mut io)));
        let act = match created {
            Ok(Ok(act)) => act,
            Ok(Err(e)) => {
                (args.on_exit)(Exit::Failed(format!("build failed: {e}")));
                return abort;
            }
            Err(panic) => {
                (args.on_exit)(Exit::Failed(format!(
                    "build panicked: {}",
                    panic_message(&*panic)
                )));
                return abort;
            }
        };
        self.reference.set(Some(ctx.address()));
        let reference = self.reference.clone();
        let fut = ctx.into_future(act);
        let guarded = Guarded {
            fut: Some(Box::pin(fut)),
        };
        let on_exit = args.on_exit;
        actix_rt::spawn(async move {
            let outcome = Abortable::new(guarded, registration).await;
            reference.set(None);
            let exit = match outcome {
                Err(_aborted) => Exit::Normal,
                Ok(Err(panic)) => Exit::Failed(format!("panicked: {panic}")),
                Ok(Ok(())) => match group.take_failure() {
                    Some(error) => Exit::Failed(error),
                    None => Exit::Normal,
                },
            };
            on_exit(exit);
        });
        abort
    }

    fn reference(&self) -> Arc<dyn Any + Send + Sync> {
        Arc::new(self.reference.clone())
    }

    fn retire(&self) {
        self.reference.retire();
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Polls the actor's context future, turning a panic into `Err(message)`.
/// After a panic the context is dropped inside `catch_unwind` as well, since
/// dropping it runs the actor's `stopping`/`stopped` hooks.
struct Guarded<F> {
    fut: Option<Pin<Box<F>>>,
}

impl<F: Future<Output = ()>> Future for Guarded<F> {
    type Output = Result<(), String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let Some(fut) = self.fut.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(())) => {
                self.fut = None;
                Poll::Ready(Ok(()))
            }
            Err(panic) => {
                let message = panic_message(&*panic);
                let fut = self.fut.take();
                if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(fut))) {
                    tracing::error!(panic = %panic_message(&*second), "actor panicked again while stopping");
                }
                Poll::Ready(Err(message))
            }
        }
    }
}

impl<F> Drop for Guarded<F> {
    fn drop(&mut self) {
        // Aborted: the actor's stop hooks run here; keep a panic in them contained.
        let fut = self.fut.take();
        if let Err(panic) = catch_unwind(AssertUnwindSafe(move || drop(fut))) {
            tracing::error!(panic = %panic_message(&*panic), "actor panicked while being stopped");
        }
    }
}

/// Runs inside the actor's context: reports readiness on its first poll (after
/// `started` and its waits) and stops the actor when the signal is raised.
struct Control {
    stopping: Stopping,
    on_ready: Option<Box<dyn FnOnce()>>,
}

impl<A> ActorFuture<A> for Control
where
    A: actix::Actor,
    A::Context: AsyncContext<A> + ActorContext,
{
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        _act: &mut A,
        ctx: &mut A::Context,
        task: &mut TaskContext<'_>,
    ) -> Poll<()> {
        let this = self.get_mut();
        if let Some(ready) = this.on_ready.take() {
            ready();
        }
        if Pin::new(&mut this.stopping).poll(task).is_ready() {
            ctx.stop();
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn stopping_resolves_for_every_waiter_once_the_stop_is_raised() {
        let signal = Arc::new(StopSignal::default());
        let (mut a, mut b) = (
            Stopping::new(Arc::clone(&signal)),
            Stopping::new(Arc::clone(&signal)),
        );
        assert_eq!((&mut a).now_or_never(), None);
        assert_eq!((&mut b).now_or_never(), None);
        assert!(!a.asked());
        signal.raise();
        assert!(a.asked());
        assert_eq!(a.now_or_never(), Some(()));
        assert_eq!(b.now_or_never(), Some(()));
        // Raised before anyone waited: ready at the first look.
        assert_eq!(Stopping::new(signal).now_or_never(), Some(()));
    }

    #[test]
    fn a_waiter_polled_again_is_registered_once() {
        let signal = Arc::new(StopSignal::default());
        let mut s = Stopping::new(Arc::clone(&signal));
        for _ in 0..100 {
            assert_eq!((&mut s).now_or_never(), None);
        }
        assert_eq!(signal.waiters.lock().unwrap().len(), 1);
    }
}
