//! `rolecall dht ...`: the course's DHT tools on the `dht.node` actor.
//!
//! * `dht node --listen ADDR [--bootstrap ADDR]... [--seed N | --key-file F]`
//!   starts a ring or joins one, prints its peer id and full addresses, and
//!   serves until SIGINT/SIGTERM (a failed bootstrap is retried by the
//!   supervisor, then the node exits with status 1);
//! * `dht put --bootstrap ADDR KEY VALUE` and `dht get --bootstrap ADDR KEY`
//!   join the ring as a short-lived client-mode node, store or look up one
//!   record (keys are UTF-8 text) and exit: 0 on success, 1 with the error;
//! * `dht id --seed N` prints the peer id of a seeded identity (for
//!   bootstrap addresses in topology files).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use rolecall::actors::dht::{self, Bootstrap, Get, GetInfo, Put};
use rolecall::runtime::topology::{load_str, Overrides};
use rolecall::runtime::{Node, NodeExit, Ref, Running};

/// The `dht` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum DhtCommand {
    /// Start a DHT node (a new ring, or joining one through --bootstrap).
    Node {
        /// Listen multiaddr, e.g. /ip4/0.0.0.0/tcp/24000.
        #[arg(long, default_value = "/ip4/127.0.0.1/tcp/0")]
        listen: String,
        /// Bootstrap peer: /ip4/HOST/tcp/PORT/p2p/PEER_ID (repeatable).
        #[arg(long)]
        bootstrap: Vec<String>,
        #[command(flatten)]
        identity: IdentityArgs,
        /// Replication factor k.
        #[arg(long, default_value_t = 20)]
        replication: usize,
    },
    /// Store KEY = VALUE in the ring reached through --bootstrap.
    Put {
        /// Bootstrap peer: /ip4/HOST/tcp/PORT/p2p/PEER_ID.
        #[arg(long, required = true)]
        bootstrap: Vec<String>,
        /// Peers that must acknowledge.
        #[arg(long, default_value_t = 1)]
        quorum: usize,
        /// The key (UTF-8 text).
        key: String,
        /// The value.
        value: String,
    },
    /// Print the value of KEY in the ring reached through --bootstrap.
    Get {
        /// Bootstrap peer: /ip4/HOST/tcp/PORT/p2p/PEER_ID.
        #[arg(long, required = true)]
        bootstrap: Vec<String>,
        /// Copies to find.
        #[arg(long, default_value_t = 1)]
        quorum: usize,
        /// The key (UTF-8 text).
        key: String,
    },
    /// Print the peer id of a seeded identity.
    Id {
        /// The seed.
        #[arg(long)]
        seed: u64,
    },
}

