//! [`Ballot`]: a proposal number, unique per proposer *incarnation*:
//! `(round, proposer id, incarnation)`.
//!
//! Paxos needs every ballot to be used by one proposer process at most. The
//! id tells proposers apart; the incarnation tells apart the lives of one
//! proposer: a proposer restarted without memory starts again from round 1
//! and would otherwise take ballots its previous life already used (and then
//! count that life's promises, still in flight, as its own). A proposer draws
//! its incarnation once when it starts (the actor kinds take 64 random bits
//! from the operating system; the simulator numbers restarts).

use serde::{Deserialize, Serialize};

/// A proposal number. Ordered by round, then proposer id, then incarnation,
/// so two proposers, or two lives of one proposer, never share one.
/// [`Ballot::ZERO`] is below every real ballot (proposer ids start at 1).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ballot {
    /// The attempt number; a retry takes a round above every round seen.
    pub round: u64,
    /// The proposer that owns this ballot (≥ 1).
    pub proposer: u32,
    /// Which life of that proposer: drawn when it starts, so a proposer
    /// restarted without memory never reuses a ballot of an earlier life.
    pub incarnation: u64,
}

impl Ballot {
    /// Below every ballot a proposer can use: "nothing promised yet".
    pub const ZERO: Ballot = Ballot {
        round: 0,
        proposer: 0,
        incarnation: 0,
    };

    /// The ballot of `proposer` (incarnation 0) at `round`.
    pub fn new(round: u64, proposer: u32) -> Self {
        Ballot {
            round,
            proposer,
            incarnation: 0,
        }
    }

    /// This ballot, owned by `incarnation` of its proposer.
    pub fn with_incarnation(self, incarnation: u64) -> Self {
        Ballot {
            incarnation,
            ..self
        }
    }
}

/// `round.proposer`, with `~incarnation` (hex) unless it is 0.
impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.round, self.proposer)?;
        if self.incarnation != 0 {
            write!(f, "~{:x}", self.incarnation)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_by_round_then_proposer_then_incarnation() {
        assert!(Ballot::new(1, 2) > Ballot::new(1, 1));
        assert!(Ballot::new(2, 1) > Ballot::new(1, 9));
        assert!(Ballot::ZERO < Ballot::new(0, 1));
        let first = Ballot::new(3, 2);
        let second_life = first.with_incarnation(7);
        assert_ne!(first, second_life);
        assert!(second_life > first && second_life < Ballot::new(3, 3));
    }

    #[test]
    fn displays_the_incarnation_unless_zero() {
        assert_eq!(Ballot::new(2, 1).to_string(), "2.1");
        assert_eq!(
            Ballot::new(2, 1).with_incarnation(255).to_string(),
            "2.1~ff"
        );
    }
}
