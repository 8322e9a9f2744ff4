//! The same swarms as the actor ring (`dht::swarm::build`, same
//! configuration and identities), each driven by a plain task with a
//! command channel, no actor in between. Runs in a process of its own
//! ([`super::remote`]): the two rings of 100 nodes in one process would hold
//! ~20,000 sockets, the file-descriptor limit here, and dials failed with
//! "Too many open files" (each such failure stalled a lookup for 10 s).

use std::collections::HashMap;

use futures::StreamExt;
use rolecall_actors::dht;
use rolecall_actors::dht::libp2p::kad::{self, GetRecordOk, QueryId, QueryResult, Quorum, Record};
use rolecall_actors::dht::libp2p::swarm::SwarmEvent;
use rolecall_actors::dht::libp2p::{identify, Swarm};
use rolecall_actors::dht::swarm::{Behaviour, BehaviourEvent};
use tokio::sync::{mpsc, oneshot};

use super::{params, NodeState, Ring};

enum Raw {
    Put(Record, oneshot::Sender<Result<(), String>>),
    Get(kad::RecordKey, oneshot::Sender<bool>),
    State(oneshot::Sender<NodeState>),
}

/// The plain loop around one swarm: commands in, query results out by id.
async fn drive(mut swarm: Swarm<Behaviour>, mut commands: mpsc::Receiver<Raw>) {
    let mut waiting: HashMap<QueryId, oneshot::Sender<bool>> = HashMap::new();
    let mut putting: HashMap<QueryId, oneshot::Sender<Result<(), String>>> = HashMap::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Raw::Put(record, tx)) => {
                    match swarm.behaviour_mut().kad.put_record(record, Quorum::One) {
                        Ok(id) => { putting.insert(id, tx); }
                        Err(e) => { let _ = tx.send(Err(format!("{e:?}"))); }
                    }
                }
                Some(Raw::Get(key, tx)) => {
                    let id = swarm.behaviour_mut().kad.get_record(key);
                    waiting.insert(id, tx);
                }
                Some(Raw::State(tx)) => {
                    let kad = &mut swarm.behaviour_mut().kad;
                    let peers = kad.kbuckets().map(|b| b.num_entries()).sum();
                    let _ = tx.send(NodeState { peers, queries: kad.iter_queries().count() });
                }
                None => break,
            },
            event = swarm.select_next_some() => match event {
                SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }))
                    if info.protocols.iter().any(|p| p.as_ref() == dht::config::PROTOCOL) =>
                {
                    for addr in info.listen_addrs {
                        swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                    }
                }
                SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed { id, result, step, .. })) => {
                    match result {
                        QueryResult::GetRecord(Ok(GetRecordOk::FoundRecord(_))) => {
                            if let Some(tx) = waiting.remove(&id) {
                                if let Some(mut q) = swarm.behaviour_mut().kad.query_mut(&id) { q.finish(); }
                                let _ = tx.send(true);
                            }
                        }
                        QueryResult::GetRecord(_) if step.last => {
                            if let Some(tx) = waiting.remove(&id) { let _ = tx.send(false); }
                        }
                        QueryResult::GetRecord(Err(_)) => {
                            if let Some(tx) = waiting.remove(&id) { let _ = tx.send(false); }
                        }
                        QueryResult::PutRecord(r) => {
                            if let Some(tx) = putting.remove(&id) { let _ = tx.send(r.map(|_| ()).map_err(|e| format!("{e:?}"))); }
                        }
                        _ => {}
                    }
                }
                _ => {}
            },
        }
    }
}

pub(super) struct DirectRing {
    nodes: Vec<(mpsc::Sender<Raw>, tokio::task::JoinHandle<()>)>,
}

impl DirectRing {
    pub(super) async fn start(n: usize, port: u16, seed: u64) -> Result<Self, String> {
        let first = format!(
            "/ip4/127.0.0.1/tcp/{port}/p2p/{}",
            dht::seeded_peer_id(seed)
        );
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let p = params(
                if i == 0 { port } else { 0 },
                seed + i as u64,
                (i > 0).then(|| first.clone()),
            );
            let config = p.validate().map_err(|e| e.to_string())?;
            let keypair = config.identity().keypair().map_err(|e| e.to_string())?;
            let mut swarm = dht::swarm::build(keypair, &config).map_err(|e| e.to_string())?;
            if i > 0 {
                // As the actor does at start: dial the bootstrap peer, then bootstrap.
                let peer = &config.bootstrap()[0];
                swarm.dial(peer.full()).map_err(|e| e.to_string())?;
                let _ = swarm.behaviour_mut().kad.bootstrap();
            }
            let (tx, rx) = mpsc::channel(1024);
            let task = actix::spawn(drive(swarm, rx));
            nodes.push((tx, task));
        }
        Ok(DirectRing { nodes })
    }

    async fn ask<T>(&self, node: usize, make: impl FnOnce(oneshot::Sender<T>) -> Raw) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.nodes[node].0.send(make(tx)).await.ok()?;
        rx.await.ok()
    }

    pub(super) fn stop(self) {
        for (_, task) in self.nodes {
            task.abort();
        }
    }
}

impl Ring for DirectRing {
    async fn put(&self, node: usize, key: String, value: Vec<u8>) -> Result<(), String> {
        let record = Record::new(key.into_bytes(), value);
        self.ask(node, |tx| Raw::Put(record, tx))
            .await
            .unwrap_or_else(|| Err("the swarm's task is gone".into()))
    }
    async fn get(&self, node: usize, key: String) -> bool {
        let key = kad::RecordKey::new(&key);
        self.ask(node, |tx| Raw::Get(key, tx))
            .await
            .unwrap_or(false)
    }
    async fn state(&self, node: usize) -> NodeState {
        self.ask(node, Raw::State).await.unwrap_or_default()
    }
    fn len(&self) -> usize {
        self.nodes.len()
    }
}
