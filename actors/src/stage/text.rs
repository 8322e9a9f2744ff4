//! Text-message stages for ZeroMQ topologies: a requester that measures round
//! trips, a responder, a topic publisher and a printer.
//!
//! | kind | ports | what it does |
//! |---|---|---|
//! | `text.requester` | out: requests, in: replies | sends `count` requests one at a time, prints each round-trip time, then stops |
//! | `text.responder` | in: requests, out: replies | answers each request with `reply_prefix` + body, keeping the routing envelope |
//! | `text.publisher` | out: `[topic, body]` | publishes `count` messages round-robin over `topics` every `interval_ms`, after `delay_ms` |
//! | `text.inspect` | in, out | prints and forwards (the inspection stage of a proxy); can drop by content |
//! | `text.events` | in: `SocketEvent` | prints socket-monitor events; stops on `stop_on` |
//! | `text.printer` | in | prints each message; at end of input (or after `stop_after`) prints how many it got |
//!
//! "Prints" means a line on the node's console
//! ([`Io::console`](rolecall_runtime::kind::Io::console)): stdout unless the
//! embedding program chose another.

use std::time::{Duration, Instant};

use actix::prelude::*;
use rolecall_runtime::kind::{Console, CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::Deserialize;

use crate::zmq::{Frames, SocketEvent};

fn show(f: &Frames) -> String {
    f.iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Parameters of `text.requester`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequesterParams {
    /// Requests to send.
    #[serde(default = "ten")]
    pub count: u32,
    /// Request text (the sequence number is appended).
    #[serde(default = "hello")]
    pub text: String,
    /// Print every reply (default true).
    #[serde(default = "yes")]
    pub print: bool,
}

fn ten() -> u32 {
    10
}
fn hello() -> String {
    "hello".into()
}
fn yes() -> bool {
    true
}

/// Sends requests one at a time and prints round-trip times.
#[derive(Debug)]
pub struct Requester {
    p: RequesterParams,
    out: Output<Frames>,
    sent: u32,
    at: Instant,
    rtts_us: Vec<f64>,
    console: Console,
}

impl Requester {
    fn next(&mut self, ctx: &mut Context<Self>) {
        if self.sent >= self.p.count {
            let mut r = self.rtts_us.clone();
            r.sort_by(f64::total_cmp);
            let p50 = r.get(r.len() / 2).copied().unwrap_or(0.0);
            self.console.line(format_args!(
                "{} replies, round trip p50 {p50:.1} us",
                r.len()
            ));
            ctx.stop();
            return;
        }
        self.at = Instant::now();
        self.out
            .send(Frames::text(&format!("{} {}", self.p.text, self.sent)), ctx);
        self.sent += 1;
    }
}

impl Actor for Requester {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.next(ctx);
    }
}

impl Handler<Frames> for Requester {
    type Result = ();
    fn handle(&mut self, reply: Frames, ctx: &mut Context<Self>) {
        let rtt = self.at.elapsed().as_secs_f64() * 1e6;
        self.rtts_us.push(rtt);
        if self.p.print {
            self.console.line(format_args!(
                "reply {}: {} ({rtt:.1} us)",
                self.sent - 1,
                show(&reply)
            ));
        }
        self.next(ctx);
    }
}

impl Role for Requester {
    type Params = RequesterParams;
    const ABOUT: &'static str =
        "sends `count` requests one at a time, prints round-trip times, then stops";
    fn ports(p: &mut Ports<Self>) {
        p.output::<Frames>("out").input::<Frames>("in");
    }
    fn build(p: &RequesterParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Requester {
            p: p.clone(),
            out: io.output("out")?,
            sent: 0,
            at: Instant::now(),
            rtts_us: Vec::new(),
            console: io.console(),
        })
    }
}

/// Parameters of `text.responder`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponderParams {
    /// Put before each request body in the reply.
    #[serde(default = "world")]
    pub reply_prefix: String,
}

fn world() -> String {
    "world: ".into()
}

/// Answers each request, keeping all frames but the last (the envelope).
#[derive(Debug)]
pub struct Responder {
    prefix: Vec<u8>,
    out: Output<Frames>,
}

impl Actor for Responder {
    type Context = Context<Self>;
}

