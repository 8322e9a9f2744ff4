//! Topology loading: the model, every error class with its position,
//! overrides, start order, graph output, and never panicking on any input.

mod binds;
mod errors;
mod fixtures;
mod fuzz;
mod graph;
mod model;
mod order;
mod overrides;
mod roles;
