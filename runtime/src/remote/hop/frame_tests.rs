//! Tests of `frame.rs`.

use super::*;

#[test]
fn every_frame_reads_back_as_written() {
    let h = Hello {
        topology: "two_nodes".into(),
        wiring: 0xfeed,
        wire: "a.out -> b.in".into(),
        node: "sensors".into(),
        incarnation: 42,
        first_unacked: 7,
    };
    assert_eq!(parse_to_receiver(&hello(&h)), Ok(ToReceiver::Hello(h)));
    assert_eq!(parse_to_receiver(&end(9)), Ok(ToReceiver::End { seq: 9 }));
    assert_eq!(parse_to_receiver(&bye()), Ok(ToReceiver::Bye));
    assert!(parse_to_receiver(&[BYE, 0]).is_err(), "BYE carries nothing");
    let mut d = Vec::new();
    data_header(5, &mut d);
    d.extend_from_slice(b"xyz");
    let Ok(ToReceiver::Messages(m)) = parse_to_receiver(&d) else {
        panic!("DATA did not read back");
    };
    assert_eq!(m.collect::<Vec<_>>(), vec![(5, &b"xyz"[..])]);
    assert_eq!(
        parse_to_sender(&welcome(1, 2, 3)),
        Ok(ToSender::Welcome {
            receiver: 1,
            handled: 2,
            received: 3
        })
    );
    assert_eq!(
        parse_to_sender(&ack(4, 5, true)),
        Ok(ToSender::Ack {
            handled: 4,
            received: 5,
            resend: true
        })
    );
    assert_eq!(parse_to_sender(&who()), Ok(ToSender::Who));
    assert_eq!(parse_to_sender(&gone()), Ok(ToSender::Gone));
    assert_eq!(
        parse_to_sender(&refused("no")),
        Ok(ToSender::Refused("no".into()))
    );
}

fn batch(first: u64, bodies: &[&[u8]]) -> Vec<u8> {
    let mut b = Vec::new();
    batch_header(first, bodies.len() as u32, &mut b);
    for body in bodies {
        batch_push(body, &mut b);
    }
    b
}

#[test]
fn a_batch_reads_back_as_its_messages_in_order() {
    let b = batch(41, &[b"a", b"", b"ccc"]);
    assert_eq!(
        b.len(),
        BATCH_HEADER + 3 * BATCH_PER_MESSAGE + 4,
        "the documented size"
    );
    let Ok(ToReceiver::Messages(mut m)) = parse_to_receiver(&b) else {
        panic!("BATCH did not read back");
    };
    assert_eq!((m.first_seq(), m.remaining(), m.last_seq()), (41, 3, 43));
    assert_eq!(m.size_hint(), (3, Some(3)));
    let all: Vec<_> = m.clone().collect();
    assert_eq!(
        all,
        vec![(41, &b"a"[..]), (42, &b""[..]), (43, &b"ccc"[..])]
    );
    // Dropping what the receiver already has.
    m.skip_to(43);
    assert_eq!(m.collect::<Vec<_>>(), vec![(43, &b"ccc"[..])]);
    let Ok(ToReceiver::Messages(mut m)) = parse_to_receiver(&b) else {
        panic!("BATCH did not read back");
    };
    m.skip_to(99);
    assert_eq!((m.remaining(), m.next()), (0, None));
}

