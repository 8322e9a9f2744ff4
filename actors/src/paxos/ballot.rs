//! [`Ballot`]: a proposal number, unique per proposer: `(round, proposer id)`.

use serde::{Deserialize, Serialize};

/// A proposal number. Ordered by round, then by proposer id, so two proposers
/// never use the same ballot. [`Ballot::ZERO`] is below every real ballot
/// (proposer ids start at 1).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ballot {
    /// The attempt number; a retry takes a round above every round seen.
    pub round: u64,
    /// The proposer that owns this ballot (≥ 1).
    pub proposer: u32,
}

impl Ballot {
    /// Below every ballot a proposer can use: "nothing promised yet".
    pub const ZERO: Ballot = Ballot {
        round: 0,
        proposer: 0,
    };

    /// The ballot of `proposer` at `round`.
    pub fn new(round: u64, proposer: u32) -> Self {
        Ballot { round, proposer }
    }
}

impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.round, self.proposer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_by_round_then_proposer() {
        assert!(Ballot::new(1, 2) > Ballot::new(1, 1));
        assert!(Ballot::new(2, 1) > Ballot::new(1, 9));
        assert!(Ballot::ZERO < Ballot::new(0, 1));
    }
}
