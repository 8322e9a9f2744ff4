//! The sender thread of a hop: takes messages off the wire into the
//! [`Sender`]'s window, encodes them, and moves frames between the state
//! machine and a DEALER socket.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rolecall_codecs::Codec;

use super::frame::{self, Hello};
use super::sender::{Heard, Sender, BATCH_MESSAGES};
use super::{start_thread, worth_logging, HopIdentity, HopStats, Shared, HOP_SPIN};
use crate::remote::link::{open_socket, RemoteEndpoint, RemoteError, RemoteLink};
use crate::remote::wake::{sleep_polling, WakeSignal, AWAKE};
use crate::wire::{Popped, Queue};

/// Messages taken off the wire or frames sent per loop turn.
const BATCH: usize = 256;

struct SendLoop<T> {
    socket: zmq::Socket,
    wake_rx: zmq::Socket,
    wake: Arc<WakeSignal>,
    waker: std::task::Waker,
    queue: Queue<T>,
    codec: Arc<dyn Codec<T>>,
    sender: Sender,
    shared: Shared,
    label: String,
    address: String,
    batch: VecDeque<T>,
    inputs_ended: bool,
    refusals: u64,
    /// When a turn last did something (see [`HOP_SPIN`]).
    last_busy: Instant,
}

/// Starts the thread that drains `queue` over a DEALER connected to the
/// endpoint; it sends END once the queue's producers are gone and finishes
/// when END is acknowledged.
pub(crate) fn spawn_sender<T: Send + 'static>(
    queue: Queue<T>,
    codec: Arc<dyn Codec<T>>,
    ep: RemoteEndpoint,
    id: HopIdentity,
) -> Result<RemoteLink, RemoteError> {
    let socket = open_socket(&ep, zmq::DEALER, &id)?;
    let (wake_rx, wake) = wake_pair(&ep)?;
    let hello = Hello {
        topology: id.topology.clone(),
        wiring: id.wiring,
        wire: ep.label.clone(),
        node: id.producer_node.clone(),
        incarnation: super::new_incarnation(),
        first_unacked: 1,
    };
    // A batch never exceeds what the receiver accepts in one ZeroMQ message.
    let max_bytes = usize::try_from(id.max_message_size).unwrap_or(usize::MAX);
    let sender = Sender::new(hello, id.delivery, queue.capacity(), Instant::now())
        .limit_batches(BATCH_MESSAGES, max_bytes);
    let shared = Shared::default();
    let run = SendLoop {
        socket,
        wake_rx,
        waker: std::task::Waker::from(Arc::clone(&wake)),
        wake,
        queue,
        codec,
        sender,
        shared: shared.clone(),
        label: ep.label.clone(),
        address: ep.address.clone(),
        batch: VecDeque::with_capacity(BATCH),
        inputs_ended: false,
        refusals: 0,
        last_busy: Instant::now(),
    };
    let wake = Arc::clone(&run.wake);
    start_thread(true, &ep.label, id.delivery, &shared, &wake, move || {
        run.run()
    })
}

/// The inproc PAIR that wakes a thread sleeping in `zmq_poll` when its
/// queue gets a message.
pub(super) fn wake_pair(
    ep: &RemoteEndpoint,
) -> Result<(zmq::Socket, Arc<WakeSignal>), RemoteError> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let err = |action: &'static str, source| RemoteError::Socket {
        action,
        address: ep.label.clone(),
        source,
    };
    let name = format!(
        "inproc://rolecall-hop-wake-{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let rx = ep
        .context
        .socket(zmq::PAIR)
        .map_err(|e| err("creating the wake socket of", e))?;
    rx.bind(&name)
        .map_err(|e| err("binding the wake socket of", e))?;
    let tx = ep
        .context
        .socket(zmq::PAIR)
        .map_err(|e| err("creating the wake socket of", e))?;
    tx.connect(&name)
        .map_err(|e| err("connecting the wake socket of", e))?;
    let wake = Arc::new(WakeSignal {
        socket: Mutex::new(Some(tx)),
        state: AtomicU8::new(AWAKE),
        notified: AtomicBool::new(false),
        thread: OnceLock::new(),
    });
    Ok((rx, wake))
}

