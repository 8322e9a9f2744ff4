//! Deployment: the same topology as one container per node (Docker, a
//! compose file) or on Kubernetes. Only node addresses change, through the
//! ordinary `ROLECALL_SET_*` overrides; see `docs/deploying.md`.
//!
//! Planning and manifest generation are pure functions of a loaded topology
//! ([`Plan`], [`compose::compose`], [`k8s::manifests`]); [`containers`] and
//! [`image`] drive the `docker` command around them.

pub mod compose;
pub mod containers;
pub mod docker;
pub mod image;
pub mod k8s;
pub mod names;
pub mod plan;
pub mod reach;
#[cfg(test)]
mod tests;
pub mod yaml;
pub mod zk;

pub use names::Names;
pub use plan::{Plan, PlanError, Target, ZkMode};