/// Where a node's identity comes from.
#[derive(Debug, clap::Args)]
pub(crate) struct IdentityArgs {
    /// Deterministic identity from this number (tests, experiments).
    #[arg(long, conflicts_with = "key_file")]
    seed: Option<u64>,
    /// Identity from this key file (created with a new key if missing).
    #[arg(long)]
    key_file: Option<PathBuf>,
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| quote(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs a `dht` subcommand; returns the exit status.
pub(crate) fn main(command: DhtCommand) -> i32 {
    match command {
        DhtCommand::Id { seed } => {
            println!("{}", dht::seeded_peer_id(seed));
            0
        }
        DhtCommand::Node {
            listen,
            bootstrap,
            identity,
            replication,
        } => {
            let identity = match identity_param(&identity) {
                Ok(i) => i,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            let text = format!(
                r#"
                [topology]
                name = "dht-node"
                [actors.dht]
                kind = "dht.node"
                restart = "on-failure"
                max_restarts = 5
                within = "60s"
                backoff = {{ min = "500ms", max = "5s" }}
                params = {{ listen = {}, bootstrap = [{}], replication = {replication}{identity} }}
                "#,
                quote(&listen),
                list(&bootstrap)
            );
            run(&text, |running| async move {
                let node = running
                    .actor::<dht::Node>("dht")
                    .map_err(|e| e.to_string())?;
                let info = info(&node).await?;
                println!("peer id: {}", info.peer_id);
                for addr in &info.listen {
                    println!("listening: {addr}");
                }
                let _ = std::io::stdout().flush();
                running.shutdown_on_signals();
                match running.wait().await {
                    NodeExit::Completed => Ok(()),
                    NodeExit::Failed(reason) => Err(format!("node failed: {reason}")),
                }
            })
        }
        DhtCommand::Put {
            bootstrap,
            quorum,
            key,
            value,
        } => client(&bootstrap, move |node| async move {
            let put = Put {
                key: key.clone().into_bytes(),
                value: value.into_bytes(),
                quorum: Some(quorum),
            };
            match node.send(put).await {
                Ok(Ok(_)) => {
                    println!("stored {key}");
                    Ok(())
                }
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }),
        DhtCommand::Get {
            bootstrap,
            quorum,
            key,
        } => client(&bootstrap, move |node| async move {
            let get = Get {
                key: key.into_bytes(),
                quorum: Some(quorum),
            };
            match node.send(get).await {
                Ok(Ok(found)) => {
                    println!("{}", String::from_utf8_lossy(&found.value));
                    eprintln!("(from {})", found.from);
                    Ok(())
                }
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }),
    }
}

/// `, seed = N` or `, key_file = "..."` (a missing key file gets a new key).
fn identity_param(args: &IdentityArgs) -> Result<String, String> {
    if let Some(seed) = args.seed {
        return Ok(format!(", seed = {seed}"));
    }
    let Some(path) = &args.key_file else {
        return Ok(String::new());
    };
    if !path.exists() {
        let key = libp2p_key()?;
        std::fs::write(path, key).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote a new key to {}", path.display());
    }
    Ok(format!(
        ", key_file = {}",
        quote(&path.display().to_string())
    ))
}

fn libp2p_key() -> Result<Vec<u8>, String> {
    dht::new_key_file_contents().map_err(|e| e.to_string())
}

async fn info(node: &Ref<dht::Node>) -> Result<dht::Info, String> {
    match tokio::time::timeout(Duration::from_secs(10), node.send(GetInfo)).await {
        Ok(Ok(Ok(info))) => Ok(info),
        Ok(Ok(Err(e))) => Err(e.to_string()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the dht node did not answer within 10 s".into()),
    }
}

/// Runs a short-lived client-mode node: bootstraps through `bootstrap`,
/// then runs `work` against it.
fn client<F, Fut>(bootstrap: &[String], work: F) -> i32
where
    F: FnOnce(Ref<dht::Node>) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let text = format!(
        r#"
        [topology]
        name = "dht-client"
        [actors.dht]
        kind = "dht.node"
        restart = "never"
        params = {{ mode = "client", join = false, bootstrap = [{}], bootstrap_timeout = "3s", rebootstrap = "0s" }}
        "#,
        list(bootstrap)
    );
    run(&text, move |running| async move {
        let node = running
            .actor::<dht::Node>("dht")
            .map_err(|e| e.to_string())?;
        let joined = match tokio::time::timeout(Duration::from_secs(15), node.send(Bootstrap)).await
        {
            Ok(Ok(Ok(_))) => Ok(()),
            Ok(Ok(Err(e))) => Err(e.to_string()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("dht bootstrap: no answer within 15 s".into()),
        };
        let result = match joined {
            Ok(()) => work(node).await,
            Err(e) => Err(e),
        };
        running.shutdown();
        let _ = tokio::time::timeout(Duration::from_secs(5), running.wait()).await;
        result
    })
}

/// Loads `text`, starts it in a new actix system, runs `body`; prints its
/// error and returns the exit status.
fn run<F, Fut>(text: &str, body: F) -> i32
where
    F: FnOnce(Running) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let registry = rolecall::default_registry();
    let topology = match load_str(text, "dht", &registry, &Overrides::new()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let system = actix::System::new();
    let result = system.block_on(async move {
        let running = Node::all(topology, registry)
            .start()
            .await
            .map_err(|e| e.to_string())?;
        body(running).await
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
