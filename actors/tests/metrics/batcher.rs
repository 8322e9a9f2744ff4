//! The batcher with a fake clock: size and time triggers, the bound and exact
//! drop counts, retries with backoff, refused batches.

use std::time::{Duration, Instant};

use rolecall_actors::metrics::batcher::{Batch, Batcher, Config, ConfigError, Failure, Poll};

fn config() -> Config {
    Config::default()
        .batch_size(3)
        .flush_interval(Duration::from_millis(100))
        .capacity(5)
        .retry(Duration::from_millis(10), Duration::from_millis(50))
}

fn line(i: usize) -> String {
    format!("m v={i}i {i}\n")
}

#[test]
fn writes_a_batch_when_full_or_when_its_oldest_line_is_due() {
    let t0 = Instant::now();
    let mut b = Batcher::new(config());
    assert_eq!(b.poll(t0), Poll::Idle);
    b.push(&line(0), t0);
    assert_eq!(b.poll(t0), Poll::WaitUntil(t0 + Duration::from_millis(100)));
    b.push(&line(1), t0 + Duration::from_millis(10));
    b.push(&line(2), t0 + Duration::from_millis(20));
    let Poll::Write(batch) = b.poll(t0 + Duration::from_millis(20)) else {
        panic!("a full batch is due");
    };
    assert_eq!(batch.lines, 3);
    assert_eq!(
        batch.body,
        format!("{}{}{}", line(0), line(1), line(2)).as_bytes()
    );
    assert_eq!(b.poll(t0 + Duration::from_millis(30)), Poll::InFlight);
    b.written(batch.id);
    b.push(&line(3), t0 + Duration::from_millis(40));
    assert!(matches!(
        b.poll(t0 + Duration::from_millis(139)),
        Poll::WaitUntil(_)
    ));
    let Poll::Write(late) = b.poll(t0 + Duration::from_millis(140)) else {
        panic!("due after the flush interval");
    };
    assert_eq!(late.lines, 1);
    b.written(late.id);
    let s = b.stats();
    assert_eq!((s.accepted, s.written, s.buffered, s.dropped), (4, 4, 0, 0));
}

#[test]
fn drops_beyond_the_bound_and_counts_exactly() {
    let t0 = Instant::now();
    let mut b = Batcher::new(config());
    for i in 0..3 {
        assert!(b.push(&line(i), t0));
    }
    let Poll::Write(batch) = b.poll(t0) else {
        panic!("due");
    };
    // 3 in flight + 2 buffered = capacity 5; the next 4 are dropped.
    let kept: usize = (3..9).map(|i| b.push(&line(i), t0) as usize).sum();
    assert_eq!(kept, 2);
    let s = b.stats();
    assert_eq!(
        (s.in_flight, s.buffered, s.dropped, s.accepted),
        (3, 2, 4, 5)
    );
    b.written(batch.id);
    assert!(b.push(&line(9), t0));
    assert_eq!(b.stats().dropped, 4);
}

#[test]
fn retries_the_same_batch_with_doubling_capped_backoff() {
    let t0 = Instant::now();
    let mut b = Batcher::new(config());
    for i in 0..3 {
        b.push(&line(i), t0);
    }
    let Poll::Write(batch) = b.poll(t0) else {
        panic!("due");
    };
    let mut now = t0;
    let mut delays = Vec::new();
    for _ in 0..5 {
        let d = b.failed(batch.id, Failure::Retry, now).expect("retry");
        delays.push(d.as_millis());
        assert_eq!(
            b.poll(now + d - Duration::from_millis(1)),
            Poll::WaitUntil(now + d)
        );
        now += d;
        let Poll::Write(again) = b.poll(now) else {
            panic!("retry due");
        };
        assert_eq!(again, batch, "the same batch, in order");
    }
    assert_eq!(delays, vec![10, 20, 40, 50, 50]);
    b.written(batch.id);
    let s = b.stats();
    assert_eq!((s.written, s.retries), (3, 5));
    // after a success the backoff starts over
    for i in 0..3 {
        b.push(&line(i), now);
    }
    let Poll::Write(next) = b.poll(now) else {
        panic!("due");
    };
    assert_eq!(
        b.failed(next.id, Failure::Retry, now),
        Some(Duration::from_millis(10))
    );
}

#[test]
fn a_refused_batch_is_dropped_and_counted_as_rejected() {
    let t0 = Instant::now();
    let mut b = Batcher::new(config());
    for i in 0..3 {
        b.push(&line(i), t0);
    }
    let Poll::Write(batch) = b.poll(t0) else {
        panic!("due");
    };
    assert_eq!(b.failed(batch.id, Failure::Reject, t0), None);
    // a late outcome for an old id changes nothing
    b.written(batch.id);
    let s = b.stats();
    assert_eq!((s.rejected, s.written, s.in_flight), (3, 0, 0));
    assert!(b.is_empty());
}

