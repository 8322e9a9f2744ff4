//! Cross-node hops against real sockets: the delivery contract end to end.
//! Start order, a receiver that restarts mid-stream, strangers and
//! oversize frames on the receiver's port, a hello for another wire.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::hop::{spawn_receiver, spawn_sender};
use super::{Delivery, HopIdentity, RemoteEndpoint, RemoteLink};
use crate::wire::{Policy, Popped, PushError, Queue};

fn endpoint(context: &zmq::Context, address: &str) -> RemoteEndpoint {
    RemoteEndpoint {
        context: context.clone(),
        address: address.to_owned(),
        hwm: 1000,
        label: "a.out -> b.in".to_owned(),
    }
}

fn identity(wiring: u64) -> HopIdentity {
    HopIdentity {
        topology: "hop test".into(),
        wiring,
        producer_node: "a".into(),
        delivery: Delivery::AtLeastOnce,
        max_message_size: 1 << 20,
        curve: None,
    }
}

fn json() -> std::sync::Arc<dyn rolecall_codecs::Codec<String>> {
    rolecall_codecs::serde_codec::<String>("json").expect("json codec")
}

/// A receiver hop; a port its predecessor in this process just closed may
/// take libzmq a moment to free.
fn receiver(context: &zmq::Context, address: &str, queue: &Queue<String>) -> RemoteLink {
    receiver_with(context, address, queue, json())
}

/// [`receiver`] of messages `T` in `codec`.
fn receiver_with<T: Send + 'static>(
    context: &zmq::Context,
    address: &str,
    queue: &Queue<T>,
    codec: std::sync::Arc<dyn rolecall_codecs::Codec<T>>,
) -> RemoteLink {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match spawn_receiver(
            queue.clone(),
            codec.clone(),
            endpoint(context, address),
            identity(1),
        ) {
            Ok(link) => return link,
            Err(e) if Instant::now() < deadline && e.to_string().contains("in use") => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("receiver: {e}"),
        }
    }
}

/// A producer thread pushing `m0..m{n}` into a fresh wire drained by a sender
/// hop; it returns how many pushes the wire refused (its consumer gone).
fn produce(
    context: &zmq::Context,
    address: &str,
    n: usize,
    capacity: usize,
) -> (RemoteLink, std::thread::JoinHandle<usize>) {
    let outbound = Queue::<String>::new(capacity, Policy::Block);
    outbound.add_sender();
    let sender = spawn_sender(
        outbound.clone(),
        json(),
        endpoint(context, address),
        identity(1),
    )
    .expect("sender");
    let producer = std::thread::spawn(move || {
        // A push still blocked after a minute is a hung hop: fail, not hang.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut refused = 0;
        for i in 0..n {
            match outbound.push_blocking(format!("m{i}"), Some(deadline)) {
                Ok(_) => {}
                Err(PushError::Closed(_)) => refused += 1,
                Err(PushError::Full(_)) => panic!("push {i} still blocked after 60 s"),
            }
        }
        outbound.remove_sender();
        refused
    });
    (sender, producer)
}

/// Pops (handling each message at once) until the queue ends, `stop_after`
/// messages arrived, or `deadline`; returns what arrived and whether it ended.
fn drain(queue: &Queue<String>, stop_after: usize, deadline: Instant) -> (Vec<String>, bool) {
    let mut got = Vec::new();
    let mut buf = VecDeque::new();
    while Instant::now() < deadline && got.len() < stop_after {
        match queue.pop_blocking(
            &mut buf,
            16.min(stop_after - got.len()),
            Duration::from_millis(20),
        ) {
            Popped::Items(n) => {
                got.extend(buf.drain(..));
                queue.settle(n, &mut VecDeque::new());
            }
            Popped::Ended => return (got, true),
            Popped::Empty => {}
        }
    }
    (got, false)
}

fn in_order(got: &[String], from: usize) -> bool {
    got.iter()
        .enumerate()
        .all(|(i, m)| *m == format!("m{}", i + from))
}

