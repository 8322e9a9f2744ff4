//! Plain TCP sockets with no ZeroMQ: the course's factorial server (iterative
//! and concurrent) and a client that sends a number N times and prints each
//! round-trip time. See README.md: this is the contrast that motivates ZeroMQ
//! (framing, reconnects, concurrency and timeouts all written by hand).
//!
//!   cargo run --example tcp_factorial -- server --port 15580 [--concurrent]
//!   cargo run --example tcp_factorial -- client --port 15580 --number 20 --times 5
//!   cargo run --example tcp_factorial -- demo        (both, in one process)

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// n! as a decimal string (exact, with a simple big-number multiply).
fn factorial(n: u32) -> String {
    let mut digits: Vec<u32> = vec![1]; // little-endian base 10^9
    for k in 2..=n {
        let mut carry = 0u64;
        for d in digits.iter_mut() {
            let v = u64::from(*d) * u64::from(k) + carry;
            *d = (v % 1_000_000_000) as u32;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            digits.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    }
    let mut s = digits.last().map(|d| d.to_string()).unwrap_or_default();
    for d in digits.iter().rev().skip(1) {
        s.push_str(&format!("{d:09}"));
    }
    s
}

/// Serves one connection: each line is a number, each answer a line.
fn serve(stream: TcpStream) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    for line in BufReader::new(stream).lines() {
        let line = line?;
        let reply = match line.trim().parse::<u32>() {
            Ok(n) if n <= 10_000 => factorial(n),
            Ok(_) => "error: at most 10000".to_owned(),
            Err(_) => format!("error: `{}` is not a number", line.trim()),
        };
        writeln!(out, "{reply}")?;
    }
    Ok(())
}

fn server(port: u16, concurrent: bool, connections: Option<usize>) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!(
        "factorial server on 127.0.0.1:{port} ({})",
        if concurrent {
            "concurrent"
        } else {
            "iterative"
        }
    );
    let mut handles = Vec::new();
    for (i, stream) in listener.incoming().enumerate() {
        let stream = stream?;
        if concurrent {
            // One thread per client: a slow client no longer blocks the others.
            handles.push(std::thread::spawn(move || serve(stream)));
        } else {
            // One client at a time: the next waits until this one hangs up.
            serve(stream)?;
        }
        if connections.is_some_and(|c| i + 1 >= c) {
            break;
        }
    }
    for h in handles {
        let _ = h.join();
    }
    Ok(())
}

fn client(port: u16, number: u32, times: u32) -> std::io::Result<()> {
    // Hand-written retry: plain TCP fails if the server is not up yet.
    let deadline = Instant::now() + Duration::from_secs(5);
    let stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    };
    stream.set_nodelay(true)?;
    let mut out = stream.try_clone()?;
    let mut replies = BufReader::new(stream);
    for i in 0..times {
        let t = Instant::now();
        writeln!(out, "{number}")?;
        let mut reply = String::new();
        replies.read_line(&mut reply)?;
        println!(
            "{i}: {number}! = {} ({:.1} us)",
            reply.trim(),
            t.elapsed().as_secs_f64() * 1e6
        );
    }
    Ok(())
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = arg(&args, "--port")
        .and_then(|p| p.parse().ok())
        .unwrap_or(15580);
    let number = arg(&args, "--number")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20);
    let times = arg(&args, "--times")
        .and_then(|p| p.parse().ok())
        .unwrap_or(5);
    let concurrent = args.iter().any(|a| a == "--concurrent");
    match args.first().map(String::as_str) {
        Some("server") => server(port, concurrent, None),
        Some("client") => client(port, number, times),
        Some("demo") | None => {
            // Two clients against each server variant, in one process.
            for concurrent in [false, true] {
                let s = std::thread::spawn(move || server(port, concurrent, Some(2)));
                let clients: Vec<_> = (0..2)
                    .map(|_| std::thread::spawn(move || client(port, number, times)))
                    .collect();
                for c in clients {
                    c.join()
                        .map_err(|_| std::io::Error::other("client panicked"))??;
                }
                s.join()
                    .map_err(|_| std::io::Error::other("server panicked"))??;
            }
            Ok(())
        }
        Some(other) => {
            eprintln!("usage: tcp_factorial server|client|demo [--port P] [--concurrent] [--number N] [--times T] (got `{other}`)");
            std::process::exit(2);
        }
    }
}
