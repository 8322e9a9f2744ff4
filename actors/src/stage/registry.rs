//! The course's Registry service, twice: once as hand-formatted string
//! messages (message passing), once as typed requests over a codec with a
//! client proxy that turns each call into a request and its reply into the
//! call's result (remote procedure call).
//!
//! | kind | ports | what it does |
//! |---|---|---|
//! | `registry.text-server` | in, out: `Frames` | answers `put KEY VALUE` / `get KEY` lines |
//! | `registry.text-client` | out, in: `Frames` | sends a script of such lines, prints the answers |
//! | `registry.server` | in, out: `Frames` | answers encoded [`Request`]s with encoded [`Reply`]s |
//! | `registry.proxy` | out, in: `Frames` | typed client proxy: `Handler<Get>`, `Handler<Put>` |

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use actix::prelude::*;
use rolecall_codecs::{serde_codec, Codec};
use rolecall_runtime::kind::{Console, CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::zmq::Frames;

/// A request of the typed Registry protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Read a key.
    Get {
        /// The key.
        key: String,
    },
    /// Write a key.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
}

/// A reply of the typed Registry protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// The value of a key, if it has one.
    Value(Option<String>),
    /// A put was stored.
    Stored,
    /// The request could not be understood.
    Error(String),
}

/// Parameters of the typed Registry kinds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodecParams {
    /// `json` or `binary`.
    #[serde(default = "binary")]
    pub format: String,
}

fn binary() -> String {
    "binary".into()
}

fn codec<T: Serialize + serde::de::DeserializeOwned + 'static>(
    format: &str,
) -> Result<Arc<dyn Codec<T>>, CreateError> {
    serde_codec::<T>(format)
        .ok_or_else(|| format!("no `{format}` codec: use json or binary").into())
}

fn encode<T: 'static>(codec: &dyn Codec<T>, value: &T) -> Frames {
    let mut bytes = Vec::new();
    if let Err(e) = codec.encode(value, &mut bytes) {
        tracing::warn!(error = %e, "registry message not encodable");
    }
    Frames::one(bytes)
}

// ---- message passing ------------------------------------------------------

/// Answers `put KEY VALUE` and `get KEY` text messages.
#[derive(Debug)]
pub struct TextServer {
    store: HashMap<String, String>,
    out: Output<Frames>,
}

impl Actor for TextServer {
    type Context = Context<Self>;
}

impl Handler<Frames> for TextServer {
    type Result = ();
    fn handle(&mut self, mut msg: Frames, ctx: &mut Context<Self>) {
        let line = String::from_utf8_lossy(&msg.pop().unwrap_or_default()).into_owned();
        let mut words = line.split_whitespace();
        let reply = match (words.next(), words.next(), words.next()) {
            (Some("put"), Some(k), Some(v)) => {
                self.store.insert(k.to_owned(), v.to_owned());
                "ok".to_owned()
            }
            (Some("get"), Some(k), None) => self
                .store
                .get(k)
                .cloned()
                .unwrap_or_else(|| "missing".into()),
            _ => format!("error: cannot parse `{line}`"),
        };
        msg.push(reply.into_bytes());
        self.out.send(msg, ctx);
    }
}

/// Parameters of `registry.text-server`: none (an unknown key is an error).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextServerParams {}

impl Role for TextServer {
    type Params = TextServerParams;
    const ABOUT: &'static str = "Registry over hand-formatted strings: `put KEY VALUE`, `get KEY`";
    fn ports(p: &mut Ports<Self>) {
        p.input::<Frames>("in").output::<Frames>("out");
    }
    fn build(_: &TextServerParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(TextServer {
            store: HashMap::new(),
            out: io.output("out")?,
        })
    }
}

/// Parameters of `registry.text-client`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptParams {
    /// Lines to send, one at a time.
    pub script: Vec<String>,
}

/// Sends a script of text requests and prints each answer.
#[derive(Debug)]
pub struct TextClient {
    script: VecDeque<String>,
    out: Output<Frames>,
    console: Console,
}

impl TextClient {
    fn next(&mut self, ctx: &mut Context<Self>) {
        match self.script.front() {
            Some(line) => {
                let msg = Frames::text(line);
                self.out.send(msg, ctx);
            }
            None => ctx.stop(),
        }
    }
}

impl Actor for TextClient {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.next(ctx);
    }
}

impl Handler<Frames> for TextClient {
    type Result = ();
    fn handle(&mut self, reply: Frames, ctx: &mut Context<Self>) {
        let line = self.script.pop_front().unwrap_or_default();
        self.console.line(format_args!(
            "text: {line} -> {}",
            String::from_utf8_lossy(reply.body())
        ));
        self.next(ctx);
    }
}