#[test]
fn every_message_arrives_once_in_order_and_end_is_acknowledged() {
    let context = zmq::Context::new();
    let address = "tcp://127.0.0.1:16051";
    let inbound = Queue::<String>::new(16, Policy::Block);
    let rx = receiver(&context, address, &inbound);
    let (tx, producer) = produce(&context, address, 3000, 1024);
    let (got, ended) = drain(
        &inbound,
        usize::MAX,
        Instant::now() + Duration::from_secs(30),
    );
    assert_eq!(producer.join().expect("producer"), 0, "every push taken");
    assert_eq!(got.len(), 3000);
    assert!(in_order(&got, 0));
    assert!(ended, "the end of the producer crossed as END");
    assert_eq!(tx.finish(Instant::now() + Duration::from_secs(5)), Ok(()));
    assert_eq!(rx.stats().bad_frames.load(Ordering::Relaxed), 0);
    assert_eq!(rx.hop_stats().duplicates.load(Ordering::Relaxed), 0);
    rx.stop();
}

#[test]
fn a_sender_that_starts_first_loses_nothing() {
    let context = zmq::Context::new();
    let address = "tcp://127.0.0.1:16052";
    let (tx, producer) = produce(&context, address, 500, 64);
    std::thread::sleep(Duration::from_millis(700));
    let inbound = Queue::<String>::new(64, Policy::Block);
    let rx = receiver(&context, address, &inbound);
    let (got, ended) = drain(
        &inbound,
        usize::MAX,
        Instant::now() + Duration::from_secs(30),
    );
    assert_eq!(producer.join().expect("producer"), 0, "every push taken");
    assert_eq!(got.len(), 500);
    assert!(in_order(&got, 0) && ended);
    assert_eq!(tx.finish(Instant::now() + Duration::from_secs(5)), Ok(()));
    rx.stop();
}

#[test]
fn a_receiver_restarted_mid_stream_gets_every_unhandled_message_again() {
    let context = zmq::Context::new();
    let address = "tcp://127.0.0.1:16053";
    let first = Queue::<String>::new(32, Policy::Block);
    let rx = receiver(&context, address, &first);
    let (tx, producer) = produce(&context, address, 2000, 32);
    // Handle 700 messages, then the receiving side dies with its wire full.
    let (before, _) = drain(&first, 700, Instant::now() + Duration::from_secs(30));
    assert_eq!(before.len(), 700);
    rx.abort();
    drop(first);
    let second = Queue::<String>::new(32, Policy::Block);
    let rx = receiver(&context, address, &second);
    let (after, ended) = drain(
        &second,
        usize::MAX,
        Instant::now() + Duration::from_secs(30),
    );
    assert_eq!(producer.join().expect("producer"), 0, "every push taken");
    assert!(ended);
    // Nothing lost: the new wire starts at or before message 700 and runs to the end in order.
    let first_after: usize = after[0][1..].parse().expect("number");
    assert!(first_after <= 700, "resumed at m{first_after}");
    assert!(in_order(&after, first_after));
    assert_eq!(first_after + after.len(), 2000);
    assert_eq!(tx.hop_stats().receiver_restarts.load(Ordering::Relaxed), 1);
    assert_eq!(tx.finish(Instant::now() + Duration::from_secs(5)), Ok(()));
    rx.stop();
}

#[test]
fn a_receiver_stopped_for_good_ends_its_sender_with_the_rest_dropped_and_counted() {
    let context = zmq::Context::new();
    let address = "tcp://127.0.0.1:16056";
    let inbound = Queue::<String>::new(16, Policy::Block);
    let rx = receiver(&context, address, &inbound);
    let (tx, producer) = produce(&context, address, 1000, 16);
    let (got, _) = drain(&inbound, 100, Instant::now() + Duration::from_secs(30));
    assert_eq!(got.len(), 100);
    rx.stop();
    let refused = producer.join().expect("producer");
    assert!(refused > 0, "later messages are refused by the closed wire");
    let dropped = tx.stats().dropped.load(Ordering::Relaxed) as usize;
    // What the sender held when the receiver said GONE is dropped and
    // counted. On a loaded machine the producer may not have refilled the
    // window by then (nothing to drop): then every message pushed is one the
    // receiver took (handled, or still in its wire or socket buffers).
    let pushed = 1000 - refused;
    assert!(
        dropped > 0 || pushed <= got.len() + inbound.len() + 2 * 16,
        "pushed {pushed}, handled {}, waiting {}, dropped {dropped}",
        got.len(),
        inbound.len()
    );
    assert_eq!(tx.finish(Instant::now() + Duration::from_secs(5)), Ok(()));
}

