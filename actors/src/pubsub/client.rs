//! The lifecycle of a discovery client (publisher, subscriber, broker) as an
//! I/O-free state machine: replies in, actions out.
//!
//! ```text
//! publisher:  REGISTER → ISREADY (again after `pause` while false) → DISSEMINATE
//! subscriber: REGISTER → LOOKUP_PUB_BY_TOPIC (again while CHECK_AGAIN) → connect → DISSEMINATE
//! broker:     REGISTER → LOOKUP_ALL_PUBS     (again while CHECK_AGAIN) → connect → DISSEMINATE
//! ```
//!
//! The course's INITIALIZE and CONFIGURE are the kind's `build`; COMPLETED is
//! the driver's end of dissemination.

use std::time::Duration;

use rolecall_codecs::pb::discovery::{
    discovery_req, discovery_resp, DiscoveryReq, DiscoveryResp, IsReadyReq, LookupPubByTopicReq,
    MsgTypes, RegisterReq, RegistrantInfo, Role, Status,
};
use thiserror::Error;

/// Which role the client plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Publishes its topics.
    Publisher,
    /// Receives its topics.
    Subscriber,
    /// Receives every publisher's topics and republishes them.
    Broker,
}

/// Where a client is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the register reply.
    Register,
    /// Waiting for an isready reply (publisher).
    IsReady,
    /// Waiting for a lookup reply (subscriber, broker).
    Lookup,
    /// Publishing or receiving.
    Disseminate,
}

/// What the client's driver must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this request now.
    Send(DiscoveryReq),
    /// Send this request after a pause.
    SendAfter(Duration, DiscoveryReq),
    /// Connect to these endpoints (publishers, or the broker), then disseminate.
    Connect(Vec<RegistrantInfo>),
    /// Start publishing.
    Publish,
}

/// Why a client cannot go on.
#[derive(Debug, Error, PartialEq)]
pub enum ClientError {
    /// Discovery refused the registration.
    #[error("discovery refused the registration: {0}")]
    Refused(String),
    /// A reply of another type, or with no content, than the request's.
    #[error("unexpected reply {got} while waiting for {phase:?}")]
    Unexpected {
        /// The reply's type name.
        got: String,
        /// What the client was waiting for.
        phase: Phase,
    },
    /// A reply that does not decode.
    #[error("malformed reply from discovery: {0}")]
    Malformed(String),
    /// A lookup failed.
    #[error("lookup failed: {0}")]
    LookupFailed(String),
}

/// A registration request.
pub fn register_req(role: Role, info: RegistrantInfo, topics: &[String]) -> DiscoveryReq {
    DiscoveryReq {
        msg_type: MsgTypes::TypeRegister as i32,
        content: Some(discovery_req::Content::RegisterReq(RegisterReq {
            role: role as i32,
            info: Some(info),
            topiclist: topics.to_vec(),
        })),
    }
}

/// An isready request.
pub fn isready_req() -> DiscoveryReq {
    DiscoveryReq {
        msg_type: MsgTypes::TypeIsready as i32,
        content: Some(discovery_req::Content::IsreadyReq(IsReadyReq {})),
    }
}

/// A lookup of the publishers of `topics`, or of every publisher (`None`).
pub fn lookup_req(topics: Option<&[String]>) -> DiscoveryReq {
    let (kind, topiclist) = match topics {
        Some(t) => (MsgTypes::TypeLookupPubByTopic, t.to_vec()),
        None => (MsgTypes::TypeLookupAllPubs, Vec::new()),
    };
    DiscoveryReq {
        msg_type: kind as i32,
        content: Some(discovery_req::Content::LookupReq(LookupPubByTopicReq {
            topiclist,
        })),
    }
}

/// The state machine of one client.
#[derive(Debug)]
pub struct Client {
    kind: Kind,
    info: RegistrantInfo,
    topics: Vec<String>,
    pause: Duration,
    phase: Phase,
    /// Isready or lookup requests sent so far.
    polls: u64,
}

impl Client {
    /// A client that will register `info` with `topics`, asking again after
    /// `pause` while discovery is not ready.
    pub fn new(kind: Kind, info: RegistrantInfo, topics: Vec<String>, pause: Duration) -> Self {
        Client {
            kind,
            info,
            topics,
            pause,
            phase: Phase::Register,
            polls: 0,
        }
    }

    /// Where the client is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// How many isready or lookup requests were sent.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// The first request (REGISTER).
    pub fn start(&mut self) -> Action {
        self.phase = Phase::Register;
        let role = match self.kind {
            Kind::Publisher => Role::Publisher,
            Kind::Subscriber => Role::Subscriber,
            Kind::Broker => Role::Both,
        };
        Action::Send(register_req(role, self.info.clone(), &self.topics))
    }

    fn poll(&mut self, after: Option<Duration>) -> Action {
        self.polls += 1;
        let req = match self.kind {
            Kind::Publisher => isready_req(),
            Kind::Subscriber => lookup_req(Some(&self.topics)),
            Kind::Broker => lookup_req(None),
        };
        match after {
            Some(d) => Action::SendAfter(d, req),
            None => Action::Send(req),
        }
    }

    /// Feeds one encoded reply.
    pub fn on_reply_bytes(&mut self, bytes: &[u8]) -> Result<Action, ClientError> {
        use prost::Message as _;
        let resp =
            DiscoveryResp::decode(bytes).map_err(|e| ClientError::Malformed(e.to_string()))?;
        self.on_reply(resp)
    }

    /// Feeds one reply; returns the next action.
    pub fn on_reply(&mut self, resp: DiscoveryResp) -> Result<Action, ClientError> {
        use discovery_resp::Content;
        let unexpected = |resp: &DiscoveryResp, phase| ClientError::Unexpected {
            got: MsgTypes::try_from(resp.msg_type)
                .unwrap_or(MsgTypes::TypeUnknown)
                .as_str_name()
                .to_owned(),
            phase,
        };
        match (self.phase, &resp.content) {
            (_, Some(Content::RegisterResp(r))) if r.status != Status::Success as i32 => Err(
                ClientError::Refused(r.reason.clone().unwrap_or_else(|| "no reason given".into())),
            ),
            (Phase::Register, Some(Content::RegisterResp(_))) => {
                self.phase = match self.kind {
                    Kind::Publisher => Phase::IsReady,
                    Kind::Subscriber | Kind::Broker => Phase::Lookup,
                };
                Ok(self.poll(None))
            }
            (Phase::IsReady, Some(Content::IsreadyResp(r))) => {
                if r.status {
                    self.phase = Phase::Disseminate;
                    Ok(Action::Publish)
                } else {
                    Ok(self.poll(Some(self.pause)))
                }
            }
            (Phase::Lookup, Some(Content::LookupResp(r))) => {
                match Status::try_from(r.status).unwrap_or(Status::Unknown) {
                    Status::CheckAgain => Ok(self.poll(Some(self.pause))),
                    // STATUS_UNKNOWN: a discovery service that does not set it (the proto's default).
                    Status::Success | Status::Unknown => {
                        self.phase = Phase::Disseminate;
                        Ok(Action::Connect(r.publishers.clone()))
                    }
                    Status::Failure => Err(ClientError::LookupFailed(
                        r.reason.clone().unwrap_or_else(|| "no reason given".into()),
                    )),
                }
            }
            (phase, _) => Err(unexpected(&resp, phase)),
        }
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
