//! Runtime behaviour tests: wires, supervision, lifecycle, embedding.

mod backlog;
mod common;
mod faults;
mod lifecycle;
mod queue;
mod stats;
mod supervision;
mod trace;
mod tree;