#[test]
fn flush_writes_partial_batches_at_once() {
    let t0 = Instant::now();
    let mut b = Batcher::new(config());
    b.push(&line(0), t0);
    b.flush();
    let Poll::Write(batch) = b.poll(t0) else {
        panic!("flush writes at once");
    };
    assert_eq!(batch.lines, 1);
    b.written(batch.id);
    assert_eq!(b.poll(t0), Poll::Idle);
    // the flush is over: a new line waits for a full batch or its interval again
    b.push(&line(1), t0);
    assert_eq!(b.poll(t0), Poll::WaitUntil(t0 + Duration::from_millis(100)));
}

#[test]
fn config_is_validated() {
    assert_eq!(
        config().batch_size(0).validate(),
        Err(ConfigError::ZeroBatch)
    );
    assert!(matches!(
        config().capacity(2).validate(),
        Err(ConfigError::CapacityBelowBatch { .. })
    ));
    assert_eq!(
        config()
            .retry(Duration::ZERO, Duration::from_secs(1))
            .validate(),
        Err(ConfigError::Retry)
    );
    assert_eq!(config().validate(), Ok(()));
}

#[test]
fn push_with_encodes_in_place_and_skips_encoding_when_there_is_no_room() {
    let t0 = Instant::now();
    let mut b = Batcher::new(config());
    let encoded = |i: usize| {
        move |body: &mut String| -> Result<(), ()> {
            body.push_str(&line(i));
            Ok(())
        }
    };
    assert_eq!(b.push_with(t0, encoded(0)), Ok(true));
    // A failing encoder: nothing counted, the batch in the making unchanged.
    assert_eq!(
        b.push_with(t0, |_: &mut String| Err("bad point")),
        Err("bad point")
    );
    for i in 1..5 {
        assert_eq!(b.push_with(t0, encoded(i)), Ok(true));
    }
    // Capacity 5 reached: the encoder must not even run.
    assert_eq!(
        b.push_with(t0, |_: &mut String| -> Result<(), ()> {
            panic!("encoded a point that had no room")
        }),
        Ok(false)
    );
    let s = b.stats();
    assert_eq!((s.accepted, s.buffered, s.dropped), (5, 5, 1));
    let Poll::Write(batch) = b.poll(t0) else {
        panic!("a full batch is due");
    };
    assert_eq!(
        batch.body,
        format!("{}{}{}", line(0), line(1), line(2)).as_bytes()
    );
}

fn staging() -> Config {
    config().capacity(9)
}

/// Pushes lines `from..to` at `t`.
fn push_lines(b: &mut Batcher, from: usize, to: usize, t: Instant) {
    for i in from..to {
        assert!(b.push(&line(i), t), "line {i} taken");
    }
}

/// Pushes `lines` lines (at least two batches' worth) and takes the first
/// batch to write and the second to stage.
fn written_and_staged(b: &mut Batcher, lines: usize, t: Instant) -> (Batch, Batch) {
    push_lines(b, 0, lines, t);
    let Poll::Write(first) = b.poll(t) else {
        panic!("a full batch is due");
    };
    let Poll::Stage(second) = b.poll(t) else {
        panic!("the next full batch is staged");
    };
    (first, second)
}

fn body(from: usize, to: usize) -> Vec<u8> {
    (from..to).map(line).collect::<String>().into_bytes()
}

#[test]
fn the_next_full_batch_is_staged_behind_the_one_in_flight_and_follows_it() {
    let t0 = Instant::now();
    let mut b = Batcher::new(staging());
    push_lines(&mut b, 0, 3, t0);
    let Poll::Write(first) = b.poll(t0) else {
        panic!("a full batch is due");
    };
    push_lines(&mut b, 3, 5, t0);
    assert_eq!(b.poll(t0), Poll::InFlight, "a partial batch is not staged");
    push_lines(&mut b, 5, 6, t0);
    let Poll::Stage(second) = b.poll(t0) else {
        panic!("a full batch is staged");
    };
    assert_eq!(second.body, body(3, 6));
    assert_eq!(b.poll(t0), Poll::InFlight, "one staged at a time");
    assert_eq!(b.stats().in_flight, 6);
    b.written(first.id);
    let s = b.stats();
    assert_eq!(
        (s.written, s.in_flight),
        (3, 3),
        "the staged batch is in flight"
    );
    b.written(second.id);
    let s = b.stats();
    assert_eq!(
        (s.accepted, s.written, s.in_flight, s.buffered),
        (6, 6, 0, 0)
    );
    assert!(b.is_empty());
}

