//! Producers as values: a [`Sender`] registers one producer on a wire for as
//! long as it lives, so a wire cannot be left open by a forgotten call — its
//! input ends when the last registration is dropped.

use std::sync::Arc;

use super::erased::AnyWire;
use super::queue::Queue;

/// One registered producer of a [`Queue`]: while any lives, the queue's
/// input has not ended; dropping the last one ends it (the consumer sees end
/// of input once the queue is drained).
#[derive(Debug)]
pub struct Sender<T> {
    queue: Queue<T>,
}

impl<T> Sender<T> {
    /// Registers a producer on `queue`.
    pub fn new(queue: &Queue<T>) -> Self {
        queue.add_sender();
        Sender {
            queue: queue.clone(),
        }
    }

    /// The queue this producer is registered on.
    pub fn queue(&self) -> &Queue<T> {
        &self.queue
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.queue.remove_sender();
    }
}

/// A [`Sender`] on a wire whose message type is erased.
#[derive(Debug)]
pub(crate) struct AnySender {
    wire: Arc<dyn AnyWire>,
}

impl AnySender {
    /// Registers a producer on `wire`.
    pub(crate) fn new(wire: &Arc<dyn AnyWire>) -> Self {
        wire.add_sender();
        AnySender {
            wire: Arc::clone(wire),
        }
    }
}

impl Drop for AnySender {
    fn drop(&mut self) {
        self.wire.remove_sender();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Policy, Popped};

    #[test]
    fn the_input_ends_when_the_last_sender_is_dropped() {
        let q = Queue::<u8>::new(4, Policy::Block);
        let a = Sender::new(&q);
        let b = Sender::new(&q);
        q.try_push(1).expect("room");
        drop(a);
        assert!(!q.senders_gone(), "one sender is left");
        let mut buf = std::collections::VecDeque::new();
        assert_eq!(q.pop_batch(&mut buf, 8, None), Popped::Items(1));
        drop(b);
        assert!(q.senders_gone());
        let erased: Arc<dyn AnyWire> = Arc::new(Queue::<u8>::new(4, Policy::Block));
        let typed = crate::wire::erased::typed::<u8>(&erased).expect("u8");
        let s = AnySender::new(&erased);
        assert!(!typed.senders_gone());
        drop(s);
        assert!(typed.senders_gone());
    }
}
