//! Tests of `sender.rs`.

use super::*;
use crate::remote::hop::frame::{ack, welcome, who};

fn hello() -> Hello {
    Hello {
        topology: "t".into(),
        wiring: 1,
        wire: "a.out -> b.in".into(),
        node: "a".into(),
        incarnation: 9,
        first_unacked: 1,
    }
}

fn data(s: &mut Sender, body: &[u8]) {
    let mut f = Vec::new();
    frame::data_header(s.next_seq(), &mut f);
    f.extend_from_slice(body);
    s.push(f);
}

/// A welcomed at-least-once sender (window 10) that sent messages 1 to 5.
fn five_sent() -> (Sender, Instant) {
    let t = Instant::now();
    let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 10, t);
    s.on_frame(&welcome(1, 0, 0), t);
    for _ in 0..5 {
        data(&mut s, b"m");
    }
    flush(&mut s, t);
    (s, t)
}

/// Sends everything sendable now; returns what went out.
fn flush(s: &mut Sender, now: Instant) -> Vec<Out> {
    let mut out = Vec::new();
    while let Some(o) = s.next_out(now) {
        s.sent(o, now);
        out.push(o);
    }
    out
}

#[test]
fn nothing_but_hello_goes_out_before_the_welcome() {
    let t = Instant::now();
    let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 4, t);
    data(&mut s, b"x");
    assert_eq!(flush(&mut s, t), vec![Out::Hello]);
    assert_eq!(flush(&mut s, t + Duration::from_millis(10)), vec![]);
    assert_eq!(flush(&mut s, t + HELLO_RETRY), vec![Out::Hello]);
    s.on_frame(&welcome(77, 0, 0), t + HELLO_RETRY);
    assert_eq!(flush(&mut s, t + HELLO_RETRY), vec![Out::Frame(1)]);
}

#[test]
fn the_window_is_bounded_and_freed_by_acknowledgements() {
    let t = Instant::now();
    let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 3, t);
    s.on_frame(&welcome(1, 0, 0), t);
    for _ in 0..3 {
        data(&mut s, b"m");
    }
    assert_eq!(s.room(), 0);
    assert_eq!(flush(&mut s, t), vec![Out::Batch { first: 1, count: 3 }]);
    s.on_frame(&ack(2, 3, false), t);
    assert_eq!(s.room(), 2);
    assert_eq!(s.unacknowledged(), 1);
    s.finish();
    assert_eq!(flush(&mut s, t), vec![Out::Frame(4)]);
    assert!(!s.done());
    s.on_frame(&ack(4, 4, false), t);
    assert!(s.done());
}

#[test]
fn a_restarted_receiver_gets_every_unacknowledged_frame_again() {
    let (mut s, t) = five_sent();
    s.on_frame(&ack(2, 5, false), t);
    // The new receiver does not know this connection.
    s.on_frame(&who(), t);
    assert_eq!(flush(&mut s, t), vec![Out::Hello]);
    let bytes = s.bytes(Out::Hello).to_vec();
    let h = frame::parse_to_receiver(&bytes).unwrap();
    assert!(matches!(h, frame::ToReceiver::Hello(h) if h.first_unacked == 3));
    assert_eq!(
        s.on_frame(&welcome(2, 2, 2), t),
        Heard::ReceiverRestarted {
            receiver: 2,
            resent: 3
        }
    );
    assert_eq!(flush(&mut s, t), vec![Out::Batch { first: 3, count: 3 }]);
    assert_eq!(s.counts().resent, 3);
}

#[test]
fn a_reconnect_resends_only_what_the_receiver_did_not_get() {
    let (mut s, t) = five_sent();
    // Silence: frames may be lost in a dead connection.
    s.on_tick(t + SILENCE);
    assert_eq!(flush(&mut s, t + SILENCE), vec![Out::Hello]);
    // Same receiver: it handled 1 and received up to 3.
    assert_eq!(s.on_frame(&welcome(1, 1, 3), t + SILENCE), Heard::Nothing);
    assert_eq!(
        flush(&mut s, t + SILENCE),
        vec![Out::Batch { first: 4, count: 2 }]
    );
    assert_eq!(s.counts().resent, 2);
    assert_eq!(s.counts().silences, 1);
}