impl<T: Send + 'static> SendLoop<T> {
    fn run(mut self) {
        loop {
            if self.shared.stop.requested() {
                break;
            }
            let now = Instant::now();
            let heard = self.read_answers(now);
            let took = self.fill_window();
            let silences = self.sender.counts().silences;
            self.sender.on_tick(now);
            if self.sender.counts().silences > silences {
                self.reconnect();
            }
            let (sent, blocked) = self.send(now);
            self.publish();
            if self.sender.done() {
                tracing::debug!(hop = %self.label, "end of stream acknowledged");
                if !self.sender.receiver_gone() {
                    // The receiver keeps the connection until it hears this.
                    let _ = self.socket.send(frame::bye(), zmq::DONTWAIT);
                }
                break;
            }
            if heard || took || sent {
                self.last_busy = now;
                continue;
            }
            self.sleep(blocked, self.sender.sleep_for(Instant::now()));
        }
        self.publish();
        // The wakers the wire still holds must not keep a socket open.
        *self.wake.socket.lock() = None;
    }

    fn read_answers(&mut self, now: Instant) -> bool {
        let mut any = false;
        for _ in 0..BATCH {
            let Ok(bytes) = self.socket.recv_bytes(zmq::DONTWAIT) else {
                break;
            };
            any = true;
            match self.sender.on_frame(&bytes, now) {
                Heard::Nothing => {}
                Heard::Welcomed { receiver } => {
                    tracing::debug!(hop = %self.label, receiver = format_args!("{receiver:016x}"), "receiver welcomed this sender")
                }
                Heard::ReceiverRestarted { receiver, resent } => tracing::warn!(
                    hop = %self.label,
                    receiver = format_args!("{receiver:016x}"),
                    resent,
                    "the receiving node restarted; unacknowledged messages are sent again (its previous incarnation may have handled some of them)"
                ),
                Heard::Refused(reason) => {
                    self.refusals += 1;
                    if worth_logging(self.refusals) {
                        tracing::error!(hop = %self.label, address = %self.address, %reason, refusals = self.refusals, "the receiving node refused this wire; retrying");
                    }
                }
                Heard::HelloNotUnderstood { answers } => {
                    if worth_logging(answers) {
                        tracing::error!(hop = %self.label, address = %self.address, answers, "the receiver does not understand this hello (it answers WHO): is it a build of another hop protocol version?");
                    }
                }
                Heard::Gone { dropped } => {
                    // The receiver repeats GONE until it hears this.
                    let _ = self.socket.send(frame::bye(), zmq::DONTWAIT);
                    self.shared
                        .stats
                        .dropped
                        .fetch_add(dropped, Ordering::Relaxed);
                    // Later messages of the producer are dropped and counted
                    // by the wire, as for a local consumer that stopped.
                    self.queue.close_consumer();
                    if dropped > 0 {
                        tracing::warn!(hop = %self.label, dropped, "the receiving node stopped for good; unacknowledged messages were dropped");
                    } else {
                        tracing::info!(hop = %self.label, "the receiving node stopped for good");
                    }
                }
                Heard::Bad(reason) => {
                    let bad = self.shared.stats.bad_frames.fetch_add(1, Ordering::Relaxed) + 1;
                    if worth_logging(bad) {
                        tracing::warn!(hop = %self.label, %reason, bad, "undecodable answer from the receiver skipped");
                    }
                }
            }
        }
        any
    }

    /// Takes what the window has room for off the wire.
    fn fill_window(&mut self) -> bool {
        if self.inputs_ended {
            return false;
        }
        let room = self.sender.room().min(BATCH);
        if room == 0 {
            return false;
        }
        match self
            .queue
            .pop_batch(&mut self.batch, room, Some(&self.waker))
        {
            Popped::Items(n) => {
                // A traced wire's stamps cross the hop with their messages.
                let mut stamps = self.queue.in_flight_stamps(n).into_iter();
                let traced = stamps.len() > 0;
                // Room is freed as soon as the window holds them.
                self.queue.settle(n, &mut VecDeque::new());
                while let Some(msg) = self.batch.pop_front() {
                    let mut buf = self.sender.buffer();
                    if traced {
                        let stamp = stamps
                            .next()
                            .flatten()
                            .and_then(|s| serde_json::to_vec(&s).ok())
                            .unwrap_or_default();
                        frame::stamped_header(self.sender.next_seq(), &stamp, &mut buf);
                    } else {
                        frame::data_header(self.sender.next_seq(), &mut buf);
                    }
                    match self.codec.encode(&msg, &mut buf) {
                        Ok(()) => self.sender.push(buf),
                        Err(e) => {
                            let bad =
                                self.shared.stats.bad_frames.fetch_add(1, Ordering::Relaxed) + 1;
                            if worth_logging(bad) {
                                tracing::warn!(hop = %self.label, error = %e, bad, "message not encodable; skipped");
                            }
                        }
                    }
                }
                true
            }
            Popped::Ended => {
                self.inputs_ended = true;
                self.sender.finish();
                true
            }
            Popped::Empty => false,
        }
    }

    /// Sends what the state machine has; (anything sent, socket full).
    fn send(&mut self, now: Instant) -> (bool, bool) {
        let mut sent = false;
        for _ in 0..BATCH {
            let Some(out) = self.sender.next_out(now) else {
                return (sent, false);
            };
            match self.socket.send(self.sender.bytes(out), zmq::DONTWAIT) {
                Ok(()) => {
                    self.sender.sent(out, now);
                    self.shared
                        .stats
                        .messages
                        .fetch_add(out.messages(), Ordering::Relaxed);
                    sent = true;
                }
                Err(zmq::Error::EAGAIN) => return (sent, true),
                Err(e) => {
                    tracing::warn!(hop = %self.label, error = %e, "send failed; will retry");
                    return (sent, true);
                }
            }
        }
        (sent, false)
    }

    /// The connection went silent with frames outstanding: rather than wait
    /// for TCP's retransmission backoff (seconds after a network outage), open
    /// a new connection; the hello on it makes the receiver say what it has.
    fn reconnect(&mut self) {
        tracing::debug!(hop = %self.label, address = %self.address, "connection silent with frames outstanding; reconnecting");
        let _ = self.socket.disconnect(&self.address);
        if let Err(e) = self.socket.connect(&self.address) {
            tracing::warn!(hop = %self.label, address = %self.address, error = %e, "reconnecting failed; will retry");
        }
    }

    fn publish(&self) {
        let c = self.sender.counts();
        HopStats::set(&self.shared.hop.resent, c.resent);
        HopStats::set(&self.shared.hop.receiver_restarts, c.receiver_restarts);
        HopStats::set(
            &self.shared.hop.unacknowledged,
            self.sender.unacknowledged(),
        );
    }

    fn sleep(&mut self, blocked: bool, timeout: Duration) {
        let mut events = zmq::POLLIN;
        if blocked {
            events |= zmq::POLLOUT;
        }
        let mut items = [
            self.wake_rx.as_poll_item(zmq::POLLIN),
            self.socket.as_poll_item(events),
        ];
        sleep_polling(&mut items, &self.wake, self.last_busy + HOP_SPIN, timeout);
        while self.wake_rx.recv_bytes(zmq::DONTWAIT).is_ok() {}
    }
}
