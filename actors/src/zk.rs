//! ZooKeeper session actor and coordination recipes (barrier, election, membership, lock).
//!
//! This module is the fixed home of these kinds in the crate layout; its kinds
//! are added by the issue that builds them. Until then it registers nothing.
