//! `rolecall docker up|down|logs` and `rolecall compose`: one container per
//! node, node addresses = container names.

use std::path::PathBuf;
use std::time::Duration;

use crate::deploy::containers::{self, UpOptions};
use crate::deploy::docker::Docker;
use crate::deploy::{compose, Names, Plan, Target, ZkMode};

use super::TopologyArgs;

/// What `docker` and `compose` deploy, and with which names and images.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The topology (and its overrides).
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Prefix of every container, network, volume and default image name.
    #[arg(long, default_value = crate::deploy::names::DEFAULT_PREFIX)]
    pub prefix: String,
    /// The image running this program (default: PREFIX + its name + `:latest`, as `image` tags it).
    #[arg(long)]
    pub image: Option<String>,
    /// The ZooKeeper image (default: PREFIX + `zookeeper:latest`, see `rolecall image --zookeeper`).
    #[arg(long)]
    pub zk_image: Option<String>,
    /// Run a 3-server ZooKeeper ensemble instead of one server.
    #[arg(long)]
    pub zk_ensemble: bool,
}

/// `docker up|down|logs`.
#[allow(missing_docs)] // `args`: documented by `DeployArgs`
#[derive(Debug, clap::Subcommand)]
pub enum DockerCommand {
    /// Create the network and start ZooKeeper (if needed) and every node.
    Up(DeployArgs),
    /// Remove the containers and the network (and, with --volumes, the state).
    Down {
        #[command(flatten)]
        args: DeployArgs,
        /// Also remove the volumes holding durable state.
        #[arg(long)]
        volumes: bool,
    },
    /// Print each container's status, exit code and logs; exit 1 if any
    /// container exited with a non-zero code or is missing.
    Logs(DeployArgs),
}

fn plan(kinds: super::Kinds<'_>, args: &DeployArgs, target: &Target) -> Result<Plan, i32> {
    let zk = if args.zk_ensemble {
        ZkMode::Ensemble
    } else {
        ZkMode::Standalone
    };
    let set = super::assignments(&args.topology);
    Plan::new(&args.topology.topology, &kinds(), &set, target, zk).map_err(|e| {
        eprintln!("{}", e.to_string().trim_end());
        2
    })
}

fn images(args: &DeployArgs, names: &Names) -> (String, String) {
    (
        args.image
            .clone()
            .unwrap_or_else(|| names.image_of(&super::program_label())),
        args.zk_image.clone().unwrap_or_else(|| names.zk_image()),
    )
}

pub(super) fn docker(kinds: super::Kinds<'_>, command: DockerCommand) -> i32 {
    let args = match &command {
        DockerCommand::Up(a) | DockerCommand::Logs(a) | DockerCommand::Down { args: a, .. } => a,
    };
    let names = Names::new(&args.prefix);
    let target = Target::Docker {
        prefix: args.prefix.clone(),
    };
    let plan = match plan(kinds, args, &target) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let docker = Docker::new();
    let (image, zk_image) = images(args, &names);
    let result = match &command {
        DockerCommand::Up(a) => {
            let o = UpOptions {
                image,
                zk_image,
                zk_timeout: Duration::from_secs(60),
            };
            containers::up(&docker, &plan, &names, &a.topology.topology, &o).map(|started| {
                for s in started {
                    println!("{s}");
                }
                0
            })
        }
        DockerCommand::Down { volumes, .. } => containers::down(&docker, &plan, &names, *volumes)
            .map(|removed| {
                for r in removed {
                    println!("removed {r}");
                }
                0
            }),
        DockerCommand::Logs(_) => containers::logs(&docker, &plan).map(|states| {
            let mut status = 0;
            for s in states {
                let code = s
                    .exit_code
                    .map(|c| format!(" (exit code {c})"))
                    .unwrap_or_default();
                println!("==> {}: {}{code}", s.container, s.status);
                print!("{}", s.logs);
                if s.status == "absent" || s.exit_code.is_some_and(|c| c != 0) {
                    status = 1;
                }
            }
            status
        }),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        1
    })
}

/// `compose`: the deployment and where to write the file.
#[derive(Debug, clap::Args)]
pub struct ComposeArgs {
    #[command(flatten)]
    deploy: DeployArgs,
    /// Where to write the compose file (default: standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub(super) fn compose(kinds: super::Kinds<'_>, args: ComposeArgs) -> i32 {
    let names = Names::new(&args.deploy.prefix);
    let target = Target::Docker {
        prefix: args.deploy.prefix.clone(),
    };
    let plan = match plan(kinds, &args.deploy, &target) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let topology = match std::fs::canonicalize(&args.deploy.topology.topology) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}: {e}", args.deploy.topology.topology.display());
            return 2;
        }
    };
    let (image, zk_image) = images(&args.deploy, &names);
    let text = compose::compose(&plan, &names, &topology, &image, &zk_image);
    super::write_output(args.output.as_deref(), &text)
}
