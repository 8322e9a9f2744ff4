//! The receiver thread of a hop: reads frames off a ROUTER socket, lets the
//! [`Receiver`] decide, decodes and pushes delivered messages into the
//! consumer's wire, and sends the answers and acknowledgements it asks for.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rolecall_codecs::{shared, Codec};

use super::frame;
use super::receiver::{Action, Expect, Note, Receiver};
use super::{start_thread, worth_logging, HopIdentity, HopStats, Shared, HOP_SPIN};
use crate::remote::link::{open_socket, RemoteEndpoint, RemoteError, RemoteLink};
use crate::remote::wake::{sleep_polling, WakeSignal};
use crate::trace::Stamp;
use crate::wire::{Queue, Sender};

/// Frames read per loop turn.
const BATCH: usize = 256;

/// How long a stopping receiver whose stream ended waits for the sender's
/// `BYE` (see [`RecvLoop::farewell`]).
const FAREWELL_WAIT: Duration = Duration::from_secs(1);
/// How long a receiver that stopped for good keeps answering `GONE` to
/// whoever speaks, until the sender says `BYE`: longer than the sender's
/// [`SILENCE`](super::sender::SILENCE), so that a sender which reconnected
/// before the first `GONE` reached it (the first is then lost with the old
/// connection) hears it again on the new one.
const GONE_WAIT: Duration = Duration::from_millis(2000);
/// How often it repeats the last acknowledgement meanwhile.
const FINAL_ACK_REPEAT: Duration = Duration::from_millis(50);

struct RecvLoop<T> {
    socket: zmq::Socket,
    /// Woken when the consumer handles messages (acknowledgements are due).
    wake_rx: zmq::Socket,
    wake: Arc<WakeSignal>,
    waker: std::task::Waker,
    queue: Queue<T>,
    codec: Arc<dyn Codec<T>>,
    receiver: Receiver,
    shared: Shared,
    label: String,
    /// Decoded messages not yet in the wire (it was full), in order.
    inbox: VecDeque<T>,
    /// The sequence numbers of what `inbox` holds and, in turn, of frames
    /// with nothing to push (END, undecodable: `false`), recorded in order.
    inbox_seqs: VecDeque<(u64, bool)>,
    /// The wire is traced: the stamps of `inbox`, in lockstep with it.
    traced: bool,
    inbox_stamps: VecDeque<Option<Stamp>>,
    /// The remote producer's registration on the wire: dropped at its END
    /// (or when this loop stops), which ends the wire for the consumer.
    producer: Option<Sender<T>>,
    strangers: u64,
    refusals: u64,
    /// Acknowledgements the socket did not queue (sent again).
    unsent_acks: u64,
    /// The ROUTER identity and payload of the frame being read (reused).
    identity: zmq::Message,
    payload: zmq::Message,
    id_buf: Vec<u8>,
    /// When a turn last did something (see [`HOP_SPIN`]).
    last_busy: Instant,
}

/// A received ZeroMQ message as the owner of shared bytes.
struct Received(zmq::Message);

impl AsRef<[u8]> for Received {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Starts the thread that fills `queue` from a ROUTER bound at the endpoint.
/// The wire counts the remote producer as one sender until its END.
pub(crate) fn spawn_receiver<T: Send + 'static>(
    queue: Queue<T>,
    codec: Arc<dyn Codec<T>>,
    ep: RemoteEndpoint,
    id: HopIdentity,
) -> Result<RemoteLink, RemoteError> {
    let socket = open_socket(&ep, zmq::ROUTER, &id)?;
    let (wake_rx, wake) = super::send_loop::wake_pair(&ep)?;
    let producer = Some(Sender::new(&queue));
    let receiver = Receiver::new(
        Expect {
            topology: id.topology.clone(),
            wiring: id.wiring,
            wire: ep.label.clone(),
            node: id.producer_node.clone(),
        },
        super::new_incarnation(),
        id.delivery,
        queue.capacity(),
    );
    let shared = Shared::default();
    let traced = queue.is_traced();
    let run = RecvLoop {
        socket,
        wake_rx,
        waker: std::task::Waker::from(Arc::clone(&wake)),
        wake,
        queue,
        codec,
        receiver,
        shared: shared.clone(),
        label: ep.label.clone(),
        inbox: VecDeque::new(),
        inbox_seqs: VecDeque::new(),
        traced,
        inbox_stamps: VecDeque::new(),
        producer,
        strangers: 0,
        refusals: 0,
        unsent_acks: 0,
        identity: zmq::Message::new(),
        payload: zmq::Message::new(),
        id_buf: Vec::new(),
        last_busy: Instant::now(),
    };
    let zap = id.curve.as_ref().and_then(|c| c.zap.clone());
    let wake = Arc::clone(&run.wake);
    Ok(
        start_thread(false, &ep.label, id.delivery, &shared, &wake, move || {
            run.run()
        })?
        .with_zap(zap),
    )
}

