//! `rolecall pubsub publisher|subscriber|discovery|broker`: the course's
//! publish/subscribe apps with the course's flags and `config.ini`, so that a
//! Mininet script in the course's style works unchanged:
//!
//! ```text
//! h1 rolecall pubsub discovery -P 5 -S 4 &
//! h2 rolecall pubsub publisher -d 10.0.0.1:5555 -a 10.0.0.2 -T 5 -n pub1 &
//! h3 rolecall pubsub subscriber -d 10.0.0.1:5555 -T 3 -n sub1 &
//! ```
//!
//! Each builds a small topology (the role's kind, a `zmq.rep` for discovery,
//! a `metrics.reporter` for a subscriber's latency points) and runs it until
//! the role completes (publisher, subscriber with `--idle-timeout-ms` or
//! `--stop-after`) or SIGINT/SIGTERM. Exit status 0 on completion, 1 when the
//! role failed (refused registration, discovery not answering), 2 on bad
//! arguments or `config.ini`.

use std::path::PathBuf;

use rolecall::actors::pubsub::config::{DiscoveryStrategy, Strategies};
use rolecall::actors::pubsub::kinds::{Broker, Member, Publisher, Subscriber, Watch};
use rolecall::runtime::topology::{load_str, Overrides};
use rolecall::runtime::{Node, NodeExit};

mod topology;

use topology::{advertised, client_params, kademlia_topology, parsed, quote, topics_of};

/// The `pubsub` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum PubsubCommand {
    #[command(flatten)]
    App(App),
    /// PA2's generator: `dht.json` for a Chord ring and one Mininet command per role.
    DhtJson(super::pubsub_dht::DhtJsonArgs),
    /// Route keys (topics) on the Chord ring of a `dht.json`: responsible node and hops.
    DhtLookup(super::pubsub_dht::DhtLookupArgs),
}

/// The four apps.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum App {
    /// The discovery service: centralized (REP on `-p`), a node of the Chord ring
    /// (`-j dht.json -n NODE`, `[Discovery] Strategy = DHT`) or a front-end on the
    /// Kademlia DHT (`-n NAME --frontends …`, `[Discovery] Strategy = Kademlia`).
    Discovery(DiscoveryArgs),
    /// A publisher: PUB on `-p`, registers with `-d`, publishes `-i` iterations at `-f` per second.
    Publisher(PublisherArgs),
    /// A subscriber: registers with `-d`, looks up its topics' publishers, receives.
    Subscriber(SubscriberArgs),
    /// The broker: PUB on `-p`, subscribes to every publisher and republishes.
    Broker(BrokerArgs),
}

/// Flags every role has.
#[derive(Debug, clap::Args)]
pub(crate) struct Common {
    /// The `config.ini` with the discovery and dissemination strategies
    /// (a missing `config.ini` in the current directory means Centralized/Direct).
    #[arg(short = 'c', long = "config")]
    config: Option<PathBuf>,
    /// Log level as Python's logging: 10 debug, 20 info, 30 warning, 40 error.
    #[arg(short = 'l', long = "loglevel", default_value_t = 20)]
    pub(crate) loglevel: u32,
}

