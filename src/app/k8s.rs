//! `rolecall k8s`: Kubernetes manifests for a topology.

use std::path::PathBuf;

use crate::deploy::k8s::{self, Options};
use crate::deploy::{yaml, Plan, Target, ZkMode};

use super::TopologyArgs;

/// `k8s`: the topology and the manifests' options.
#[derive(Debug, clap::Args)]
pub struct K8sArgs {
    #[command(flatten)]
    topology: TopologyArgs,
    /// Namespace of every object (default: the topology's name).
    #[arg(long)]
    namespace: Option<String>,
    /// The image running this program (default: its name + `:latest`, e.g. `rolecall:latest`).
    #[arg(long)]
    image: Option<String>,
    /// The ZooKeeper image (the official image's conventions).
    #[arg(long, default_value = "zookeeper:3.8")]
    zk_image: String,
    /// Run a 3-server ZooKeeper ensemble instead of one server.
    #[arg(long)]
    zk_ensemble: bool,
    /// Run this node as a Job (a client that finishes), not a Deployment (repeatable).
    #[arg(long, value_name = "NODE")]
    job: Vec<String>,
    /// Where to write the manifests (default: standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub(super) fn k8s(kinds: super::Kinds<'_>, args: K8sArgs) -> i32 {
    let zk = if args.zk_ensemble {
        ZkMode::Ensemble
    } else {
        ZkMode::Standalone
    };
    let path = &args.topology.topology;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return 2;
        }
    };
    let registry = kinds();
    let origin = path.display().to_string();
    let plan = match Plan::from_str(
        &text,
        &origin,
        &registry,
        &super::assignments(&args.topology),
        &Target::Kubernetes,
        zk,
    ) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}", e.to_string().trim_end());
            return 2;
        }
    };
    for j in &args.job {
        if plan.topology.node(j).is_none() {
            eprintln!("error: --job {j}: no node `{j}` in {origin}");
            return 2;
        }
    }
    let namespace = args.namespace.unwrap_or_else(|| plan.name.clone());
    if !crate::deploy::plan::valid_label(&namespace) {
        eprintln!("error: --namespace {namespace}: use lowercase letters, digits and `-`, at most 63 characters");
        return 2;
    }
    let o = Options {
        namespace,
        image: args
            .image
            .unwrap_or_else(|| format!("{}:latest", super::program_label())),
        zk_image: args.zk_image,
        jobs: args.job,
    };
    let docs = k8s::manifests(&plan, &text, &o);
    super::write_output(args.output.as_deref(), &yaml::to_yaml_stream(&docs))
}