#[test]
fn a_gap_reported_by_the_receiver_is_filled() {
    let (mut s, t) = five_sent();
    s.on_frame(&ack(1, 2, true), t);
    assert_eq!(flush(&mut s, t), vec![Out::Batch { first: 3, count: 3 }]);
}

#[test]
fn a_receiver_gone_for_good_ends_the_sender_with_what_it_held_dropped() {
    let t = Instant::now();
    let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 10, t);
    s.on_frame(&welcome(1, 0, 0), t);
    for _ in 0..4 {
        data(&mut s, b"m");
    }
    flush(&mut s, t);
    s.on_frame(&ack(1, 4, false), t);
    assert_eq!(s.on_frame(&frame::gone(), t), Heard::Gone { dropped: 3 });
    assert!(s.done() && s.receiver_gone());
    assert_eq!(s.room(), 0);
    assert_eq!(flush(&mut s, t), vec![]);
}

#[test]
fn at_most_once_keeps_nothing_it_has_sent_but_end() {
    let t = Instant::now();
    let mut s = Sender::new(hello(), Delivery::AtMostOnce, 2, t);
    s.on_frame(&welcome(1, 0, 0), t);
    data(&mut s, b"m");
    data(&mut s, b"m");
    flush(&mut s, t);
    assert_eq!(s.room(), 2);
    s.finish();
    flush(&mut s, t);
    assert!(!s.done());
    s.on_tick(t + SILENCE);
    assert_eq!(flush(&mut s, t + SILENCE), vec![Out::Hello]);
    s.on_frame(&welcome(1, 0, 2), t + SILENCE);
    assert_eq!(flush(&mut s, t + SILENCE), vec![Out::Frame(3)]);
    s.on_frame(&ack(3, 3, false), t);
    assert!(s.done());
}

/// The messages (sequence number, body) of what went out.
fn carried(s: &mut Sender, out: Out) -> Vec<(u64, Vec<u8>)> {
    let bytes = s.bytes(out).to_vec();
    match frame::parse_to_receiver(&bytes) {
        Ok(frame::ToReceiver::Messages(m)) => m.map(|(q, b)| (q, b.to_vec())).collect(),
        other => panic!("{out:?} read back as {other:?}"),
    }
}

#[test]
fn what_is_ready_at_once_goes_in_one_batch_and_reads_back() {
    let t = Instant::now();
    let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 10, t);
    s.on_frame(&welcome(1, 0, 0), t);
    data(&mut s, b"one");
    // A single ready message goes out at once, as DATA.
    let out = s.next_out(t).expect("ready");
    assert_eq!(out, Out::Frame(1));
    assert_eq!(carried(&mut s, out), vec![(1, b"one".to_vec())]);
    s.sent(out, t);
    data(&mut s, b"two");
    data(&mut s, b"");
    data(&mut s, b"four");
    let out = s.next_out(t).expect("ready");
    assert_eq!(out, Out::Batch { first: 2, count: 3 });
    assert_eq!(
        carried(&mut s, out),
        vec![(2, b"two".to_vec()), (3, vec![]), (4, b"four".to_vec())]
    );
    s.sent(out, t);
    assert_eq!(s.next_out(t), None);
    // END goes alone, after the batch before it.
    data(&mut s, b"five");
    data(&mut s, b"six");
    s.finish();
    assert_eq!(
        flush(&mut s, t),
        vec![Out::Batch { first: 5, count: 2 }, Out::Frame(7)]
    );
    s.on_frame(&ack(7, 7, false), t);
    assert!(s.done());
}

