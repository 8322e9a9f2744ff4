//! Runtime behaviour tests: wires, supervision, lifecycle, embedding.

mod common;
mod lifecycle;
mod queue;
mod supervision;
mod tree;
