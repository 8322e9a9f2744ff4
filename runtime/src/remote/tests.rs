//! Cross-node hops against real sockets: garbage from a raw peer is counted
//! and skipped while good messages flow on; END ends the stream; a sender
//! hop drains its wire and sends END by itself.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{spawn_receiver, spawn_sender, RemoteEndpoint, DATA, END};
use crate::wire::{Policy, Popped, Queue};

fn endpoint(context: &zmq::Context, address: &str) -> RemoteEndpoint {
    RemoteEndpoint {
        context: context.clone(),
        address: address.to_owned(),
        hwm: 1000,
        label: "test hop".to_owned(),
    }
}

fn json() -> std::sync::Arc<dyn rolecall_codecs::Codec<String>> {
    rolecall_codecs::serde_codec::<String>("json").expect("json codec")
}

/// Pops until the queue ends or `deadline`; returns what arrived and whether it ended.
fn drain(queue: &Queue<String>, deadline: Instant) -> (Vec<String>, bool) {
    let mut got = Vec::new();
    let mut buf = VecDeque::new();
    while Instant::now() < deadline {
        match queue.pop_blocking(&mut buf, 64, Duration::from_millis(20)) {
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

#[test]
fn garbage_frames_are_counted_and_skipped_while_good_messages_flow_on() {
    let context = zmq::Context::new();
    let address = "tcp://127.0.0.1:16050";
    let queue = Queue::<String>::new(1024, Policy::Block);
    let link = spawn_receiver(queue.clone(), json(), endpoint(&context, address)).expect("hop");
    let peer = context.socket(zmq::PUSH).expect("socket");
    peer.connect(address).expect("connect");
    let garbage: Vec<Vec<u8>> = vec![
        vec![],                                  // no header at all
        vec![7, 1, 2, 3],                        // unknown header byte
        vec![DATA, 0xff, 0xfe],                  // not JSON
        b"\x00{\"not\": \"a string\"}".to_vec(), // JSON of the wrong type
    ];
    let mut sent = Vec::new();
    for i in 0..100 {
        let good = format!("message {i}");
        let mut frame = vec![DATA];
        frame.extend(serde_json::to_vec(&good).expect("json"));
        peer.send(frame, 0).expect("send");
        sent.push(good);
        if i % 25 == 0 {
            peer.send(garbage[i / 25].clone(), 0).expect("send");
        }
    }
    // A multipart message is malformed too.
    peer.send_multipart([&[DATA][..], b"\"x\""], 0)
        .expect("send");
    peer.send(&[END][..], 0).expect("send");
    let (got, ended) = drain(&queue, Instant::now() + Duration::from_secs(10));
    assert_eq!(got, sent, "every good message, in order");
    assert!(ended, "END ends the stream");
    assert_eq!(link.stats().bad_frames.load(Ordering::Relaxed), 5);
    assert_eq!(link.stats().messages.load(Ordering::Relaxed), 100);
    link.stop();
}

#[test]
fn a_sender_hop_drains_its_wire_then_sends_end() {
    let context = zmq::Context::new();
    let address = "tcp://127.0.0.1:16051";
    let inbound = Queue::<String>::new(16, Policy::Block);
    let receiver =
        spawn_receiver(inbound.clone(), json(), endpoint(&context, address)).expect("receiver");
    let outbound = Queue::<String>::new(16, Policy::Block);
    outbound.add_sender();
    let sender =
        spawn_sender(outbound.clone(), json(), endpoint(&context, address)).expect("sender");
    let producer = std::thread::spawn({
        let outbound = outbound.clone();
        move || {
            for i in 0..2000 {
                // Small queues at both ends: this blocks while the hop is behind.
                outbound
                    .push_blocking(format!("m{i}"), None)
                    .expect("pushed");
            }
            outbound.remove_sender();
        }
    });
    let (got, ended) = drain(&inbound, Instant::now() + Duration::from_secs(20));
    producer.join().expect("producer");
    assert_eq!(got.len(), 2000);
    assert!(got.iter().enumerate().all(|(i, m)| *m == format!("m{i}")));
    assert!(ended, "the end of the producer crossed as END");
    sender.finish(Instant::now() + Duration::from_secs(2));
    assert_eq!(receiver.stats().bad_frames.load(Ordering::Relaxed), 0);
    receiver.stop();
}
