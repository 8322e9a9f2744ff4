//! Test roles and helpers shared by the runtime tests.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use actix::prelude::*;
use rolecall_runtime::kind::{Crash, CreateError, Io, Ports, Role};
use rolecall_runtime::supervision::Event;
use rolecall_runtime::topology::{load_str, Overrides, Topology};
use rolecall_runtime::wire::Output;
use rolecall_runtime::Registry;
use serde::{Deserialize, Serialize};

/// The number every test role passes around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub(crate) struct Num(pub u64);

/// A command whose handler may fail by returning an error.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "Result<(), String>")]
pub(crate) struct Cmd(pub String);

/// Asks an actor which incarnation (1-based) it is.
#[derive(Debug, Message)]
#[rtype(result = "u64")]
pub(crate) struct WhoAreYou;

/// Lines appended by test roles, per tag (each test uses its own tag).
pub(crate) fn journal(tag: &str) -> Vec<String> {
    book()
        .lock()
        .map(|m| m.get(tag).cloned().unwrap_or_default())
        .unwrap_or_default()
}

fn book() -> &'static Mutex<HashMap<String, Vec<String>>> {
    static BOOK: OnceLock<Mutex<HashMap<String, Vec<String>>>> = OnceLock::new();
    BOOK.get_or_init(Default::default)
}

fn note(tag: &str, line: String) {
    if let Ok(mut m) = book().lock() {
        m.entry(tag.to_owned()).or_default().push(line);
    }
}

fn incarnations() -> &'static Mutex<HashMap<String, u64>> {
    static N: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    N.get_or_init(Default::default)
}

fn next_incarnation(key: &str) -> u64 {
    let mut m = incarnations().lock().expect("incarnation counter");
    let n = m.entry(key.to_owned()).or_default();
    *n += 1;
    *n
}

/// Parameters of `test.source`.
#[derive(Debug, Deserialize)]
pub(crate) struct SourceParams {
    pub(crate) tag: String,
    pub(crate) count: u64,
    #[serde(default)]
    pub(crate) interval_ms: u64,
}

/// Sends 0..count on `out` (every `interval_ms`, or in bursts), then stops.
pub(crate) struct Source {
    tag: String,
    count: u64,
    interval_ms: u64,
    next: u64,
    out: Output<Num>,
}

#[derive(Message)]
#[rtype(result = "()")]
struct Go;

impl Actor for Source {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        note(&self.tag, format!("start {}", "source"));
        if self.interval_ms > 0 {
            ctx.run_interval(Duration::from_millis(self.interval_ms), |a, ctx| {
                a.emit(ctx)
            });
        } else {
            ctx.notify(Go);
        }
    }
}

impl Source {
    fn emit(&mut self, ctx: &mut Context<Self>) {
        if self.count > 0 && self.next >= self.count {
            ctx.stop();
            return;
        }
        self.out.send(Num(self.next), ctx);
        self.next += 1;
    }
}

impl Handler<Go> for Source {
    type Result = ();
    fn handle(&mut self, _: Go, ctx: &mut Context<Self>) {
        for _ in 0..32 {
            self.emit(ctx);
            if ctx.waiting() {
                break;
            }
        }
        ctx.notify(Go);
    }
}

impl Role for Source {
    type Params = SourceParams;
    fn ports(p: &mut Ports<Self>) {
        p.output::<Num>("out");
    }
    fn build(p: &SourceParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Source {
            tag: p.tag.clone(),
            count: p.count,
            interval_ms: p.interval_ms,
            next: 0,
            out: io.output("out")?,
        })
    }
}

/// Parameters of `test.stage`.
#[derive(Debug, Deserialize)]
pub(crate) struct StageParams {
    pub(crate) tag: String,
    /// Panic when this number arrives.
    #[serde(default)]
    pub(crate) panic_on: Option<u64>,
    /// Fail in `build` for the first N incarnations.
    #[serde(default)]
    pub(crate) fail_create: u64,
    /// Sleep this long per message (a slow consumer).
    #[serde(default)]
    pub(crate) work_us: u64,
}

/// Forwards `in` to `out`; can be made to crash or be slow.
pub(crate) struct Stage {
    crash: Crash,
    tag: String,
    panic_on: Option<u64>,
    work_us: u64,
    incarnation: u64,
    out: Output<Num>,
}

impl Actor for Stage {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        note(&self.tag, format!("start stage#{}", self.incarnation));
    }
}

