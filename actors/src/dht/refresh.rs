//! When a node whose routing table is short of peers looks for more.
//!
//! A node learns peers from the lookups it makes. Its bootstrap (a lookup
//! of its own id) asks the peers it knows for the ones closest to it; when
//! several nodes join at once, the answer can come before those peers have
//! heard of each other, and the node then knows too few peers to store a
//! record on `replication` of them (a put with `quorum = replication` can
//! never succeed, and a front-end waiting for that many peers never serves).
//! libp2p looks again only on its periodic bootstrap (`rebootstrap`, 5
//! minutes by default) or when the table gains a peer.
//!
//! [`Refresh`] is the schedule that closes that gap, I/O-free: while the
//! table holds fewer than `wanted` peers (and at least one, so there is
//! someone to ask), a bootstrap lookup every [`FIRST`], doubling up to
//! [`LONGEST`]; back to [`FIRST`] whenever the table grows, since a new
//! peer may know of more. Once the table is full enough nothing is sent.

use std::time::Duration;

use tokio::time::Instant;

/// The first pause before looking again.
pub(crate) const FIRST: Duration = Duration::from_millis(500);
/// The longest pause between lookups while the table is short.
pub(crate) const LONGEST: Duration = Duration::from_secs(30);

/// The schedule of lookups for a short routing table.
#[derive(Debug)]
pub(crate) struct Refresh {
    wanted: usize,
    pause: Duration,
    peers: usize,
    next: Option<Instant>,
}

impl Refresh {
    /// A schedule for a node that wants `wanted` peers; idle until
    /// [`Refresh::peers`] tells it how many the table holds.
    pub(crate) fn new(wanted: usize) -> Self {
        Refresh {
            wanted,
            pause: FIRST,
            peers: 0,
            next: None,
        }
    }

    /// The table now holds `peers` peers (at `now`).
    pub(crate) fn peers(&mut self, peers: usize, now: Instant) {
        let grew = peers > self.peers;
        self.peers = peers;
        if peers == 0 || peers >= self.wanted {
            self.next = None;
            self.pause = FIRST;
        } else if grew || self.next.is_none() {
            self.pause = FIRST;
            self.next = Some(now + FIRST);
        }
    }

    /// When the next lookup is due, if one is.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.next
    }

    /// Whether to look now (`now` at or past [`Refresh::due`]); if so, the
    /// next lookup is scheduled after a doubled pause.
    pub(crate) fn fire(&mut self, now: Instant) -> bool {
        match self.next {
            Some(at) if now >= at => {
                self.pause = (self.pause * 2).min(LONGEST);
                self.next = Some(now + self.pause);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_table_looks_again_with_growing_pauses() {
        let t0 = Instant::now();
        let mut r = Refresh::new(3);
        assert_eq!(r.due(), None, "idle before the first count");
        r.peers(1, t0);
        assert_eq!(r.due(), Some(t0 + FIRST));
        assert!(!r.fire(t0), "not before it is due");
        let mut at = t0 + FIRST;
        let mut pauses = Vec::new();
        for _ in 0..8 {
            assert!(r.fire(at));
            let next = r.due().expect("still short");
            pauses.push(next - at);
            at = next;
        }
        assert_eq!(pauses[0], FIRST * 2);
        assert_eq!(pauses[1], FIRST * 4);
        assert_eq!(*pauses.last().unwrap(), LONGEST, "{pauses:?}");
    }

    #[test]
    fn a_new_peer_resets_the_pause_and_a_full_table_stops() {
        let t0 = Instant::now();
        let mut r = Refresh::new(3);
        r.peers(1, t0);
        assert!(r.fire(t0 + FIRST));
        assert!(r.fire(t0 + FIRST * 3));
        let t1 = t0 + Duration::from_secs(10);
        r.peers(2, t1);
        assert_eq!(r.due(), Some(t1 + FIRST), "a grown table asks again soon");
        r.peers(2, t1 + FIRST);
        assert_eq!(r.due(), Some(t1 + FIRST), "the same count changes nothing");
        r.peers(3, t1 + FIRST);
        assert_eq!(r.due(), None);
        assert!(!r.fire(t1 + LONGEST));
    }

    #[test]
    fn an_empty_table_has_no_one_to_ask() {
        let t0 = Instant::now();
        let mut r = Refresh::new(2);
        r.peers(0, t0);
        assert_eq!(r.due(), None);
        r.peers(1, t0);
        r.peers(0, t0 + FIRST);
        assert_eq!(r.due(), None, "every peer gone: nothing to ask");
    }
}