/// `rolecall pubsub discovery`.
#[derive(Debug, clap::Args)]
pub(crate) struct DiscoveryArgs {
    /// Publishers expected.
    #[arg(short = 'P', long = "num_pubs", default_value_t = 1)]
    publishers: usize,
    /// Subscribers expected.
    #[arg(short = 'S', long = "num_subs", default_value_t = 1)]
    subscribers: usize,
    /// Address to bind (`*`: every interface).
    #[arg(short = 'a', long = "addr", default_value = "*")]
    addr: String,
    /// Port of the REP socket (Centralized; a ring node's port is in `dht.json`).
    #[arg(short = 'p', long = "port", default_value_t = 5555)]
    port: u16,
    /// DHT: the ring's `dht.json` (`[Discovery] Strategy = DHT`).
    #[arg(short = 'j', long = "json_file", visible_alias = "dht-json")]
    json: Option<PathBuf>,
    /// DHT: this node's id in `dht.json` (`disc3`).
    #[arg(short = 'n', long = "name")]
    name: Option<String>,
    /// DHT: bits of the ring (as `dht-json -b`).
    #[arg(short = 'b', long = "bits", default_value_t = 48)]
    bits: u32,
    /// Kademlia: every discovery front-end's name, comma-separated (`-n` is this one's; default: only it).
    #[arg(long, value_delimiter = ',')]
    frontends: Vec<String>,
    /// Kademlia: the libp2p listen address of this front-end's DHT node.
    #[arg(long = "dht-listen", default_value = "/ip4/0.0.0.0/tcp/4001")]
    dht_listen: String,
    /// Kademlia: a bootstrap peer, `/ip4/…/tcp/…/p2p/<peer id>` (repeatable).
    #[arg(long)]
    bootstrap: Vec<String>,
    /// Kademlia: seed of the DHT node's identity (`rolecall dht id --seed N` prints its peer id).
    #[arg(long)]
    seed: Option<u64>,
    /// Kademlia: replicas of each record; every put waits for all of them,
    /// and requests wait until the node knows this many peers.
    #[arg(long, default_value_t = 3)]
    replication: usize,
    /// Broker dissemination: brokers expected before lookups are answered
    /// (more than one: the ZooKeeper strategy's broker replicas).
    #[arg(short = 'B', long = "num_brokers", default_value_t = 1)]
    brokers: usize,
    #[command(flatten)]
    zk: super::pubsub_zk::ZkArgs,
    #[command(flatten)]
    common: Common,
}

/// Flags of the clients.
#[derive(Debug, clap::Args)]
pub(crate) struct ClientArgs {
    /// The unique id.
    #[arg(short = 'n', long = "name")]
    name: Option<String>,
    /// The address others reach this one at.
    #[arg(short = 'a', long = "addr", default_value = "localhost")]
    addr: String,
    /// The discovery service, HOST:PORT.
    #[arg(short = 'd', long = "discovery", default_value = "localhost:5555")]
    discovery: String,
    /// Milliseconds between isready or lookup polls (the course waits 10 s).
    #[arg(long = "pause-ms", default_value_t = 1000)]
    pause_ms: u64,
    /// Milliseconds a discovery request may take before it is resent.
    #[arg(long = "timeout-ms", default_value_t = 5000)]
    timeout_ms: u64,
    /// Seed of the topic choice and the values (default: from the name).
    #[arg(long)]
    seed: Option<u64>,
    /// These topics (comma-separated) instead of `-T` random ones.
    #[arg(long, value_delimiter = ',')]
    topics: Vec<String>,
    /// History QoS (Direct only; 0: none): a publisher keeps its last N per
    /// topic (served at PUB port + 1), a subscriber asks each for its last H.
    #[arg(long, default_value_t = 0)]
    history: usize,
    #[command(flatten)]
    zk: super::pubsub_zk::ZkArgs,
    #[command(flatten)]
    common: Common,
}

/// `rolecall pubsub publisher`.
#[derive(Debug, clap::Args)]
pub(crate) struct PublisherArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Port of the PUB socket.
    #[arg(short = 'p', long = "port", default_value_t = 5577)]
    port: u16,
    /// Number of topics (1-9), chosen at random from the nine.
    #[arg(short = 'T', long = "num_topics", default_value_t = 1)]
    num_topics: usize,
    /// Iterations per second.
    #[arg(short = 'f', long = "frequency", default_value_t = 1.0)]
    frequency: f64,
    /// Iterations (one publication per topic each).
    #[arg(short = 'i', long = "iters", default_value_t = 1000)]
    iters: u64,
    /// Milliseconds between ready and the first publication.
    #[arg(long = "settle-ms", default_value_t = 300)]
    settle_ms: u64,
    /// `text` (the course's `topic:data` frames) or `flatbuffers` (the course's Topic).
    #[arg(long, default_value = "text", value_parser = ["text", "flatbuffers"])]
    format: String,
    /// ZooKeeper strategy: ownership strength on each topic (of several
    /// publishers of a topic, subscribers take only the strongest).
    #[arg(long)]
    strength: Option<u32>,
}