/// The hello a sender of `identity(1)`'s wire says.
fn fake_hello() -> Vec<u8> {
    super::hop::hello(&super::hop::Hello {
        topology: "hop test".into(),
        wiring: 1,
        wire: "a.out -> b.in".into(),
        node: "a".into(),
        incarnation: 7,
        first_unacked: 0,
    })
}

/// A fake sender's connection that has said hello (answers wait up to 5 s).
fn dealer_saying_hello(context: &zmq::Context, address: &str, routing_id: &[u8]) -> zmq::Socket {
    let s = context.socket(zmq::DEALER).expect("socket");
    s.set_identity(routing_id).expect("routing id");
    s.set_rcvtimeo(5000).expect("timeout");
    s.set_linger(0).expect("linger");
    s.connect(address).expect("connect");
    s.send(fake_hello(), 0).expect("hello");
    s
}

/// A fake sender's connection: a DEALER that said hello for the wire of
/// `identity(1)` and was welcomed.
fn welcomed_dealer(context: &zmq::Context, address: &str, routing_id: &[u8]) -> zmq::Socket {
    let s = dealer_saying_hello(context, address, routing_id);
    let answer = s.recv_bytes(0).expect("an answer to the hello");
    assert_eq!(answer.first(), Some(&super::hop::WELCOME), "{answer:?}");
    s
}

#[test]
fn a_sender_that_reconnected_while_gone_was_in_flight_hears_gone_on_its_new_connection() {
    let context = zmq::Context::new();
    let address = "tcp://127.0.0.1:16057";
    let inbound = Queue::<String>::new(16, Policy::Block);
    let rx = receiver(&context, address, &inbound);
    let old = welcomed_dealer(&context, address, b"old connection");
    let stopping = std::thread::spawn(move || rx.stop());
    // The receiver said GONE on the sender's connection...
    assert_eq!(old.recv_bytes(0).expect("GONE"), [super::hop::GONE]);
    // ... which the sender lost (its silence timer reconnected): on its new
    // connection it says hello again, and hears GONE again.
    let new = dealer_saying_hello(&context, address, b"new connection");
    assert_eq!(new.recv_bytes(0).expect("GONE again"), [super::hop::GONE]);
    // Its BYE ends the receiver's wait.
    new.send(vec![super::hop::BYE], 0).expect("bye");
    stopping.join().expect("the receiver stops");
}

#[test]
fn a_topic_sent_in_flatbuffers_arrives_as_views_of_the_received_batch() {
    use rolecall_codecs::{Topic, TopicFlatBuffers, TopicView, TopicViewFlatBuffers};
    let context = zmq::Context::new();
    let address = "tcp://127.0.0.1:16058";
    let inbound = Queue::<TopicView>::new(64, Policy::Block);
    let rx = receiver_with(
        &context,
        address,
        &inbound,
        std::sync::Arc::new(TopicViewFlatBuffers),
    );
    // The sending node writes owned Topics; all are queued before its hop
    // starts, so they leave in one batch.
    let sent: Vec<Topic> = (0..50u32)
        .map(|i| Topic {
            seq_no: i,
            ts: f64::from(i) / 2.0,
            name: format!("topic {i}"),
            data: (0..i).collect(),
        })
        .collect();
    let outbound = Queue::<Topic>::new(64, Policy::Block);
    outbound.add_sender();
    for t in &sent {
        assert!(outbound.try_push(t.clone()).is_ok());
    }
    outbound.remove_sender();
    let tx = spawn_sender(
        outbound,
        std::sync::Arc::new(TopicFlatBuffers),
        endpoint(&context, address),
        identity(1),
    )
    .expect("sender");
    let mut got = Vec::new();
    let mut buf = VecDeque::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match inbound.pop_blocking(&mut buf, 64, Duration::from_millis(20)) {
            Popped::Items(n) => {
                got.extend(buf.drain(..));
                inbound.settle(n, &mut VecDeque::new());
            }
            Popped::Ended => break,
            Popped::Empty => {}
        }
    }
    assert_eq!(got.len(), sent.len());
    assert!(got.iter().zip(&sent).all(|(view, topic)| view == topic));
    // Each view lies in the received batch right after the one before (its
    // 4-byte length between them): no copy was made.
    for pair in got.windows(2) {
        let (a, b) = (pair[0].as_bytes(), pair[1].as_bytes());
        assert_eq!(
            b.as_ptr() as usize,
            a.as_ptr() as usize + a.len() + 4,
            "seq {} and {} are not neighbours in one buffer",
            pair[0].seq_no(),
            pair[1].seq_no()
        );
    }
    assert_eq!(tx.finish(Instant::now() + Duration::from_secs(5)), Ok(()));
    rx.stop();
}

