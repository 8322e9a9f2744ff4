//! The model checker on the Paxos roles: proves the configurations safe,
//! finds seeded bugs with shortest counterexamples, and replays them.

mod paxos;
