//! A discovery front-end on the Kademlia DHT as an I/O-free state machine:
//! client `DiscoveryReq`s and the `dht.node`'s [`Response`]s in, replies and
//! DHT [`Request`]s out.
//!
//! Records (values are JSON), each written by **one** front-end only:
//!
//! * `pubsub/topic/T/F`: the publishers of topic `T` that registered through
//!   front-end `F`;
//! * `pubsub/registry/F`: the ids of the publishers and subscribers that
//!   registered through `F`, the broker, and the lookups `F` answered.
//!
//! Readers get the record of every front-end of the configured list and take
//! the union. Since each record has one writer, which keeps the record's
//! state in memory and rewrites it whole, with at most one put of a key in
//! flight (a change made meanwhile is written by the next put), concurrent
//! registrations never lose a registrant: there is no read-modify-write of
//! shared state. A registration is answered once its topic records are
//! stored, and its registry record after that, so a reader that counts a
//! publisher also finds it under its topics. Puts use the node's quorum
//! (configure `quorum = replication`: every replica acknowledged), gets take
//! the first copy found (quorum 1): after an acknowledged put, every replica
//! has it.
//!
//! Limits: the list of front-ends is static (as the ring's `dht.json`);
//! a duplicate id is refused only when both registrations reach the same
//! front-end (two front-ends may each accept one; lookups then list the id
//! once); a second broker is likewise refused per front-end.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message as _;
use rolecall_codecs::pb::discovery::{
    discovery_req, discovery_resp, DiscoveryResp, IsReadyResp, MsgTypes, RegisterResp, Role, Status,
};
use serde::{Deserialize, Serialize};

use crate::dht::{Get, GetError, Op as DhtOp, Outcome, Put, Request, Response};
use crate::pubsub::answers::{blocked, failed, lookup_resp, ready};
use crate::pubsub::chord::store::Counts;
use crate::pubsub::chord::Registrant;
use crate::pubsub::directory::{refused, reply, Dissemination, Expect};

/// The key of front-end `f`'s publishers of `topic`.
pub fn topic_key(topic: &str, f: &str) -> String {
    format!("pubsub/topic/{topic}/{f}")
}

/// The key of front-end `f`'s registry.
pub fn registry_key(f: &str) -> String {
    format!("pubsub/registry/{f}")
}

/// One front-end's registry record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// Ids of the publishers whose topics are stored.
    pub publishers: BTreeSet<String>,
    /// Ids of the subscribers.
    pub subscribers: BTreeSet<String>,
    /// The broker.
    pub broker: Option<Registrant>,
    /// Subscribers' lookups answered.
    pub lookups: usize,
    /// Whether the broker looked every publisher up here.
    pub broker_looked_up: bool,
}

/// A front-end's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// This front-end's name (in `frontends`).
    pub name: String,
    /// Every front-end's name.
    pub frontends: Vec<String>,
    /// What the system expects.
    pub expect: Expect,
    /// Client requests in flight at once; more are refused (default 1024).
    pub max_requests: usize,
}

/// What the kind must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Answer client request `client`.
    Reply {
        /// The kind's tag of the request.
        client: u64,
        /// The encoded `DiscoveryResp`.
        bytes: Vec<u8>,
    },
    /// Send to the `dht.node`.
    Dht(Request),
}

#[derive(Debug)]
enum Step {
    Topics,
    Registry,
}

#[derive(Debug)]
enum Gather {
    Registries(Vec<Registry>),
    Topics(BTreeMap<String, Registrant>),
    Counted(Vec<Registrant>),
}

#[derive(Debug)]
enum Stage {
    Register {
        who: Registrant,
        role: Role,
        step: Step,
    },
    IsReady(Vec<Registry>),
    Lookup {
        topics: Option<Vec<String>>,
        step: Gather,
    },
}

#[derive(Debug)]
struct Req {
    kind: MsgTypes,
    stage: Stage,
    gets: usize,
    needs: Vec<(String, u64)>,
}

#[derive(Debug, Default)]
struct Writer {
    version: u64,
    acked: u64,
    in_flight: Option<u64>,
    /// Puts failed in a row.
    failures: u32,
}