#[test]
fn strangers_and_oversize_frames_are_refused_while_the_stream_flows_on() {
    let context = zmq::Context::new();
    let address = "tcp://127.0.0.1:16054";
    let inbound = Queue::<String>::new(64, Policy::Block);
    let rx = receiver(&context, address, &inbound);
    // A stranger that speaks ZeroMQ but says no hello: END, DATA, garbage.
    let stranger = context.socket(zmq::DEALER).expect("socket");
    stranger.connect(address).expect("connect");
    let mut data = vec![0u8];
    data.extend_from_slice(&1u64.to_le_bytes());
    data.extend_from_slice(b"\"forged\"");
    for frame in [vec![1u8], data, vec![7, 7, 7], vec![]] {
        stranger.send(frame, 0).expect("send");
    }
    // A frame over the receiver's max_message_size (1 MiB) drops that connection.
    let big = context.socket(zmq::DEALER).expect("socket");
    big.connect(address).expect("connect");
    big.send(vec![0u8; 2 << 20], 0).expect("send");
    let (tx, producer) = produce(&context, address, 1000, 64);
    let (got, ended) = drain(
        &inbound,
        usize::MAX,
        Instant::now() + Duration::from_secs(30),
    );
    assert_eq!(producer.join().expect("producer"), 0, "every push taken");
    assert_eq!(got.len(), 1000);
    assert!(in_order(&got, 0) && ended, "no forged message got in");
    assert_eq!(tx.finish(Instant::now() + Duration::from_secs(5)), Ok(()));
    // The stranger was answered WHO (say hello) and is counted.
    let mut answer = zmq::Message::new();
    stranger.set_rcvtimeo(2000).expect("timeout");
    stranger.recv(&mut answer, 0).expect("an answer");
    assert_eq!(&answer[..], &[5u8][..]);
    assert_eq!(rx.hop_stats().refused.load(Ordering::Relaxed), 4);
    rx.stop();
}

#[test]
fn a_sender_of_another_definition_is_refused_and_its_node_fails_at_drain() {
    let context = zmq::Context::new();
    let address = "tcp://127.0.0.1:16055";
    let inbound = Queue::<String>::new(16, Policy::Block);
    let rx = receiver(&context, address, &inbound);
    let outbound = Queue::<String>::new(16, Policy::Block);
    outbound.add_sender();
    let tx = spawn_sender(
        outbound.clone(),
        json(),
        endpoint(&context, address),
        identity(2),
    )
    .expect("sender");
    outbound.push_blocking("x".into(), None).expect("pushed");
    outbound.remove_sender();
    let (got, _) = drain(
        &inbound,
        usize::MAX,
        Instant::now() + Duration::from_millis(800),
    );
    assert!(got.is_empty());
    assert_eq!(
        tx.finish(Instant::now() + Duration::from_millis(200)),
        Err(2)
    );
    assert!(rx.hop_stats().refused.load(Ordering::Relaxed) >= 1);
    rx.stop();
}
