//! Multi-Paxos: a [`Leader`] that runs phase 1 once per leadership for every
//! slot at once, then streams commands into a replicated log — batching
//! commands into slots and pipelining slots — and fills gaps left by a
//! previous leader with no-ops. Learners ([`Learner`](super::Learner)) apply
//! the log in slot order.

mod leader;

pub use leader::{Full, Leader, LeaderConfig};