#[derive(Debug)]
enum Pending {
    Get {
        client: u64,
        key: String,
        attempt: u32,
    },
    Put {
        key: String,
        version: u64,
    },
}

/// Attempts of a get or a put before the request waiting for it fails.
const ATTEMPTS: u32 = 3;

/// The front-end; see the module docs.
#[derive(Debug)]
pub struct Frontend {
    cfg: Config,
    known: BTreeMap<String, (Role, Registrant)>,
    topics: BTreeMap<String, BTreeMap<String, Registrant>>,
    registry: Registry,
    writers: BTreeMap<String, Writer>,
    requests: BTreeMap<u64, Req>,
    pending: BTreeMap<u64, Pending>,
    next_id: u64,
}

/// The union of every front-end's registry.
fn counts(all: &[Registry]) -> Counts {
    let publishers: BTreeSet<&String> = all.iter().flat_map(|r| &r.publishers).collect();
    let subscribers: BTreeSet<&String> = all.iter().flat_map(|r| &r.subscribers).collect();
    Counts {
        publishers: publishers.len(),
        subscribers: subscribers.len(),
        broker: all.iter().find_map(|r| r.broker.clone()),
        lookups: all.iter().map(|r| r.lookups).sum(),
        broker_looked_up: all.iter().any(|r| r.broker_looked_up),
    }
}

impl Frontend {
    /// A front-end with nothing registered.
    pub fn new(cfg: Config) -> Self {
        Frontend {
            cfg,
            known: BTreeMap::new(),
            topics: BTreeMap::new(),
            registry: Registry::default(),
            writers: BTreeMap::new(),
            requests: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_id: 0,
        }
    }

    /// Client requests in flight.
    pub fn in_flight(&self) -> usize {
        self.requests.len()
    }

    /// A client request, tagged `client` by the kind.
    pub fn request(&mut self, client: u64, bytes: &[u8]) -> Vec<Out> {
        let mut out = Vec::new();
        let answer = |resp: DiscoveryResp, out: &mut Vec<Out>| {
            out.push(Out::Reply {
                client,
                bytes: resp.encode_to_vec(),
            })
        };
        let admitted = crate::pubsub::answers::admit(
            bytes,
            self.requests.len(),
            self.cfg.max_requests,
            self.requests.contains_key(&client),
        );
        let (req, kind) = match admitted {
            Ok(admitted) => admitted,
            Err(resp) => {
                answer(resp, &mut out);
                return out;
            }
        };
        use discovery_req::Content;
        let stage = match (kind, req.content) {
            (MsgTypes::TypeRegister, Some(Content::RegisterReq(r))) => {
                let role = Role::try_from(r.role).unwrap_or(Role::Unknown);
                match self.admit(role, r.info, &r.topiclist) {
                    Ok(who) => Stage::Register {
                        who,
                        role,
                        step: Step::Topics,
                    },
                    Err(reason) => {
                        answer(refused(kind, reason), &mut out);
                        return out;
                    }
                }
            }
            (MsgTypes::TypeIsready, _) => Stage::IsReady(Vec::new()),
            (MsgTypes::TypeLookupPubByTopic, Some(Content::LookupReq(l))) => Stage::Lookup {
                topics: Some(l.topiclist),
                step: Gather::Registries(Vec::new()),
            },
            (MsgTypes::TypeLookupAllPubs, _) => Stage::Lookup {
                topics: None,
                step: Gather::Registries(Vec::new()),
            },
            (kind, _) => {
                let reason = format!("msg_type {} with no matching content", kind.as_str_name());
                answer(refused(kind, reason), &mut out);
                return out;
            }
        };
        let mut req = Req {
            kind,
            stage,
            gets: 0,
            needs: Vec::new(),
        };
        match &req.stage {
            Stage::Register { who, role, .. } => {
                // The topics first (a publisher's), the registry once they are stored.
                let written: Vec<String> = self
                    .known
                    .get(&who.id)
                    .filter(|_| *role == Role::Publisher)
                    .map(|_| {
                        self.topics
                            .iter()
                            .filter(|(_, m)| m.contains_key(&who.id))
                            .map(|(t, _)| topic_key(t, &self.cfg.name))
                            .collect()
                    })
                    .unwrap_or_default();
                for key in written {
                    req.needs.push(self.write(key, &mut out));
                }
            }
            _ => {
                let keys: Vec<String> =
                    self.cfg.frontends.iter().map(|f| registry_key(f)).collect();
                self.gets(client, &mut req, keys, &mut out);
            }
        }
        self.requests.insert(client, req);
        self.check(client, &mut out);
        out
    }