/// `rolecall pubsub subscriber`.
#[derive(Debug, clap::Args)]
pub(crate) struct SubscriberArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Number of topics (1-9), chosen at random from the nine.
    #[arg(short = 'T', long = "num_topics", default_value_t = 1)]
    num_topics: usize,
    /// Complete after this many publications (0: never).
    #[arg(long = "stop-after", default_value_t = 0)]
    stop_after: u64,
    /// Complete after this many ms without a publication, once one arrived (0: never).
    #[arg(long = "idle-timeout-ms", default_value_t = 0)]
    idle_timeout_ms: u64,
    /// Latency points file (line protocol); the run ends with its percentile table.
    #[arg(long = "results")]
    results: Option<PathBuf>,
}

/// `rolecall pubsub broker`.
#[derive(Debug, clap::Args)]
pub(crate) struct BrokerArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Port of the PUB socket.
    #[arg(short = 'p', long = "port", default_value_t = 5570)]
    port: u16,
    /// Complete after this many ms without a publication, once one arrived (0: never).
    #[arg(long = "idle-timeout-ms", default_value_t = 0)]
    idle_timeout_ms: u64,
    /// ZooKeeper strategy: this replica's topic group (0-based, below config.ini's `Groups`).
    #[arg(long, default_value_t = 0)]
    group: usize,
    /// ZooKeeper strategy: publications a backup keeps to replay when it becomes the primary.
    #[arg(long, default_value_t = 10_000)]
    replay: usize,
}

impl PubsubCommand {
    /// The tracing filter for `-l`.
    pub(crate) fn log_filter(&self) -> &'static str {
        let level = match self {
            PubsubCommand::DhtJson(_) | PubsubCommand::DhtLookup(_) => 20,
            PubsubCommand::App(app) => app.loglevel(),
        };
        match level {
            0..=10 => "debug",
            11..=20 => "info",
            21..=30 => "warn",
            _ => "error",
        }
    }
}

impl App {
    fn loglevel(&self) -> u32 {
        match self {
            App::Discovery(a) => a.common.loglevel,
            App::Publisher(a) => a.client.common.loglevel,
            App::Subscriber(a) => a.client.common.loglevel,
            App::Broker(a) => a.client.common.loglevel,
        }
    }
}

/// The strategies from `-c`, or the defaults when no `config.ini` is there.
fn strategies(common: &Common) -> Result<Strategies, String> {
    let path = match &common.config {
        Some(p) => p.clone(),
        None => {
            let p = PathBuf::from("config.ini");
            if !p.exists() {
                return Ok(Strategies::default());
            }
            p
        }
    };
    let s = Strategies::read(&path).map_err(|e| e.to_string())?;
    Ok(s)
}

/// Runs a `pubsub` subcommand; returns the exit status.
pub(crate) fn main(command: PubsubCommand) -> i32 {
    match command {
        PubsubCommand::DhtJson(a) => super::pubsub_dht::main(a),
        PubsubCommand::DhtLookup(a) => super::pubsub_dht::lookup(a),
        PubsubCommand::App(app) => run_app(app),
    }
}

