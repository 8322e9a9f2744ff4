//! [`Batcher`]: the reporter's buffering and retry logic, without I/O.
//!
//! Encoded lines go in with [`Batcher::push`]; [`Batcher::poll`] says when to
//! write which batch; the outcome comes back through [`Batcher::written`] or
//! [`Batcher::failed`]. Time is passed in, so tests drive it with a fake clock.
//!
//! * A batch is due when `batch_size` lines are buffered, or when the oldest
//!   buffered line has waited `flush_interval`, or while flushing.
//! * At most one batch is in flight; it is retried (whole, in order) after a
//!   failure that may pass, with exponential backoff from `retry_initial` up
//!   to `retry_max`; a batch the server refuses for good (a 4xx) is dropped
//!   and counted as `rejected`.
//! * While one is in flight, the next full batch (any, while flushing) may be
//!   *staged* ([`Poll::Stage`]): handed to the writer to start the moment the
//!   one in flight is written, and never if it fails, so that no turn through
//!   the caller's thread separates two writes. Still one batch at the server
//!   at a time, in order; a staged batch the writer did not start is staged
//!   or written again later under a new id.
//! * Buffered plus in-flight lines never exceed `capacity`: a line pushed
//!   beyond it is dropped (drop-newest) and counted in `dropped`, exactly.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// The most a new batch reserves up front; a batch that needs more grows.
const MAX_RESERVE: usize = 8 << 20;

/// Limits and timings of a [`Batcher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    batch_size: usize,
    flush_interval: Duration,
    capacity: usize,
    retry_initial: Duration,
    retry_max: Duration,
}

impl Default for Config {
    /// 1000 lines per batch, 200 ms flush interval, 100 000 lines of capacity,
    /// retries after 100 ms doubling up to 5 s.
    fn default() -> Self {
        Config {
            batch_size: 1000,
            flush_interval: Duration::from_millis(200),
            capacity: 100_000,
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
        }
    }
}

/// A [`Config`] value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `batch_size` is 0.
    #[error("batch_size must be at least 1")]
    ZeroBatch,
    /// `capacity` is smaller than `batch_size`.
    #[error("capacity ({capacity}) must be at least batch_size ({batch_size})")]
    CapacityBelowBatch {
        /// The capacity.
        capacity: usize,
        /// The batch size.
        batch_size: usize,
    },
    /// `retry_initial` is zero or above `retry_max`.
    #[error("retry_initial must be positive and at most retry_max")]
    Retry,
}

impl Config {
    /// Lines per batch (at most).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }
    /// How long a line may wait before its batch is written anyway.
    pub fn flush_interval(mut self, d: Duration) -> Self {
        self.flush_interval = d;
        self
    }
    /// Lines held at most (buffered plus in flight).
    pub fn capacity(mut self, n: usize) -> Self {
        self.capacity = n;
        self
    }
    /// First retry delay and its cap.
    pub fn retry(mut self, initial: Duration, max: Duration) -> Self {
        self.retry_initial = initial;
        self.retry_max = max;
        self
    }
    /// The capacity.
    pub fn get_capacity(&self) -> usize {
        self.capacity
    }
    /// Checks the values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.batch_size == 0 {
            return Err(ConfigError::ZeroBatch);
        }
        if self.capacity < self.batch_size {
            return Err(ConfigError::CapacityBelowBatch {
                capacity: self.capacity,
                batch_size: self.batch_size,
            });
        }
        if self.retry_initial.is_zero() || self.retry_initial > self.retry_max {
            return Err(ConfigError::Retry);
        }
        Ok(())
    }
}

/// Identifies one write attempt, so a late outcome cannot be mistaken for another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchId(u64);

/// A batch to write: line-protocol text of `lines` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Its id, to pass back to [`Batcher::written`] / [`Batcher::failed`].
    pub id: BatchId,
    /// The body: the lines, each ending in `\n` (shared, not copied, between
    /// the batcher, which keeps it for a retry, and the write).
    pub body: Bytes,
    /// How many points.
    pub lines: usize,
}