impl Handler<Num> for Stage {
    type Result = ();
    fn handle(&mut self, n: Num, ctx: &mut Context<Self>) {
        if Some(n.0) == self.panic_on {
            panic!("stage got the poisoned number {}", n.0);
        }
        if self.work_us > 0 {
            std::thread::sleep(Duration::from_micros(self.work_us));
        }
        self.out.send(n, ctx);
    }
}

impl Handler<Cmd> for Stage {
    type Result = Result<(), String>;
    fn handle(&mut self, c: Cmd, ctx: &mut Context<Self>) -> Result<(), String> {
        if c.0 == "fail" {
            Err("told to fail".into())
        } else if c.0 == "fail-later" {
            // From an asynchronous continuation, where no `Err` can be returned.
            let later = async { "gave up later" }.into_actor(self);
            ctx.spawn(later.map(|reason, act, ctx| act.crash.now(ctx, reason)));
            Ok(())
        } else {
            note(&self.tag, format!("cmd {}", c.0));
            Ok(())
        }
    }
}

impl Handler<WhoAreYou> for Stage {
    type Result = u64;
    fn handle(&mut self, _: WhoAreYou, _: &mut Context<Self>) -> u64 {
        self.incarnation
    }
}

impl Role for Stage {
    type Params = StageParams;
    fn ports(p: &mut Ports<Self>) {
        p.input::<Num>("in")
            .input::<Cmd>("cmd")
            .output::<Num>("out");
    }
    fn build(p: &StageParams, io: &mut Io) -> Result<Self, CreateError> {
        let key = format!("{}/{}", p.tag, io.actor_name());
        let incarnation = next_incarnation(&key);
        if incarnation <= p.fail_create {
            return Err(format!("build refused (incarnation {incarnation})").into());
        }
        Ok(Stage {
            crash: io.crash(),
            tag: p.tag.clone(),
            panic_on: p.panic_on,
            work_us: p.work_us,
            incarnation,
            out: io.output("out")?,
        })
    }
}

/// Records the numbers it gets.
pub(crate) struct Sink {
    tag: String,
    name: String,
}

/// Parameters of `test.sink`.
#[derive(Debug, Deserialize)]
pub(crate) struct SinkParams {
    pub(crate) tag: String,
}

impl Actor for Sink {
    type Context = Context<Self>;
    fn started(&mut self, _: &mut Context<Self>) {
        note(&self.tag, format!("start {}", self.name));
    }
}

impl Handler<Num> for Sink {
    type Result = ();
    fn handle(&mut self, n: Num, _: &mut Context<Self>) {
        note(&self.tag, format!("{} got {}", self.name, n.0));
    }
}

impl Role for Sink {
    type Params = SinkParams;
    fn ports(p: &mut Ports<Self>) {
        p.input::<Num>("in");
    }
    fn build(p: &SinkParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Sink {
            tag: p.tag.clone(),
            name: io.actor_name().to_owned(),
        })
    }
    fn end_of_input(&mut self, ctx: &mut Context<Self>) {
        note(&self.tag, format!("{} end", self.name));
        ctx.stop();
    }
}

/// Collects supervision events.
pub(crate) struct EventLog {
    pub(crate) tag: String,
}

impl Actor for EventLog {
    type Context = Context<Self>;
}

impl Handler<Event> for EventLog {
    type Result = ();
    fn handle(&mut self, e: Event, _: &mut Context<Self>) {
        note(&self.tag, format!("event {e}"));
    }
}

/// A registry with the test kinds.
pub(crate) fn registry() -> Registry {
    let mut r = Registry::new();
    r.register::<Source>("test.source")
        .and_then(|r| r.register::<Stage>("test.stage"))
        .and_then(|r| r.register::<Sink>("test.sink"))
        .expect("test kinds register");
    r
}

/// Loads a topology written in a test.
pub(crate) fn topology(text: &str) -> Topology {
    match load_str(text, "test.toml", &registry(), &Overrides::new()) {
        Ok(t) => t,
        Err(e) => panic!("test topology does not load:\n{e}"),
    }
}

/// Lines of `journal(tag)` starting with `prefix`.
pub(crate) fn lines(tag: &str, prefix: &str) -> Vec<String> {
    journal(tag)
        .into_iter()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

/// Polls `f` every 5 ms until true or `timeout`.
pub(crate) async fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
    f()
}
