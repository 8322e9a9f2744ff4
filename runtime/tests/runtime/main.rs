//! Runtime behaviour tests: wires, supervision, lifecycle, embedding.

mod common;
mod lifecycle;
mod queue;
mod stats;
mod supervision;
mod tree;
