//! `pubsub.kad_discovery`: the [`Frontend`] between a `zmq.rep` (the
//! clients' `DiscoveryReq`s) and a `dht.node` (its records). Requests that
//! arrive before the node knows `min_peers` peers (learnt from its `events`)
//! wait, at most `max_waiting` of them; more are refused with a reason.

use std::collections::{HashMap, VecDeque};

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, ParamCheck, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::Deserialize;

use super::frontend::{Config, Frontend, Out};
use crate::dht::{Event, Request, Response};
use crate::pubsub::directory::{Dissemination, Expect};
use crate::zmq::Frames;

/// Parameters of `pubsub.kad_discovery`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KadParams {
    /// This front-end's name (one of `frontends`).
    pub name: String,
    /// Every discovery front-end's name (the records readers gather).
    pub frontends: Vec<String>,
    /// Publishers expected before lookups are answered (`-P`).
    pub publishers: usize,
    /// Subscribers expected before the system is ready (`-S`).
    pub subscribers: usize,
    /// `direct` (default) or `broker`.
    #[serde(default)]
    pub dissemination: Dissemination,
    /// Peers the DHT node must know before requests go to it (default 1).
    #[serde(default = "one")]
    pub min_peers: usize,
    /// Requests held while waiting for them (default 1024).
    #[serde(default = "default_waiting")]
    pub max_waiting: usize,
}

fn one() -> usize {
    1
}
fn default_waiting() -> usize {
    1024
}

/// The kind; see the module docs.
#[derive(Debug)]
pub struct KadDiscovery {
    frontend: Frontend,
    min_peers: usize,
    max_waiting: usize,
    ready: bool,
    waiting: VecDeque<Frames>,
    envelopes: HashMap<u64, Frames>,
    next_tag: u64,
    out: Output<Frames>,
    requests: Output<Request>,
}

impl KadDiscovery {
    fn apply(&mut self, outs: Vec<Out>, ctx: &mut Context<Self>) {
        for o in outs {
            match o {
                Out::Reply { client, bytes } => {
                    if let Some(mut envelope) = self.envelopes.remove(&client) {
                        envelope.push(bytes);
                        self.out.send(envelope, ctx);
                    }
                }
                Out::Dht(r) => {
                    self.requests.send(r, ctx);
                }
            }
        }
    }

    fn serve(&mut self, mut msg: Frames, ctx: &mut Context<Self>) {
        let body = msg.pop().unwrap_or_default();
        self.next_tag += 1;
        self.envelopes.insert(self.next_tag, msg);
        let outs = self.frontend.request(self.next_tag, &body);
        self.apply(outs, ctx);
    }
}

impl Actor for KadDiscovery {
    type Context = Context<Self>;
}

impl Handler<Frames> for KadDiscovery {
    type Result = ();
    fn handle(&mut self, msg: Frames, ctx: &mut Context<Self>) {
        if self.ready {
            self.serve(msg, ctx);
        } else if self.waiting.len() < self.max_waiting {
            self.waiting.push_back(msg);
        } else {
            // Answered by the front-end as busy: a reply, never silence.
            let mut envelope = msg;
            envelope.pop();
            let resp = crate::pubsub::directory::refused(
                rolecall_codecs::pb::discovery::MsgTypes::TypeUnknown,
                "the dht is not ready".into(),
            );
            envelope.push(prost::Message::encode_to_vec(&resp));
            self.out.send(envelope, ctx);
        }
    }
}

impl Handler<Response> for KadDiscovery {
    type Result = ();
    fn handle(&mut self, r: Response, ctx: &mut Context<Self>) {
        let outs = self.frontend.response(r);
        self.apply(outs, ctx);
    }
}

impl Handler<Event> for KadDiscovery {
    type Result = ();
    fn handle(&mut self, event: Event, ctx: &mut Context<Self>) {
        let peers = match event {
            Event::RoutingUpdated { peers, .. } | Event::BootstrapDone { peers } => peers,
        };
        if !self.ready && peers >= self.min_peers {
            self.ready = true;
            while let Some(msg) = self.waiting.pop_front() {
                self.serve(msg, ctx);
            }
        }
    }
}

impl Role for KadDiscovery {
    type Params = KadParams;
    const ABOUT: &'static str =
        "the course's discovery on the Kademlia DHT: DiscoveryReq on `in` (from a zmq.rep), records through a dht.node";

    fn ports(p: &mut Ports<Self>) {
        p.input::<Frames>("in")
            .output::<Frames>("out")
            .output::<Request>("requests")
            .input::<Response>("responses")
            .input::<Event>("events");
    }

    fn check(p: &KadParams, check: &mut ParamCheck) {
        if !p.frontends.contains(&p.name) {
            check.error("name", format!("`{}` is not one of `frontends`", p.name));
        }
    }

    fn build(p: &KadParams, io: &mut Io) -> Result<Self, CreateError> {
        if !p.frontends.contains(&p.name) {
            return Err(CreateError::from(format!(
                "pubsub.kad_discovery: name {} is not in frontends {:?}",
                p.name, p.frontends
            )));
        }
        let cfg = Config {
            name: p.name.clone(),
            frontends: p.frontends.clone(),
            expect: Expect::new(p.publishers, p.subscribers, p.dissemination),
            max_requests: 1024,
        };
        Ok(KadDiscovery {
            frontend: Frontend::new(cfg),
            min_peers: p.min_peers,
            max_waiting: p.max_waiting,
            ready: p.min_peers == 0,
            waiting: VecDeque::new(),
            envelopes: HashMap::new(),
            next_tag: 0,
            out: io.output("out")?,
            requests: io.output("requests")?,
        })
    }

    fn end_of_input(&mut self, _: &mut Context<Self>) {}
}