    /// Local checks and the local record of a registrant (topics only;
    /// the registry once they are stored).
    fn admit(
        &mut self,
        role: Role,
        info: Option<rolecall_codecs::pb::discovery::RegistrantInfo>,
        topics: &[String],
    ) -> Result<Registrant, String> {
        let info = info.ok_or("register_req without info")?;
        if info.id.is_empty() {
            return Err("registrant needs an id".into());
        }
        let who: Registrant = info.into();
        if let Some((r, known)) = self.known.get(&who.id) {
            return if *r == role && *known == who {
                Ok(who) // the same registration again: written again
            } else {
                Err(format!("{} needs to have unique id", who.id))
            };
        }
        if self.known.len() >= self.cfg.expect.capacity {
            return Err(format!(
                "directory is full ({} registrants)",
                self.cfg.expect.capacity
            ));
        }
        if let Some(t) = topics.iter().find(|t| !self.cfg.expect.topics.contains(t)) {
            return Err(format!("unknown topic '{t}'"));
        }
        let needs_endpoint = matches!(role, Role::Publisher | Role::Both);
        if needs_endpoint && (who.addr.as_deref().unwrap_or("").is_empty() || who.port.is_none()) {
            return Err(format!(
                "{} must give its address and port",
                role.as_str_name()
            ));
        }
        match role {
            Role::Unknown => return Err("registrant with ROLE_UNKNOWN".into()),
            Role::Both if self.cfg.expect.dissemination != Dissemination::Broker => {
                return Err("a broker registered, but dissemination is Direct".into())
            }
            Role::Both => {
                if let Some(b) = &self.registry.broker {
                    return Err(format!("broker {} is already registered", b.id));
                }
            }
            Role::Publisher => {
                for t in topics {
                    self.topics
                        .entry(t.clone())
                        .or_default()
                        .insert(who.id.clone(), who.clone());
                }
            }
            Role::Subscriber => {}
        }
        self.known.insert(who.id.clone(), (role, who.clone()));
        Ok(who)
    }

    /// Records that key `key`'s state changed; returns the version a reader
    /// of the record must wait for.
    fn write(&mut self, key: String, out: &mut Vec<Out>) -> (String, u64) {
        let w = self.writers.entry(key.clone()).or_default();
        w.version += 1;
        let version = w.version;
        if w.in_flight.is_none() {
            self.put(key.clone(), out);
        }
        (key, version)
    }

    fn put(&mut self, key: String, out: &mut Vec<Out>) {
        let value = match key.strip_prefix(&registry_key(&self.cfg.name)) {
            Some("") => serde_json::to_vec(&self.registry),
            _ => {
                let topic = key
                    .strip_prefix("pubsub/topic/")
                    .and_then(|rest| rest.rsplit_once('/'))
                    .map(|(t, _)| t)
                    .unwrap_or_default();
                let list: Vec<&Registrant> = self
                    .topics
                    .get(topic)
                    .map(|m| m.values().collect())
                    .unwrap_or_default();
                serde_json::to_vec(&list)
            }
        }
        .unwrap_or_default();
        let Some(w) = self.writers.get_mut(&key) else {
            return;
        };
        w.in_flight = Some(w.version);
        let version = w.version;
        self.next_id += 1;
        self.pending.insert(
            self.next_id,
            Pending::Put {
                key: key.clone(),
                version,
            },
        );
        out.push(Out::Dht(Request {
            id: self.next_id,
            op: DhtOp::Put(Put::new(&key, value)),
        }));
    }

    fn gets(&mut self, client: u64, req: &mut Req, keys: Vec<String>, out: &mut Vec<Out>) {
        for key in keys {
            req.gets += 1;
            self.get(client, key, 1, out);
        }
    }