impl Handler<Frames> for Responder {
    type Result = ();
    fn handle(&mut self, mut req: Frames, ctx: &mut Context<Self>) {
        let body = req.pop().unwrap_or_default();
        req.push([self.prefix.as_slice(), &body].concat());
        self.out.send(req, ctx);
    }
}

impl Role for Responder {
    type Params = ResponderParams;
    const ABOUT: &'static str =
        "answers each request with `reply_prefix` + body, keeping the routing envelope";
    fn ports(p: &mut Ports<Self>) {
        p.input::<Frames>("in").output::<Frames>("out");
    }
    fn build(p: &ResponderParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Responder {
            prefix: p.reply_prefix.as_bytes().to_vec(),
            out: io.output("out")?,
        })
    }
}

/// Parameters of `text.publisher`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherParams {
    /// Topics, used round-robin as the first frame.
    pub topics: Vec<String>,
    /// Messages in all (0: never stop).
    #[serde(default = "ten")]
    pub count: u32,
    /// Milliseconds between messages.
    #[serde(default = "one")]
    pub interval_ms: u64,
    /// Milliseconds to wait before the first (lets subscribers connect).
    #[serde(default)]
    pub delay_ms: u64,
}

fn one() -> u64 {
    1
}

/// Publishes `[topic, "topic N"]` messages.
#[derive(Debug)]
pub struct Publisher {
    p: PublisherParams,
    out: Output<Frames>,
    n: u32,
}

impl Actor for Publisher {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        let every = Duration::from_millis(self.p.interval_ms.max(1));
        ctx.run_later(Duration::from_millis(self.p.delay_ms), move |_, ctx| {
            ctx.run_interval(every, |act, ctx| act.publish(ctx));
        });
    }
}

impl Publisher {
    fn publish(&mut self, ctx: &mut Context<Self>) {
        if self.p.topics.is_empty() || (self.p.count != 0 && self.n >= self.p.count) {
            ctx.stop();
            return;
        }
        let topic = &self.p.topics[self.n as usize % self.p.topics.len()];
        let msg = Frames::from(vec![
            topic.as_bytes().to_vec(),
            format!("{topic} {}", self.n).into_bytes(),
        ]);
        self.n += 1;
        self.out.send(msg, ctx);
    }
}

impl Role for Publisher {
    type Params = PublisherParams;
    const ABOUT: &'static str =
        "publishes `count` [topic, body] messages round-robin over `topics`";
    fn ports(p: &mut Ports<Self>) {
        p.output::<Frames>("out");
    }
    fn build(p: &PublisherParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Publisher {
            p: p.clone(),
            out: io.output("out")?,
            n: 0,
        })
    }
}

/// Parameters of `text.inspect`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectParams {
    /// Label put before each line (default: the actor's name).
    pub label: Option<String>,
    /// Messages whose frames contain this text are dropped (and counted).
    pub drop_containing: Option<String>,
}

/// Prints and forwards every message: the inspection stage of a proxy (the
/// course's forwarder). Can also filter.
#[derive(Debug)]
pub struct Inspect {
    label: String,
    drop: Option<Vec<u8>>,
    out: Output<Frames>,
    passed: u64,
    dropped: u64,
    console: Console,
}

impl Actor for Inspect {
    type Context = Context<Self>;
}

impl Handler<Frames> for Inspect {
    type Result = ();
    fn handle(&mut self, msg: Frames, ctx: &mut Context<Self>) {
        let hit = self.drop.as_ref().is_some_and(|d| {
            msg.iter()
                .any(|f| f.windows(d.len().max(1)).any(|w| w == d.as_slice()))
        });
        if hit {
            self.dropped += 1;
            self.console
                .line(format_args!("{}: dropped {}", self.label, show(&msg)));
            return;
        }
        self.passed += 1;
        self.console
            .line(format_args!("{}: {}", self.label, show(&msg)));
        self.out.send(msg, ctx);
    }
}

impl Role for Inspect {
    type Params = InspectParams;
    const ABOUT: &'static str =
        "prints and forwards every message; drops those containing `drop_containing`";
    fn ports(p: &mut Ports<Self>) {
        p.input::<Frames>("in").output::<Frames>("out");
    }
    fn build(p: &InspectParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Inspect {
            label: p
                .label
                .clone()
                .unwrap_or_else(|| io.actor_name().to_owned()),
            drop: p.drop_containing.as_ref().map(|d| d.as_bytes().to_vec()),
            out: io.output("out")?,
            passed: 0,
            dropped: 0,
            console: io.console(),
        })
    }
    fn end_of_input(&mut self, ctx: &mut Context<Self>) {
        self.console.line(format_args!(
            "{}: {} passed, {} dropped",
            self.label, self.passed, self.dropped
        ));
        ctx.stop();
    }
}

