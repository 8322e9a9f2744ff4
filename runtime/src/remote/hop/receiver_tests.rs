//! Tests of `receiver.rs`.

use super::*;
use crate::remote::hop::frame::{
    ack, batch_header, batch_push, bye, data_header, end, hello, parse_to_sender, refused, welcome,
    ToSender,
};

fn expect() -> Expect {
    Expect {
        topology: "t".into(),
        wiring: 7,
        wire: "a.out -> b.in".into(),
        node: "a".into(),
    }
}

fn hello_of(incarnation: u64, first_unacked: u64) -> Vec<u8> {
    hello(&Hello {
        topology: "t".into(),
        wiring: 7,
        wire: "a.out -> b.in".into(),
        node: "a".into(),
        incarnation,
        first_unacked,
    })
}

fn data(seq: u64) -> Vec<u8> {
    let mut f = Vec::new();
    data_header(seq, &mut f);
    f.extend_from_slice(&seq.to_le_bytes());
    f
}

fn peer() -> String {
    "tcp://127.0.0.1:1".into()
}

/// Feeds a frame; returns the (first) delivered sequence number, if any.
fn feed(r: &mut Receiver, id: &[u8], f: &[u8], now: Instant) -> Option<u64> {
    feed_all(r, id, f, now).first().copied()
}

/// Feeds a frame; returns every delivered sequence number.
fn feed_all(r: &mut Receiver, id: &[u8], f: &[u8], now: Instant) -> Vec<u64> {
    match r.on_frame(id, f, now, peer) {
        Action::Deliver(m) => m
            .map(|(seq, body)| {
                assert_eq!(body, seq.to_le_bytes(), "the body of {seq}");
                seq
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A BATCH of `first..=last`, each body its sequence number.
fn batch(first: u64, last: u64) -> Vec<u8> {
    let mut f = Vec::new();
    batch_header(first, (last - first + 1) as u32, &mut f);
    for seq in first..=last {
        batch_push(&seq.to_le_bytes(), &mut f);
    }
    f
}

#[test]
fn frames_before_a_hello_are_refused_and_answered_with_who() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    assert_eq!(
        r.on_frame(b"s", &end(1), t, peer),
        Action::Reply(frame::who())
    );
    assert_eq!(r.on_frame(b"s", &data(1), t, peer), Action::Nothing);
    assert_eq!(r.on_frame(b"s", b"\x01", t, peer), Action::Nothing);
    assert_eq!(r.counts().refused, 3);
    r.on_tick(t + STRANGER_AFTER);
    assert_eq!(
        r.take_notes(),
        vec![Note::Stranger {
            peer: peer(),
            frames: 3
        }]
    );
}

#[test]
fn a_hello_for_another_wire_is_refused_with_the_reason() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    let bytes = hello_of(5, 1);
    let mut h = frame::parse_to_receiver(&bytes).unwrap();
    if let ToReceiver::Hello(h) = &mut h {
        h.wiring = 8;
        let Action::Reply(answer) = r.on_frame(b"s", &hello(h), t, peer) else {
            panic!("no answer");
        };
        assert!(
            matches!(parse_to_sender(&answer), Ok(ToSender::Refused(why)) if why.contains("same topology file"))
        );
    }
    assert_eq!(feed(&mut r, b"s", &data(1), t), None);
}

#[test]
fn messages_are_delivered_once_in_order_and_acknowledged_when_handled() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    assert_eq!(
        r.on_frame(b"s", &hello_of(5, 1), t, peer),
        Action::Reply(welcome(1, 0, 0))
    );
    for seq in 1..=3 {
        assert_eq!(feed(&mut r, b"s", &data(seq), t), Some(seq));
        r.record(seq, seq + 10);
    }
    // A resent copy is dropped.
    assert_eq!(feed(&mut r, b"s", &data(2), t), None);
    assert_eq!(r.counts().duplicates, 1);
    // Handled up to the second: acknowledged (a duplicate makes it due).
    let (id, a) = r.poll_ack(12, t).expect("ack due");
    assert_eq!((id.as_slice(), a), (&b"s"[..], ack(2, 3, false)));
    assert_eq!(r.poll_ack(12, t), None);
    assert_eq!(
        r.poll_ack(13, t + ACK_DELAY).map(|x| x.1),
        Some(ack(3, 3, false))
    );
}

/// An at-least-once receiver of `capacity` that welcomed a sender at `t`.
fn welcomed(capacity: usize, t: Instant) -> Receiver {
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, capacity);
    r.on_frame(b"s", &hello_of(5, 1), t, peer);
    r
}

