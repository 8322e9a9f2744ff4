//! A subscriber's account of each publisher's stream, I/O-free: publications
//! carry `(publisher, seq)` stamps, so a subscriber knows what it missed and
//! what it saw twice (a new primary broker replays what it buffered, and a
//! subscriber may be connected to two brokers for a moment during failover).
//!
//! Per (publisher, topic) the next expected sequence number is kept: a
//! publication below it is a duplicate (dropped, counted); one above it means
//! the numbers between were lost (counted). The first publication of a
//! stream sets where it starts (a subscriber joining late has not lost what
//! came before). At most [`Streams::capacity`] streams are followed; the
//! publications of streams beyond it are delivered and counted as untracked.

use std::collections::BTreeMap;

/// What one publication is to its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// New: deliver it. `missed` numbers before it never arrived.
    Fresh {
        /// Sequence numbers skipped just before this one.
        missed: u64,
    },
    /// Seen before (or older than what was seen): drop it.
    Duplicate,
    /// The stream is not followed (too many streams): deliver it.
    Untracked,
}

/// Totals over every stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Sequence numbers that never arrived.
    pub lost: u64,
    /// Publications that arrived again and were dropped.
    pub duplicates: u64,
    /// Publications of streams beyond the capacity.
    pub untracked: u64,
}

/// The next expected sequence number of every stream.
#[derive(Debug)]
pub struct Streams {
    next: BTreeMap<(String, String), u64>,
    capacity: usize,
    totals: Totals,
}

impl Streams {
    /// Follows at most `capacity` streams.
    pub fn new(capacity: usize) -> Self {
        Streams {
            next: BTreeMap::new(),
            capacity,
            totals: Totals::default(),
        }
    }

    /// How many streams may be followed.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Accounts for publication `seq` of `publisher` on `topic`.
    pub fn observe(&mut self, publisher: &str, topic: &str, seq: u64) -> Seen {
        let key = (publisher.to_owned(), topic.to_owned());
        let Some(next) = self.next.get_mut(&key) else {
            if self.next.len() >= self.capacity {
                self.totals.untracked += 1;
                return Seen::Untracked;
            }
            self.next.insert(key, seq.saturating_add(1));
            return Seen::Fresh { missed: 0 };
        };
        if seq < *next {
            self.totals.duplicates += 1;
            return Seen::Duplicate;
        }
        let missed = seq - *next;
        self.totals.lost += missed;
        *next = seq.saturating_add(1);
        Seen::Fresh { missed }
    }

    /// The totals so far.
    pub fn totals(&self) -> Totals {
        self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gaps_and_duplicates_are_counted_per_stream() {
        let mut s = Streams::new(8);
        assert_eq!(s.observe("p1", "t", 5), Seen::Fresh { missed: 0 });
        assert_eq!(s.observe("p1", "t", 6), Seen::Fresh { missed: 0 });
        assert_eq!(s.observe("p1", "u", 0), Seen::Fresh { missed: 0 });
        assert_eq!(s.observe("p1", "t", 9), Seen::Fresh { missed: 2 });
        assert_eq!(s.observe("p1", "t", 7), Seen::Duplicate);
        assert_eq!(s.observe("p1", "t", 9), Seen::Duplicate);
        assert_eq!(s.observe("p2", "t", 0), Seen::Fresh { missed: 0 });
        assert_eq!(
            s.totals(),
            Totals {
                lost: 2,
                duplicates: 2,
                untracked: 0
            }
        );
    }

    #[test]
    fn streams_beyond_the_capacity_are_delivered_untracked() {
        let mut s = Streams::new(1);
        s.observe("p1", "t", 0);
        assert_eq!(s.observe("p2", "t", 0), Seen::Untracked);
        assert_eq!(s.observe("p2", "t", 0), Seen::Untracked);
        assert_eq!(s.totals().untracked, 2);
    }

    proptest! {
        /// A stream replayed with overlaps (as a new primary broker replays
        /// its buffer) is delivered exactly once, in order, and the numbers
        /// never sent are exactly the ones counted lost.
        #[test]
        fn overlapping_replays_deliver_each_number_once(
            chunks in proptest::collection::vec((0u64..40, 1u64..20), 1..12)
        ) {
            let mut s = Streams::new(4);
            let mut delivered = Vec::new();
            for (start, len) in &chunks {
                for seq in *start..start + len {
                    if let Seen::Fresh { .. } = s.observe("p", "t", seq) {
                        delivered.push(seq);
                    }
                }
            }
            prop_assert!(delivered.windows(2).all(|w| w[0] < w[1]));
            let first = delivered[0];
            let last = *delivered.last().unwrap();
            prop_assert_eq!(
                s.totals().lost,
                (last - first + 1) - delivered.len() as u64
            );
        }
    }
}
