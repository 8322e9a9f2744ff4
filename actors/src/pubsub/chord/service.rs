//! One ring node's discovery service as an I/O-free state machine: client
//! requests (`DiscoveryReq`) and peer messages in, replies and peer messages
//! out. The driver (`serve`) does the sockets.
//!
//! A client may ask any node. The node (the request's *origin*) turns the
//! request into operations on keys ([`Op`]): each is routed hop by hop along
//! the finger tables ([`Node::route`]) to the node responsible for its key,
//! applied to that node's [`Store`], and the answer goes straight back to the
//! origin ([`PeerMsg::Done`]).
//!
//! * register: `Claim` at the registry key (unique id, broker rules), then a
//!   publisher's `Store` at each of its topics' keys, then `Confirm` at the
//!   registry (only confirmed publishers count, so a lookup never sees a
//!   publisher whose topics are not all stored yet);
//! * isready: `Status` at the registry, evaluated as the centralized
//!   directory does;
//! * lookup: `Status` (are the publishers all there?), `Publishers` at each
//!   requested topic's key (every known topic for the broker's lookup-all),
//!   then `Looked` at the registry (counted for isready).
//!
//! Every hop is acknowledged ([`PeerMsg::Ack`]); a peer that does not
//! acknowledge within `hop_timeout` is marked down for `down_for` and the
//! message is routed around it. When the node responsible for a key is down
//! the request fails with `key … belongs to discN, which is down`; a request
//! not finished within `request_timeout` fails with that reason. Clients get
//! the failure as a refused registration, a failed isready or a lookup with
//! `STATUS_FAILURE`, never silence.
//!
//! A message that was delivered but whose acknowledgement was lost is routed
//! again: every operation but `Looked` is idempotent, and `Looked` counted
//! twice can only make isready true earlier than the count says.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use prost::Message as _;
use rolecall_codecs::pb::discovery::{
    discovery_req, discovery_resp, DiscoveryResp, IsReadyResp, MsgTypes, RegisterResp, Role, Status,
};

pub use super::peer::{PeerMsg, PEER_PREFIX};
use super::ring::{hash, Node, Route};
use super::store::{Answer, Op, Registrant, Store, REGISTRY_KEY};
use crate::pubsub::answers::{admit, blocked, failed, lookup_resp, ready};
use crate::pubsub::directory::{refused, reply, Dissemination, Expect};

/// Timeouts and bounds of a [`Service`].
#[derive(Debug, Clone)]
pub struct Config {
    /// What the system expects (`-P`, `-S`, dissemination, topics, capacity).
    pub expect: Expect,
    /// A hop not acknowledged within this marks the peer down (default 500 ms).
    pub hop_timeout: Duration,
    /// How long a peer stays marked down (default 5 s).
    pub down_for: Duration,
    /// A client request not answered within this fails (default 3 s; below
    /// the clients' 5 s resend timeout).
    pub request_timeout: Duration,
    /// Client requests in flight at once; more are refused (default 1024).
    pub max_requests: usize,
}

impl Config {
    /// The defaults around `expect`.
    pub fn new(expect: Expect) -> Self {
        Config {
            expect,
            hop_timeout: Duration::from_millis(500),
            down_for: Duration::from_secs(5),
            request_timeout: Duration::from_secs(3),
            max_requests: 1024,
        }
    }
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Answer client request `client`.
    Reply {
        /// The tag the driver gave the request.
        client: u64,
        /// The encoded `DiscoveryResp`.
        bytes: Vec<u8>,
    },
    /// Send to a peer's endpoint.
    Send {
        /// `tcp://IP:port`.
        to: String,
        /// The message.
        msg: PeerMsg,
    },
    /// The peer at this endpoint is down: drop what is queued for it.
    Reset(String),
}

#[derive(Debug)]
enum Step {
    Claim,
    Store,
    Confirm,
}

#[derive(Debug)]
enum Gather {
    Status,
    Topics(BTreeMap<String, Registrant>),
    Count(Vec<Registrant>),
}

#[derive(Debug)]
enum Stage {
    Register {
        who: Registrant,
        role: Role,
        topics: Vec<String>,
        step: Step,
    },
    IsReady,
    Lookup {
        topics: Option<Vec<String>>,
        step: Gather,
    },
}

#[derive(Debug)]
struct Request {
    kind: MsgTypes,
    deadline: Instant,
    waiting: usize,
    stage: Stage,
}

/// An operation on its way: where it started, its id there, its key, what
/// to do, hops so far.
#[derive(Debug)]
struct Routed {
    origin: String,
    id: u64,
    key: u64,
    op: Op,
    hops: u32,
}

/// A hop sent and not acknowledged yet.
#[derive(Debug)]
struct Hop {
    to: String,
    peer_id: String,
    deadline: Instant,
    routed: Routed,
}

