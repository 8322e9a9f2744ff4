//! [`LogLimiter`]: keeps a flood of like log lines (bad frames from one
//! misbehaving peer) from drowning the log.
//!
//! The first [`LogLimiter::full`] events of a kind are logged in full; after
//! that they are only counted, and one summary line per interval says how
//! many were not shown. Time is an input (`now`), so the limiter is tested
//! without sleeping.

use std::time::{Duration, Instant};

/// Events logged in full before the limiter starts counting, by default.
pub(crate) const FULL: u64 = 5;
/// Interval between summary lines, by default.
pub(crate) const INTERVAL: Duration = Duration::from_secs(10);

/// What to do with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Log it in full.
    Log,
    /// Count it only.
    Quiet,
}

/// Rate limits one kind of log line: the first few in full, then a count per interval.
#[derive(Debug, Clone)]
pub struct LogLimiter {
    full: u64,
    interval: Duration,
    /// Events seen in all.
    seen: u64,
    /// Events counted but not shown since the last summary.
    quiet: u64,
    /// When the last summary was due (or the first quiet event came).
    since: Option<Instant>,
}

impl Default for LogLimiter {
    fn default() -> Self {
        LogLimiter::new(FULL, INTERVAL)
    }
}

impl LogLimiter {
    /// Logs `full` events in full, then one summary per `interval`.
    pub fn new(full: u64, interval: Duration) -> Self {
        LogLimiter {
            full,
            interval,
            seen: 0,
            quiet: 0,
            since: None,
        }
    }

    /// Events seen in all.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// One event at `now`: log it, or count it quietly.
    pub fn event(&mut self, now: Instant) -> Verdict {
        self.seen += 1;
        if self.seen <= self.full {
            return Verdict::Log;
        }
        self.quiet += 1;
        self.since.get_or_insert(now);
        Verdict::Quiet
    }

    /// The number of quiet events to report in a summary line, once an
    /// interval has passed since the first of them (call it regularly).
    pub fn due(&mut self, now: Instant) -> Option<u64> {
        let since = self.since?;
        if now.saturating_duration_since(since) < self.interval {
            return None;
        }
        self.take()
    }

    /// The quiet events not yet reported, whatever the time (at close).
    pub fn take(&mut self) -> Option<u64> {
        self.since = None;
        match std::mem::take(&mut self.quiet) {
            0 => None,
            n => Some(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_the_first_few_then_one_count_per_interval() {
        let t0 = Instant::now();
        let mut l = LogLimiter::new(5, Duration::from_secs(10));
        let verdicts: Vec<Verdict> = (0..8).map(|_| l.event(t0)).collect();
        assert_eq!(verdicts[..5], [Verdict::Log; 5]);
        assert_eq!(verdicts[5..], [Verdict::Quiet; 3]);
        assert_eq!(l.due(t0 + Duration::from_secs(9)), None, "not yet");
        assert_eq!(l.due(t0 + Duration::from_secs(10)), Some(3));
        assert_eq!(l.due(t0 + Duration::from_secs(30)), None, "nothing new");
        // Past the first few, every later event stays quiet.
        let t1 = t0 + Duration::from_secs(31);
        for _ in 0..1000 {
            assert_eq!(l.event(t1), Verdict::Quiet);
        }
        assert_eq!(l.due(t1 + Duration::from_secs(5)), None);
        assert_eq!(l.due(t1 + Duration::from_secs(10)), Some(1000));
        assert_eq!(l.seen(), 1008);
    }

    #[test]
    fn take_reports_what_is_left_at_close() {
        let t0 = Instant::now();
        let mut l = LogLimiter::new(1, Duration::from_secs(10));
        assert_eq!(l.event(t0), Verdict::Log);
        assert_eq!(l.take(), None, "the logged one is not counted again");
        assert_eq!(l.event(t0), Verdict::Quiet);
        assert_eq!(l.event(t0), Verdict::Quiet);
        assert_eq!(l.take(), Some(2));
        assert_eq!(l.take(), None);
    }
}
