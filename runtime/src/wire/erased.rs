//! Wires with their message type erased: what the layers that build and run a
//! node (which read wires from a topology file) hold of a [`Queue<T>`].
//!
//! The generic code that knows `T` (a port's declaration) makes the queue;
//! from then on the node handles it as an [`AnyWire`] and the typed code gets
//! it back with [`typed`].

use std::any::Any;
use std::sync::Arc;

use super::gate::Gate;
use super::policy::{WireConfig, WireStats};
use super::queue::Queue;

/// A wire's queue with its message type erased.
pub(crate) trait AnyWire: Send + Sync + std::fmt::Debug {
    fn as_any(&self) -> &dyn Any;
    fn stats(&self) -> WireStats;
    fn add_sender(&self);
    fn remove_sender(&self);
    fn close_consumer(&self);
    fn len(&self) -> usize;
    fn set_gate(&self, gate: Arc<dyn Gate>);
}

impl<T: Send + 'static> AnyWire for Queue<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn stats(&self) -> WireStats {
        Queue::stats(self)
    }
    fn add_sender(&self) {
        Queue::add_sender(self)
    }
    fn remove_sender(&self) {
        Queue::remove_sender(self)
    }
    fn close_consumer(&self) {
        Queue::close_consumer(self)
    }
    fn len(&self) -> usize {
        Queue::len(self)
    }
    fn set_gate(&self, gate: Arc<dyn Gate>) {
        Queue::set_gate(self, gate)
    }
}

/// A new wire of messages `T` with `config`'s capacity and policy.
pub(crate) fn new_wire<T: Send + 'static>(config: WireConfig) -> Arc<dyn AnyWire> {
    Arc::new(Queue::<T>::new(config.capacity(), config.policy()))
}

/// The typed queue behind `wire`, if it carries messages `T`.
pub(crate) fn typed<T: Send + 'static>(wire: &Arc<dyn AnyWire>) -> Option<Queue<T>> {
    wire.as_any().downcast_ref::<Queue<T>>().cloned()
}