#[test]
fn truncated_or_garbage_batches_are_errors_not_panics() {
    let good = batch(1, &[b"one", b"two"]);
    // Every truncation of a good batch, and every byte flipped.
    for len in 0..good.len() {
        assert!(parse_to_receiver(&good[..len]).is_err(), "cut at {len}");
    }
    for i in 1..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0xff;
        // Either an error or a batch whose lengths add up: never a panic.
        if let Ok(ToReceiver::Messages(m)) = parse_to_receiver(&bad) {
            let total: usize = m.clone().map(|(_, b)| b.len()).sum();
            assert!(total <= bad.len());
            assert_eq!(Iterator::count(m.clone()) as u64, m.remaining());
        }
    }
    let mut long = good.clone();
    long.push(0);
    assert!(parse_to_receiver(&long).is_err(), "bytes left over");
    let mut none = Vec::new();
    batch_header(1, 0, &mut none);
    assert!(parse_to_receiver(&none).is_err(), "no messages");
    let mut huge = Vec::new();
    batch_header(u64::MAX, 2, &mut huge);
    batch_push(b"a", &mut huge);
    batch_push(b"b", &mut huge);
    assert!(parse_to_receiver(&huge).is_err(), "overflowing sequence");
    let mut lying = Vec::new();
    batch_header(1, 1, &mut lying);
    lying.extend_from_slice(&u32::MAX.to_le_bytes());
    lying.extend_from_slice(b"short");
    assert!(parse_to_receiver(&lying).is_err(), "a length past the end");
    // Random bytes after a BATCH tag.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2000 {
        let mut f = vec![BATCH];
        for _ in 0..(x % 40) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            f.push(if x % 3 == 0 { 0 } else { x as u8 });
        }
        if let Ok(ToReceiver::Messages(m)) = parse_to_receiver(&f) {
            assert!(m.remaining() >= 1);
            assert_eq!(Iterator::count(m.clone()) as u64, m.remaining());
        }
    }
}

#[test]
fn a_hello_of_another_version_says_so() {
    let mut h = hello(&Hello {
        topology: "t".into(),
        wiring: 1,
        wire: "a.out -> b.in".into(),
        node: "a".into(),
        incarnation: 3,
        first_unacked: 1,
    });
    h[1] = 1;
    let e = parse_to_receiver(&h).unwrap_err();
    assert_eq!(e, BadFrame::Version { theirs: 1 });
    assert!(
        e.to_string().contains("version 1, this build speaks 4"),
        "{e}"
    );
}

#[test]
fn malformed_frames_are_errors_not_panics() {
    for f in [
        &[][..],
        &[END],
        &[END, 1, 2],
        &[HELLO, VERSION, 9],
        &[HELLO, 99],
        &[77],
    ] {
        assert!(parse_to_receiver(f).is_err(), "{f:?}");
    }
    let mut long = end(1);
    long.push(0);
    assert!(parse_to_receiver(&long).is_err());
    for f in [
        &[][..],
        &[ACK, 1],
        &[WELCOME],
        &[REFUSED, 5, 0, b'a'],
        &[WHO, 0],
    ] {
        assert!(parse_to_sender(f).is_err(), "{f:?}");
    }
}

#[test]
fn stamped_frames_carry_each_message_after_its_stamp() {
    let mut d = Vec::new();
    stamped_header(5, b"{\"s\":1}", &mut d);
    d.extend_from_slice(b"xyz");
    let Ok(ToReceiver::Messages(m)) = parse_to_receiver(&d) else {
        panic!("DATA* did not read back");
    };
    assert!(m.stamped());
    let bodies: Vec<_> = m.collect();
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        split_stamp(bodies[0].1),
        Some((&b"{\"s\":1}"[..], &b"xyz"[..]))
    );
    // A batch of stamped frames is stamped; one without a stamp has an empty one.
    let mut e = Vec::new();
    stamped_header(6, b"", &mut e);
    e.extend_from_slice(b"ab");
    let mut b = Vec::new();
    batch_header(5, 2, &mut b);
    b[0] = batch_tag(d[0]);
    batch_push(&d[DATA_HEADER..], &mut b);
    batch_push(&e[DATA_HEADER..], &mut b);
    let Ok(ToReceiver::Messages(m)) = parse_to_receiver(&b) else {
        panic!("BATCH* did not read back");
    };
    assert!(m.stamped());
    let split: Vec<_> = m.map(|(seq, body)| (seq, split_stamp(body))).collect();
    assert_eq!(
        split,
        vec![
            (5, Some((&b"{\"s\":1}"[..], &b"xyz"[..]))),
            (6, Some((&b""[..], &b"ab"[..])))
        ]
    );
    // Plain frames are not stamped; a stamp longer than its body is refused.
    let mut p = Vec::new();
    data_header(1, &mut p);
    assert_eq!(batch_tag(p[0]), BATCH);
    assert!(matches!(parse_to_receiver(&p), Ok(ToReceiver::Messages(m)) if !m.stamped()));
    assert_eq!(split_stamp(&[9, 0, 0, 0, 1]), None);
}