fn run_app(command: App) -> i32 {
    let common = match &command {
        App::Discovery(a) => &a.common,
        App::Publisher(a) => &a.client.common,
        App::Subscriber(a) => &a.client.common,
        App::Broker(a) => &a.client.common,
    };
    let strategies = match strategies(common) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let bad = match &command {
        App::Publisher(a) if !(1..=9).contains(&a.num_topics) => Some(a.num_topics),
        App::Subscriber(a) if !(1..=9).contains(&a.num_topics) => Some(a.num_topics),
        _ => None,
    };
    if let Some(n) = bad {
        eprintln!("error: -T/--num_topics must be 1-9, not {n}");
        return 2;
    }
    let given = match &command {
        App::Publisher(a) => &a.client.topics,
        App::Subscriber(a) => &a.client.topics,
        _ => &Vec::new(),
    };
    if let Some(t) = given
        .iter()
        .find(|t| !rolecall::actors::pubsub::topics::is_known(t))
    {
        eprintln!(
            "error: unknown topic '{t}' (known: {})",
            rolecall::actors::pubsub::topics::TOPICS.join(", ")
        );
        return 2;
    }
    if let App::Publisher(a) = &command {
        if !a.frequency.is_finite() || a.frequency < 0.0 {
            eprintln!(
                "error: -f/--frequency must be a number >= 0, not {}",
                a.frequency
            );
            return 2;
        }
    }
    let dissemination = match strategies.dissemination {
        rolecall::actors::pubsub::Dissemination::Direct => "direct",
        rolecall::actors::pubsub::Dissemination::Broker => "broker",
    };
    let text = match &command {
        App::Discovery(a) if strategies.discovery == DiscoveryStrategy::Chord => {
            let (Some(json), Some(name)) = (&a.json, &a.name) else {
                eprintln!(
                    "error: `[Discovery] Strategy = DHT` needs the ring: -j/--dht-json dht.json and -n/--name NODE"
                );
                return 2;
            };
            format!(
                r#"
                [topology]
                name = "pubsub-chord-node"
                [actors.node]
                kind = "pubsub.chord_node"
                restart = "never"
                params = {{ dht_json = {}, name = {}, bits = {}, addr = {}, publishers = {}, subscribers = {}, dissemination = "{dissemination}" }}
                "#,
                quote(&json.display().to_string()),
                quote(name),
                a.bits,
                quote(&a.addr),
                a.publishers,
                a.subscribers
            )
        }
        App::Discovery(a) if strategies.discovery == DiscoveryStrategy::Kademlia => {
            match kademlia_topology(a, dissemination) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            }
        }
        App::Discovery(a) => {
            let zk = if strategies.discovery == DiscoveryStrategy::ZooKeeper {
                a.zk.discovery(&format!("tcp://{}:{}", advertised(&a.addr), a.port))
            } else {
                String::new()
            };
            if a.brokers != 1 && strategies.discovery != DiscoveryStrategy::ZooKeeper {
                eprintln!("error: -B/--num_brokers above 1 needs `[Discovery] Strategy = ZooKeeper` (replicated brokers)");
                return 2;
            }
            format!(
                r#"
                [topology]
                name = "pubsub-discovery"
                [actors.rep]
                kind = "zmq.rep"
                restart = "never"
                params = {{ bind = [{}] }}
                [actors.discovery]
                kind = "pubsub.discovery"
                restart = "never"
                params = {{ publishers = {}, subscribers = {}, dissemination = "{dissemination}", brokers = {} }}
                [[wires]]
                from = "rep.out"
                to = "discovery.requests"
                [[wires]]
                from = "discovery.replies"
                to = "rep.in"
                {zk}
                "#,
                quote(&format!("tcp://{}:{}", a.addr, a.port)),
                a.publishers,
                a.subscribers,
                a.brokers
            )
        }
        App::Publisher(a) => {
            let params = format!(
                "{}, port = {}, num_topics = {}, frequency = {:?}, iters = {}, settle_ms = {}, format = \"{}\"",
                client_params(&a.client, "pub", &strategies),
                a.port,
                a.num_topics,
                a.frequency,
                a.iters,
                a.settle_ms,
                a.format
            );
            let zk = if strategies.discovery == DiscoveryStrategy::ZooKeeper {
                let (id, topics) = match parsed(&params).and_then(|p| {
                    let t = p.topics().map_err(|e| e.to_string())?;
                    Ok((p.id, t))
                }) {
                    Ok(x) => x,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return 2;
                    }
                };
                format!(
                    "finish_when = [\"publisher\"]\n{}",
                    a.client.zk.publisher(&id, &topics, a.strength)
                )
            } else if a.strength.is_some() {
                eprintln!("error: --strength needs `[Discovery] Strategy = ZooKeeper` (ownership is kept in ZooKeeper)");
                return 2;
            } else {
                String::new()
            };
            format!(
                r#"
                [topology]
                name = "pubsub-publisher"
                {zk}
                [actors.publisher]
                kind = "pubsub.publisher"
                restart = "never"
                params = {{ {params} }}
                "#
            )
        }
        App::Subscriber(a) => {
            let results = a
                .results
                .clone()
                .unwrap_or_else(|| PathBuf::from("target/results/pubsub-subscriber.lp"));
            let params = format!(
                "{}, num_topics = {}, stop_after = {}, idle_timeout_ms = {}",
                client_params(&a.client, "sub", &strategies),
                a.num_topics,
                a.stop_after,
                a.idle_timeout_ms,
            );
            let zk = if strategies.discovery == DiscoveryStrategy::ZooKeeper {
                let topics = match topics_of(&params) {
                    Ok(t) => t,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return 2;
                    }
                };
                let groups = (dissemination == "broker").then_some(strategies.groups);
                a.client.zk.subscriber(&topics, groups)
            } else {
                String::new()
            };
            format!(
                r#"
                [topology]
                name = "pubsub-subscriber"
                finish_when = ["metrics"]
                [actors.subscriber]
                kind = "pubsub.subscriber"
                restart = "never"
                params = {{ {params} }}
                [actors.metrics]
                kind = "metrics.reporter"
                params = {{ path = {}, print_report = true, report_series = " us" }}
                [[wires]]
                from = "subscriber.points"
                to = "metrics.in"
                {zk}
                "#,
                quote(&results.display().to_string())
            )
        }
        App::Broker(a) => {
            if dissemination != "broker" {
                eprintln!(
                    "error: a broker needs `[Dissemination] Strategy = Broker` in config.ini"
                );
                return 2;
            }
            let mut params = format!(
                "{}, port = {}, idle_timeout_ms = {}",
                client_params(&a.client, "broker", &strategies),
                a.port,
                a.idle_timeout_ms
            );
            let zk = if strategies.discovery == DiscoveryStrategy::ZooKeeper {
                if a.group >= strategies.groups {
                    eprintln!(
                        "error: --group {} is not a group: config.ini's `[Dissemination] Groups = {}` makes groups 0-{}",
                        a.group,
                        strategies.groups,
                        strategies.groups - 1
                    );
                    return 2;
                }
                params.push_str(&format!(", group = {}, replay = {}", a.group, a.replay));
                let endpoint = format!("tcp://{}:{}", advertised(&a.client.addr), a.port);
                format!(
                    "finish_when = [\"broker\"]\n{}",
                    a.client.zk.broker(a.group, &endpoint)
                )
            } else {
                String::new()
            };
            format!(
                r#"
                [topology]
                name = "pubsub-broker"
                {zk}
                [actors.broker]
                kind = "pubsub.broker"
                restart = "never"
                params = {{ {params} }}
                "#
            )
        }
    };
    match &command {
        App::Discovery(_) => run::<Member<Publisher>>(&text, None),
        App::Publisher(_) => run::<Member<Publisher>>(&text, Some("publisher")),
        App::Subscriber(_) => run::<Member<Subscriber>>(&text, Some("subscriber")),
        App::Broker(_) => run::<Member<Broker>>(&text, Some("broker")),
    }
}

