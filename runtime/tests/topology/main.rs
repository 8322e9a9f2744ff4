//! Topology loading: the model, every error class with its position,
//! overrides, start order, graph output, and never panicking on any input.

mod errors;
mod fuzz;
mod model;
mod overrides;
mod roles;