impl Role for TextClient {
    type Params = ScriptParams;
    const ABOUT: &'static str = "sends a script of Registry text requests, prints the answers";
    fn ports(p: &mut Ports<Self>) {
        p.output::<Frames>("out").input::<Frames>("in");
    }
    fn build(p: &ScriptParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(TextClient {
            script: p.script.iter().cloned().collect(),
            out: io.output("out")?,
            console: io.console(),
        })
    }
}

// ---- remote procedure call -------------------------------------------------

/// Answers encoded [`Request`]s with encoded [`Reply`]s.
pub struct Server {
    store: HashMap<String, String>,
    requests: Arc<dyn Codec<Request>>,
    replies: Arc<dyn Codec<Reply>>,
    out: Output<Frames>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("keys", &self.store.len())
            .finish()
    }
}

impl Actor for Server {
    type Context = Context<Self>;
}

impl Handler<Frames> for Server {
    type Result = ();
    fn handle(&mut self, mut msg: Frames, ctx: &mut Context<Self>) {
        let body = msg.pop().unwrap_or_default();
        let reply = match self.requests.decode(&body) {
            Ok(Request::Get { key }) => Reply::Value(self.store.get(&key).cloned()),
            Ok(Request::Put { key, value }) => {
                self.store.insert(key, value);
                Reply::Stored
            }
            // A malformed request gets an error reply; the server carries on.
            Err(e) => Reply::Error(e.to_string()),
        };
        msg.extend(encode(self.replies.as_ref(), &reply));
        self.out.send(msg, ctx);
    }
}

impl Role for Server {
    type Params = CodecParams;
    const ABOUT: &'static str = "Registry over typed requests with a codec (the RPC server side)";
    fn ports(p: &mut Ports<Self>) {
        p.input::<Frames>("in").output::<Frames>("out");
    }
    fn build(p: &CodecParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Server {
            store: HashMap::new(),
            requests: codec(&p.format)?,
            replies: codec(&p.format)?,
            out: io.output("out")?,
        })
    }
}

/// RPC: read a key through the proxy.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<String>, String>")]
pub struct Get(pub String);

/// RPC: write a key through the proxy.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), String>")]
pub struct Put(pub String, pub String);

/// The typed client proxy: each `Get`/`Put` call becomes a request on `out`;
/// replies arriving on `in` (in order, as REQ/REP guarantees) complete the calls.
pub struct Proxy {
    requests: Arc<dyn Codec<Request>>,
    replies: Arc<dyn Codec<Reply>>,
    out: Output<Frames>,
    waiting: VecDeque<oneshot::Sender<Reply>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("waiting", &self.waiting.len())
            .finish()
    }
}

impl Proxy {
    fn call(&mut self, request: Request, ctx: &mut Context<Self>) -> oneshot::Receiver<Reply> {
        let (tx, rx) = oneshot::channel();
        self.waiting.push_back(tx);
        let msg = encode(self.requests.as_ref(), &request);
        self.out.send(msg, ctx);
        rx
    }
}

impl Actor for Proxy {
    type Context = Context<Self>;
}

impl Handler<Get> for Proxy {
    type Result = ResponseFuture<Result<Option<String>, String>>;
    fn handle(&mut self, Get(key): Get, ctx: &mut Context<Self>) -> Self::Result {
        let rx = self.call(Request::Get { key }, ctx);
        Box::pin(async move {
            match rx.await {
                Ok(Reply::Value(v)) => Ok(v),
                Ok(other) => Err(format!("unexpected reply {other:?}")),
                Err(_) => Err("the proxy stopped before the reply".into()),
            }
        })
    }
}

impl Handler<Put> for Proxy {
    type Result = ResponseFuture<Result<(), String>>;
    fn handle(&mut self, Put(key, value): Put, ctx: &mut Context<Self>) -> Self::Result {
        let rx = self.call(Request::Put { key, value }, ctx);
        Box::pin(async move {
            match rx.await {
                Ok(Reply::Stored) => Ok(()),
                Ok(other) => Err(format!("unexpected reply {other:?}")),
                Err(_) => Err("the proxy stopped before the reply".into()),
            }
        })
    }
}

impl Handler<Frames> for Proxy {
    type Result = ();
    fn handle(&mut self, reply: Frames, _: &mut Context<Self>) {
        let decoded = self
            .replies
            .decode(reply.body())
            .unwrap_or_else(|e| Reply::Error(e.to_string()));
        if let Some(tx) = self.waiting.pop_front() {
            let _ = tx.send(decoded);
        }
    }
}

impl Role for Proxy {
    type Params = CodecParams;
    const ABOUT: &'static str =
        "typed Registry client proxy: Get/Put calls become encoded requests";
    fn ports(p: &mut Ports<Self>) {
        p.output::<Frames>("out").input::<Frames>("in");
    }
    fn build(p: &CodecParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Proxy {
            requests: codec(&p.format)?,
            replies: codec(&p.format)?,
            out: io.output("out")?,
            waiting: VecDeque::new(),
        })
    }
    fn end_of_input(&mut self, _: &mut Context<Self>) {}
}