/// What the caller should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Write this batch now, then report the outcome.
    Write(Batch),
    /// Nothing to do before this instant (poll again then, or on a push).
    WaitUntil(Instant),
    /// Hand this batch to the writer to start right after the batch in
    /// flight, only if that one is written; report its outcome as for
    /// [`Poll::Write`], or [`Batcher::not_started`] if the writer did not
    /// start it.
    Stage(Batch),
    /// A batch is in flight: wait for its outcome.
    InFlight,
    /// Nothing buffered.
    Idle,
}

/// Whether a failed write may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Server down, slow or overloaded (connection error, timeout, 5xx, 429): retry.
    Retry,
    /// The server refused the data (other 4xx): drop the batch, count it rejected.
    Reject,
}

/// Counters, all exact; `accepted = written + rejected + buffered + in_flight`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, actix::Message)]
#[rtype(result = "()")]
pub struct Stats {
    /// Points taken into the buffer.
    pub accepted: u64,
    /// Points the buffer had no room for (dropped, never written).
    pub dropped: u64,
    /// Points written successfully.
    pub written: u64,
    /// Points in batches the server refused.
    pub rejected: u64,
    /// Points waiting in the buffer.
    pub buffered: u64,
    /// Points in the batch being written (and the one staged after it).
    pub in_flight: u64,
    /// Failed write attempts (each followed by a retry).
    pub retries: u64,
    /// Points the reporter could not encode (bad names, NaN...).
    pub invalid: u64,
}

/// Up to `batch_size` lines, already concatenated: a batch in the making.
#[derive(Debug)]
struct Chunk {
    body: String,
    lines: usize,
    oldest: Instant,
}

/// The batch after the one in flight ([`Poll::Stage`]) and where it stands.
#[derive(Debug)]
struct StagedBatch {
    batch: Batch,
    with: Holder,
}

/// Who holds a staged batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// Only the batcher: the writer will not start it (the batch before it
    /// failed, or the writer did not take it); it is staged again or
    /// written next.
    Batcher,
    /// The writer, to start after the batch in flight if that one is
    /// written.
    Writer,
    /// The writer could not take it: it is not staged again until the
    /// batch in flight has an outcome.
    Refused,
}

/// Buffering, batching and retry state.
#[derive(Debug)]
pub struct Batcher {
    config: Config,
    /// Lines waiting, as consecutive chunks (only the last one is not full).
    buffer: VecDeque<Chunk>,
    buffered: usize,
    in_flight: Option<Batch>,
    /// The batch after the one in flight ([`Poll::Stage`]).
    staged: Option<StagedBatch>,
    /// The in-flight batch failed; retry it at this instant.
    retry_at: Option<Instant>,
    attempt: u32,
    next_id: u64,
    flushing: bool,
    stats: Stats,
    /// Bytes per line of the last full batch (0 before the first): a new
    /// batch reserves room for `batch_size` such lines and one in eight more,
    /// so that it is filled without growing (no copies, no fresh pages).
    line_bytes: usize,
}

impl Batcher {
    /// A batcher with `config` (call [`Config::validate`] first).
    pub fn new(config: Config) -> Self {
        Batcher {
            config,
            buffer: VecDeque::new(),
            buffered: 0,
            in_flight: None,
            staged: None,
            retry_at: None,
            attempt: 0,
            next_id: 0,
            flushing: false,
            stats: Stats::default(),
            line_bytes: 0,
        }
    }

