//! Paxos roles (proposer, acceptor, learner; single-decree and Multi-Paxos) as actors over wires.
//!
//! This module is the fixed home of these kinds in the crate layout; its kinds
//! are added by the issue that builds them. Until then it registers nothing.