impl<T: Send + 'static> RecvLoop<T> {
    fn run(mut self) {
        while !self.shared.stop.requested() {
            let now = Instant::now();
            let pushed = self.push_inbox();
            let read = self.inbox_seqs.is_empty() && self.read(now);
            let pushed = pushed || self.push_inbox();
            self.acknowledge(Instant::now());
            self.receiver.on_tick(now);
            self.report();
            if read || pushed {
                self.last_busy = now;
                continue;
            }
            if !self.inbox_seqs.is_empty() {
                // The wire is full: wait for room a little, then look again.
                continue;
            }
            self.sleep();
        }
        if !self.shared.stop.silent() {
            self.farewell();
        }
        // Stopping for good: the sender drops what it holds instead of
        // waiting for acknowledgements that will not come.
        if let Some((identity, gone)) = self.receiver.gone().filter(|_| !self.shared.stop.silent())
        {
            self.say_gone(&identity, &gone);
        }
        self.receiver.close();
        for note in self.receiver.take_notes() {
            self.log(note);
        }
        self.report();
        self.producer = None;
        *self.wake.socket.lock() = None;
    }

    /// Before closing: an acknowledgement still due goes out, and when the
    /// stream ended the connection stays open until the sender says `BYE`
    /// (it has END's acknowledgement), the acknowledgement repeated every
    /// [`FINAL_ACK_REPEAT`], for at most [`FAREWELL_WAIT`]. A receiver
    /// that closed right after acknowledging END was seen (about one run in
    /// a hundred of the cross-node benchmark) to leave its sender without
    /// that acknowledgement, waiting out its `drain_timeout`.
    fn farewell(&mut self) {
        let until = Instant::now() + FAREWELL_WAIT;
        let mut repeat_at = Instant::now() + FINAL_ACK_REPEAT;
        loop {
            let now = Instant::now();
            if now >= until || !(self.receiver.ack_due() || self.receiver.awaiting_bye()) {
                break;
            }
            if self.receiver.ack_due() {
                self.acknowledge(now);
            } else if now >= repeat_at {
                repeat_at = now + FINAL_ACK_REPEAT;
                if let Some((identity, ack)) = self.receiver.repeat_final_ack(now) {
                    let _ = self
                        .socket
                        .send_multipart([&identity[..], &ack[..]], zmq::DONTWAIT);
                }
            }
            let mut items = [self.socket.as_poll_item(zmq::POLLIN)];
            let _ = zmq::poll(&mut items, 10);
            self.read(Instant::now());
        }
    }

    /// Tells the sender this receiver stopped for good, and keeps telling
    /// anyone who speaks (a sender that reconnected meanwhile says hello on
    /// a new connection) until one says `BYE` or [`GONE_WAIT`] passes. Seen
    /// under load: the sender's silence timer reconnected while the first
    /// `GONE` was in flight, the old connection took it away, and the
    /// sender waited for the receiver forever.
    fn say_gone(&mut self, identity: &[u8], gone: &[u8]) {
        let _ = self.socket.send_multipart([identity, gone], zmq::DONTWAIT);
        let until = Instant::now() + GONE_WAIT;
        while Instant::now() < until {
            let mut items = [self.socket.as_poll_item(zmq::POLLIN)];
            let _ = zmq::poll(&mut items, 10);
            while let Ok(parts) = self.socket.recv_multipart(zmq::DONTWAIT) {
                let [from, payload, ..] = &parts[..] else {
                    continue;
                };
                if payload.first() == Some(&frame::BYE) {
                    return;
                }
                let _ = self.socket.send_multipart([&from[..], gone], zmq::DONTWAIT);
            }
        }
    }

    /// Sleeps until a frame arrives, the consumer handles messages we wait
    /// for, or an acknowledgement or tick is due.
    fn sleep(&mut self) {
        if self.receiver.waiting_for_handling() {
            self.queue.wake_on_progress(&self.waker);
            if self.receiver.handled_since(self.queue.finished_count()) {
                return; // handled in the meantime: acknowledge next turn
            }
        }
        let timeout = self.receiver.sleep_for(Instant::now());
        let mut items = [
            self.wake_rx.as_poll_item(zmq::POLLIN),
            self.socket.as_poll_item(zmq::POLLIN),
        ];
        sleep_polling(&mut items, &self.wake, self.last_busy + HOP_SPIN, timeout);
        while self.wake_rx.recv_bytes(zmq::DONTWAIT).is_ok() {}
    }

    /// Reads frames, at most [`BATCH`] or until [`BATCH`] messages wait to
    /// go into the wire (a BATCH frame may bring many at once); true if any
    /// arrived.
    fn read(&mut self, now: Instant) -> bool {
        let mut any = false;
        for _ in 0..BATCH {
            if self.inbox_seqs.len() >= BATCH {
                break;
            }
            if self.socket.recv(&mut self.identity, zmq::DONTWAIT).is_err() {
                break;
            }
            any = true;
            if !self.identity.get_more() {
                continue; // a ROUTER always gives identity + payload
            }
            if self.socket.recv(&mut self.payload, 0).is_err() {
                break;
            }
            let mut extra = false;
            while self.payload.get_more() {
                extra = true;
                if self.socket.recv(&mut self.payload, 0).is_err() {
                    break;
                }
            }
            self.id_buf.clear();
            self.id_buf.extend_from_slice(&self.identity);
            // The peer's address, for connections the receiver may report.
            let peer = if self.receiver.knows(&self.id_buf) {
                None
            } else {
                self.payload.gets("Peer-Address").map(str::to_owned)
            };
            let identity: &[u8] = &self.id_buf;
            // The payload as shared bytes (no copy): messages decoded from it
            // may keep views of it (`rolecall_codecs::shared`).
            let payload = if extra {
                Bytes::from_static(&[0xff])
            } else {
                Bytes::from_owner(Received(std::mem::replace(
                    &mut self.payload,
                    zmq::Message::new(),
                )))
            };
            let action = self.receiver.on_frame(identity, &payload, now, || {
                peer.unwrap_or_else(|| "an unknown address".into())
            });
            match action {
                Action::Nothing => {}
                Action::Reply(answer) => {
                    let _ = self
                        .socket
                        .send_multipart([identity, &answer[..]], zmq::DONTWAIT);
                }
                Action::End { seq } => self.inbox_seqs.push_back((seq, false)),
                Action::Deliver(messages) => {
                    // One shared source for the whole batch: the messages
                    // decoded from it may keep views of it.
                    shared::decode_in(&payload, || self.deliver(messages));
                }
            }
        }
        any
    }

    /// Decodes the messages of one DATA or BATCH frame into the inbox.
    fn deliver(&mut self, messages: frame::Messages<'_>) {
        let stamped = messages.stamped();
        for (seq, body) in messages {
            // A stamped body starts with its stamp: kept when
            // this wire is traced, skipped otherwise.
            let (stamp, body) = match stamped.then(|| frame::split_stamp(body)) {
                None => (None, body),
                Some(Some((s, b))) => (serde_json::from_slice::<Stamp>(s).ok(), b),
                // Shorter than its stamp says: left to the codec to refuse.
                Some(None) => (None, &[][..]),
            };
            let decoded = self.codec.decode(body);
            match decoded {
                Ok(m) => {
                    if self.traced {
                        self.inbox_stamps.push_back(stamp);
                    }
                    self.inbox.push_back(m);
                    self.inbox_seqs.push_back((seq, true));
                }
                Err(e) => {
                    let bad = self.shared.stats.bad_frames.fetch_add(1, Ordering::Relaxed) + 1;
                    if worth_logging(bad) {
                        tracing::warn!(hop = %self.label, seq, bad, error = %e, bytes = body.len(), "message not decodable; skipped");
                    }
                    self.inbox_seqs.push_back((seq, false));
                }
            }
        }
    }

    /// Moves decoded messages into the wire while it has room (one lock per
    /// batch) and records them; true if any moved.
    fn push_inbox(&mut self) -> bool {
        if self.inbox_seqs.is_empty() {
            return false;
        }
        let mut pushed = self.push_available();
        if pushed == 0 && !self.inbox.is_empty() {
            // Full: wait a little for room (acknowledgements go out between).
            self.queue
                .wait_for_room(Instant::now() + Duration::from_millis(2));
            pushed = self.push_available();
        }
        self.shared
            .stats
            .messages
            .fetch_add(pushed as u64, Ordering::Relaxed);
        // Every message of this batch is handled once the wire has finished
        // everything it had accepted by now (FIFO; a safe upper bound).
        let ordinal = self.queue.accepted_count();
        let mut moved = false;
        while let Some(&(seq, message)) = self.inbox_seqs.front() {
            if message {
                if pushed == 0 {
                    break;
                }
                pushed -= 1;
            }
            self.inbox_seqs.pop_front();
            self.receiver.record(seq, if message { ordinal } else { 0 });
            moved = true;
        }
        moved
    }

    /// Pushes what fits of the inbox (with its stamps on a traced wire).
    fn push_available(&mut self) -> usize {
        if self.traced {
            self.queue
                .push_available_from_hop(&mut self.inbox, &mut self.inbox_stamps)
        } else {
            self.queue.push_available(&mut self.inbox)
        }
    }

    fn acknowledge(&mut self, now: Instant) {
        if let Some((identity, ack)) = self.receiver.poll_ack(self.queue.finished_count(), now) {
            // Sent, or the connection is gone (its sender stopped or was
            // killed: a sender that comes back says hello and is told what
            // was handled in the welcome), or full: then due again next turn
            // (acknowledgements are cumulative, a later one covers this one).
            let sent = self
                .socket
                .send_multipart([&identity[..], &ack[..]], zmq::DONTWAIT);
            if let Err(zmq::Error::EAGAIN) = sent {
                self.receiver.ack_not_sent();
                self.unsent_acks += 1;
                if worth_logging(self.unsent_acks) {
                    tracing::debug!(hop = %self.label, unsent = self.unsent_acks, "acknowledgement not queued (connection full); sending it again");
                }
            }
        }
        for note in self.receiver.take_notes() {
            self.log(note);
        }
    }

    fn log(&mut self, note: Note) {
        match note {
            Note::EndOfStream => {
                tracing::debug!(hop = %self.label, "end of stream received");
                self.producer = None;
            }
            Note::Refused { peer, reason } => {
                self.refusals += 1;
                if worth_logging(self.refusals) {
                    tracing::warn!(hop = %self.label, %peer, %reason, refusals = self.refusals, "hello refused");
                }
            }
            Note::Stranger { peer, frames } => {
                self.strangers += 1;
                if worth_logging(self.strangers) {
                    tracing::warn!(hop = %self.label, %peer, frames, strangers = self.strangers, "frames from a peer that said no hello were refused");
                }
            }
            Note::SenderRestarted { old, new } => tracing::warn!(
                hop = %self.label,
                old = format_args!("{old:016x}"),
                new = format_args!("{new:016x}"),
                "the producing node restarted; its stream starts again (what the application replays may arrive twice)"
            ),
            Note::Resumed { from } => tracing::warn!(
                hop = %self.label,
                from,
                "this node joined the stream mid-way (it restarted): messages from this sequence number on may have been handled by its previous incarnation too"
            ),
            Note::Lost { count } => {
                let lost = self.receiver.counts().lost;
                if worth_logging(lost) || count > 100 {
                    tracing::warn!(hop = %self.label, count, lost, "at-most-once: messages lost on the way");
                }
            }
        }
    }

    fn report(&self) {
        let c = self.receiver.counts();
        HopStats::set(&self.shared.hop.refused, c.refused);
        HopStats::set(&self.shared.hop.duplicates, c.duplicates);
        HopStats::set(&self.shared.hop.lost, c.lost);
        HopStats::set(&self.shared.hop.sender_restarts, c.sender_restarts);
    }
}
