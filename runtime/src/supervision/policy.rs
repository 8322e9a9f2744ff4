//! Restart policies, restart intensity, backoff and group strategies: the
//! settings a topology gives each actor and group.

use std::time::Duration;

use rand::Rng;

/// When an actor that stopped is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Never restarted: once stopped, for whatever reason, it stays stopped.
    Never,
    /// Restarted after a crash (panic or handler error); a normal stop is final.
    #[default]
    OnFailure,
    /// Restarted whenever it stops, crash or not.
    Always,
}

impl Restart {
    /// Every policy with its topology-file name.
    pub const ALL: [(Restart, &'static str); 3] = [
        (Restart::Never, "never"),
        (Restart::OnFailure, "on-failure"),
        (Restart::Always, "always"),
    ];

    /// The name used in topology files.
    pub fn name(self) -> &'static str {
        match self {
            Restart::Never => "never",
            Restart::OnFailure => "on-failure",
            Restart::Always => "always",
        }
    }

    /// Parses a topology-file name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(r, _)| *r)
    }
}

/// How a group reacts when one member must be restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Only that member is restarted.
    #[default]
    OneForOne,
    /// Every member of the group is stopped and restarted with it.
    OneForAll,
}

impl Strategy {
    /// Every strategy with its topology-file name.
    pub const ALL: [(Strategy, &'static str); 2] = [
        (Strategy::OneForOne, "one-for-one"),
        (Strategy::OneForAll, "one-for-all"),
    ];

    /// The name used in topology files.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::OneForOne => "one-for-one",
            Strategy::OneForAll => "one-for-all",
        }
    }

    /// Parses a topology-file name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(s, _)| *s)
    }
}

/// At most `max_restarts` restarts within any window of `within`; one more
/// escalates to the enclosing group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intensity {
    /// Restarts allowed in the window.
    pub max_restarts: u32,
    /// The sliding window.
    pub within: Duration,
}

impl Default for Intensity {
    /// 3 restarts within 10 seconds.
    fn default() -> Self {
        Intensity {
            max_restarts: 3,
            within: Duration::from_secs(10),
        }
    }
}

/// Exponential backoff with jitter between a crash and the restart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay before the first restart in a window.
    pub min: Duration,
    /// Longest delay.
    pub max: Duration,
    /// Growth per further restart within the window.
    pub factor: f64,
    /// Random spread, as a fraction of the delay (0.2 = ±20 %).
    pub jitter: f64,
}

impl Default for Backoff {
    /// 100 ms doubling up to 10 s, ±20 % jitter.
    fn default() -> Self {
        Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_secs(10),
            factor: 2.0,
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The delay before restart number `attempt` (1-based) within the window.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let exp = attempt.saturating_sub(1).min(64) as i32;
        let base = self.min.as_secs_f64() * self.factor.max(1.0).powi(exp);
        let capped = base.min(self.max.as_secs_f64()).max(0.0);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let spread = if jitter > 0.0 {
            rng.random_range(-jitter..=jitter)
        } else {
            0.0
        };
        let secs = (capped * (1.0 + spread)).clamp(0.0, self.max.as_secs_f64().max(capped));
        Duration::from_secs_f64(secs)
    }
}

/// The supervision settings of one actor.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ActorPolicy {
    /// When to restart.
    pub restart: Restart,
    /// How many restarts before escalating.
    pub intensity: Intensity,
    /// Delay before each restart.
    pub backoff: Backoff,
}

/// The supervision settings of a group.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GroupPolicy {
    /// Restart one member or all of them.
    pub strategy: Strategy,
    /// How many times the whole group may be restarted before escalating further.
    pub intensity: Intensity,
    /// Delay before restarting the group.
    pub backoff: Backoff,
}
