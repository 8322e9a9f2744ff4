//! ZeroMQ endpoint actors, one kind per socket type, with devices, monitoring and CURVE.
//!
//! This module is the fixed home of these kinds in the crate layout; its kinds
//! are added by the issue that builds them. Until then it registers nothing.
