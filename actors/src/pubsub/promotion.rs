//! When a broker replica that became its group's primary replays the
//! publications it kept as a backup. The subscribers learn of the new
//! primary from ZooKeeper at the same moment the broker does, then connect
//! and subscribe; publications sent before a subscription arrives are not
//! delivered to it (a PUB socket drops them). So the replay waits until the
//! subscriptions have come in: `quiet` after the last one, once at least one
//! came; or `settle` after the promotion at the latest (no subscriber came,
//! or they keep coming). I/O-free: the broker's loop tells it the times.

use std::time::{Duration, Instant};

/// How long a promoted replica waits before replaying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// The longest wait after the promotion.
    pub settle: Duration,
    /// The wait after the last subscription (once there was one).
    pub quiet: Duration,
}

/// Why the replay is due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Subscriptions came, then none for `quiet`.
    Subscribed,
    /// `settle` passed since the promotion.
    Settled,
}

/// A broker replica's subscriptions, and its promotion whose replay is
/// pending. A subscriber may learn of the new primary (and subscribe)
/// before the broker learns of its own election: subscriptions less than
/// `settle` before the promotion count as well.
#[derive(Debug, Clone, Default)]
pub struct Promotion {
    at: Option<Instant>,
    last_subscription: Option<Instant>,
    subscriptions: u64,
}

impl Promotion {
    /// No promotion pending.
    pub fn new() -> Self {
        Promotion::default()
    }

    /// `n` subscriptions arrived at `now`; `settle` is how far back they count.
    pub fn subscribed(&mut self, now: Instant, n: u64, pace: Pace) {
        let recent = self
            .last_subscription
            .is_some_and(|last| now.saturating_duration_since(last) < pace.settle);
        self.subscriptions = if recent { self.subscriptions + n } else { n };
        self.last_subscription = Some(now);
    }

    /// Elected primary at `now`: the replay is pending.
    pub fn promoted(&mut self, now: Instant, pace: Pace) {
        self.at = Some(now);
        let recent = self
            .last_subscription
            .is_some_and(|last| now.saturating_duration_since(last) < pace.settle);
        if !recent {
            self.last_subscription = None;
            self.subscriptions = 0;
        }
    }

    /// Whether a replay is pending.
    pub fn pending(&self) -> bool {
        self.at.is_some()
    }

    /// The replay was made: none is pending.
    pub fn replayed(&mut self) {
        self.at = None;
    }

    /// No longer the primary: the pending replay is not made.
    pub fn cancel(&mut self) {
        self.at = None;
    }

    /// Subscriptions that count for the pending replay.
    pub fn subscriptions(&self) -> u64 {
        self.subscriptions
    }