    /// Takes one encoded line (ending in `\n`), copying it into the batch in
    /// the making; returns false if it was dropped.
    pub fn push(&mut self, line: &str, now: Instant) -> bool {
        self.push_with(now, |body| {
            body.push_str(line);
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap_or_else(|never| match never {})
    }

    /// Takes one line that `encode` appends (ending in `\n`) straight into the
    /// batch in the making, without a copy. Returns `Ok(false)` if there is
    /// no room (the line is dropped, counted, and `encode` is not called) and
    /// `encode`'s error if it fails (it must then leave the text as it was;
    /// nothing is counted: see [`Batcher::invalid`]).
    pub fn push_with<E>(
        &mut self,
        now: Instant,
        encode: impl FnOnce(&mut String) -> Result<(), E>,
    ) -> Result<bool, E> {
        let held = self.buffered + self.sent_lines();
        if held >= self.config.capacity {
            self.stats.dropped += 1;
            return Ok(false);
        }
        let batch_size = self.config.batch_size;
        match self.buffer.back_mut() {
            Some(chunk) if chunk.lines < batch_size => {
                encode(&mut chunk.body)?;
                chunk.lines += 1;
                if chunk.lines == batch_size {
                    self.line_bytes = chunk.body.len().div_ceil(batch_size);
                }
            }
            _ => {
                let mut body = String::new();
                encode(&mut body)?;
                // Room for the whole batch, judged from the last full one
                // (or from this line when there was none).
                let per_line = self.line_bytes.max(body.len());
                let want = per_line.saturating_mul(batch_size);
                body.reserve(
                    want.saturating_add(want / 8)
                        .min(MAX_RESERVE)
                        .saturating_sub(body.len()),
                );
                self.buffer.push_back(Chunk {
                    body,
                    lines: 1,
                    oldest: now,
                });
            }
        }
        self.buffered += 1;
        self.stats.accepted += 1;
        Ok(true)
    }

    /// Counts a point that could not be encoded.
    pub fn invalid(&mut self) {
        self.stats.invalid += 1;
    }

    /// Write whatever is buffered without waiting for full batches, until
    /// nothing is buffered or in flight (then batching resumes).
    pub fn flush(&mut self) {
        self.flushing = true;
    }

    /// True when nothing is buffered or in flight.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty() && self.in_flight.is_none() && self.staged.is_none()
    }

    /// Lines in flight or staged.
    fn sent_lines(&self) -> usize {
        self.in_flight.as_ref().map_or(0, |b| b.lines)
            + self.staged.as_ref().map_or(0, |s| s.batch.lines)
    }

    /// Whether the writer holds the staged batch `id`.
    fn with_writer(&self, id: BatchId) -> bool {
        self.staged
            .as_ref()
            .is_some_and(|s| s.with == Holder::Writer && s.batch.id == id)
    }

    /// The staged batch, if the writer will not start it, stays with the
    /// batcher (`from` → [`Holder::Batcher`]).
    fn staged_back(&mut self, from: &[Holder]) {
        if let Some(s) = &mut self.staged {
            if from.contains(&s.with) {
                s.with = Holder::Batcher;
            }
        }
    }

    fn new_id(&mut self) -> BatchId {
        self.next_id += 1;
        BatchId(self.next_id)
    }

    /// What to do at `now`.
    pub fn poll(&mut self, now: Instant) -> Poll {
        if let Some(batch) = &self.in_flight {
            return match self.retry_at {
                Some(at) if at <= now => {
                    self.retry_at = None;
                    Poll::Write(batch.clone())
                }
                Some(at) => Poll::WaitUntil(at),
                None => self.stage().map_or(Poll::InFlight, Poll::Stage),
            };
        }
        if let Some(StagedBatch {
            batch: mut next, ..
        }) = self.staged.take()
        {
            // The batch before it was refused: it is written next.
            next.id = self.new_id();
            self.in_flight = Some(next.clone());
            return Poll::Write(next);
        }
        let Some(front) = self.buffer.front() else {
            // A flush ends once everything it covered is written.
            self.flushing = false;
            return Poll::Idle;
        };
        let due = front.oldest + self.config.flush_interval;
        if front.lines < self.config.batch_size && !self.flushing && due > now {
            return Poll::WaitUntil(due);
        }
        let Some(chunk) = self.buffer.pop_front() else {
            return Poll::Idle;
        };
        self.buffered -= chunk.lines;
        let batch = Batch {
            id: self.new_id(),
            body: Bytes::from(chunk.body),
            lines: chunk.lines,
        };
        self.in_flight = Some(batch.clone());
        Poll::Write(batch)
    }

    /// The batch to stage after the one in flight, if there is one to stage
    /// (the staged one again, under a new id, if the writer dropped it).
    fn stage(&mut self) -> Option<Batch> {
        if let Some(with) = self.staged.as_ref().map(|s| s.with) {
            if with != Holder::Batcher {
                return None;
            }
            let id = self.new_id();
            let staged = self.staged.as_mut()?;
            staged.batch.id = id;
            staged.with = Holder::Writer;
            return Some(staged.batch.clone());
        }
        let front = self.buffer.front()?;
        if front.lines < self.config.batch_size && !self.flushing {
            return None;
        }
        let chunk = self.buffer.pop_front()?;
        self.buffered -= chunk.lines;
        let batch = Batch {
            id: self.new_id(),
            body: Bytes::from(chunk.body),
            lines: chunk.lines,
        };
        self.staged = Some(StagedBatch {
            batch: batch.clone(),
            with: Holder::Writer,
        });
        Some(batch)
    }

    /// The staged batch's outcome came before the outcome of the batch in
    /// flight: the writer starts a staged batch only after the one before it
    /// was written, so that one was, and the staged one is now in flight.
    fn answered_out_of_order(&mut self, id: BatchId) {
        if !self.with_writer(id) {
            return;
        }
        if let Some(before) = self.in_flight.take() {
            self.stats.written += before.lines as u64;
        }
        self.promote_staged();
    }

    /// The writer has started the staged batch: it is the one in flight.
    fn promote_staged(&mut self) {
        self.retry_at = None;
        self.attempt = 0;
        self.in_flight = self.staged.take().map(|s| s.batch);
    }

    /// The batch `id` was written.
    pub fn written(&mut self, id: BatchId) {
        self.answered_out_of_order(id);
        if let Some(b) = self.take_in_flight(id) {
            self.stats.written += b.lines as u64;
            self.attempt = 0;
            if self
                .staged
                .as_ref()
                .is_some_and(|s| s.with == Holder::Writer)
            {
                self.promote_staged();
            }
        }
    }

    /// The writer did not start the batch `id` (it was staged, and the
    /// batch before it failed, or the writer could not take it): it stays
    /// next, staged or written again once the batch in flight has its
    /// outcome (not before: a writer that cannot take it would be asked
    /// again at every point). Returns true when nothing is in flight, so
    /// that the caller polls now to write it.
    pub fn not_started(&mut self, id: BatchId) -> bool {
        if self.with_writer(id) {
            // The batch before it has not failed (that would have taken it
            // back from the writer): the writer could not take it.
            if let Some(s) = &mut self.staged {
                s.with = Holder::Refused;
            }
        } else if self.in_flight.as_ref().map(|b| b.id) == Some(id) && self.retry_at.is_none() {
            // Taken as started when the batch before it was written.
            self.staged = self.in_flight.take().map(|batch| StagedBatch {
                batch,
                with: Holder::Batcher,
            });
        }
        self.in_flight.is_none() && self.staged.is_some()
    }

    /// Writing batch `id` failed at `now`; returns the delay before the retry
    /// (None if the batch was rejected for good, or `id` is not in flight).
    pub fn failed(&mut self, id: BatchId, failure: Failure, now: Instant) -> Option<Duration> {
        self.answered_out_of_order(id);
        if self.in_flight.as_ref().map(|b| b.id) != Some(id) {
            return None;
        }
        // The writer does not start the staged batch after a failure; it is
        // staged again behind the retry.
        self.staged_back(&[Holder::Writer, Holder::Refused]);
        match failure {
            Failure::Reject => {
                if let Some(b) = self.take_in_flight(id) {
                    self.stats.rejected += b.lines as u64;
                }
                None
            }
            Failure::Retry => {
                self.stats.retries += 1;
                let delay = self.backoff(self.attempt);
                self.attempt = self.attempt.saturating_add(1);
                self.retry_at = Some(now + delay);
                Some(delay)
            }
        }
    }

    /// The delay before retry number `attempt` (0-based): initial × 2^attempt, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(30));
        self.config
            .retry_initial
            .saturating_mul(factor)
            .min(self.config.retry_max)
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        Stats {
            buffered: self.buffered as u64,
            in_flight: self.sent_lines() as u64,
            ..self.stats
        }
    }

    fn take_in_flight(&mut self, id: BatchId) -> Option<Batch> {
        if self.in_flight.as_ref().map(|b| b.id) == Some(id) {
            self.retry_at = None;
            self.staged_back(&[Holder::Refused]);
            self.in_flight.take()
        } else {
            None
        }
    }
}
