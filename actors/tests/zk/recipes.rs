//! Recipes with several sessions in one process, and beside kazoo.

mod barrier;
mod election;
mod kazoo;
mod lock;
mod membership;
