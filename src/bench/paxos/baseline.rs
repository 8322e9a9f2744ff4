//! The baseline of `bench paxos`: the same wires as the 3-acceptor run —
//! a source into 3 relays, each relay's replies into 2 counters — and the
//! same message types, moved by actors with no protocol logic.

use std::sync::atomic::Ordering;
use std::time::Instant;

use actix::prelude::*;
use rolecall_actors::paxos::{Ballot, FromAcceptor, ToAcceptor};
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use rolecall_runtime::Registry;
use serde::Deserialize;

use super::{load, Burst, SEEN};

/// Registers the baseline's kinds.
pub(super) fn register(
    r: &mut Registry,
) -> Result<&mut Registry, rolecall_runtime::kind::RegisterError> {
    r.register::<Source>("bench.paxos-source")
        .and_then(|r| r.register::<Relay>("bench.paxos-relay"))
        .and_then(|r| r.register::<Count>("bench.paxos-count"))
}

/// Sends `count` Accept messages (batches of `batch` commands) to the relays.
struct Source {
    out: Output<ToAcceptor>,
    next: u64,
    count: u64,
    value: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct SourceParams {
    count: u64,
    batch: usize,
}

impl Actor for Source {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.notify(Burst);
    }
}

impl Handler<Burst> for Source {
    type Result = ();
    fn handle(&mut self, _: Burst, ctx: &mut Context<Self>) {
        let end = (self.next + 256).min(self.count);
        while self.next < end {
            let m = ToAcceptor::Accept {
                ballot: Ballot::new(1, 1),
                slot: self.next,
                value: self.value.clone(),
            };
            self.out.send(m, ctx);
            self.next += 1;
            if ctx.waiting() {
                break;
            }
        }
        if self.next < self.count {
            ctx.notify(Burst);
        } else {
            ctx.stop();
        }
    }
}

impl Role for Source {
    type Params = SourceParams;
    fn ports(ports: &mut Ports<Self>) {
        ports.output::<ToAcceptor>("out");
    }
    fn build(p: &SourceParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Source {
            out: io.output("out")?,
            next: 0,
            count: p.count,
            value: (0..p.batch).map(|i| format!("{i} 123456")).collect(),
        })
    }
}

/// Answers every message, with no state and no checks.
struct Relay {
    out: Output<FromAcceptor>,
}

impl Actor for Relay {
    type Context = Context<Self>;
}

impl Handler<ToAcceptor> for Relay {
    type Result = ();
    fn handle(&mut self, m: ToAcceptor, ctx: &mut Context<Self>) {
        if let ToAcceptor::Accept {
            ballot,
            slot,
            value,
        } = m
        {
            self.out.send(
                FromAcceptor::Accepted {
                    acceptor: 1,
                    ballot,
                    slot,
                    value,
                },
                ctx,
            );
        }
    }
}

impl Role for Relay {
    type Params = toml::Table;
    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<ToAcceptor>("in")
            .output::<FromAcceptor>("out");
    }
    fn build(_: &toml::Table, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Relay {
            out: io.output("out")?,
        })
    }
}

/// Counts replies.
struct Count;

impl Actor for Count {
    type Context = Context<Self>;
}

impl Handler<FromAcceptor> for Count {
    type Result = ();
    fn handle(&mut self, _: FromAcceptor, _: &mut Context<Self>) {
        SEEN.fetch_add(1, Ordering::Relaxed);
    }
}

impl Role for Count {
    type Params = toml::Table;
    fn ports(ports: &mut Ports<Self>) {
        ports.input::<FromAcceptor>("in");
    }
    fn build(_: &toml::Table, _: &mut Io) -> Result<Self, CreateError> {
        Ok(Count)
    }
}

/// Pushes `slots` batches through source → 3 relays → 2 counters:
/// `slots · (3 + 6)` messages. Returns messages/s.
pub(super) async fn run(slots: u64, batch: usize, registry: Registry) -> Result<f64, String> {
    let text = format!(
        "[actors.source]\nkind = \"bench.paxos-source\"\nparams = {{ count = {slots}, batch = {batch} }}\n\
         [actors.r1]\nkind = \"bench.paxos-relay\"\n[actors.r2]\nkind = \"bench.paxos-relay\"\n\
         [actors.r3]\nkind = \"bench.paxos-relay\"\n\
         [actors.c1]\nkind = \"bench.paxos-count\"\n[actors.c2]\nkind = \"bench.paxos-count\"\n\
         [[wires]]\nfrom = \"source.out\"\nto = [\"r1.in\", \"r2.in\", \"r3.in\"]\n\
         [[wires]]\nfrom = \"r1.out\"\nto = [\"c1.in\", \"c2.in\"]\n\
         [[wires]]\nfrom = \"r2.out\"\nto = [\"c1.in\", \"c2.in\"]\n\
         [[wires]]\nfrom = \"r3.out\"\nto = [\"c1.in\", \"c2.in\"]\n"
    );
    let topology = load(&text, &registry)?;
    SEEN.store(0, Ordering::Relaxed);
    let start = Instant::now();
    crate::bench::run_loaded(topology, registry).await?;
    let elapsed = start.elapsed().as_secs_f64();
    let seen = SEEN.load(Ordering::Relaxed);
    if seen != slots * 6 {
        return Err(format!("baseline: {seen} of {} replies arrived", slots * 6));
    }
    Ok((slots * 9) as f64 / elapsed)
}
