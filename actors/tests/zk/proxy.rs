//! A TCP proxy in front of a ZooKeeper server whose link the test can cut
//! and mend: the deterministic way to make the server expire a session (no
//! traffic for its timeout) while the client lives on.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// Forwards every connection to `upstream` until cut.
pub(crate) struct Proxy {
    addr: String,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`
    /// (`host:port`; the first of a comma-separated list).
    pub(crate) fn to(upstream: &str) -> Proxy {
        let upstream = upstream.split(',').next().unwrap().to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = listener.local_addr().unwrap().to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (c, o) = (cut.clone(), open.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if c.load(Ordering::SeqCst) {
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
                copy(client.try_clone().unwrap(), server.try_clone().unwrap());
                copy(server, client);
            }
        });
        Proxy { addr, cut, open }
    }

    /// The address to give the client instead of the server's.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// Closes every forwarded connection and refuses new ones until
    /// [`Proxy::mend`]: client and server hear nothing of each other.
    pub(crate) fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            s.shutdown(Shutdown::Both).ok();
        }
    }

    /// Forwards new connections again.
    pub(crate) fn mend(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// Copies `from` to `to` on its own thread until either side ends.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        from.shutdown(Shutdown::Both).ok();
        to.shutdown(Shutdown::Both).ok();
    });
}
