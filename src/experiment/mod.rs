//! Experiments on emulated networks (`rolecall experiment`): a topology's
//! nodes placed on hosts of a network shape, run as variants × repetitions,
//! ending with a comparison report.
//!
//! * [`file`](mod@file): the experiment file and its validation (`file:line:column` errors);
//! * [`apps`]: app-set variants and `[zookeeper]` in the file, placeholders, copies of an app;
//! * `sweep`: `[sweep]`, one parameter's values multiplying the variants;
//! * [`model`]: the validated experiment (network, placement, variants, events);
//! * [`shape`]: network shapes as pure data (hosts, switches, routers, links, routes);
//! * [`plan`]: placement and every node's `rolecall node` arguments;
//! * [`netns`]: the network built from namespaces, veths and bridges;
//! * [`run`]: starting, watching and stopping the node processes;
//! * [`appset`]: running an app-set variant's apps;
//! * [`zookeeper`]: the ZooKeeper server of every run (`zoo.cfg`, start, readiness);
//! * [`compare`]: the percentile table, CDF and sweep plots, `summary.json`;
//! * [`script`]: the Mininet command script for the course's workflow.
//!
//! The format and the facts behind the design are in `docs/experiments.md`.

pub mod apps;
pub mod appset;
pub mod compare;
pub mod file;
pub mod model;
pub mod netns;
pub mod plan;
pub mod run;
pub mod script;
pub mod shape;
mod sweep;
pub mod zookeeper;

pub use file::{load, FileError};
pub use model::Experiment;