/// Runs the topology until it ends; with `client`, the named actor's outcome
/// decides the exit status (a failed role is status 1).
fn run<M>(text: &str, client: Option<&str>) -> i32
where
    M: rolecall::runtime::Role + actix::Handler<Watch>,
{
    let client = client.map(str::to_owned);
    let registry = rolecall::default_registry();
    let topology = match load_str(text, "pubsub", &registry, &Overrides::new()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let node = Node::all(topology, registry);
    let zmq = node.zmq().clone();
    let system = actix::System::new();
    let exit = system.block_on(async move {
        let running = node.start().await.map_err(|e| e.to_string())?;
        let outcome = match &client {
            Some(name) => {
                let actor = running.actor::<M>(name).map_err(|e| e.to_string())?;
                // An actor that already stopped has logged its outcome.
                actor.send(Watch).await.ok()
            }
            None => None,
        };
        running.shutdown_on_signals();
        let exit = running.wait().await;
        match outcome.map(|mut rx| rx.try_recv()) {
            Some(Ok(Err(reason))) => Ok(NodeExit::Failed(reason)),
            _ => Ok::<_, String>(exit),
        }
    });
    drop(system);
    rolecall::app::terminate_endpoints(&zmq);
    match exit {
        Ok(NodeExit::Completed) => 0,
        Ok(NodeExit::Failed(reason)) => {
            eprintln!("error: {reason}");
            1
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
