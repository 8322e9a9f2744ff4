//! Garbage from a raw ZeroMQ peer into a decoding path (`zmq.pull` →
//! `topic.decode`): every good message still arrives, in order, and every
//! bad frame is counted on `rejected`.

use rolecall_codecs::{CodecRegistry as Codecs, Topic};

use super::*;

#[actix_rt::test]
async fn garbage_frames_are_rejected_and_good_messages_flow_on() {
    let mut n = node(
        r#"
        [actors.pull]
        kind = "zmq.pull"
        params = { bind = ["tcp://127.0.0.1:16026"] }
        [actors.decode]
        kind = "topic.decode"
        params = { format = "flatbuffers" }
        [[wires]]
        from = "pull.out"
        to = "decode.in"
        "#,
    );
    let mut good = n
        .tap::<Topic>("decode.out", WireConfig::default())
        .expect("tap");
    let mut rejected = n
        .tap::<Frames>("decode.rejected", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");

    let codec = Codecs::with_builtin()
        .get::<Topic>("flatbuffers")
        .expect("flatbuffers codec");
    let encode = |seq_no: u32| {
        let mut bytes = Vec::new();
        codec
            .encode(
                &Topic {
                    seq_no,
                    ts: 1.5,
                    name: "weather".into(),
                    data: vec![seq_no; 4],
                },
                &mut bytes,
            )
            .expect("encodes");
        bytes
    };
    let valid = encode(0);
    let garbage: Vec<Vec<u8>> = vec![
        Vec::new(),                        // empty
        b"not a flatbuffer".to_vec(),      // text
        valid[..valid.len() / 2].to_vec(), // truncated
        vec![0xff; 64],                    // offsets pointing nowhere
        {
            // A valid buffer with its root offset bent out of range.
            let mut v = valid.clone();
            v[0] = 0xf0;
            v[1] = 0xff;
            v
        },
    ];
    let peer = rolecall_actors::zmq::io::context()
        .socket(zmq::PUSH)
        .expect("socket");
    peer.connect("tcp://127.0.0.1:16026").expect("connect");
    for seq in 0..50u32 {
        peer.send(encode(seq), 0).expect("send");
        if seq % 10 == 5 {
            peer.send(garbage[(seq / 10) as usize].clone(), 0)
                .expect("send");
        }
    }
    let mut seqs = Vec::new();
    while seqs.len() < 50 {
        match actix_rt::time::timeout(Duration::from_secs(5), good.recv()).await {
            Ok(Some(t)) => seqs.push(t.seq_no),
            _ => break,
        }
    }
    assert_eq!(
        seqs,
        (0..50).collect::<Vec<u32>>(),
        "every good message, in order"
    );
    let mut bad = Vec::new();
    while let Ok(Some(f)) =
        actix_rt::time::timeout(Duration::from_millis(300), rejected.recv()).await
    {
        bad.push(f.into_vecs().concat());
    }
    assert_eq!(bad, garbage, "every bad frame rejected, once, as it came");
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}

/// A peer that sends a frame over `max_message_size` is disconnected by
/// libzmq (seen on the monitor port) and its frame never reaches `out`;
/// another peer's messages, before and after, all arrive in order.
#[actix_rt::test]
async fn an_oversize_sender_is_disconnected_and_other_peers_are_served_on() {
    let mut n = node(
        r#"
        [actors.pull]
        kind = "zmq.pull"
        params = { bind = ["tcp://127.0.0.1:16027"], max_message_size = 1024, monitor = true }
        "#,
    );
    let mut out = n
        .tap::<Frames>("pull.out", WireConfig::default())
        .expect("tap");
    let mut events = n
        .tap::<SocketEvent>("pull.monitor", WireConfig::default())
        .expect("tap");
    let running = n.start().await.expect("start");

    let ctx = zmq::Context::new();
    let good = ctx.socket(zmq::PUSH).expect("socket");
    good.set_linger(0).expect("linger");
    good.connect("tcp://127.0.0.1:16027").expect("connect");
    for i in 0..25u32 {
        good.send(format!("good {i}").as_bytes(), 0).expect("send");
    }
    let mut got = Vec::new();
    while got.len() < 25 {
        got.push(text(&recv(&mut out).await).concat());
    }

    let big = ctx.socket(zmq::PUSH).expect("socket");
    big.set_linger(0).expect("linger");
    big.connect("tcp://127.0.0.1:16027").expect("connect");
    big.send(vec![b'x'; 4096], 0)
        .expect("send the oversize frame");
    // libzmq closes the oversize peer's connection: Disconnected on the monitor.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut disconnected = false;
    while !disconnected && std::time::Instant::now() < deadline {
        match actix_rt::time::timeout(Duration::from_millis(500), events.recv()).await {
            Ok(Some(e)) => disconnected = e.kind == EventKind::Disconnected,
            Ok(None) => break,
            Err(_) => {}
        }
    }
    assert!(disconnected, "the oversize sender was disconnected");

    for i in 25..50u32 {
        good.send(format!("good {i}").as_bytes(), 0).expect("send");
    }
    while got.len() < 50 {
        got.push(text(&recv(&mut out).await).concat());
    }
    let want: Vec<String> = (0..50).map(|i| format!("good {i}")).collect();
    assert_eq!(got, want, "every message of the good peer, in order");
    assert!(
        actix_rt::time::timeout(Duration::from_millis(300), out.recv())
            .await
            .is_err(),
        "nothing of the oversize peer got through"
    );
    running.shutdown();
    assert_eq!(running.wait().await, NodeExit::Completed);
}
