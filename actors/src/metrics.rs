//! Metrics reporter actor: batched line-protocol points into InfluxDB 1.x/2 or a local results file.
//!
//! This module is the fixed home of these kinds in the crate layout; its kinds
//! are added by the issue that builds them. Until then it registers nothing.
