//! [`Device`]: two sockets served by one thread — a ZeroMQ device such as
//! `zmq.proxy` (XSUB↔XPUB, ROUTER↔DEALER, PULL→PUSH).
//!
//! Each side is set up as for a [`SocketThread`] (a [`Builder`]: socket,
//! input wires, output, monitor) and runs the same loop; the device runs
//! both on one thread ([`super::pump::device`]). A direction marked with
//! [`Device::forward`] carries what one socket receives to the other inside
//! the thread: through a bounded queue that is one of the other side's
//! inputs, with the receiving side paced by it, so that when the other
//! socket will not take a message (high-water mark) the first is not read
//! until it does. Whatever else a side's output holds (a capture wire, an
//! inspection wire) gets every received message too, waiting under `block`
//! while the other side keeps sending.

use std::thread::JoinHandle;

use super::link::RemoteError;
use super::pump::{device::run_pair, BATCH};
use super::socket::{Assembled, Builder, SocketThread};
use crate::wire::{Output, Policy, Queue, Sender};

/// The two sides of a [`Device`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The first socket.
    Front,
    /// The second socket.
    Back,
}

/// Two sockets served by one thread (see the module's documentation).
pub struct Device<T> {
    label: String,
    sides: [Builder<T>; 2],
    /// The queues of forwarded directions, by receiving side, with their
    /// sender (the device itself).
    forward: [Option<(Queue<T>, Sender<T>)>; 2],
}

impl<T> std::fmt::Debug for Device<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Send + 'static> Device<T> {
    /// A device joining `front` and `back` (each set up with its socket,
    /// inputs, output and monitor), named `label` in logs.
    pub fn new(label: impl Into<String>, front: Builder<T>, back: Builder<T>) -> Self {
        Device {
            label: label.into(),
            sides: [front, back],
            forward: [None, None],
        }
    }

    /// What `from` receives also goes straight to the other socket (after
    /// `from`'s own output, if it has one), and `from` is read only while
    /// the other socket takes it.
    pub fn forward(mut self, from: Side) -> Self {
        let queue = Queue::new(BATCH, Policy::Block);
        let sender = Sender::new(&queue);
        self.forward[from as usize] = Some((queue, sender));
        self
    }

    /// Starts the thread.
    pub fn start(self) -> Result<DeviceThread<T>, RemoteError> {
        let Device {
            label,
            sides: [front, back],
            forward: [to_back, to_front],
        } = self;
        let (front, back) = (
            join(front, to_back.as_ref().map(|(q, _)| q), to_front.as_ref()),
            join(back, to_front.as_ref().map(|(q, _)| q), to_back.as_ref()),
        );
        let (front, back) = (front.assemble()?, back.assemble()?);
        let Assembled {
            run: a,
            handle: front,
            on_exit: front_exit,
        } = front;
        let Assembled {
            run: b,
            handle: back,
            on_exit: back_exit,
        } = back;
        let thread = std::thread::Builder::new()
            .name(format!("rc-device {label}"))
            .spawn(move || {
                let _ = a.wake.thread.set(std::thread::current());
                let _ = b.wake.thread.set(std::thread::current());
                run_pair([a, b]);
                front_exit.into_iter().chain(back_exit).for_each(|f| f());
            })?;
        Ok(DeviceThread {
            sides: [front, back],
            _senders: [to_back.map(|(_, s)| s), to_front.map(|(_, s)| s)],
            thread: Some(thread),
        })
    }
}

/// Side `b` with the forwarding queue `from_me` (what it receives, to the
/// other socket) added to its output and pacing it, and `to_me` (what the
/// other side receives) added to its inputs.
fn join<T: Clone + Send + 'static>(
    b: Builder<T>,
    from_me: Option<&Queue<T>>,
    to_me: Option<&(Queue<T>, Sender<T>)>,
) -> Builder<T> {
    let b = match to_me {
        Some((q, _)) => b.add_input(q.clone()),
        None => b,
    };
    match from_me {
        Some(q) => {
            let mut wires = b.out().map(|o| o.wires().to_vec()).unwrap_or_default();
            wires.push(q.clone());
            b.output(Output::new("device", wires)).paced_by(q.clone())
        }
        None => b,
    }
}