/// A trickle (one message a millisecond, each handled at once, far below
/// `ack_every`) is acknowledged once per [`ACK_DELAY`], not once per
/// message: every acknowledgement is a frame that wakes the sending
/// node's threads, which a latency-bound stream pays for
/// (docs/performance.md, "acknowledgements at most every 5 ms").
#[test]
fn a_trickle_is_acknowledged_once_per_ack_delay() {
    let t = Instant::now();
    let mut r = welcomed(1024, t);
    let ms = Duration::from_millis(1);
    let per = (ACK_DELAY.as_millis() as u64).max(1);
    // (ms after the welcome, messages covered) of each acknowledgement.
    let mut acks = Vec::new();
    for seq in 1..=40u64 {
        let now = t + ms * seq as u32;
        assert_eq!(feed(&mut r, b"s", &data(seq), now), Some(seq));
        r.record(seq, seq);
        if let Some((_, a)) = r.poll_ack(seq, now) {
            // Cumulative: everything handled by then.
            assert_eq!(a, ack(seq, seq, false), "at {seq} ms");
            acks.push((seq, seq));
        }
    }
    // ACK_DELAY after the last message, whatever is still unacknowledged.
    if let Some((_, a)) = r.poll_ack(40, t + ms * 40 + ACK_DELAY) {
        assert_eq!(a, ack(40, 40, false));
        acks.push((40 + per, 40));
    }
    assert!(
        acks.len() as u64 <= 40 / per + 1,
        "{} acknowledgements for 40 messages: {acks:?}",
        acks.len()
    );
    // The first comes ACK_DELAY after the welcome, each later one no
    // sooner than ACK_DELAY after the one before, the last covers all 40,
    // and every message is covered at most ACK_DELAY after it was handled.
    assert_eq!(acks[0], (per, per));
    for pair in acks.windows(2) {
        assert!(pair[1].0 - pair[0].0 >= per, "{pair:?}");
    }
    assert_eq!(acks.last().map(|a| a.1), Some(40), "{acks:?}");
    for seq in 1..=40u64 {
        let (at, _) = acks
            .iter()
            .find(|(_, covered)| *covered >= seq)
            .expect("covered");
        assert!(*at <= seq + per, "message {seq} acknowledged at {at} ms");
    }
}

/// Handled messages not yet acknowledged: the thread sleeps until the
/// acknowledgement is due (ACK_DELAY after the last one), not ACK_DELAY
/// from whenever it happens to sleep.
#[test]
fn the_thread_sleeps_until_the_next_acknowledgement_is_due() {
    let t = Instant::now();
    let mut r = welcomed(1024, t);
    let ms = Duration::from_millis(1);
    assert_eq!(feed(&mut r, b"s", &data(1), t + ms), Some(1));
    r.record(1, 1);
    // Handled one millisecond before ACK_DELAY has passed since the welcome.
    let now = t + ACK_DELAY - ms;
    assert_eq!(r.poll_ack(1, now), None);
    assert_eq!(r.sleep_for(now), ms);
    assert_eq!(r.poll_ack(1, now + ms).map(|x| x.1), Some(ack(1, 1, false)));
}

#[test]
fn a_gap_is_not_delivered_but_asked_for_once() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    r.on_frame(b"s", &hello_of(5, 1), t, peer);
    assert_eq!(feed(&mut r, b"s", &data(1), t), Some(1));
    assert_eq!(
        r.on_frame(b"s", &data(3), t, peer),
        Action::Reply(ack(0, 1, true))
    );
    assert_eq!(r.on_frame(b"s", &data(4), t, peer), Action::Nothing);
    assert_eq!(feed(&mut r, b"s", &data(2), t), Some(2));
    assert_eq!(feed(&mut r, b"s", &data(3), t), Some(3));
    assert_eq!(r.counts().out_of_order, 2);
}

