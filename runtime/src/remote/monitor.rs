//! Closing a monitored socket safely: [`close_monitored`].
//!
//! libzmq sends socket-monitor events (`zmq_socket_monitor`) over an inproc
//! PAIR with a *blocking* send (`socket_base.cpp`, `monitor_event`), from
//! whichever of its threads saw the event. If the PAIR that reads them is gone
//! while the monitored socket can still report something (its close, its
//! peers' disconnects), that send can wait for a reader that will never come.
//! Seen here: with two monitored `zmq.proxy` actors stopping while other
//! proxies ran in the same process, messages stopped moving in the others
//! (`actors/tests/zmq/proxy.rs`, four of seven tests failing every run);
//! closing each monitored socket first and reading its monitor until libzmq
//! reports `MONITOR_STOPPED` made them pass every run.

use std::time::{Duration, Instant};

/// How long closing waits for a monitored socket's last monitor events, by
/// default.
pub const MONITOR_CLOSE: Duration = Duration::from_secs(1);

/// How long closing waits for a socket that lingers forever (`linger = -1`).
const LINGER_FOREVER_CAP: Duration = Duration::from_secs(60);

/// libzmq's `ZMQ_EVENT_MONITOR_STOPPED`: the last event a monitor sends.
const MONITOR_STOPPED: u16 = 0x0400;

/// Closes `socket`, then reads `monitor` (the PAIR reading its libzmq
/// monitor) until the monitor reports that it stopped or `within` (plus the
/// socket's linger, during which it still reports events) passes,
/// handing each event's parts to `sink`; then closes `monitor`.
pub fn close_monitored(
    socket: zmq::Socket,
    monitor: zmq::Socket,
    within: Duration,
    mut sink: impl FnMut(Vec<Vec<u8>>),
) {
    // A closed socket lingers (sending what it holds) and reports events
    // all that time (retries, failed handshakes): read them until it is gone.
    let within = match socket.get_linger() {
        Ok(ms) if ms > 0 => within + Duration::from_millis(ms as u64),
        Ok(ms) if ms < 0 => within.max(LINGER_FOREVER_CAP),
        _ => within,
    };
    drop(socket);
    let deadline = Instant::now() + within;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let mut item = [monitor.as_poll_item(zmq::POLLIN)];
        let wait_ms = i64::try_from(left.as_millis()).unwrap_or(i64::MAX).max(1);
        if zmq::poll(&mut item, wait_ms).is_err() || !item[0].is_readable() {
            continue;
        }
        let Ok(parts) = monitor.recv_multipart(zmq::DONTWAIT) else {
            continue;
        };
        let stopped = parts
            .first()
            .filter(|head| head.len() >= 2)
            .is_some_and(|head| u16::from_le_bytes([head[0], head[1]]) == MONITOR_STOPPED);
        sink(parts);
        if stopped {
            return;
        }
    }
    tracing::warn!("a socket monitor did not report its stop within {within:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitored(ctx: &zmq::Context, name: &str) -> (zmq::Socket, zmq::Socket) {
        let socket = ctx.socket(zmq::PULL).expect("socket");
        let endpoint = format!("inproc://rolecall-monitor-test-{name}");
        socket
            .monitor(&endpoint, zmq::SocketEvent::ALL as i32)
            .expect("monitor");
        let monitor = ctx.socket(zmq::PAIR).expect("pair");
        monitor.connect(&endpoint).expect("connect");
        (socket, monitor)
    }

    #[test]
    fn reads_up_to_the_monitor_stopped_event() {
        let ctx = zmq::Context::new();
        let (socket, monitor) = monitored(&ctx, "stopped");
        socket.bind("tcp://127.0.0.1:*").expect("bind");
        let mut raw = Vec::new();
        let started = Instant::now();
        close_monitored(socket, monitor, Duration::from_secs(5), |parts| {
            raw.push(u16::from_le_bytes([parts[0][0], parts[0][1]]));
        });
        assert!(started.elapsed() < Duration::from_secs(5), "stopped early");
        assert_eq!(raw.first(), Some(&0x0008), "LISTENING first: {raw:x?}");
        assert_eq!(raw.last(), Some(&MONITOR_STOPPED), "{raw:x?}");
    }
}
