//! The centralized discovery service as an I/O-free state machine: one
//! `DiscoveryReq` in, one `DiscoveryResp` out (the caller does the REQ/REP).
//!
//! * `TYPE_REGISTER`: a publisher, subscriber or broker (`ROLE_BOTH`) with a
//!   unique id and known topics is recorded (`STATUS_SUCCESS`); a duplicate id,
//!   an unknown topic, a missing address or port, or a full directory is
//!   refused (`STATUS_FAILURE` with the reason). Nothing is recorded on refusal.
//! * `TYPE_LOOKUP_PUB_BY_TOPIC`: once every expected publisher (and, for the
//!   broker dissemination, the broker) has registered, the publishers of the
//!   requested topics (Direct) or the broker (Broker); before that
//!   `STATUS_CHECK_AGAIN` with how many are missing. `TYPE_LOOKUP_ALL_PUBS`
//!   (the broker's) answers every publisher the same way.
//! * `TYPE_ISREADY`: true once the expected publishers and subscribers have
//!   registered, every subscriber has been answered a lookup (so it is
//!   connecting) and, for Broker, the broker has looked up every publisher.
//!
//! Every reply echoes the request's `msg_type`; a request that does not decode
//! gets `TYPE_UNKNOWN` with a failed `register_resp` naming the error.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message as _;
use rolecall_codecs::pb::discovery::{
    discovery_req, discovery_resp, DiscoveryReq, DiscoveryResp, IsReadyResp, LookupPubByTopicResp,
    MsgTypes, RegisterReq, RegisterResp, RegistrantInfo, Role, Status,
};
use serde::Deserialize;

use super::topics;

/// How publications reach subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dissemination {
    /// Subscribers connect to every matching publisher.
    #[default]
    Direct,
    /// Everything goes through one broker.
    Broker,
}

impl std::str::FromStr for Dissemination {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "direct" => Ok(Dissemination::Direct),
            "broker" => Ok(Dissemination::Broker),
            other => Err(format!(
                "unknown dissemination strategy '{other}' (Direct or Broker)"
            )),
        }
    }
}

/// What the directory expects before it is ready.
#[derive(Debug, Clone)]
pub struct Expect {
    /// Publishers (`-P`).
    pub publishers: usize,
    /// Subscribers (`-S`).
    pub subscribers: usize,
    /// Direct or via the broker.
    pub dissemination: Dissemination,
    /// Topics accepted at registration (default: the course's nine).
    pub topics: Vec<String>,
    /// Most registrants kept (bound); more are refused.
    pub capacity: usize,
    /// Brokers expected and admitted under Broker dissemination (default 1;
    /// more with the ZooKeeper strategy's replicated brokers).
    pub brokers: usize,
}