#[test]
fn a_reconnecting_sender_keeps_its_session_and_a_restarted_one_is_counted() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    r.on_frame(b"s1", &hello_of(5, 1), t, peer);
    feed(&mut r, b"s1", &data(1), t);
    r.record(1, 1);
    // New connection, same incarnation: the welcome says what arrived.
    assert_eq!(
        r.on_frame(b"s2", &hello_of(5, 1), t, peer),
        Action::Reply(welcome(1, 0, 1))
    );
    assert_eq!(feed(&mut r, b"s2", &data(1), t), None);
    assert_eq!(feed(&mut r, b"s2", &data(2), t), Some(2));
    // The old connection's frames no longer count once a new incarnation spoke.
    r.on_frame(b"s3", &hello_of(6, 1), t, peer);
    assert_eq!(r.counts().sender_restarts, 1);
    assert_eq!(feed(&mut r, b"s2", &data(3), t), None);
    assert_eq!(feed(&mut r, b"s3", &data(1), t), Some(1));
    assert!(r
        .take_notes()
        .contains(&Note::SenderRestarted { old: 5, new: 6 }));
}

#[test]
fn a_receiver_that_joins_mid_stream_says_so() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 2, Delivery::AtLeastOnce, 8);
    assert_eq!(
        r.on_frame(b"s", &hello_of(5, 40), t, peer),
        Action::Reply(welcome(2, 39, 39))
    );
    assert_eq!(r.take_notes(), vec![Note::Resumed { from: 40 }]);
    assert_eq!(feed(&mut r, b"s", &data(40), t), Some(40));
}

#[test]
fn end_is_acknowledged_once_everything_before_it_is_handled() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    r.on_frame(b"s", &hello_of(5, 1), t, peer);
    feed(&mut r, b"s", &data(1), t);
    r.record(1, 4);
    assert_eq!(r.on_frame(b"s", &end(2), t, peer), Action::End { seq: 2 });
    r.record(2, 0);
    r.poll_ack(3, t);
    assert!(!r.take_notes().contains(&Note::EndOfStream));
    assert_eq!(r.poll_ack(4, t).map(|x| x.1), Some(ack(2, 2, false)));
    assert_eq!(r.take_notes(), vec![Note::EndOfStream]);
}

#[test]
fn an_ended_stream_waits_for_bye_repeating_its_last_acknowledgement() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    r.on_frame(b"s", &hello_of(5, 1), t, peer);
    feed(&mut r, b"s", &data(1), t);
    r.record(1, 1);
    assert!(!r.awaiting_bye(), "not before the end");
    assert_eq!(
        r.on_frame(b"s", &bye(), t, peer),
        Action::Nothing,
        "a BYE before the end changes nothing"
    );
    r.on_frame(b"s", &end(2), t, peer);
    r.record(2, 0);
    assert_eq!(r.poll_ack(1, t).map(|x| x.1), Some(ack(2, 2, false)));
    assert!(r.awaiting_bye());
    let again = Some((b"s".to_vec(), ack(2, 2, false)));
    assert_eq!(r.repeat_final_ack(t), again, "the same acknowledgement");
    assert_eq!(r.repeat_final_ack(t), again, "as often as asked");
    assert_eq!(r.on_frame(b"s", &bye(), t, peer), Action::Nothing);
    assert!(!r.awaiting_bye());
    assert_eq!(r.counts().refused, 0);
}

#[test]
fn a_failed_acknowledgement_is_due_again() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    r.on_frame(b"s", &hello_of(5, 1), t, peer);
    feed(&mut r, b"s", &data(1), t);
    r.record(1, 1);
    r.on_frame(b"s", &end(2), t, peer);
    r.record(2, 0);
    assert!(r.poll_ack(1, t).is_some());
    assert!(!r.ack_due());
    r.ack_not_sent();
    assert!(r.ack_due());
    assert_eq!(r.poll_ack(1, t).map(|x| x.1), Some(ack(2, 2, false)));
}

#[test]
fn at_most_once_counts_gaps_as_lost_and_delivers_on() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtMostOnce, 8);
    r.on_frame(b"s", &hello_of(5, 1), t, peer);
    assert_eq!(feed(&mut r, b"s", &data(1), t), Some(1));
    assert_eq!(feed(&mut r, b"s", &data(4), t), Some(4));
    assert_eq!(r.counts().lost, 2);
    assert_eq!(r.take_notes(), vec![Note::Lost { count: 2 }]);
}