/// A running device; dropping it stops it (handing what its sides hold to
/// libzmq, as [`SocketThread::stop`] does) and waits for its thread.
pub struct DeviceThread<T> {
    sides: [SocketThread<T>; 2],
    /// The device's registrations on its forwarding queues.
    _senders: [Option<Sender<T>>; 2],
    thread: Option<JoinHandle<()>>,
}

impl<T> std::fmt::Debug for DeviceThread<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceThread")
            .field("front", &self.sides[0])
            .field("back", &self.sides[1])
            .finish()
    }
}

impl<T> DeviceThread<T> {
    /// The thread handle of one side (its counters, its own outbound queue).
    pub fn side(&self, side: Side) -> &SocketThread<T> {
        &self.sides[side as usize]
    }
}

impl<T> Drop for DeviceThread<T> {
    fn drop(&mut self) {
        for side in &mut self.sides {
            side.shutdown();
        }
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("zmq device thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::remote::{Decoded, Framing};

    /// One frame per message, as is.
    struct Bytes;

    impl Framing<Vec<u8>> for Bytes {
        fn encode(
            &self,
            msg: Vec<u8>,
            frames: &mut Vec<bytes::Bytes>,
        ) -> Result<(), rolecall_codecs::EncodeError> {
            *frames = vec![msg.into()];
            Ok(())
        }
        fn decode(&self, parts: &mut [zmq::Message]) -> Decoded<Vec<u8>> {
            Decoded::Message(parts[0].to_vec())
        }
    }

    fn socket(ctx: &zmq::Context, kind: zmq::SocketType, hwm: i32) -> zmq::Socket {
        let s = ctx.socket(kind).expect("socket");
        s.set_sndhwm(hwm).expect("sndhwm");
        s.set_rcvhwm(hwm).expect("rcvhwm");
        s.set_linger(0).expect("linger");
        s
    }

    #[test]
    fn a_full_backend_stops_the_frontend_being_read_and_nothing_is_lost() {
        let ctx = zmq::Context::new();
        let front = socket(&ctx, zmq::PULL, 10);
        front.bind("inproc://rolecall-device-front").expect("bind");
        let back = socket(&ctx, zmq::PUSH, 10);
        back.bind("inproc://rolecall-device-back").expect("bind");
        let capture = Queue::new(100_000, Policy::Block);
        let device = Device::new(
            "test",
            Builder::new("front", &ctx, front, zmq::PULL, Arc::new(Bytes))
                .output(Output::new("capture", vec![capture.clone()])),
            Builder::new("back", &ctx, back, zmq::PUSH, Arc::new(Bytes)),
        )
        .forward(Side::Front)
        .start()
        .expect("device");
        let producer = socket(&ctx, zmq::PUSH, 10);
        producer
            .connect("inproc://rolecall-device-front")
            .expect("connect");
        // The consumer is there but does not read yet.
        let consumer = socket(&ctx, zmq::PULL, 10);
        consumer
            .connect("inproc://rolecall-device-back")
            .expect("connect");
        let mut sent = 0u32;
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            match producer.send(sent.to_string().as_bytes(), zmq::DONTWAIT) {
                Ok(()) => sent += 1,
                Err(zmq::Error::EAGAIN) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => panic!("{e}"),
            }
        }
        // What the device took is bounded: the queue into the backend, the
        // batch the backend's loop holds, and the pipes' high-water marks.
        let read = device
            .side(Side::Front)
            .stats()
            .messages
            .load(Ordering::Relaxed);
        assert!(
            read <= 2 * BATCH as u64 + 100,
            "the frontend stopped being read: {read}"
        );
        assert!(
            u64::from(sent) <= read + 40,
            "the producer was held back: {sent} sent, {read} read"
        );
        // Everything arrives, in order, once the consumer reads; then the
        // producer gets through again.
        consumer.set_rcvtimeo(5000).expect("timeout");
        for i in 0..sent {
            let got = consumer.recv_bytes(0).expect("a message within 5 s");
            assert_eq!(got, i.to_string().into_bytes());
        }
        producer.send("last", 0).expect("send");
        assert_eq!(consumer.recv_bytes(0).expect("last"), b"last");
        // The capture wire saw every message the frontend received.
        assert_eq!(capture.len(), sent as usize + 1);
        drop(device);
    }
}
