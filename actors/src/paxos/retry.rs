//! [`Retry`]: how long a proposer waits before trying again with a higher
//! ballot. Competing proposers that retry at once keep preempting each other
//! (livelock); a randomized, growing wait lets one of them finish.

use rand::rngs::SmallRng;
use rand::Rng;

/// Milliseconds, the unit of protocol time (simulated or since the actor started).
pub type Millis = u64;

/// A retry strategy: the wait before attempt number `attempt` (1 = first retry).
pub trait Retry: std::fmt::Debug + Send + 'static {
    /// The wait, drawn with the proposer's seeded `rng` if it needs randomness.
    fn backoff(&mut self, attempt: u32, rng: &mut SmallRng) -> Millis;
}

/// The default: a uniform random wait in `[0, min(max, base · 2^(attempt-1))]`
/// ("exponential backoff with full jitter").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomBackoff {
    /// The bound of the first retry's wait.
    pub base: Millis,
    /// The largest bound.
    pub max: Millis,
}

impl Default for RandomBackoff {
    fn default() -> Self {
        RandomBackoff { base: 20, max: 500 }
    }
}

impl Retry for RandomBackoff {
    fn backoff(&mut self, attempt: u32, rng: &mut SmallRng) -> Millis {
        let shift = attempt.saturating_sub(1).min(20);
        let bound = self.base.saturating_mul(1 << shift).min(self.max).max(1);
        rng.random_range(0..=bound)
    }
}

/// A fixed wait, the same every time (deterministic; prone to livelock when
/// proposers share it: useful to show why randomness matters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedBackoff(pub Millis);

impl Retry for FixedBackoff {
    fn backoff(&mut self, _: u32, _: &mut SmallRng) -> Millis {
        self.0
    }
}

/// A [`Retry`] strategy that a topology can configure: the proposer kind
/// `role::ProposerRole<S>` reads `S::Params` from its `retry` parameter table.
pub trait Strategy: Retry + Unpin + Sized {
    /// The `retry = { ... }` table.
    type Params: serde::de::DeserializeOwned + Default + std::fmt::Debug + Send + Sync + 'static;
    /// Builds the strategy from its parameters.
    fn from_params(params: &Self::Params) -> Self;
}

/// Parameters of [`RandomBackoff`]: `retry = { base_ms = 20, max_ms = 500 }`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomBackoffParams {
    /// Bound of the first retry's wait (default 20).
    #[serde(default = "default_base")]
    pub base_ms: Millis,
    /// Largest bound (default 500).
    #[serde(default = "default_max")]
    pub max_ms: Millis,
}

fn default_base() -> Millis {
    20
}
fn default_max() -> Millis {
    500
}

impl Default for RandomBackoffParams {
    fn default() -> Self {
        RandomBackoffParams {
            base_ms: default_base(),
            max_ms: default_max(),
        }
    }
}

impl Strategy for RandomBackoff {
    type Params = RandomBackoffParams;
    fn from_params(p: &RandomBackoffParams) -> Self {
        RandomBackoff {
            base: p.base_ms,
            max: p.max_ms.max(p.base_ms),
        }
    }
}