    fn get(&mut self, client: u64, key: String, attempt: u32, out: &mut Vec<Out>) {
        self.next_id += 1;
        out.push(Out::Dht(Request {
            id: self.next_id,
            // One copy is enough: every put waited for the node's quorum.
            op: DhtOp::Get(Get {
                quorum: Some(1),
                ..Get::new(&key)
            }),
        }));
        self.pending.insert(
            self.next_id,
            Pending::Get {
                client,
                key,
                attempt,
            },
        );
    }

    /// A response from the `dht.node`.
    pub fn response(&mut self, r: Response) -> Vec<Out> {
        let mut out = Vec::new();
        let Some(p) = self.pending.remove(&r.id) else {
            return out;
        };
        match (p, r.outcome) {
            (Pending::Put { key, version }, Outcome::Put(result)) => {
                let Some(w) = self.writers.get_mut(&key) else {
                    return out;
                };
                w.in_flight = None;
                match result {
                    Ok(_) => {
                        w.acked = w.acked.max(version);
                        w.failures = 0;
                    }
                    Err(e) if w.failures + 1 < ATTEMPTS => {
                        w.failures += 1;
                        tracing::warn!(key = %key, "put failed ({e}); again");
                        self.put(key, &mut out);
                        return out;
                    }
                    Err(e) => {
                        w.failures = 0;
                        let waiting: Vec<u64> = self
                            .requests
                            .iter()
                            .filter(|(_, q)| {
                                q.needs.iter().any(|(k, v)| *k == key && *v <= version)
                            })
                            .map(|(c, _)| *c)
                            .collect();
                        for c in waiting {
                            self.finish(c, Err(format!("storing `{key}` failed: {e}")), &mut out);
                        }
                    }
                }
                let again = self.writers.get(&key).is_some_and(|w| w.version > w.acked);
                let waited = self
                    .requests
                    .values()
                    .any(|q| q.needs.iter().any(|(k, _)| *k == key));
                if again && waited {
                    self.put(key.clone(), &mut out);
                }
                let clients: Vec<u64> = self.requests.keys().copied().collect();
                for c in clients {
                    self.check(c, &mut out);
                }
            }
            (
                Pending::Get {
                    client,
                    key,
                    attempt,
                },
                Outcome::Get(result),
            ) => {
                if !self.requests.contains_key(&client) {
                    return out;
                }
                let value = match result {
                    Ok(found) => Some(found.value),
                    Err(GetError::NotFound { .. }) => None,
                    Err(e) if attempt < ATTEMPTS => {
                        tracing::warn!(key = %key, "get failed ({e}); again");
                        self.get(client, key, attempt + 1, &mut out);
                        return out;
                    }
                    Err(e) => {
                        self.finish(client, Err(e.to_string()), &mut out);
                        return out;
                    }
                };
                let Some(req) = self.requests.get_mut(&client) else {
                    return out;
                };
                req.gets = req.gets.saturating_sub(1);
                if let Err(e) = Self::gathered(&mut req.stage, value) {
                    self.finish(client, Err(e), &mut out);
                    return out;
                }
                self.check(client, &mut out);
            }
            (_, outcome) => tracing::warn!("dht answered {outcome:?} to another operation"),
        }
        out
    }

