use bytes::Bytes;
use rolecall_codecs::{Binary, Codec, Json};

use super::{Frame, Frames};

/// What the derived serde wrote before: a sequence of sequences of u8.
#[derive(serde::Serialize)]
struct Plain<'a>(&'a Vec<Vec<u8>>);

fn samples() -> Vec<Frames> {
    vec![
        Frames::default(),
        Frames::one(Vec::new()),
        Frames::text("hello"),
        Frames::from(vec![b"id".to_vec(), Vec::new()]),
        Frames::from(vec![b"id".to_vec(), Vec::new(), (0..=255).collect()]),
        Frames::one(vec![7; 300]),
    ]
}

#[test]
fn frames_encode_as_before_in_every_serde_codec_and_read_back() {
    for f in samples() {
        let plain_frames = f.clone().into_vecs();
        for codec in [&Binary as &dyn Codec<Frames>, &Json] {
            let mut ours = Vec::new();
            codec.encode(&f, &mut ours).expect("encode");
            let mut plain = Vec::new();
            match codec.name() {
                "binary" => plain = postcard::to_stdvec(&Plain(&plain_frames)).expect("postcard"),
                _ => serde_json::to_writer(&mut plain, &Plain(&plain_frames)).expect("json"),
            }
            assert_eq!(ours, plain, "{} of {f:?}", codec.name());
            assert_eq!(codec.decode(&ours).expect("decode"), f);
        }
    }
}

