//! `[Discovery] Strategy = ZooKeeper` (the course's PA3/PA4): the actors
//! that `rolecall pubsub …` adds to each role's topology.
//!
//! * discovery: a `zk.election` contender (identifier: its REP endpoint)
//!   wired to the discovery's `leadership`;
//! * every client: a watch-only `zk.membership` on the discovery election,
//!   wired to the client's `zk` port (it follows the primary);
//! * a publisher with `--strength S`: a `zk.membership` member per topic
//!   under `owners/TOPIC` (name: its id, data: S);
//! * a subscriber: a watcher per topic on `owners/TOPIC`, and under Broker
//!   dissemination one per topic group on `brokers/group-K`;
//! * a broker: a `zk.election` contender on `brokers/group-K` (identifier:
//!   its PUB endpoint) wired to its `leadership`.
//!
//! The layout is `rolecall::actors::pubsub::coordination`'s.

use std::collections::BTreeSet;

use rolecall::actors::pubsub::coordination::{
    broker_election, discovery_election, group_of, owners,
};

/// Flags of the ZooKeeper strategy, on every role.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ZkArgs {
    /// ZooKeeper's connect string, HOST:PORT[,HOST:PORT…] (default: $ROLECALL_ZK, else 127.0.0.1:2181).
    #[arg(short = 'z', long = "zookeeper")]
    pub(crate) zookeeper: Option<String>,
    /// ZooKeeper session timeout in ms: how long a dead primary or owner keeps its place.
    #[arg(long = "session-timeout-ms", default_value_t = 4000)]
    pub(crate) session_timeout_ms: u64,
    /// ZooKeeper node under which the system keeps its elections and owners
    /// (one per system sharing an ensemble).
    #[arg(long = "zk-root", default_value = rolecall::actors::pubsub::coordination::ROOT)]
    pub(crate) zk_root: String,
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

impl ZkArgs {
    /// The client kinds' parameters for the strategy.
    pub(crate) fn client_params(&self) -> String {
        format!("zookeeper = true, zk_root = {}", quote(&self.zk_root))
    }

    /// The session fields of a ZooKeeper kind's `params`.
    fn session(&self) -> String {
        let mut p = format!("session_timeout_ms = {}", self.session_timeout_ms);
        if let Some(s) = &self.zookeeper {
            p.push_str(&format!(", servers = {}", quote(s)));
        }
        p
    }

    /// A watch-only `zk.membership` called `name` on `path`, wired to `to.zk`.
    fn watcher(&self, name: &str, path: &str, to: &str) -> String {
        format!(
            r#"
            [actors.{name}]
            kind = "zk.membership"
            params = {{ path = {}, {} }}
            [[wires]]
            from = "{name}.members"
            to = "{to}.zk"
            "#,
            quote(path),
            self.session()
        )
    }

    /// A `zk.election` contender called `name` on `path` with `identifier`,
    /// wired to `to.leadership`.
    fn contender(&self, name: &str, path: &str, identifier: &str, to: &str) -> String {
        format!(
            r#"
            [actors.{name}]
            kind = "zk.election"
            params = {{ path = {}, identifier = {}, {} }}
            [[wires]]
            from = "{name}.leadership"
            to = "{to}.leadership"
            "#,
            quote(path),
            quote(identifier),
            self.session()
        )
    }

    /// The discovery replica's election (its REP endpoint as identifier).
    pub(crate) fn discovery(&self, endpoint: &str) -> String {
        self.contender(
            "election",
            &discovery_election(&self.zk_root),
            endpoint,
            "discovery",
        )
    }

    /// What a publisher adds: the discovery watcher, and with `strength` an
    /// ownership node per topic.
    pub(crate) fn publisher(&self, id: &str, topics: &[String], strength: Option<u32>) -> String {
        let mut t = self.watcher("primary", &discovery_election(&self.zk_root), "publisher");
        if let Some(s) = strength {
            for topic in topics {
                t.push_str(&format!(
                    r#"
                    [actors.owner_{topic}]
                    kind = "zk.membership"
                    params = {{ path = {}, name = {}, address = "{s}", {} }}
                    "#,
                    quote(&owners(&self.zk_root, topic)),
                    quote(id),
                    self.session()
                ));
            }
        }
        t
    }

    /// What a subscriber adds: the discovery watcher, the owners of its
    /// topics, and with `groups` (Broker) the elections of their groups.
    pub(crate) fn subscriber(&self, topics: &[String], groups: Option<usize>) -> String {
        let mut t = self.watcher("primary", &discovery_election(&self.zk_root), "subscriber");
        for topic in topics {
            t.push_str(&self.watcher(
                &format!("owners_{topic}"),
                &owners(&self.zk_root, topic),
                "subscriber",
            ));
        }
        if let Some(g) = groups {
            let wanted: BTreeSet<usize> = topics.iter().map(|t| group_of(t, g)).collect();
            for k in wanted {
                t.push_str(&self.watcher(
                    &format!("brokers_{k}"),
                    &broker_election(&self.zk_root, k),
                    "subscriber",
                ));
            }
        }
        t
    }

    /// What a broker replica of `group` adds: the discovery watcher and its
    /// group's election (its PUB endpoint as identifier).
    pub(crate) fn broker(&self, group: usize, endpoint: &str) -> String {
        let mut t = self.watcher("primary", &discovery_election(&self.zk_root), "broker");
        t.push_str(&self.contender(
            "election",
            &broker_election(&self.zk_root, group),
            endpoint,
            "broker",
        ));
        t
    }
}
