//! Two socket loops on one thread: a device ([`super::super::Device`]).
//!
//! Each side is an ordinary [`Loop`] (its socket, its input wires, its
//! output, its monitor); the thread turns them in alternation and sleeps in
//! one `zmq_poll` over both. While one side waits for room on its output it
//! keeps the other side sending (its input wires may be what the consumer of
//! that output is waiting on). A side whose received messages go straight to
//! the other socket is paced by the queue into that socket
//! ([`Loop::room`]): when the other socket will not take more, it is not read.

use std::sync::atomic::Ordering;

use super::{Loop, Turn, TICK_MS};
use crate::remote::wake::{AWAKE, POLLING};

/// Runs both loops until both are done, then closes both sockets (a
/// monitored one with its monitor read to the end).
pub(in crate::remote) fn run_pair<T: Clone + Send + 'static>(mut sides: [Loop<T>; 2]) {
    let mut done = [false; 2];
    while done != [true; 2] {
        let mut idle = [None; 2];
        for i in 0..2 {
            if done[i] {
                continue;
            }
            let other_done = done[1 - i];
            let (me, other) = match &mut sides {
                [a, b] if i == 0 => (a, b),
                [a, b] => (b, a),
            };
            let turn = me.turn(&mut || {
                if !other_done {
                    let _ = other.send_some();
                    other.read_monitor();
                }
            });
            match turn {
                Turn::Done => done[i] = true,
                Turn::Busy => {}
                Turn::Idle { receives, want_out } => idle[i] = Some((receives, want_out)),
            }
        }
        let resting = |i: usize| done[i] || idle[i].is_some();
        if done != [true; 2] && resting(0) && resting(1) {
            wait(&mut sides, idle);
        }
    }
    let [mut a, mut b] = sides;
    a.report_quiet(None);
    b.report_quiet(None);
    a.close();
    b.close();
}

/// Sleeps until a side's socket is ready as asked, one of its queues wakes
/// it, a monitor has an event, or a tick passes.
fn wait<T>(sides: &mut [Loop<T>; 2], idle: [Option<(bool, bool)>; 2]) {
    let mut items = Vec::with_capacity(6);
    for (side, idle) in sides.iter().zip(idle) {
        let Some((receives, want_out)) = idle else {
            continue;
        };
        let mut events = zmq::PollEvents::empty();
        if receives {
            events |= zmq::POLLIN;
        }
        if want_out {
            events |= zmq::POLLOUT;
        }
        items.push(side.wake_rx.as_poll_item(zmq::POLLIN));
        items.push(side.socket.as_poll_item(events));
        if let Some(m) = &side.monitor {
            items.push(m.as_poll_item(zmq::POLLIN));
        }
    }
    for side in sides.iter() {
        side.wake.state.store(POLLING, Ordering::SeqCst);
    }
    // A wake since the last look at the queues: do not sleep (both flags
    // are consumed, so that neither is seen twice).
    let notified = [&sides[0], &sides[1]]
        .map(|side| side.wake.notified.swap(false, Ordering::SeqCst))
        .contains(&true);
    let terminated = !notified && zmq::poll(&mut items, TICK_MS) == Err(zmq::Error::ETERM);
    drop(items);
    for side in sides.iter_mut() {
        // Terminating the context waits for these sockets: close them.
        side.context_gone |= terminated;
        side.wake.state.store(AWAKE, Ordering::SeqCst);
        while side.wake_rx.recv_bytes(zmq::DONTWAIT).is_ok() {}
    }
}