    /// Time since the promotion (zero when none is pending).
    pub fn waited(&self, now: Instant) -> Duration {
        self.at
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at))
    }

    /// Whether the pending replay is due at `now`, and why (`None`: not
    /// yet, or none pending).
    pub fn due(&self, now: Instant, pace: Pace) -> Option<Due> {
        let at = self.at?;
        if self.waited(now) >= pace.settle {
            return Some(Due::Settled);
        }
        // Quiet after the last subscription and after the promotion itself
        // (the other subscribers learn of it when the broker does).
        match self.last_subscription {
            Some(last) if now.saturating_duration_since(last.max(at)) >= pace.quiet => {
                Some(Due::Subscribed)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACE: Pace = Pace {
        settle: Duration::from_millis(500),
        quiet: Duration::from_millis(100),
    };

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn promoted_at(t0: Instant) -> Promotion {
        let mut p = Promotion::new();
        p.promoted(t0, PACE);
        p
    }

    #[test]
    fn nothing_is_due_without_a_promotion() {
        let t0 = Instant::now();
        let mut p = Promotion::new();
        p.subscribed(t0, 3, PACE);
        assert_eq!(p.due(t0 + ms(10_000), PACE), None);
        assert!(!p.pending());
    }

    #[test]
    fn without_subscriptions_the_replay_waits_the_whole_settle() {
        let t0 = Instant::now();
        let p = promoted_at(t0);
        assert_eq!(p.due(t0 + ms(499), PACE), None);
        assert_eq!(p.due(t0 + ms(500), PACE), Some(Due::Settled));
    }

    #[test]
    fn subscriptions_then_quiet_make_it_due_before_the_settle() {
        let t0 = Instant::now();
        let mut p = promoted_at(t0);
        p.subscribed(t0 + ms(20), 1, PACE);
        p.subscribed(t0 + ms(30), 2, PACE);
        assert_eq!(p.due(t0 + ms(129), PACE), None);
        assert_eq!(p.due(t0 + ms(130), PACE), Some(Due::Subscribed));
        assert_eq!(p.subscriptions(), 3);
    }

    #[test]
    fn each_subscription_restarts_the_quiet_wait() {
        let t0 = Instant::now();
        let mut p = promoted_at(t0);
        p.subscribed(t0 + ms(20), 1, PACE);
        p.subscribed(t0 + ms(110), 1, PACE);
        assert_eq!(p.due(t0 + ms(120), PACE), None);
        assert_eq!(p.due(t0 + ms(210), PACE), Some(Due::Subscribed));
    }

    #[test]
    fn subscriptions_that_keep_coming_end_at_the_settle() {
        let t0 = Instant::now();
        let mut p = promoted_at(t0);
        for t in (0..=500).step_by(50) {
            p.subscribed(t0 + ms(t), 1, PACE);
            let due = p.due(t0 + ms(t), PACE);
            assert_eq!(due, (t >= 500).then_some(Due::Settled), "at {t} ms");
        }
    }

    #[test]
    fn a_subscription_just_before_the_promotion_counts_but_the_others_get_the_quiet() {
        let t0 = Instant::now();
        let mut p = Promotion::new();
        p.subscribed(t0, 2, PACE);
        p.promoted(t0 + ms(300), PACE);
        assert_eq!(p.subscriptions(), 2);
        assert_eq!(p.due(t0 + ms(399), PACE), None);
        assert_eq!(p.due(t0 + ms(400), PACE), Some(Due::Subscribed));
    }

    #[test]
    fn a_subscription_older_than_the_settle_does_not_count() {
        let t0 = Instant::now();
        let mut p = Promotion::new();
        p.subscribed(t0, 2, PACE);
        p.promoted(t0 + ms(500), PACE);
        assert_eq!(p.subscriptions(), 0);
        assert_eq!(p.due(t0 + ms(999), PACE), None);
        assert_eq!(p.due(t0 + ms(1000), PACE), Some(Due::Settled));
    }

    #[test]
    fn after_the_replay_nothing_is_due_until_the_next_promotion() {
        let t0 = Instant::now();
        let mut p = promoted_at(t0);
        p.subscribed(t0 + ms(10), 1, PACE);
        assert_eq!(p.due(t0 + ms(110), PACE), Some(Due::Subscribed));
        p.replayed();
        assert_eq!(p.due(t0 + ms(2000), PACE), None);
        p.promoted(t0 + ms(3000), PACE);
        assert_eq!(p.subscriptions(), 0);
        assert_eq!(p.due(t0 + ms(3499), PACE), None);
        assert_eq!(p.due(t0 + ms(3500), PACE), Some(Due::Settled));
    }

    #[test]
    fn a_cancelled_promotion_never_comes_due() {
        let t0 = Instant::now();
        let mut p = promoted_at(t0);
        p.subscribed(t0 + ms(10), 1, PACE);
        p.cancel();
        assert!(!p.pending());
        assert_eq!(p.due(t0 + ms(110), PACE), None);
        assert_eq!(p.due(t0 + ms(600), PACE), None);
    }

    #[test]
    fn a_quiet_as_long_as_the_settle_is_the_fixed_wait() {
        let pace = Pace {
            settle: ms(500),
            quiet: ms(500),
        };
        let t0 = Instant::now();
        let mut p = Promotion::new();
        p.promoted(t0, pace);
        p.subscribed(t0 + ms(10), 1, pace);
        assert_eq!(p.due(t0 + ms(499), pace), None);
        assert_eq!(p.due(t0 + ms(500), pace), Some(Due::Settled));
    }
}