/// Parameters of `text.events`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    /// Stop after the first event of this kind (e.g. "Disconnected").
    pub stop_on: Option<String>,
}

/// Prints ZeroMQ socket-monitor events.
#[derive(Debug)]
pub struct Events {
    stop_on: Option<String>,
    console: Console,
}

impl Actor for Events {
    type Context = Context<Self>;
}

impl Handler<SocketEvent> for Events {
    type Result = ();
    fn handle(&mut self, e: SocketEvent, ctx: &mut Context<Self>) {
        let kind = format!("{:?}", e.kind);
        self.console.line(format_args!(
            "event {}: {kind} {} ({})",
            e.actor, e.endpoint, e.value
        ));
        if self.stop_on.as_deref() == Some(kind.as_str()) {
            ctx.stop();
        }
    }
}

impl Role for Events {
    type Params = EventsParams;
    const ABOUT: &'static str = "prints ZeroMQ socket-monitor events; stops on `stop_on`";
    fn ports(p: &mut Ports<Self>) {
        p.input::<SocketEvent>("in");
    }
    fn build(p: &EventsParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Events {
            stop_on: p.stop_on.clone(),
            console: io.console(),
        })
    }
}

/// Parameters of `text.printer`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterParams {
    /// Label put before each line (default: the actor's name).
    pub label: Option<String>,
    /// Stop after this many messages (0: run until the input ends).
    #[serde(default)]
    pub stop_after: u64,
    /// With `stop_after`: stop anyway when no message came for this many
    /// milliseconds since the last one (the clock starts at the first), with
    /// a WARN naming how many of `stop_after` arrived (default 5000; 0: wait
    /// for ever).
    #[serde(default = "super::latency::default_idle_timeout")]
    pub idle_timeout_ms: u64,
}

/// Prints every message it gets.
#[derive(Debug)]
pub struct Printer {
    label: String,
    seen: u64,
    stop_after: u64,
    idle_timeout: Option<Duration>,
    last_seen: Option<Instant>,
    console: Console,
}

impl Actor for Printer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let Some(idle) = self.idle_timeout else {
            return;
        };
        let every = (idle / 4).clamp(Duration::from_millis(10), Duration::from_millis(250));
        ctx.run_interval(every, move |act, ctx| {
            let Some(last) = act.last_seen else {
                return;
            };
            if last.elapsed() >= idle && act.seen < act.stop_after {
                tracing::warn!(
                    actor = %act.label,
                    arrived = act.seen,
                    expected = act.stop_after,
                    missing = act.stop_after - act.seen,
                    "no message for {} ms: ending with {} of {} messages arrived",
                    idle.as_millis(),
                    act.seen,
                    act.stop_after,
                );
                act.end_of_input(ctx);
            }
        });
    }
}

impl Handler<Frames> for Printer {
    type Result = ();
    fn handle(&mut self, msg: Frames, ctx: &mut Context<Self>) {
        self.seen += 1;
        self.last_seen = Some(Instant::now());
        self.console
            .line(format_args!("{}: {}", self.label, show(&msg)));
        if self.seen == self.stop_after {
            self.end_of_input(ctx);
        }
    }
}

impl Role for Printer {
    type Params = PrinterParams;
    const ABOUT: &'static str = "prints each message; at end of input (or after `stop_after`, or `idle_timeout_ms` without one) prints how many it got";
    fn ports(p: &mut Ports<Self>) {
        p.input::<Frames>("in");
    }
    fn build(p: &PrinterParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Printer {
            label: p
                .label
                .clone()
                .unwrap_or_else(|| io.actor_name().to_owned()),
            seen: 0,
            stop_after: p.stop_after,
            idle_timeout: (p.stop_after > 0 && p.idle_timeout_ms > 0)
                .then(|| Duration::from_millis(p.idle_timeout_ms)),
            last_seen: None,
            console: io.console(),
        })
    }
    fn end_of_input(&mut self, ctx: &mut Context<Self>) {
        self.console
            .line(format_args!("{}: {} messages", self.label, self.seen));
        ctx.stop();
    }
}
