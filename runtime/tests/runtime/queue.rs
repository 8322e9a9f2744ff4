//! The bounded wire queue: capacity, policies, counters, hand-back.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rolecall_runtime::wire::{Policy, Popped, PushError, Pushed, Queue};

fn filled(capacity: usize, policy: Policy, n: u32) -> Queue<u32> {
    let q = Queue::new(capacity, policy);
    q.add_sender();
    for i in 0..n {
        let _ = q.try_push(i);
    }
    q
}

fn drain(q: &Queue<u32>) -> Vec<u32> {
    let mut buf = VecDeque::new();
    let mut out = Vec::new();
    while let Popped::Items(n) = q.pop_batch(&mut buf, 16, None) {
        out.extend(buf.drain(..));
        q.settle(n, &mut VecDeque::new());
    }
    out
}

#[test]
fn block_policy_hands_the_message_back_when_full() {
    let q = filled(3, Policy::Block, 3);
    assert_eq!(q.try_push(99), Err(PushError::Full(99)));
    assert_eq!(q.len(), 3);
    assert_eq!(q.stats().dropped, 0);
    assert_eq!(drain(&q), vec![0, 1, 2]);
}

#[test]
fn drop_newest_keeps_the_oldest_and_counts() {
    let q = filled(3, Policy::DropNewest, 10);
    assert_eq!(q.stats().dropped, 7);
    assert_eq!(q.stats().accepted, 3);
    assert_eq!(drain(&q), vec![0, 1, 2]);
}

#[test]
fn drop_oldest_keeps_the_newest_and_counts() {
    let q = filled(3, Policy::DropOldest, 10);
    assert_eq!(q.stats().dropped, 7);
    assert_eq!(drain(&q), vec![7, 8, 9]);
}

#[test]
fn in_flight_messages_count_against_capacity_and_come_back_in_order() {
    let q = filled(4, Policy::Block, 4);
    let mut buf = VecDeque::new();
    assert_eq!(q.pop_batch(&mut buf, 3, None), Popped::Items(3));
    // Three taken but not handled: still no room.
    assert_eq!(q.try_push(50), Err(PushError::Full(50)));
    // One handled, two handed back (as a crashed consumer does).
    buf.pop_front();
    q.settle(1, &mut buf);
    assert_eq!(q.try_push(50), Ok(Pushed::Queued));
    assert_eq!(drain(&q), vec![1, 2, 3, 50]);
    assert_eq!(q.stats().delivered, 5);
}

#[test]
fn end_of_input_after_last_sender_and_drain() {
    let q = filled(4, Policy::Block, 2);
    q.remove_sender();
    let mut buf = VecDeque::new();
    assert_eq!(q.pop_batch(&mut buf, 8, None), Popped::Items(2));
    q.settle(2, &mut VecDeque::new());
    assert_eq!(q.pop_batch(&mut buf, 8, None), Popped::Ended);
}

#[test]
fn closed_consumer_refuses_and_counts_what_was_queued() {
    let q = filled(4, Policy::Block, 3);
    q.close_consumer();
    assert_eq!(q.try_push(7), Err(PushError::Closed(7)));
    assert_eq!(q.stats().dropped, 4);
}

#[test]
fn blocking_push_waits_for_room_and_times_out() {
    let q = filled(1, Policy::Block, 1);
    let start = Instant::now();
    let r = q.push_blocking(5, Some(Instant::now() + Duration::from_millis(30)));
    assert_eq!(r, Err(PushError::Full(5)));
    assert!(start.elapsed() >= Duration::from_millis(30));

    let q2 = q.clone();
    let consumer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        drain(&q2)
    });
    assert_eq!(q.push_blocking(6, None), Ok(Pushed::Queued));
    let mut got = consumer.join().expect("consumer thread");
    got.extend(drain(&q));
    assert_eq!(got, vec![0, 6]);
}

#[test]
fn memory_stays_bounded_under_a_flood() {
    for policy in [Policy::DropNewest, Policy::DropOldest] {
        let q = filled(64, policy, 100_000);
        assert_eq!(q.len(), 64);
        assert_eq!(q.stats().dropped, 100_000 - 64);
    }
}