#[test]
fn a_batch_is_delivered_whole_and_a_resent_one_only_for_what_is_new() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    r.on_frame(b"s", &hello_of(5, 1), t, peer);
    assert_eq!(feed_all(&mut r, b"s", &batch(1, 4), t), vec![1, 2, 3, 4]);
    // After a reconnect the sender may resend a batch that overlaps.
    assert_eq!(feed_all(&mut r, b"s", &batch(3, 6), t), vec![5, 6]);
    assert_eq!(r.counts().duplicates, 2);
    assert_eq!(feed_all(&mut r, b"s", &batch(2, 6), t), Vec::<u64>::new());
    assert_eq!(r.counts().duplicates, 7);
    assert_eq!(feed_all(&mut r, b"s", &data(7), t), vec![7]);
    // One entry per pushed batch: handled when the wire finished it.
    for seq in 1..=7 {
        r.record(seq, if seq <= 4 { 4 } else { 7 });
    }
    assert_eq!(r.poll_ack(4, t).map(|x| x.1), Some(ack(4, 7, false)));
    assert_eq!(
        r.poll_ack(7, t + ACK_DELAY).map(|x| x.1),
        Some(ack(7, 7, false))
    );
}

#[test]
fn a_batch_past_a_gap_is_not_delivered_but_the_gap_asked_for() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    r.on_frame(b"s", &hello_of(5, 1), t, peer);
    assert_eq!(feed_all(&mut r, b"s", &batch(1, 2), t), vec![1, 2]);
    assert_eq!(
        r.on_frame(b"s", &batch(5, 8), t, peer),
        Action::Reply(ack(0, 2, true))
    );
    assert_eq!(r.counts().out_of_order, 4);
    assert_eq!(
        feed_all(&mut r, b"s", &batch(3, 8), t),
        vec![3, 4, 5, 6, 7, 8]
    );
}

#[test]
fn at_most_once_counts_a_gap_before_a_batch_as_lost() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtMostOnce, 8);
    r.on_frame(b"s", &hello_of(5, 1), t, peer);
    assert_eq!(feed_all(&mut r, b"s", &batch(1, 2), t), vec![1, 2]);
    assert_eq!(feed_all(&mut r, b"s", &batch(6, 7), t), vec![6, 7]);
    assert_eq!(r.counts().lost, 3);
    assert_eq!(feed_all(&mut r, b"s", &batch(7, 9), t), vec![8, 9]);
    assert_eq!(r.take_notes(), vec![Note::Lost { count: 3 }]);
}

#[test]
fn garbage_batches_from_a_known_sender_or_a_stranger_are_refused() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    let good = batch(1, 3);
    // A stranger's batch, whole or cut: refused, counted, never delivered.
    assert_eq!(
        r.on_frame(b"x", &good, t, peer),
        Action::Reply(frame::who())
    );
    assert_eq!(
        r.on_frame(b"x", &good[..good.len() - 1], t, peer),
        Action::Nothing
    );
    r.on_frame(b"s", &hello_of(5, 1), t, peer);
    for cut in [1, 9, 13, 14, good.len() - 1] {
        assert_eq!(feed_all(&mut r, b"s", &good[..cut], t), Vec::<u64>::new());
    }
    assert_eq!(r.counts().refused, 2 + 5);
    // The stream is not disturbed by them.
    assert_eq!(feed_all(&mut r, b"s", &good, t), vec![1, 2, 3]);
}

#[test]
fn a_hello_of_another_protocol_version_is_refused_with_the_reason() {
    let t = Instant::now();
    let mut r = Receiver::new(expect(), 1, Delivery::AtLeastOnce, 8);
    let mut old = hello_of(5, 1);
    old[1] = 1;
    let reason = BadFrame::Version { theirs: 1 }.to_string();
    assert_eq!(
        r.on_frame(b"s", &old, t, peer),
        Action::Reply(refused(&reason))
    );
    assert_eq!(
        r.take_notes(),
        vec![Note::Refused {
            peer: peer(),
            reason
        }]
    );
    assert_eq!(feed(&mut r, b"s", &data(1), t), None);
}