    /// Adds a record read for a request.
    fn gathered(stage: &mut Stage, value: Option<Vec<u8>>) -> Result<(), String> {
        let bad = |e: serde_json::Error| format!("a discovery record does not decode: {e}");
        match stage {
            Stage::IsReady(all)
            | Stage::Lookup {
                step: Gather::Registries(all),
                ..
            } => {
                if let Some(v) = value {
                    all.push(serde_json::from_slice(&v).map_err(bad)?);
                }
            }
            Stage::Lookup {
                step: Gather::Topics(found),
                ..
            } => {
                if let Some(v) = value {
                    let list: Vec<Registrant> = serde_json::from_slice(&v).map_err(bad)?;
                    for p in list {
                        found.insert(p.id.clone(), p);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Moves request `client` on once nothing it waits for is outstanding.
    fn check(&mut self, client: u64, out: &mut Vec<Out>) {
        let Some(mut req) = self.requests.remove(&client) else {
            return;
        };
        let written = req
            .needs
            .iter()
            .all(|(k, v)| self.writers.get(k).is_some_and(|w| w.acked >= *v));
        if req.gets > 0 || !written {
            self.requests.insert(client, req);
            return;
        }
        req.needs.clear();
        let next = self.advance(client, &mut req, out);
        self.requests.insert(client, req);
        match next {
            Some(resp) => self.finish(client, Ok(resp), out),
            None => {
                let idle = self
                    .requests
                    .get(&client)
                    .is_some_and(|r| r.gets == 0 && r.needs.is_empty());
                if idle {
                    self.check(client, out);
                }
            }
        }
    }

    fn advance(&mut self, client: u64, req: &mut Req, out: &mut Vec<Out>) -> Option<DiscoveryResp> {
        let expect = self.cfg.expect.clone();
        let me = self.cfg.name.clone();
        match &mut req.stage {
            Stage::Register { who, role, step } => match step {
                Step::Topics => {
                    match role {
                        Role::Publisher => {
                            self.registry.publishers.insert(who.id.clone());
                        }
                        Role::Subscriber => {
                            self.registry.subscribers.insert(who.id.clone());
                        }
                        _ => self.registry.broker = Some(who.clone()),
                    }
                    *step = Step::Registry;
                    req.needs.push(self.write(registry_key(&me), out));
                    None
                }
                Step::Registry => Some(reply(
                    req.kind,
                    discovery_resp::Content::RegisterResp(RegisterResp {
                        status: Status::Success as i32,
                        reason: None,
                    }),
                )),
            },
            Stage::IsReady(all) => Some(reply(
                req.kind,
                discovery_resp::Content::IsreadyResp(IsReadyResp {
                    status: ready(&expect, &counts(all)),
                }),
            )),
            Stage::Lookup { topics, step } => {
                match std::mem::replace(step, Gather::Counted(Vec::new())) {
                    Gather::Registries(all) => {
                        let c = counts(&all);
                        if let Some(reason) = blocked(&expect, &c) {
                            return Some(lookup_resp(
                                req.kind,
                                Vec::new(),
                                Status::CheckAgain,
                                Some(reason),
                            ));
                        }
                        if let (Some(_), Dissemination::Broker, Some(b)) =
                            (&topics, expect.dissemination, c.broker)
                        {
                            self.registry.lookups += 1;
                            *step = Gather::Counted(vec![b]);
                            req.needs.push(self.write(registry_key(&me), out));
                            return None;
                        }
                        let mut wanted = topics.clone().unwrap_or_else(|| expect.topics.clone());
                        wanted.sort();
                        wanted.dedup();
                        let keys = wanted
                            .iter()
                            .flat_map(|t| self.cfg.frontends.iter().map(move |f| topic_key(t, f)))
                            .collect();
                        *step = Gather::Topics(BTreeMap::new());
                        self.gets(client, req, keys, out);
                        None
                    }
                    Gather::Topics(found) => {
                        if topics.is_some() {
                            self.registry.lookups += 1;
                        } else {
                            self.registry.broker_looked_up = true;
                        }
                        *step = Gather::Counted(found.into_values().collect());
                        req.needs.push(self.write(registry_key(&me), out));
                        None
                    }
                    Gather::Counted(publishers) => {
                        Some(lookup_resp(req.kind, publishers, Status::Success, None))
                    }
                }
            }
        }
    }

    fn finish(&mut self, client: u64, result: Result<DiscoveryResp, String>, out: &mut Vec<Out>) {
        let Some(req) = self.requests.remove(&client) else {
            return;
        };
        self.pending
            .retain(|_, p| !matches!(p, Pending::Get { client: c, .. } if *c == client));
        let resp = result.unwrap_or_else(|reason| failed(req.kind, reason));
        out.push(Out::Reply {
            client,
            bytes: resp.encode_to_vec(),
        });
    }
}

#[cfg(test)]
#[path = "frontend_tests.rs"]
mod tests;
