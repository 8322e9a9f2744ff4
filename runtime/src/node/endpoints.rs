//! Wires between an embedding program and a node: [`Injector`] feeds an input
//! port from outside the actor system, [`Tap`] receives what an output port sends.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::task::Poll;

use crate::wire::{Output, Popped, Queue, Sender};

/// Feeds one input port from outside; dropping it ends that wire.
#[derive(Debug)]
pub struct Injector<T: Send + 'static> {
    output: Output<T>,
    sender: Sender<T>,
}

impl<T: Clone + Send + 'static> Injector<T> {
    pub(crate) fn new(port: &'static str, queue: Queue<T>) -> Self {
        Injector {
            output: Output::new(port, vec![queue.clone()]),
            sender: Sender::new(&queue),
        }
    }

    /// The sending handle (`send_async`, `send_blocking`, `try_send`).
    pub fn output(&self) -> &Output<T> {
        &self.output
    }

    /// The wire's counters.
    pub fn stats(&self) -> crate::wire::WireStats {
        self.sender.queue().stats()
    }
}

/// Receives what an output port sends; dropping it closes that wire.
#[derive(Debug)]
pub struct Tap<T: Send + 'static> {
    queue: Queue<T>,
    buf: VecDeque<T>,
}

impl<T: Send + 'static> Tap<T> {
    pub(crate) fn new(queue: Queue<T>) -> Self {
        Tap {
            queue,
            buf: VecDeque::new(),
        }
    }

    /// The next message, or `None` once the producer stopped for good.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            if let Some(m) = self.buf.pop_front() {
                self.queue.trace_taken(1);
                self.queue.settle(1, &mut VecDeque::new());
                return Poll::Ready(Some(m));
            }
            match self.queue.pop_batch(&mut self.buf, 64, Some(cx.waker())) {
                Popped::Items(_) => {
                    let m = self.buf.pop_front();
                    self.queue.trace_taken(1);
                    self.queue.settle(1, &mut VecDeque::new());
                    Poll::Ready(m)
                }
                Popped::Empty => Poll::Pending,
                Popped::Ended => Poll::Ready(None),
            }
        })
        .await
    }

    /// Everything until the producer stops for good.
    pub async fn collect(mut self) -> Vec<T> {
        let mut all = Vec::new();
        while let Some(m) = self.recv().await {
            all.push(m);
        }
        all
    }

    /// The wire's counters.
    pub fn stats(&self) -> crate::wire::WireStats {
        self.queue.stats()
    }
}

impl<T: Send + 'static> Drop for Tap<T> {
    fn drop(&mut self) {
        let n = self.buf.len();
        self.buf.clear();
        self.queue.settle(n, &mut VecDeque::new());
        self.queue.close_consumer();
    }
}
