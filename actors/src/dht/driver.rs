//! The task that owns a node's swarm. It runs on the actor's own arbiter
//! (a tokio current-thread runtime, spawned with `actix::spawn`), is fed by a
//! bounded command channel, and answers each command through its oneshot once
//! the Kademlia query it started (matched by `QueryId`) has finished.
//!
//! Ends when the command channel closes (the actor stopped): the swarm is
//! dropped, closing the listener and every connection.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::num::NonZeroUsize;

use futures::StreamExt;
use libp2p::kad::store::RecordStore;
use libp2p::kad::{self, GetProvidersOk, GetRecordOk, QueryId, QueryResult, Quorum, Record};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, Multiaddr, PeerId, Swarm};
use tokio::sync::{mpsc, oneshot};

use super::config::{Config, PROTOCOL};
use super::message::*;
use super::refresh::Refresh;
use super::swarm::{Behaviour, BehaviourEvent};

type Reply<T, E> = oneshot::Sender<Result<T, E>>;

/// A command for the driver, with the channel its answer goes to.
#[derive(Debug)]
pub(crate) enum Command {
    Put(Put, Reply<Stored, PutError>),
    Get(Get, Reply<Found, GetError>),
    Provide(Provide, Reply<Provided, ProvideError>),
    FindProviders(FindProviders, Reply<Providers, FindProvidersError>),
    Bootstrap(Reply<Bootstrapped, BootstrapError>),
    Info(oneshot::Sender<Info>),
}

/// A query in flight, waiting for its result.
enum Pending {
    Put {
        key: Vec<u8>,
        quorum: usize,
        reply: Reply<Stored, PutError>,
    },
    Get {
        key: Vec<u8>,
        quorum: usize,
        copies: Vec<(Option<PeerId>, Vec<u8>)>,
        reply: Reply<Found, GetError>,
    },
    Provide {
        key: Vec<u8>,
        reply: Reply<Provided, ProvideError>,
    },
    FindProviders {
        key: Vec<u8>,
        peers: BTreeSet<PeerId>,
        reply: Reply<Providers, FindProvidersError>,
    },
    Bootstrap {
        replies: Vec<Reply<Bootstrapped, BootstrapError>>,
    },
}

/// Bootstrap requests waiting for a connection to a bootstrap peer. Failed
/// dials are retried every [`REDIAL`] until `deadline`; then every waiting
/// request gets [`BootstrapError::Unreachable`] with each peer's last error.
#[derive(Default)]
struct Connecting {
    dialing: HashSet<PeerId>,
    failures: HashMap<PeerId, String>,
    replies: Vec<Reply<Bootstrapped, BootstrapError>>,
    deadline: Option<tokio::time::Instant>,
}

/// Pause between dials of an unreachable bootstrap peer.
const REDIAL: std::time::Duration = std::time::Duration::from_millis(250);

/// Owns the swarm; see the module docs.
pub(crate) struct Driver {
    swarm: Swarm<Behaviour>,
    config: Config,
    pending: HashMap<QueryId, Pending>,
    connecting: Connecting,
    listen: Vec<Multiaddr>,
    events: mpsc::Sender<Event>,
    events_dropped: u64,
    /// Dials and accepts that failed for want of a file descriptor.
    out_of_fds: u64,
    refresh: Refresh,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("peer", self.swarm.local_peer_id())
            .field("pending", &self.pending.len())
            .finish()
    }
}

fn check_quorum(asked: Option<usize>, config: &Config) -> Result<usize, (usize, usize)> {
    let q = asked.unwrap_or(config.quorum.get());
    let k = config.replication.get();
    if (1..=k).contains(&q) {
        Ok(q)
    } else {
        Err((q, k))
    }
}

/// Whether a connection error (its `Debug` text: libp2p wraps the OS error
/// in layers whose `Display` says nothing) is EMFILE or ENFILE.
fn out_of_fds(error: &str) -> bool {
    ["Too many open files", "code: 24,", "code: 23,"]
        .iter()
        .any(|sign| error.contains(sign))
}

fn nonzero(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN)
}

