//! `rolecall node --health ADDR`: a tiny HTTP endpoint for container probes.
//! `GET /healthz` answers 503 until the node has started, then 200; any
//! other path 404. One thread, one connection at a time, each bounded by a
//! 2-second timeout and a 1 KiB request.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Set once the node has started.
#[derive(Debug, Clone, Default)]
pub(super) struct Ready(Arc<AtomicBool>);

impl Ready {
    pub(super) fn set(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Binds `addr` and serves probes on a background thread.
pub(super) fn serve(addr: &str) -> std::io::Result<Ready> {
    let listener = TcpListener::bind(addr)?;
    let ready = Ready::default();
    let flag = ready.clone();
    std::thread::Builder::new()
        .name("health".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                answer(stream, &flag);
            }
        })?;
    Ok(ready)
}

fn answer(mut stream: TcpStream, ready: &Ready) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 1024];
    let mut len = 0;
    while len < buf.len() {
        match stream.read(&mut buf[len..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
        if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") || buf[..len].contains(&b'\n') {
            break;
        }
    }
    let request = String::from_utf8_lossy(&buf[..len]);
    let path = request.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = match path {
        "/healthz" if ready.0.load(Ordering::Acquire) => ("200 OK", "ok\n"),
        "/healthz" => ("503 Service Unavailable", "starting\n"),
        _ => ("404 Not Found", "not found\n"),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