#[test]
fn a_batch_is_bounded_by_messages_and_bytes() {
    let t = Instant::now();
    // 4 messages, or 13 + 3 * (4 + 10) = 55 bytes, whichever is less.
    let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 20, t).limit_batches(4, 55);
    s.on_frame(&welcome(1, 0, 0), t);
    for _ in 0..9 {
        data(&mut s, &[7; 10]);
    }
    let outs = flush(&mut s, t);
    assert_eq!(
        outs,
        vec![
            Out::Batch { first: 1, count: 3 },
            Out::Batch { first: 4, count: 3 },
            Out::Batch { first: 7, count: 3 }
        ]
    );
    for out in outs {
        assert!(s.bytes(out).len() <= 55);
    }
    // A message over the byte bound goes alone; the small ones around it batch.
    data(&mut s, &[1; 3]);
    data(&mut s, &[2; 200]);
    data(&mut s, &[3; 3]);
    data(&mut s, &[4; 3]);
    assert_eq!(
        flush(&mut s, t),
        vec![
            Out::Frame(10),
            Out::Frame(11),
            Out::Batch {
                first: 12,
                count: 2
            }
        ]
    );
    // Count bound: tiny messages, four at most.
    let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 20, t).limit_batches(4, 1 << 20);
    s.on_frame(&welcome(1, 0, 0), t);
    for _ in 0..6 {
        data(&mut s, b"m");
    }
    assert_eq!(
        flush(&mut s, t),
        vec![
            Out::Batch { first: 1, count: 4 },
            Out::Batch { first: 5, count: 2 }
        ]
    );
    // One message per batch: no batches at all.
    let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 20, t).limit_batches(1, 1 << 20);
    s.on_frame(&welcome(1, 0, 0), t);
    data(&mut s, b"m");
    data(&mut s, b"m");
    assert_eq!(flush(&mut s, t), vec![Out::Frame(1), Out::Frame(2)]);
}

#[test]
fn a_resend_after_a_gap_batches_from_the_gap_on() {
    let (mut s, t) = five_sent();
    assert_eq!(s.counts().resent, 0);
    data(&mut s, b"six");
    // The receiver got 1 and 2 (handled 1), then lost the rest.
    s.on_frame(&ack(1, 2, true), t);
    let out = s.next_out(t).expect("ready");
    assert_eq!(out, Out::Batch { first: 3, count: 4 });
    assert_eq!(
        carried(&mut s, out).iter().map(|m| m.0).collect::<Vec<_>>(),
        vec![3, 4, 5, 6]
    );
    s.sent(out, t);
    assert_eq!(s.counts().resent, 3, "6 was new");
}

#[test]
fn at_most_once_batches_and_keeps_nothing_it_sent() {
    let t = Instant::now();
    let mut s = Sender::new(hello(), Delivery::AtMostOnce, 4, t);
    s.on_frame(&welcome(1, 0, 0), t);
    for _ in 0..4 {
        data(&mut s, b"m");
    }
    assert_eq!(s.room(), 0);
    assert_eq!(flush(&mut s, t), vec![Out::Batch { first: 1, count: 4 }]);
    assert_eq!(s.room(), 4);
}

#[test]
fn hellos_answered_only_with_who_are_reported_as_not_understood() {
    let t = Instant::now();
    let mut s = Sender::new(hello(), Delivery::AtLeastOnce, 4, t);
    let mut heard = Vec::new();
    for i in 0..4 {
        let at = t + HELLO_RETRY * i;
        assert_eq!(flush(&mut s, at), vec![Out::Hello]);
        heard.push(s.on_frame(&who(), at));
    }
    assert_eq!(
        heard,
        vec![
            Heard::Nothing,
            Heard::Nothing,
            Heard::HelloNotUnderstood { answers: 3 },
            Heard::HelloNotUnderstood { answers: 4 }
        ]
    );
    // A welcome starts the count again.
    s.on_frame(&welcome(1, 0, 0), t);
    s.on_frame(&who(), t);
    assert_eq!(flush(&mut s, t), vec![Out::Hello]);
    assert_eq!(s.on_frame(&who(), t), Heard::Nothing);
}
