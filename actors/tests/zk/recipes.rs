//! Recipes with several sessions in one process, and beside kazoo.

mod election;
mod kazoo;
mod lock;