/// One node's discovery service; see the module docs.
#[derive(Debug)]
pub struct Service {
    node: Node,
    cfg: Config,
    store: Store,
    down: BTreeMap<String, Instant>,
    requests: BTreeMap<u64, Request>,
    ops: BTreeMap<u64, u64>,
    hops: BTreeMap<(String, u64), Hop>,
    next_op: u64,
}

impl Service {
    /// The service of ring node `node`.
    pub fn new(node: Node, cfg: Config) -> Self {
        let store = Store::new(cfg.expect.dissemination, cfg.expect.capacity);
        Service {
            node,
            cfg,
            store,
            down: BTreeMap::new(),
            requests: BTreeMap::new(),
            ops: BTreeMap::new(),
            hops: BTreeMap::new(),
            next_op: 0,
        }
    }

    /// The ring node.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// What this node stores.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Client requests in flight.
    pub fn in_flight(&self) -> usize {
        self.requests.len()
    }

    fn me(&self) -> String {
        self.node.me().endpoint.clone()
    }

    /// A client request (tagged `client` by the driver).
    pub fn request(&mut self, client: u64, bytes: &[u8], now: Instant) -> Vec<Out> {
        let mut out = Vec::new();
        let answer = |resp: DiscoveryResp, out: &mut Vec<Out>| {
            out.push(Out::Reply {
                client,
                bytes: resp.encode_to_vec(),
            })
        };
        let admitted = admit(
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
                match self.check(role, r.info, &r.topiclist) {
                    Ok(who) => Stage::Register {
                        who,
                        role,
                        topics: r.topiclist,
                        step: Step::Claim,
                    },
                    Err(reason) => {
                        answer(refused(kind, reason), &mut out);
                        return out;
                    }
                }
            }
            (MsgTypes::TypeIsready, _) => Stage::IsReady,
            (MsgTypes::TypeLookupPubByTopic, Some(Content::LookupReq(l))) => Stage::Lookup {
                topics: Some(l.topiclist),
                step: Gather::Status,
            },
            (MsgTypes::TypeLookupAllPubs, _) => Stage::Lookup {
                topics: None,
                step: Gather::Status,
            },
            (kind, _) => {
                let reason = format!("msg_type {} with no matching content", kind.as_str_name());
                answer(refused(kind, reason), &mut out);
                return out;
            }
        };
        let op = match &stage {
            Stage::Register { who, role, .. } => Op::Claim {
                role: *role as i32,
                who: who.clone(),
            },
            _ => Op::Status,
        };
        self.requests.insert(
            client,
            Request {
                kind,
                deadline: now + self.cfg.request_timeout,
                waiting: 0,
                stage,
            },
        );
        self.send_ops(client, vec![(REGISTRY_KEY.to_owned(), op)], now, &mut out);
        out
    }

    /// What can be refused without asking the ring (as the centralized directory does).
    fn check(
        &self,
        role: Role,
        info: Option<rolecall_codecs::pb::discovery::RegistrantInfo>,
        topics: &[String],
    ) -> Result<Registrant, String> {
        let info = info.ok_or("register_req without info")?;
        if info.id.is_empty() {
            return Err("registrant needs an id".into());
        }
        if let Some(t) = topics.iter().find(|t| !self.cfg.expect.topics.contains(t)) {
            return Err(format!("unknown topic '{t}'"));
        }
        if role == Role::Unknown {
            return Err("registrant with ROLE_UNKNOWN".into());
        }
        let needs_endpoint = matches!(role, Role::Publisher | Role::Both);
        if needs_endpoint && (info.addr.as_deref().unwrap_or("").is_empty() || info.port.is_none())
        {
            return Err(format!(
                "{} must give its address and port",
                role.as_str_name()
            ));
        }
        Ok(info.into())
    }

    /// Sends `(key, op)`s for request `client`: every one is counted as
    /// awaited before any is routed (an op this node is responsible for is
    /// answered at once, while the others are still to be sent).
    fn send_ops(&mut self, client: u64, ops: Vec<(String, Op)>, now: Instant, out: &mut Vec<Out>) {
        if let Some(r) = self.requests.get_mut(&client) {
            r.waiting += ops.len();
        }
        let origin = self.me();
        let ids: Vec<u64> = ops
            .iter()
            .map(|_| {
                self.next_op += 1;
                self.ops.insert(self.next_op, client);
                self.next_op
            })
            .collect();
        for (id, (key, op)) in ids.into_iter().zip(ops) {
            if !self.ops.contains_key(&id) {
                continue; // the request ended meanwhile
            }
            let key = hash(self.node.bits(), &key);
            let routed = Routed {
                origin: origin.clone(),
                id,
                key,
                op,
                hops: 0,
            };
            self.route(routed, now, out);
        }
    }

    /// One step of `r` at this node: apply it here, or send it on.
    fn route(&mut self, r: Routed, now: Instant, out: &mut Vec<Out>) {
        let down = |p: &super::Peer| self.down.get(&p.id).is_some_and(|until| *until > now);
        match self.node.route(r.key, &down) {
            Ok(Route::Here) => {
                let answer = self.store.apply(r.op);
                self.done(r.origin, r.id, Ok(answer), r.hops, now, out);
            }
            Ok(Route::Responsible(p)) | Ok(Route::Forward(p)) => {
                let msg = PeerMsg::Route {
                    origin: r.origin.clone(),
                    id: r.id,
                    from: self.me(),
                    key: r.key,
                    op: r.op.clone(),
                    hops: r.hops + 1,
                };
                out.push(Out::Send {
                    to: p.endpoint.clone(),
                    msg,
                });
                self.hops.insert(
                    (r.origin.clone(), r.id),
                    Hop {
                        to: p.endpoint,
                        peer_id: p.id,
                        deadline: now + self.cfg.hop_timeout,
                        routed: r,
                    },
                );
            }
            Err(e) => self.done(r.origin, r.id, Err(e.to_string()), r.hops, now, out),
        }
    }

    fn done(
        &mut self,
        origin: String,
        id: u64,
        answer: Result<Answer, String>,
        hops: u32,
        now: Instant,
        out: &mut Vec<Out>,
    ) {
        if origin == self.me() {
            self.answered(id, answer, now, out);
        } else {
            let node = self.node.me().id.clone();
            out.push(Out::Send {
                to: origin,
                msg: PeerMsg::Done {
                    id,
                    node,
                    hops,
                    answer,
                },
            });
        }
    }

    /// A frame from a peer (see [`PeerMsg::decode`]).
    pub fn peer(&mut self, msg: PeerMsg, now: Instant) -> Vec<Out> {
        let mut out = Vec::new();
        match msg {
            PeerMsg::Route {
                origin,
                id,
                from,
                key,
                op,
                hops,
            } => {
                if from != self.me() {
                    out.push(Out::Send {
                        to: from,
                        msg: PeerMsg::Ack {
                            origin: origin.clone(),
                            id,
                        },
                    });
                }
                let routed = Routed {
                    origin,
                    id,
                    key,
                    op,
                    hops,
                };
                self.route(routed, now, &mut out);
            }
            PeerMsg::Ack { origin, id } => {
                self.hops.remove(&(origin, id));
            }
            PeerMsg::Done { id, answer, .. } => self.answered(id, answer, now, &mut out),
        }
        out
    }

    /// Time passes: unacknowledged hops are routed around their peer,
    /// requests past their deadline fail.
    pub fn tick(&mut self, now: Instant) -> Vec<Out> {
        let mut out = Vec::new();
        let late: Vec<(String, u64)> = self
            .hops
            .iter()
            .filter(|(_, h)| h.deadline <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in late {
            let Some(h) = self.hops.remove(&k) else {
                continue;
            };
            tracing::warn!(
                node = %self.node.me().id,
                peer = %h.peer_id,
                "peer did not acknowledge within {:?}; routing around it",
                self.cfg.hop_timeout
            );
            if self
                .down
                .insert(h.peer_id, now + self.cfg.down_for)
                .is_none()
            {
                out.push(Out::Reset(h.to));
            }
            self.route(h.routed, now, &mut out);
        }
        self.down.retain(|_, until| *until > now);
        let expired: Vec<u64> = self
            .requests
            .iter()
            .filter(|(_, r)| r.deadline <= now)
            .map(|(c, _)| *c)
            .collect();
        for client in expired {
            let reason = format!(
                "the ring did not answer within {} ms",
                self.cfg.request_timeout.as_millis()
            );
            self.finish(client, Err(reason), &mut out);
        }
        out
    }

    /// Ends request `client` with a reply (or a failure).
    fn finish(&mut self, client: u64, result: Result<DiscoveryResp, String>, out: &mut Vec<Out>) {
        let Some(req) = self.requests.remove(&client) else {
            return;
        };
        self.ops.retain(|_, c| *c != client);
        let resp = result.unwrap_or_else(|reason| failed(req.kind, reason));
        out.push(Out::Reply {
            client,
            bytes: resp.encode_to_vec(),
        });
    }

    fn answered(
        &mut self,
        id: u64,
        answer: Result<Answer, String>,
        now: Instant,
        out: &mut Vec<Out>,
    ) {
        let Some(client) = self.ops.remove(&id) else {
            return; // a late or repeated answer
        };
        let Some(mut req) = self.requests.remove(&client) else {
            return;
        };
        req.waiting = req.waiting.saturating_sub(1);
        let answer = match answer {
            Ok(Answer::Refused(reason)) | Err(reason) => Err(reason),
            Ok(a) => Ok(a),
        };
        let next = match answer {
            Err(reason) => Err(reason),
            Ok(a) => self.advance(&mut req, a),
        };
        let sends = match next {
            Ok(Next::Wait(sends)) => sends,
            Ok(Next::Reply(resp)) => {
                self.requests.insert(client, req);
                return self.finish(client, Ok(resp), out);
            }
            Err(reason) => {
                self.requests.insert(client, req);
                return self.finish(client, Err(reason), out);
            }
        };
        self.requests.insert(client, req);
        self.send_ops(client, sends, now, out);
    }

    fn advance(&self, req: &mut Request, answer: Answer) -> Result<Next, String> {
        let expect = &self.cfg.expect;
        let kind = req.kind;
        let waiting = req.waiting;
        match &mut req.stage {
            Stage::Register {
                who,
                role,
                topics,
                step,
            } => {
                let confirm = || (REGISTRY_KEY.to_owned(), Op::Confirm { id: who.id.clone() });
                match step {
                    Step::Claim if *role == Role::Publisher && !topics.is_empty() => {
                        *step = Step::Store;
                        let mut unique = topics.clone();
                        unique.sort();
                        unique.dedup();
                        Ok(Next::Wait(
                            unique
                                .into_iter()
                                .map(|t| {
                                    let op = Op::Store {
                                        topic: t.clone(),
                                        who: who.clone(),
                                    };
                                    (t, op)
                                })
                                .collect(),
                        ))
                    }
                    Step::Claim if *role == Role::Publisher => {
                        *step = Step::Confirm;
                        Ok(Next::Wait(vec![confirm()]))
                    }
                    Step::Store if waiting > 0 => Ok(Next::Wait(Vec::new())),
                    Step::Store => {
                        *step = Step::Confirm;
                        Ok(Next::Wait(vec![confirm()]))
                    }
                    Step::Claim | Step::Confirm => Ok(Next::Reply(reply(
                        kind,
                        discovery_resp::Content::RegisterResp(RegisterResp {
                            status: Status::Success as i32,
                            reason: None,
                        }),
                    ))),
                }
            }
            Stage::IsReady => match answer {
                Answer::Counts(c) => Ok(Next::Reply(reply(
                    kind,
                    discovery_resp::Content::IsreadyResp(IsReadyResp {
                        status: ready(expect, &c),
                    }),
                ))),
                other => Err(format!("unexpected answer {other:?}")),
            },
            Stage::Lookup { topics, step } => {
                match (std::mem::replace(step, Gather::Status), answer) {
                    (Gather::Status, Answer::Counts(c)) => {
                        if let Some(reason) = blocked(expect, &c) {
                            return Ok(Next::Reply(lookup_resp(
                                kind,
                                Vec::new(),
                                Status::CheckAgain,
                                Some(reason),
                            )));
                        }
                        let all = topics.is_none();
                        if let (false, Dissemination::Broker, Some(b)) =
                            (all, expect.dissemination, c.broker)
                        {
                            *step = Gather::Count(vec![b]);
                            return Ok(Next::Wait(vec![looked(false)]));
                        }
                        let mut wanted = topics.clone().unwrap_or_else(|| expect.topics.clone());
                        wanted.sort();
                        wanted.dedup();
                        if wanted.is_empty() {
                            *step = Gather::Count(Vec::new());
                            return Ok(Next::Wait(vec![looked(all)]));
                        }
                        *step = Gather::Topics(BTreeMap::new());
                        Ok(Next::Wait(
                            wanted
                                .into_iter()
                                .map(|t| {
                                    let op = Op::Publishers { topic: t.clone() };
                                    (t, op)
                                })
                                .collect(),
                        ))
                    }
                    (Gather::Topics(mut found), Answer::Publishers(list)) => {
                        for p in list {
                            found.insert(p.id.clone(), p);
                        }
                        if waiting > 0 {
                            *step = Gather::Topics(found);
                            return Ok(Next::Wait(Vec::new()));
                        }
                        *step = Gather::Count(found.into_values().collect());
                        Ok(Next::Wait(vec![looked(topics.is_none())]))
                    }
                    (Gather::Count(publishers), Answer::Done) => Ok(Next::Reply(lookup_resp(
                        kind,
                        publishers,
                        Status::Success,
                        None,
                    ))),
                    (_, other) => Err(format!("unexpected answer {other:?}")),
                }
            }
        }
    }
}

enum Next {
    /// Send these `(key, op)` and wait for every outstanding answer.
    Wait(Vec<(String, Op)>),
    /// Done: answer the client.
    Reply(DiscoveryResp),
}

fn looked(all: bool) -> (String, Op) {
    (REGISTRY_KEY.to_owned(), Op::Looked { all })
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
