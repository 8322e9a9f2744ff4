//! Strangers at the pub/sub apps' open ports while a run goes on: raw bytes
//! that are not ZeroMQ (a megabyte of them, and a greeting announcing a huge
//! frame), a request that is not protobuf, one far too large, and a
//! subscriber nobody registered. The run delivers every publication, the
//! discovery answers the bad request with a refusal naming it, and every
//! process ends normally.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::pubsub::{background, completed, pubsub};
use crate::support::*;

const DISCOVERY: &str = "33891";
const PUBLISHER: &str = "33892";

/// Waits until something listens on `port` (up to 20 s).
fn listening(port: &str) {
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(format!("127.0.0.1:{port}")).is_err() {
        assert!(Instant::now() < until, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Raw TCP that is not ZeroMQ: a megabyte of 0xff, then a ZMTP-looking
/// greeting that announces a frame of 2^63 bytes.
fn raw_garbage(port: &str) {
    if let Ok(mut s) = TcpStream::connect(format!("127.0.0.1:{port}")) {
        let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
        let _ = s.write_all(&vec![0xff; 1 << 20]);
    }
    if let Ok(mut s) = TcpStream::connect(format!("127.0.0.1:{port}")) {
        let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
        let mut greeting = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0];
        greeting.extend([b'N', b'U', b'L', b'L']);
        greeting.resize(64, 0);
        greeting.extend([0x06, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        let _ = s.write_all(&greeting);
    }
}

/// A REQ stranger: its request's answer (within 3 s), if any.
fn ask(ctx: &zmq::Context, port: &str, request: &[u8]) -> Option<Vec<u8>> {
    let req = ctx.socket(zmq::REQ).unwrap();
    req.set_linger(0).unwrap();
    req.set_rcvtimeo(3000).unwrap();
    req.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    req.send(request, 0).unwrap();
    req.recv_bytes(0).ok()
}

#[test]
fn strangers_at_every_port_change_nothing_for_the_run() {
    let _discovery = background(&["discovery", "-P", "1", "-S", "1", "-p", DISCOVERY]);
    let d = format!("127.0.0.1:{DISCOVERY}");
    let publisher = {
        let d = d.clone();
        std::thread::spawn(move || {
            pubsub(&[
                "publisher",
                "-n",
                "pub1",
                "-a",
                "127.0.0.1",
                "-p",
                PUBLISHER,
                "--topics",
                "weather",
                "-i",
                "400",
                "-f",
                "50",
                "--pause-ms",
                "50",
                "-d",
                &d,
            ])
        })
    };
    let subscriber = {
        let d = d.clone();
        std::thread::spawn(move || {
            pubsub(&[
                "subscriber",
                "-n",
                "sub1",
                "--topics",
                "weather",
                "--stop-after",
                "400",
                "--idle-timeout-ms",
                "10000",
                "--pause-ms",
                "50",
                "-d",
                &d,
            ])
        })
    };
    listening(DISCOVERY);
    listening(PUBLISHER);
    for port in [DISCOVERY, PUBLISHER] {
        raw_garbage(port);
    }
    let ctx = zmq::Context::new();
    // Not protobuf: refused, with the reason.
    let answer = ask(&ctx, DISCOVERY, b"\xff\xfe not a discovery request")
        .expect("discovery answers a request it cannot decode");
    assert!(
        String::from_utf8_lossy(&answer).contains("malformed request"),
        "{answer:?}"
    );
    // Far too large (64 MiB): refused or dropped, never the end of discovery.
    let _ = ask(&ctx, DISCOVERY, &vec![0xab; 64 << 20]);
    // A subscriber nobody registered takes the publisher's stream too.
    let stranger = ctx.socket(zmq::SUB).unwrap();
    stranger.set_subscribe(b"").unwrap();
    stranger.set_rcvtimeo(10_000).unwrap();
    stranger
        .connect(&format!("tcp://127.0.0.1:{PUBLISHER}"))
        .unwrap();
    assert!(
        stranger.recv_bytes(0).is_ok(),
        "the stranger hears a publication"
    );
    drop(stranger);

    let sub = subscriber.join().unwrap();
    let log = stderr(&sub);
    assert!(sub.status.success(), "{log}");
    assert_eq!(completed(&log)["subscriber"].0, 400, "{log}");
    assert!(log.contains("lost 0, duplicates dropped 0"), "{log}");
    let publisher = publisher.join().unwrap();
    assert!(publisher.status.success(), "{}", stderr(&publisher));
    // Discovery still answers after all that.
    let answer = ask(&ctx, DISCOVERY, b"\x01").expect("discovery still answers");
    assert!(!answer.is_empty());
}