#[test]
fn after_a_failure_the_retry_goes_first_and_the_staged_batch_is_staged_again() {
    let t0 = Instant::now();
    let mut b = Batcher::new(staging());
    let (first, second) = written_and_staged(&mut b, 6, t0);
    let delay = b.failed(first.id, Failure::Retry, t0).expect("retried");
    // The writer's answer for the staged batch: not started.
    b.not_started(second.id);
    assert_eq!(b.poll(t0), Poll::WaitUntil(t0 + delay));
    let Poll::Write(again) = b.poll(t0 + delay) else {
        panic!("the retry is due");
    };
    assert_eq!(again, first, "the same batch first");
    let Poll::Stage(restaged) = b.poll(t0 + delay) else {
        panic!("staged again behind the retry");
    };
    assert_eq!(restaged.body, second.body);
    assert_ne!(
        restaged.id, second.id,
        "a new id: a late answer for the old one is stale"
    );
    b.written(second.id);
    assert_eq!(b.stats().written, 0, "a stale id changes nothing");
    b.written(first.id);
    b.written(restaged.id);
    let s = b.stats();
    assert_eq!((s.written, s.retries, s.in_flight), (6, 1, 0));
    assert!(b.is_empty());
}

#[test]
fn after_a_refused_batch_the_staged_one_is_written_next() {
    let t0 = Instant::now();
    let mut b = Batcher::new(staging());
    let (first, second) = written_and_staged(&mut b, 9, t0);
    assert_eq!(b.failed(first.id, Failure::Reject, t0), None);
    b.not_started(second.id);
    let Poll::Write(next) = b.poll(t0) else {
        panic!("the staged batch goes next");
    };
    assert_eq!(next.body, body(3, 6), "before the lines buffered after it");
    let Poll::Stage(third) = b.poll(t0) else {
        panic!("the batch after it is staged");
    };
    assert_eq!(third.body, body(6, 9));
    b.written(next.id);
    b.written(third.id);
    let s = b.stats();
    assert_eq!((s.rejected, s.written, s.in_flight), (3, 6, 0));
    assert!(b.is_empty());
}

#[test]
fn a_staged_batch_answered_first_means_the_one_before_it_was_written() {
    let t0 = Instant::now();
    let mut b = Batcher::new(staging());
    let (first, second) = written_and_staged(&mut b, 6, t0);
    b.written(second.id);
    assert_eq!(b.stats().written, 6);
    b.written(first.id);
    assert_eq!(b.stats().written, 6, "the late answer counts nothing twice");
    assert!(b.is_empty());
}

#[test]
fn a_staged_batch_the_writer_could_not_take_is_staged_or_written_again() {
    let t0 = Instant::now();
    let mut b = Batcher::new(staging());
    let (first, second) = written_and_staged(&mut b, 6, t0);
    // Refused while the batch before it is in flight: not offered again at
    // every poll (a writer that cannot take it would be asked endlessly).
    assert!(
        !b.not_started(second.id),
        "the batch before it is in flight"
    );
    assert_eq!(b.poll(t0), Poll::InFlight);
    b.written(first.id);
    let Poll::Write(next) = b.poll(t0) else {
        panic!("written once the batch before it is");
    };
    assert_eq!(next.body, second.body);
    b.written(next.id);
    assert_eq!(b.stats().written, 6);
    assert!(b.is_empty());

    // Refused again behind a retry: staged again behind the next attempt.
    let (first, second) = written_and_staged(&mut b, 6, t0);
    b.not_started(second.id);
    let delay = b.failed(first.id, Failure::Retry, t0).expect("retried");
    let Poll::Write(_) = b.poll(t0 + delay) else {
        panic!("the retry is due");
    };
    let Poll::Stage(again) = b.poll(t0 + delay) else {
        panic!("staged again behind the retry");
    };
    assert_eq!(again.body, second.body);
    // Taken as started once the batch before it was written, then refused.
    b.written(first.id);
    assert!(b.not_started(again.id), "nothing in flight: write it now");
    let Poll::Write(last) = b.poll(t0) else {
        panic!("written itself");
    };
    assert_eq!(last.body, second.body);
    b.written(last.id);
    assert_eq!(b.stats().written, 12);
    assert!(b.is_empty());
}

#[test]
fn the_bound_counts_the_staged_batch() {
    let t0 = Instant::now();
    let mut b = Batcher::new(config().capacity(6));
    written_and_staged(&mut b, 6, t0);
    assert!(!b.push(&line(6), t0), "3 in flight + 3 staged = capacity 6");
    let s = b.stats();
    assert_eq!((s.in_flight, s.buffered, s.dropped), (6, 0, 1));
}