impl Expect {
    /// `publishers` and `subscribers` with the defaults for the rest.
    pub fn new(publishers: usize, subscribers: usize, dissemination: Dissemination) -> Self {
        Expect {
            publishers,
            subscribers,
            dissemination,
            topics: topics::TOPICS.iter().map(|t| (*t).to_owned()).collect(),
            capacity: 10_000,
            brokers: 1,
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    info: RegistrantInfo,
    topics: Vec<String>,
}

/// The directory: who registered, with which topics.
#[derive(Debug)]
pub struct Directory {
    expect: Expect,
    publishers: BTreeMap<String, Entry>,
    subscribers: BTreeMap<String, Entry>,
    brokers: BTreeMap<String, Entry>,
    ids: BTreeSet<String>,
    lookups_answered: usize,
    broker_looked_up: bool,
}

pub(crate) fn reply(kind: MsgTypes, content: discovery_resp::Content) -> DiscoveryResp {
    DiscoveryResp {
        msg_type: kind as i32,
        content: Some(content),
    }
}

pub(crate) fn refused(kind: MsgTypes, reason: String) -> DiscoveryResp {
    reply(
        kind,
        discovery_resp::Content::RegisterResp(RegisterResp {
            status: Status::Failure as i32,
            reason: Some(reason),
        }),
    )
}

impl Directory {
    /// An empty directory.
    pub fn new(expect: Expect) -> Self {
        Directory {
            expect,
            publishers: BTreeMap::new(),
            subscribers: BTreeMap::new(),
            brokers: BTreeMap::new(),
            ids: BTreeSet::new(),
            lookups_answered: 0,
            broker_looked_up: false,
        }
    }

    /// Answers one encoded request with one encoded reply.
    pub fn handle_bytes(&mut self, request: &[u8]) -> Vec<u8> {
        let resp = match DiscoveryReq::decode(request) {
            Ok(req) => self.handle(req),
            Err(e) => refused(MsgTypes::TypeUnknown, format!("malformed request: {e}")),
        };
        resp.encode_to_vec()
    }

    /// Answers one request.
    pub fn handle(&mut self, req: DiscoveryReq) -> DiscoveryResp {
        let kind = MsgTypes::try_from(req.msg_type).unwrap_or(MsgTypes::TypeUnknown);
        use discovery_req::Content;
        match (kind, req.content) {
            (MsgTypes::TypeRegister, Some(Content::RegisterReq(r))) => self.register(r),
            (MsgTypes::TypeIsready, _) => reply(
                kind,
                discovery_resp::Content::IsreadyResp(IsReadyResp {
                    status: self.is_ready(),
                }),
            ),
            (MsgTypes::TypeLookupPubByTopic, Some(Content::LookupReq(l))) => {
                self.lookup(kind, Some(&l.topiclist))
            }
            (MsgTypes::TypeLookupAllPubs, _) => self.lookup(kind, None),
            (kind, _) => refused(
                kind,
                format!("msg_type {} with no matching content", kind.as_str_name()),
            ),
        }
    }

    fn register(&mut self, r: RegisterReq) -> DiscoveryResp {
        let kind = MsgTypes::TypeRegister;
        match self.admit(r) {
            Ok(()) => reply(
                kind,
                discovery_resp::Content::RegisterResp(RegisterResp {
                    status: Status::Success as i32,
                    reason: None,
                }),
            ),
            Err(reason) => refused(kind, reason),
        }
    }

    fn admit(&mut self, r: RegisterReq) -> Result<(), String> {
        let role = Role::try_from(r.role).unwrap_or(Role::Unknown);
        let info = r.info.ok_or("register_req without info")?;
        if info.id.is_empty() {
            return Err("registrant needs an id".into());
        }
        if self.ids.contains(&info.id) {
            return Err(format!("{} needs to have unique id", info.id));
        }
        if self.ids.len() >= self.expect.capacity {
            return Err(format!(
                "directory is full ({} registrants)",
                self.expect.capacity
            ));
        }
        if let Some(t) = r.topiclist.iter().find(|t| !self.expect.topics.contains(t)) {
            return Err(format!("unknown topic '{t}'"));
        }
        let needs_endpoint = matches!(role, Role::Publisher | Role::Both);
        if needs_endpoint && (info.addr.as_deref().unwrap_or("").is_empty() || info.port.is_none())
        {
            return Err(format!(
                "{} must give its address and port",
                role.as_str_name()
            ));
        }
        let entry = Entry {
            info: info.clone(),
            topics: r.topiclist,
        };
        match role {
            Role::Publisher => {
                self.publishers.insert(info.id.clone(), entry);
            }
            Role::Subscriber => {
                self.subscribers.insert(info.id.clone(), entry);
            }
            Role::Both => {
                if self.expect.dissemination != Dissemination::Broker {
                    return Err("a broker registered, but dissemination is Direct".into());
                }
                if self.brokers.len() >= self.expect.brokers.max(1) {
                    let ids: Vec<&str> = self.brokers.keys().map(String::as_str).collect();
                    return Err(match ids.as_slice() {
                        [one] => format!("broker {one} is already registered"),
                        all => format!(
                            "{} brokers are already registered ({})",
                            all.len(),
                            all.join(", ")
                        ),
                    });
                }
                self.brokers.insert(info.id.clone(), entry);
            }
            Role::Unknown => return Err("registrant with ROLE_UNKNOWN".into()),
        }
        self.ids.insert(info.id);
        Ok(())
    }

    /// Why lookups must wait, if they must.
    fn lookup_blocked(&self) -> Option<String> {
        if self.publishers.len() < self.expect.publishers {
            return Some(format!(
                "not ready: {} of {} publishers registered",
                self.publishers.len(),
                self.expect.publishers
            ));
        }
        if self.expect.dissemination == Dissemination::Broker {
            let want = self.expect.brokers.max(1);
            if self.brokers.is_empty() && want == 1 {
                return Some("not ready: the broker has not registered".into());
            }
            if self.brokers.len() < want {
                return Some(format!(
                    "not ready: {} of {want} brokers registered",
                    self.brokers.len()
                ));
            }
        }
        None
    }

    fn lookup(&mut self, kind: MsgTypes, topics: Option<&[String]>) -> DiscoveryResp {
        let resp = if let Some(reason) = self.lookup_blocked() {
            LookupPubByTopicResp {
                publishers: Vec::new(),
                status: Status::CheckAgain as i32,
                reason: Some(reason),
            }
        } else {
            let publishers = match (topics, self.expect.dissemination) {
                (None, _) => {
                    self.broker_looked_up = true;
                    self.publishers.values().map(|e| e.info.clone()).collect()
                }
                (Some(_), Dissemination::Broker) => {
                    self.lookups_answered += 1;
                    self.brokers.values().map(|e| e.info.clone()).collect()
                }
                (Some(wanted), _) => {
                    self.lookups_answered += 1;
                    self.publishers
                        .values()
                        .filter(|e| e.topics.iter().any(|t| wanted.contains(t)))
                        .map(|e| e.info.clone())
                        .collect()
                }
            };
            LookupPubByTopicResp {
                publishers,
                status: Status::Success as i32,
                reason: None,
            }
        };
        reply(kind, discovery_resp::Content::LookupResp(resp))
    }

    /// Whether publishers may start.
    pub fn is_ready(&self) -> bool {
        self.lookup_blocked().is_none()
            && self.subscribers.len() >= self.expect.subscribers
            && self.lookups_answered >= self.expect.subscribers
            && (self.expect.dissemination == Dissemination::Direct || self.broker_looked_up)
    }

    /// Registered publishers, subscribers and whether a broker registered.
    pub fn counts(&self) -> (usize, usize, bool) {
        (
            self.publishers.len(),
            self.subscribers.len(),
            !self.brokers.is_empty(),
        )
    }
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
