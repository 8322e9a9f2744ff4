//! A TCP proxy in front of a ZooKeeper server whose link the test can cut,
//! make one-way, and mend: deterministic ways to expire a session on the
//! server (cut for longer than its timeout) or on the client only (the
//! server's answers dropped while the client's requests and pings go on).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

const FORWARD: u8 = 0;
const CUT: u8 = 1;
const DROP_ANSWERS: u8 = 2;

/// Forwards every connection to its upstream server as the test says.
pub(crate) struct Proxy {
    addr: String,
    mode: Arc<AtomicU8>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`
    /// (`host:port`; the first of a comma-separated list).
    pub(crate) fn to(upstream: &str) -> Proxy {
        let upstream = upstream.split(',').next().unwrap().to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = listener.local_addr().unwrap().to_string();
        let mode = Arc::new(AtomicU8::new(FORWARD));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (m, o) = (mode.clone(), open.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if m.load(Ordering::SeqCst) == CUT {
                    // Refused while cut: the client sees a lost connection.
                    client.shutdown(Shutdown::Both).ok();
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut open = o.lock().unwrap();
                open.push(client.try_clone().unwrap());
                open.push(server.try_clone().unwrap());
                copy(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    None,
                );
                copy(server, client, Some(m.clone()));
            }
        });
        Proxy { addr, mode, open }
    }

    /// The address to give the client instead of the server's.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// Closes every forwarded connection and refuses new ones until
    /// [`Proxy::mend`]: client and server hear nothing of each other.
    pub(crate) fn cut(&self) {
        self.mode.store(CUT, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            s.shutdown(Shutdown::Both).ok();
        }
    }

    /// From now until [`Proxy::mend`] the server's bytes are dropped: the
    /// server hears the client, the client hears nothing.
    pub(crate) fn drop_answers(&self) {
        self.mode.store(DROP_ANSWERS, Ordering::SeqCst);
    }

    /// Forwards both ways again (new connections; a cut one stays closed).
    pub(crate) fn mend(&self) {
        self.mode.store(FORWARD, Ordering::SeqCst);
    }
}

/// Copies `from` to `to` on its own thread until either side ends; with
/// `answers`, the bytes are dropped while it says [`DROP_ANSWERS`].
fn copy(mut from: TcpStream, mut to: TcpStream, answers: Option<Arc<AtomicU8>>) {
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        let mut lost = false;
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if let Some(mode) = &answers {
                if mode.load(Ordering::SeqCst) == DROP_ANSWERS {
                    lost = true;
                    continue;
                }
                if lost {
                    break; // a stream with a gap cannot go on: close it
                }
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        from.shutdown(Shutdown::Both).ok();
        to.shutdown(Shutdown::Both).ok();
    });
}
