//! `dht.text-bridge`: a small stage between a ZeroMQ REP endpoint and a DHT
//! node. It answers the Registry's text requests (`put KEY VALUE`,
//! `get KEY`) from values held in the DHT: each request becomes a wired
//! [`Request`] with an id, and the [`Response`] carrying that id becomes the
//! reply, with the request's envelope.
//!
//! The course's problem of joining synchronous ZeroMQ code with an
//! asynchronous DHT library does not arise: the socket and the DHT are both
//! actors, and this stage only translates messages. Requests that arrive
//! before the DHT node knows `min_peers` peers (learnt from its `events`)
//! wait, at most `max_waiting` of them.

use std::collections::{HashMap, VecDeque};

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::Deserialize;

use super::message::{Event, Get, Op, Outcome, Put, Request, Response};
use crate::zmq::Frames;

/// Parameters of `dht.text-bridge`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeParams {
    /// Peers the DHT node must know before requests go to it (default 1).
    #[serde(default = "one")]
    pub min_peers: usize,
    /// Requests held while waiting for them (default 1024); more get an error reply.
    #[serde(default = "default_waiting")]
    pub max_waiting: usize,
}

fn one() -> usize {
    1
}
fn default_waiting() -> usize {
    1024
}

/// What a text line asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `put KEY VALUE` (the value is the rest of the line).
    Put(String, String),
    /// `get KEY`.
    Get(String),
}

/// Parses a request line; the error is the reply to send.
pub fn parse(line: &str) -> Result<Line, String> {
    let line = line.trim();
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim_start();
    match verb {
        "put" => match rest.split_once(' ') {
            Some((key, value)) if !key.is_empty() => {
                Ok(Line::Put(key.to_owned(), value.trim_start().to_owned()))
            }
            _ => Err(format!("error: `{line}`: write `put KEY VALUE`")),
        },
        "get" if !rest.is_empty() && !rest.contains(' ') => Ok(Line::Get(rest.to_owned())),
        "get" => Err(format!("error: `{line}`: write `get KEY`")),
        _ => Err(format!(
            "error: cannot parse `{line}`: use `put KEY VALUE` or `get KEY`"
        )),
    }
}

/// The text of a DHT outcome, as the Registry's text protocol answers.
pub fn answer(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Put(Ok(_)) => "ok".into(),
        Outcome::Get(Ok(found)) => String::from_utf8_lossy(&found.value).into_owned(),
        Outcome::Get(Err(super::GetError::NotFound { .. })) => "missing".into(),
        Outcome::Put(Err(e)) => format!("error: {e}"),
        Outcome::Get(Err(e)) => format!("error: {e}"),
        other => format!("error: unexpected {other:?}"),
    }
}

/// The bridge stage; see the module docs.
#[derive(Debug)]
pub struct TextBridge {
    params: BridgeParams,
    ready: bool,
    next_id: u64,
    /// Envelopes of requests sent to the DHT, by id.
    envelopes: HashMap<u64, Frames>,
    waiting: VecDeque<Frames>,
    out: Output<Frames>,
    requests: Output<Request>,
}

impl TextBridge {
    fn reply(&mut self, mut envelope: Frames, text: String, ctx: &mut Context<Self>) {
        envelope.push(text.into_bytes());
        self.out.send(envelope, ctx);
    }

    fn forward(&mut self, mut msg: Frames, ctx: &mut Context<Self>) {
        let body = msg.pop().unwrap_or_default();
        let op = match parse(&String::from_utf8_lossy(&body)) {
            Ok(Line::Put(key, value)) => Op::Put(Put::new(&key, value.into_bytes())),
            Ok(Line::Get(key)) => Op::Get(Get::new(&key)),
            Err(text) => return self.reply(msg, text, ctx),
        };
        self.next_id += 1;
        let id = self.next_id;
        self.envelopes.insert(id, msg);
        self.requests.send(Request { id, op }, ctx);
    }
}

impl Actor for TextBridge {
    type Context = Context<Self>;
}

impl Handler<Frames> for TextBridge {
    type Result = ();
    fn handle(&mut self, msg: Frames, ctx: &mut Context<Self>) {
        if self.ready {
            self.forward(msg, ctx);
        } else if self.waiting.len() < self.params.max_waiting {
            self.waiting.push_back(msg);
        } else {
            let mut envelope = msg;
            envelope.pop();
            self.reply(envelope, "error: the dht is not ready".into(), ctx);
        }
    }
}

impl Handler<Response> for TextBridge {
    type Result = ();
    fn handle(&mut self, response: Response, ctx: &mut Context<Self>) {
        match self.envelopes.remove(&response.id) {
            Some(envelope) => {
                let text = answer(&response.outcome);
                self.reply(envelope, text, ctx);
            }
            None => tracing::warn!(id = response.id, "dht response to no request"),
        }
    }
}

impl Handler<Event> for TextBridge {
    type Result = ();
    fn handle(&mut self, event: Event, ctx: &mut Context<Self>) {
        let peers = match event {
            Event::RoutingUpdated { peers, .. } | Event::BootstrapDone { peers } => peers,
        };
        if !self.ready && peers >= self.params.min_peers {
            self.ready = true;
            while let Some(msg) = self.waiting.pop_front() {
                self.forward(msg, ctx);
            }
        }
    }
}

impl Role for TextBridge {
    type Params = BridgeParams;
    const ABOUT: &'static str =
        "answers `put KEY VALUE` / `get KEY` text requests (e.g. from zmq.rep) from a dht.node";

    fn ports(p: &mut Ports<Self>) {
        p.input::<Frames>("in")
            .output::<Frames>("out")
            .output::<Request>("requests")
            .input::<Response>("responses")
            .input::<Event>("events");
    }

    fn build(params: &BridgeParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(TextBridge {
            params: params.clone(),
            ready: params.min_peers == 0,
            next_id: 0,
            envelopes: HashMap::new(),
            waiting: VecDeque::new(),
            out: io.output("out")?,
            requests: io.output("requests")?,
        })
    }

    fn end_of_input(&mut self, _: &mut Context<Self>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_or_explain() {
        assert_eq!(
            parse("put city New York"),
            Ok(Line::Put("city".into(), "New York".into()))
        );
        assert_eq!(parse("get city"), Ok(Line::Get("city".into())));
        assert!(parse("get").unwrap_err().contains("get KEY"));
        assert!(parse("put city").unwrap_err().contains("put KEY VALUE"));
        assert!(parse("hello")
            .unwrap_err()
            .starts_with("error: cannot parse"));
    }
}
