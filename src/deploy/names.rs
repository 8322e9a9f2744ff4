//! Names of the Docker objects of a plan, all starting with one prefix, so
//! they are easy to list and remove.

use super::plan::{NodePlan, Plan};

/// The prefix of every container, network, volume and image name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    prefix: String,
}

/// The default prefix.
pub const DEFAULT_PREFIX: &str = "rolecall-";

impl Default for Names {
    fn default() -> Self {
        Names::new(DEFAULT_PREFIX)
    }
}

impl Names {
    /// Names starting with `prefix`.
    pub fn new(prefix: &str) -> Self {
        Names {
            prefix: prefix.to_owned(),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The user-defined network of a topology.
    pub fn network(&self, plan: &Plan) -> String {
        format!("{}{}", self.prefix, plan.name)
    }

    /// The volume holding a node's durable files.
    pub fn volume(&self, plan: &Plan, node: &NodePlan) -> String {
        format!("{}{}-{}-state", self.prefix, plan.name, node.label)
    }

    /// The volume holding ZooKeeper server `i`'s data.
    pub fn zk_volume(&self, plan: &Plan, i: usize) -> String {
        format!("{}{}-zk{}-data", self.prefix, plan.name, i + 1)
    }

    /// The default image of the rolecall binary.
    pub fn image(&self) -> String {
        self.image_of("rolecall")
    }

    /// The image of program `name` (a program of its own kinds, see
    /// `rolecall::app`), as `image` tags it.
    pub fn image_of(&self, name: &str) -> String {
        format!("{}{name}:latest", self.prefix)
    }

    /// The ZooKeeper image (host JRE and jars mounted read-only).
    pub fn zk_image(&self) -> String {
        format!("{}zookeeper:latest", self.prefix)
    }
}
