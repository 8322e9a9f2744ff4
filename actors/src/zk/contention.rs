//! Who holds a lock or leads an election, and whom a waiter watches: I/O-free
//! functions over a parent's children, in kazoo's znode layout.
//!
//! Each contender creates an EPHEMERAL|SEQUENTIAL child of the parent named
//! `<32 hex chars>__lock__<10-digit sequence>`, whose data is its identifier
//! in UTF-8. The contender with the lowest sequence holds the lock (is the
//! leader); every other one watches only its immediate predecessor, so a
//! release wakes exactly one waiter (no herd effect). kazoo's `Lock` and
//! `Election` use the same names and order, so Python and rolecall contenders
//! share one lock or election.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// The mark between a contender's random prefix and its sequence number.
pub const LOCK_MARK: &str = "__lock__";
/// Read-lock contenders of kazoo's `ReadLock` (counted as contenders).
pub const READ_LOCK_MARK: &str = "__rlock__";

/// A fresh node-name prefix: 32 random hex characters then `__lock__`.
pub fn node_prefix() -> String {
    let mut hex = String::with_capacity(32 + LOCK_MARK.len());
    for i in 0..2u64 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.write_u32(std::process::id());
        hex.push_str(&format!("{:016x}", h.finish()));
    }
    hex.push_str(LOCK_MARK);
    hex
}

/// The sequence number of a contender's node name, as kazoo reads it
/// (`(?:__lock__|__rlock__)(-?\d{10})$`), or `None` for other children.
pub fn sequence(name: &str) -> Option<i64> {
    for mark in [LOCK_MARK, READ_LOCK_MARK] {
        if let Some(at) = name.rfind(mark) {
            let digits = &name[at + mark.len()..];
            let unsigned = digits.strip_prefix('-').unwrap_or(digits);
            if unsigned.len() == 10 && unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return digits.parse().ok();
            }
        }
    }
    None
}

/// The contenders among `children`, lowest sequence first.
pub fn contenders<S: AsRef<str>>(children: &[S]) -> Vec<String> {
    let mut c: Vec<(i64, &str)> = children
        .iter()
        .filter_map(|n| sequence(n.as_ref()).map(|s| (s, n.as_ref())))
        .collect();
    c.sort();
    c.into_iter().map(|(_, n)| n.to_owned()).collect()
}

/// Where contender `me` stands among `children`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// `me` has the lowest sequence: it holds the lock, it leads.
    Holder,
    /// `me` waits: it watches `predecessor` (the next lower contender);
    /// `holder` is the lowest.
    Waiting {
        /// The contender just before `me`.
        predecessor: String,
        /// The current holder (leader).
        holder: String,
    },
    /// `me` is not among the children (its session ended, or it released).
    Absent,
}

/// `me`'s position among `children` (names, not paths).
pub fn position<S: AsRef<str>>(children: &[S], me: &str) -> Position {
    let order = contenders(children);
    match order.iter().position(|n| n == me) {
        None => Position::Absent,
        Some(0) => Position::Holder,
        Some(i) => Position::Waiting {
            predecessor: order[i - 1].clone(),
            holder: order[0].clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(prefix: char, seq: u32) -> String {
        format!("{}__lock__{seq:010}", prefix.to_string().repeat(32))
    }

    #[test]
    fn prefixes_are_kazoo_shaped_and_distinct() {
        let a = node_prefix();
        let b = node_prefix();
        assert_eq!(a.len(), 40);
        assert!(a[..32].bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(a.ends_with("__lock__"));
        assert_ne!(a, b);
    }

    #[test]
    fn sequences_as_kazoo_reads_them() {
        assert_eq!(sequence(&name('a', 17)), Some(17));
        assert_eq!(sequence("abc__rlock__0000000003"), Some(3));
        assert_eq!(sequence("abc__lock__-000000003"), None);
        assert_eq!(sequence("abc__lock__-0000000003"), Some(-3));
        for other in [
            "ready",
            "abc__lock__12",
            "abc__lock__00000000012",
            "x0000000001",
        ] {
            assert_eq!(sequence(other), None, "{other}");
        }
    }

    #[test]
    fn order_is_by_sequence_not_by_name() {
        let children = vec![name('f', 3), "ready".into(), name('0', 9), name('a', 1)];
        assert_eq!(
            contenders(&children),
            vec![name('a', 1), name('f', 3), name('0', 9)]
        );
    }

    #[test]
    fn each_waiter_watches_only_its_predecessor() {
        let children: Vec<String> = (0..5).map(|i| name('a', 10 - i)).collect();
        // Sequences 6..=10: 6 holds; 7 watches 6; 10 watches 9; nobody else watches 6.
        assert_eq!(position(&children, &name('a', 6)), Position::Holder);
        let mut watched = Vec::new();
        for s in 7..=10 {
            match position(&children, &name('a', s)) {
                Position::Waiting {
                    predecessor,
                    holder,
                } => {
                    assert_eq!(predecessor, name('a', s - 1));
                    assert_eq!(holder, name('a', 6));
                    watched.push(predecessor);
                }
                other => panic!("{other:?}"),
            }
        }
        watched.sort();
        watched.dedup();
        assert_eq!(watched.len(), 4, "no node is watched by two waiters");
        assert_eq!(position(&children, &name('b', 1)), Position::Absent);
    }

    #[test]
    fn release_of_the_holder_promotes_exactly_the_next() {
        let mut children: Vec<String> = (1..=3).map(|i| name('c', i)).collect();
        children.remove(0);
        assert_eq!(position(&children, &name('c', 2)), Position::Holder);
        assert!(matches!(
            position(&children, &name('c', 3)),
            Position::Waiting { .. }
        ));
        // A middle waiter leaving: the last now watches the holder.
        let children = vec![name('c', 1), name('c', 3)];
        assert_eq!(
            position(&children, &name('c', 3)),
            Position::Waiting {
                predecessor: name('c', 1),
                holder: name('c', 1)
            }
        );
    }
}