impl Driver {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        config: Config,
        events: mpsc::Sender<Event>,
    ) -> Self {
        Driver {
            refresh: Refresh::new(config.replication.get()),
            swarm,
            config,
            pending: HashMap::new(),
            connecting: Connecting::default(),
            listen: Vec::new(),
            events,
            events_dropped: 0,
            out_of_fds: 0,
        }
    }

    /// Drives the swarm and serves commands until the channel closes.
    pub(crate) async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        // Answer nothing before the listener is up, so `Info` has addresses.
        let until = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while self.listen.is_empty() {
            match tokio::time::timeout_at(until, self.swarm.select_next_some()).await {
                Ok(event) => self.swarm_event(event),
                Err(_) => break,
            }
        }
        let mut redial = tokio::time::interval(REDIAL);
        redial.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(c) => self.command(c),
                    None => break,
                },
                event = self.swarm.select_next_some() => self.swarm_event(event),
                _ = redial.tick() => self.redial(),
                _ = Self::until(self.refresh.due()) => self.look_for_peers(),
            }
        }
    }

    /// Sleeps until `at`, or forever when there is nothing due.
    async fn until(at: Option<tokio::time::Instant>) {
        match at {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    }

    /// A routing table short of `replication` peers asks again (see
    /// [`Refresh`]): a bootstrap lookup nobody waits for.
    fn look_for_peers(&mut self) {
        if self.refresh.fire(tokio::time::Instant::now()) {
            let peers = self.routing_peers();
            tracing::debug!(peer = %self.swarm.local_peer_id(), peers, "dht: too few peers; looking for more");
            self.start_bootstrap_query(Vec::new());
        }
    }

    fn kad(&mut self) -> &mut kad::Behaviour<kad::store::MemoryStore> {
        &mut self.swarm.behaviour_mut().kad
    }

    /// The peers in the routing table (the [`Refresh`] schedule learns
    /// each count).
    fn routing_peers(&mut self) -> usize {
        let peers = self.kad().kbuckets().map(|b| b.num_entries()).sum();
        self.refresh.peers(peers, tokio::time::Instant::now());
        peers
    }

    fn emit(&mut self, event: Event) {
        if self.events.try_send(event).is_err() {
            self.events_dropped += 1;
            if self.events_dropped.is_power_of_two() {
                tracing::warn!(
                    peer = %self.swarm.local_peer_id(),
                    dropped = self.events_dropped,
                    "dht events dropped: the node actor is behind"
                );
            }
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Put(put, reply) => self.put(put, reply),
            Command::Get(get, reply) => self.get(get, reply),
            Command::Provide(p, reply) => {
                if let Err(e) = check_key(&p.key) {
                    let _ = reply.send(Err(e.into()));
                    return;
                }
                match self.kad().start_providing(kad::RecordKey::new(&p.key)) {
                    Ok(id) => {
                        self.pending
                            .insert(id, Pending::Provide { key: p.key, reply });
                    }
                    Err(e) => {
                        let _ = reply.send(Err(ProvideError::Store {
                            key: p.key,
                            reason: e.to_string(),
                        }));
                    }
                }
            }
            Command::FindProviders(f, reply) => {
                if let Err(e) = check_key(&f.key) {
                    let _ = reply.send(Err(e.into()));
                    return;
                }
                let id = self.kad().get_providers(kad::RecordKey::new(&f.key));
                self.pending.insert(
                    id,
                    Pending::FindProviders {
                        key: f.key,
                        peers: BTreeSet::new(),
                        reply,
                    },
                );
            }
            Command::Bootstrap(reply) => self.bootstrap(reply),
            Command::Info(reply) => {
                let me = *self.swarm.local_peer_id();
                let info = Info {
                    peer_id: me.to_string(),
                    listen: self
                        .listen
                        .iter()
                        .map(|a| a.clone().with(Protocol::P2p(me)).to_string())
                        .collect(),
                    routing_peers: self.routing_peers(),
                    records: self.kad().store_mut().records().count(),
                    queries: self.kad().iter_queries().count(),
                    events_dropped: self.events_dropped,
                };
                let _ = reply.send(info);
            }
        }
    }

    fn put(&mut self, put: Put, reply: Reply<Stored, PutError>) {
        if let Err(e) = check_key(&put.key) {
            let _ = reply.send(Err(e.into()));
            return;
        }
        if put.value.len() > self.config.max_record_size {
            let _ = reply.send(Err(PutError::TooLarge {
                size: put.value.len(),
                max: self.config.max_record_size,
            }));
            return;
        }
        let quorum = match check_quorum(put.quorum, &self.config) {
            Ok(q) => q,
            Err((quorum, replication)) => {
                let _ = reply.send(Err(PutError::BadQuorum {
                    quorum,
                    replication,
                }));
                return;
            }
        };
        let mut record = Record::new(put.key.clone(), put.value);
        // Expires everywhere, in our own store too, `record_ttl` after the
        // put (republication does not extend it).
        record.expires = self
            .config
            .record_ttl
            .map(|ttl| std::time::Instant::now() + ttl);
        match self.kad().put_record(record, Quorum::N(nonzero(quorum))) {
            Ok(id) => {
                self.pending.insert(
                    id,
                    Pending::Put {
                        key: put.key,
                        quorum,
                        reply,
                    },
                );
            }
            Err(e) => {
                let _ = reply.send(Err(PutError::Store {
                    key: put.key,
                    reason: e.to_string(),
                }));
            }
        }
    }

    fn get(&mut self, get: Get, reply: Reply<Found, GetError>) {
        if let Err(e) = check_key(&get.key) {
            let _ = reply.send(Err(e.into()));
            return;
        }
        let quorum = match check_quorum(get.quorum, &self.config) {
            Ok(q) => q,
            Err((quorum, replication)) => {
                let _ = reply.send(Err(GetError::BadQuorum {
                    quorum,
                    replication,
                }));
                return;
            }
        };
        let id = self.kad().get_record(kad::RecordKey::new(&get.key));
        self.pending.insert(
            id,
            Pending::Get {
                key: get.key,
                quorum,
                copies: Vec::new(),
                reply,
            },
        );
    }

    fn bootstrap(&mut self, reply: Reply<Bootstrapped, BootstrapError>) {
        if self.config.bootstrap.is_empty() {
            return self.start_bootstrap_query(vec![reply]);
        }
        if self
            .config
            .bootstrap
            .iter()
            .any(|p| self.swarm.is_connected(&p.id))
        {
            return self.start_bootstrap_query(vec![reply]);
        }
        self.connecting.replies.push(reply);
        if self.connecting.deadline.is_none() {
            self.connecting.deadline =
                Some(tokio::time::Instant::now() + self.config.bootstrap_timeout);
        }
        self.dial_bootstrap_peers();
    }

    /// Dials every bootstrap peer not being dialled already.
    fn dial_bootstrap_peers(&mut self) {
        for peer in self.config.bootstrap.clone() {
            if self.connecting.dialing.contains(&peer.id) {
                continue;
            }
            let opts = DialOpts::peer_id(peer.id)
                .addresses(vec![peer.addr.clone()])
                .build();
            match self.swarm.dial(opts) {
                Ok(()) => {
                    self.connecting.dialing.insert(peer.id);
                }
                Err(e) => {
                    self.connecting
                        .failures
                        .insert(peer.id, format!("{}: {e}", peer.full()));
                }
            }
        }
    }

    /// Every [`REDIAL`]: redial, or give up past the deadline.
    fn redial(&mut self) {
        if self.connecting.replies.is_empty() {
            return;
        }
        let past = self
            .connecting
            .deadline
            .is_some_and(|d| tokio::time::Instant::now() >= d);
        if !past {
            return self.dial_bootstrap_peers();
        }
        let mut failures: Vec<String> = self.connecting.failures.values().cloned().collect();
        failures.sort();
        if failures.is_empty() {
            failures.push("no connection was made in time".into());
        }
        for reply in std::mem::take(&mut self.connecting.replies) {
            let _ = reply.send(Err(BootstrapError::Unreachable {
                failures: failures.clone(),
            }));
        }
        self.connecting = Connecting {
            dialing: std::mem::take(&mut self.connecting.dialing),
            ..Connecting::default()
        };
    }

    fn start_bootstrap_query(&mut self, replies: Vec<Reply<Bootstrapped, BootstrapError>>) {
        match self.kad().bootstrap() {
            Ok(id) => match self.pending.get_mut(&id) {
                Some(Pending::Bootstrap { replies: r }) => r.extend(replies),
                _ => {
                    self.pending.insert(id, Pending::Bootstrap { replies });
                }
            },
            Err(_) => {
                for reply in replies {
                    let _ = reply.send(Err(BootstrapError::NoPeers));
                }
            }
        }
    }

    fn swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        tracing::trace!(peer = %self.swarm.local_peer_id(), ?event, "dht swarm event");
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::debug!(%address, peer = %self.swarm.local_peer_id(), "dht listening");
                self.listen.push(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listen.retain(|a| *a != address);
            }
            SwarmEvent::ConnectionEstablished { peer_id, .. } => self.connected(peer_id),
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                self.note_fd_shortage(&error);
                if let Some(peer) = peer_id {
                    self.dial_failed(peer, &error);
                }
            }
            SwarmEvent::IncomingConnectionError { error, .. } => self.note_fd_shortage(&error),
            SwarmEvent::ListenerError { error, .. } => self.note_fd_shortage(&error),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => self.identified(peer_id, info),
            SwarmEvent::Behaviour(BehaviourEvent::Kad(event)) => self.kad_event(event),
            _ => {}
        }
    }

    fn connected(&mut self, peer: PeerId) {
        self.connecting.dialing.remove(&peer);
        let bootstrap_peer = self.config.bootstrap.iter().any(|p| p.id == peer);
        if bootstrap_peer && !self.connecting.replies.is_empty() {
            let replies = std::mem::take(&mut self.connecting.replies);
            self.connecting.failures.clear();
            self.connecting.deadline = None;
            self.start_bootstrap_query(replies);
        }
    }

    /// A connection that failed because the process is out of file
    /// descriptors is counted and reported (at 1, 2, 4, 8, ... failures):
    /// libp2p gives it to no query, and a lookup that meets such a peer
    /// waits out its timeout without a word.
    fn note_fd_shortage(&mut self, error: &dyn std::fmt::Debug) {
        if !out_of_fds(&format!("{error:?}")) {
            return;
        }
        self.out_of_fds += 1;
        if self.out_of_fds.is_power_of_two() {
            tracing::warn!(
                peer = %self.swarm.local_peer_id(),
                failures = self.out_of_fds,
                "dht connections fail: the process is out of file descriptors \
                 (raise `ulimit -n`, run fewer nodes per process or lower `idle_timeout`)"
            );
        }
    }

    fn dial_failed(&mut self, peer: PeerId, error: &libp2p::swarm::DialError) {
        if !self.connecting.dialing.remove(&peer) {
            return;
        }
        if let Some(p) = self.config.bootstrap.iter().find(|p| p.id == peer) {
            let line = format!("{}: {error}", p.full());
            self.connecting.failures.insert(peer, line);
        }
    }

    /// Peers that speak Kademlia in server mode go into the routing table
    /// with the addresses they listen on.
    fn identified(&mut self, peer: PeerId, info: identify::Info) {
        if info.protocols.iter().any(|p| p.as_ref() == PROTOCOL) {
            for addr in info.listen_addrs {
                self.kad().add_address(&peer, addr);
            }
        }
    }

    fn kad_event(&mut self, event: kad::Event) {
        match event {
            kad::Event::RoutingUpdated {
                peer, is_new_peer, ..
            } => {
                let peers = self.routing_peers();
                self.emit(Event::RoutingUpdated {
                    peer: peer.to_string(),
                    new: is_new_peer,
                    peers,
                });
            }
            kad::Event::OutboundQueryProgressed {
                id, result, step, ..
            } => self.progress(id, result, step.last),
            _ => {}
        }
    }

    fn progress(&mut self, id: QueryId, result: QueryResult, last: bool) {
        match result {
            QueryResult::Bootstrap(result) => {
                let peers = self.routing_peers();
                // The first step (the lookup of our own id) has joined us
                // to the ring: answer then; the refresh of farther buckets
                // goes on, and its end is reported as an event. A step that
                // timed out still refreshed the table from the peers that
                // answered.
                if let Some(Pending::Bootstrap { replies }) = self.pending.remove(&id) {
                    for reply in replies {
                        let _ = reply.send(Ok(Bootstrapped { peers }));
                    }
                }
                if last || result.is_err() {
                    self.emit(Event::BootstrapDone { peers });
                }
            }
            QueryResult::PutRecord(result) => {
                let Some(Pending::Put { key, quorum, reply }) = self.pending.remove(&id) else {
                    return;
                };
                let answer = match result {
                    Ok(_) => Ok(Stored { key }),
                    Err(kad::PutRecordError::QuorumFailed { success, .. }) => {
                        Err(PutError::QuorumFailed {
                            key,
                            stored: success.len(),
                            quorum,
                        })
                    }
                    Err(kad::PutRecordError::Timeout { success, .. }) => Err(PutError::Timeout {
                        key,
                        stored: success.len(),
                        quorum,
                    }),
                };
                let _ = reply.send(answer);
            }
            QueryResult::GetRecord(result) => self.get_progress(id, result, last),
            QueryResult::StartProviding(result) => {
                if let Some(Pending::Provide { key, reply }) = self.pending.remove(&id) {
                    let _ = reply.send(match result {
                        Ok(_) => Ok(Provided { key }),
                        Err(_) => Err(ProvideError::Timeout { key }),
                    });
                }
            }
            QueryResult::GetProviders(result) => {
                let Some(Pending::FindProviders { peers, .. }) = self.pending.get_mut(&id) else {
                    return;
                };
                let timed_out = match result {
                    Ok(GetProvidersOk::FoundProviders { providers, .. }) => {
                        peers.extend(providers);
                        false
                    }
                    Ok(GetProvidersOk::FinishedWithNoAdditionalRecord { .. }) => false,
                    Err(_) => true,
                };
                if last || timed_out {
                    if let Some(Pending::FindProviders { key, peers, reply }) =
                        self.pending.remove(&id)
                    {
                        let _ = reply.send(if timed_out && peers.is_empty() {
                            Err(FindProvidersError::Timeout { key })
                        } else {
                            Ok(Providers {
                                key,
                                peers: peers.iter().map(PeerId::to_string).collect(),
                            })
                        });
                    }
                }
            }
            _ => {}
        }
    }

    fn get_progress(&mut self, id: QueryId, result: kad::GetRecordResult, last: bool) {
        let Some(Pending::Get { copies, quorum, .. }) = self.pending.get_mut(&id) else {
            return;
        };
        let quorum = *quorum;
        let failed = match result {
            Ok(GetRecordOk::FoundRecord(found)) => {
                if !copies.iter().any(|(p, _)| *p == found.peer) {
                    copies.push((found.peer, found.record.value));
                }
                None
            }
            Ok(GetRecordOk::FinishedWithNoAdditionalRecord { .. }) => None,
            Err(kad::GetRecordError::Timeout { .. }) => Some(true),
            Err(_) => Some(false),
        };
        let enough = copies.len() >= quorum;
        if !(enough || last || failed.is_some()) {
            return;
        }
        let Some(Pending::Get {
            key,
            mut copies,
            reply,
            ..
        }) = self.pending.remove(&id)
        else {
            return;
        };
        if enough {
            if let Some(mut q) = self.kad().query_mut(&id) {
                q.finish();
            }
            let (peer, value) = copies.swap_remove(0);
            let me = *self.swarm.local_peer_id();
            let _ = reply.send(Ok(Found {
                key,
                value,
                from: peer.unwrap_or(me).to_string(),
                local: peer.is_none(),
                copies: copies.len() + 1,
            }));
        } else if failed == Some(true) && copies.is_empty() {
            let _ = reply.send(Err(GetError::Timeout { key }));
        } else if copies.is_empty() {
            let _ = reply.send(Err(GetError::NotFound { key }));
        } else {
            let _ = reply.send(Err(GetError::QuorumFailed {
                key,
                found: copies.len(),
                quorum,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::out_of_fds;

    #[test]
    fn an_os_error_for_want_of_descriptors_is_recognised_and_others_are_not() {
        let emfile = std::io::Error::from_raw_os_error(24);
        let wrapped = std::io::Error::other(format!("{emfile:?}"));
        assert!(out_of_fds(&format!("{:?}", Some(wrapped))));
        assert!(out_of_fds(&format!(
            "{:?}",
            std::io::Error::from_raw_os_error(23)
        )));
        let refused = std::io::Error::from_raw_os_error(111);
        assert!(!out_of_fds(&format!("{refused:?}")));
        assert!(!out_of_fds("Timeout"));
    }
}