#[test]
fn bad_frames_are_decode_errors() {
    let json: &dyn Codec<Frames> = &Json;
    for bad in [&b"[[256]]"[..], b"[1]", b"[[1,2]", b"{}"] {
        assert!(
            json.decode(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let binary: &dyn Codec<Frames> = &Binary;
    // One frame said to be 5 bytes long, 2 there.
    assert!(binary.decode(&[1, 5, 1, 2]).is_err());
}

#[test]
fn frames_decoded_from_a_shared_buffer_are_views_of_it() {
    let f = Frames::from(vec![b"envelope".to_vec(), vec![9; 64]]);
    let mut encoded = Vec::new();
    Codec::<Frames>::encode(&Binary, &f, &mut encoded).expect("encode");
    let source = Bytes::from(encoded);
    let decoded: Frames = rolecall_codecs::shared::decode_in(&source, || {
        Codec::<Frames>::decode(&Binary, &source).expect("decode")
    });
    assert_eq!(decoded, f);
    let range = source.as_ptr() as usize..source.as_ptr() as usize + source.len();
    for frame in decoded.iter() {
        assert!(
            range.contains(&(frame.as_ptr() as usize)),
            "{frame:?} was copied"
        );
    }
    // Detached, the message no longer points into the buffer.
    let kept = decoded.detached();
    assert_eq!(kept, f);
    assert!(kept
        .iter()
        .all(|frame| !range.contains(&(frame.as_ptr() as usize))));
    // Without a shared source the same bytes are copied.
    let copied: Frames = Codec::<Frames>::decode(&Binary, &source).expect("decode");
    assert!(!range.contains(&(copied[1].as_ptr() as usize)));
}

#[test]
fn frames_hold_one_or_two_inline_and_more_in_a_list() {
    let mut f = Frames::new();
    assert!(f.is_empty());
    assert_eq!(f.body(), b"");
    for (i, part) in [&b"a"[..], b"bb", b"ccc", b"dddd"].into_iter().enumerate() {
        f.push(part);
        assert_eq!(f.len(), i + 1);
        assert_eq!(f.body(), part);
        assert_eq!(f[0], b"a");
    }
    let collected: Frames = f.iter().cloned().collect();
    assert_eq!(collected, f);
    assert_eq!(
        f.clone().into_vecs(),
        vec![
            b"a".to_vec(),
            b"bb".to_vec(),
            b"ccc".to_vec(),
            b"dddd".to_vec()
        ]
    );
    f[3] = Frame::from("e");
    assert_eq!(f.body(), b"e");
}

#[test]
fn frames_moved_out_come_in_order_whether_inline_or_listed() {
    let parts = [&b"a"[..], b"bb", b"ccc", b"dddd"];
    for n in 0..=parts.len() {
        let f: Frames = parts[..n].iter().map(|p| Frame::from(*p)).collect();
        let it = f.clone().into_iter();
        assert_eq!(it.size_hint(), (n, Some(n)), "{n} frames");
        let out: Vec<Frame> = it.collect();
        assert_eq!(out, f.frames(), "{n} frames");
        // The bytes move, not copied: the first frame is the same buffer.
        if let (Some(a), Some(b)) = (out.first(), f.first()) {
            assert_eq!(a.bytes().as_ptr(), b.bytes().as_ptr());
        }
    }
}

#[test]
fn a_cloned_frame_shares_its_bytes() {
    let a = Frame::from(vec![1u8; 64]);
    let b = a.clone();
    assert_eq!(a.as_ptr(), b.as_ptr());
    let c = b.detached();
    assert_ne!(c.as_ptr(), a.as_ptr());
    assert_eq!(c, a);
    // The only holder of a frame made from a vector gets it back without a copy.
    let v = vec![5u8; 100];
    let at = v.as_ptr();
    let back = Frame::from(v).into_vec();
    assert_eq!(back.as_ptr(), at);
}

#[test]
fn a_large_received_frame_shares_its_zmq_message_and_a_small_one_is_copied() {
    let mut large = zmq::Message::from(&vec![9u8; 8193][..]);
    let at = large.as_ptr();
    let f = Frame::received(&mut large);
    assert_eq!(f.as_ptr(), at, "no copy of a large frame");
    assert!(large.is_empty(), "the frame took the message's buffer");
    assert_eq!(f.clone().as_ptr(), at, "its clones share it too");
    assert_eq!(f, vec![9u8; 8193]);
    assert_eq!(f.detached(), f);
    assert_ne!(f.detached().as_ptr(), at);
    for n in [0, 1, 33, 256, 8192] {
        let mut small = zmq::Message::from(&vec![n as u8; n][..]);
        let f = Frame::received(&mut small);
        assert_eq!(f, vec![n as u8; n], "{n} bytes");
        assert_eq!(
            small.len(),
            n,
            "a copied frame leaves its message as it was"
        );
    }
}

#[test]
fn a_static_frame_points_at_its_bytes_and_so_do_its_clones() {
    static PAYLOAD: [u8; 5] = *b"hello";
    let frame = Frame::from_static(&PAYLOAD);
    let copy = frame.clone();
    assert_eq!(frame, &b"hello"[..]);
    assert_eq!(frame.as_ptr(), PAYLOAD.as_ptr(), "not copied");
    assert_eq!(copy.as_ptr(), PAYLOAD.as_ptr(), "a clone shares the bytes");
    assert_eq!(Frames::one(copy).body(), &b"hello"[..]);
}

#[test]
fn small_received_frames_share_a_buffer_and_each_reads_its_own_bytes() {
    // Sizes from empty to the largest that shares, so that buffers fill
    // part-way and new ones start.
    let sizes: Vec<usize> = (0..2000).map(|i| (i * 37) % 513).collect();
    let frames: Vec<(usize, Frame)> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let mut m = zmq::Message::from(&vec![(i % 251) as u8; n][..]);
            (i, Frame::received(&mut m))
        })
        .collect();
    for ((i, f), &n) in frames.iter().zip(&sizes) {
        assert_eq!(f.len(), n, "frame {i}");
        assert!(f.iter().all(|&b| b == (i % 251) as u8), "frame {i}");
    }
    // Neighbours lie side by side in a buffer, but where one filled up.
    let side_by_side = frames
        .windows(2)
        .filter(|w| w[0].1.as_ptr() as usize + w[0].1.len() == w[1].1.as_ptr() as usize)
        .count();
    let buffers = sizes.iter().sum::<usize>() / 4096 + 1;
    assert!(
        side_by_side >= frames.len() - 1 - 2 * buffers,
        "{side_by_side}"
    );
    // Kept alone, a frame is copied out of the shared buffer.
    let kept = frames[1].1.detached();
    assert_eq!(kept, frames[1].1);
    assert_ne!(kept.as_ptr(), frames[1].1.as_ptr());
    // Frames outlive the buffer's other frames and the thread's next buffers.
    let survivor = frames[1999].1.clone();
    drop(frames);
    for _ in 0..100 {
        let _ = Frame::received(&mut zmq::Message::from(&[0u8; 500][..]));
    }
    assert_eq!(survivor.len(), sizes[1999]);
    assert!(survivor.iter().all(|&b| b == (1999 % 251) as u8));
}

#[test]
fn received_frames_are_whole_when_another_thread_drops_them() {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Frame>(64);
    let consumer = std::thread::spawn(move || {
        let mut n = 0u64;
        for f in rx {
            assert_eq!(f.len(), 64);
            assert!(f.iter().all(|&b| b == f[0]), "frame {n}");
            n += 1;
        }
        n
    });
    for i in 0..20_000u32 {
        let mut m = zmq::Message::from(&[(i % 256) as u8; 64][..]);
        tx.send(Frame::received(&mut m)).expect("consumer alive");
    }
    drop(tx);
    assert_eq!(consumer.join().expect("consumer"), 20_000);
}
