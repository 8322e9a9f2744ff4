//! The REQ/REP round trip of `rolecall bench zmq`: a raw REQ and REP on
//! threads against `zmq.req` → `text.responder` → `zmq.rep` driven by a
//! pinger actor, one request at a time.

use std::sync::Mutex;
use std::time::Instant;

use actix::prelude::*;
use rolecall_actors::zmq::Frames;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::Deserialize;

use super::{registry, ROUND_TRIPS};
use crate::bench::run_topology;

pub(super) fn raw_reqrep(port: u16) -> Result<Vec<f64>, String> {
    let ctx = zmq::Context::new();
    let rep = ctx.socket(zmq::REP).map_err(|e| e.to_string())?;
    rep.bind(&format!("tcp://127.0.0.1:{port}"))
        .map_err(|e| e.to_string())?;
    let server = std::thread::spawn(move || {
        for _ in 0..ROUND_TRIPS {
            match rep.recv_bytes(0) {
                Ok(m) => {
                    let _ = rep.send(m, 0);
                }
                Err(_) => return,
            }
        }
    });
    let req = ctx.socket(zmq::REQ).map_err(|e| e.to_string())?;
    req.connect(&format!("tcp://127.0.0.1:{port}"))
        .map_err(|e| e.to_string())?;
    let mut rtts = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..ROUND_TRIPS {
        let t = Instant::now();
        req.send(format!("ping {i}").as_bytes(), 0)
            .map_err(|e| e.to_string())?;
        req.recv_bytes(0).map_err(|e| e.to_string())?;
        rtts.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let _ = server.join();
    Ok(rtts)
}

// ---- rolecall -------------------------------------------------------------

static RTTS: Mutex<Vec<f64>> = Mutex::new(Vec::new());

/// Sends one request at a time and records round trips.
struct Pinger {
    out: Output<Frames>,
    at: Instant,
    left: usize,
}

impl Actor for Pinger {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.at = Instant::now();
        self.out.send(Frames::text("ping"), ctx);
    }
}

impl Handler<Frames> for Pinger {
    type Result = ();
    fn handle(&mut self, _: Frames, ctx: &mut Context<Self>) {
        if let Ok(mut r) = RTTS.lock() {
            r.push(self.at.elapsed().as_secs_f64() * 1e6);
        }
        self.left -= 1;
        if self.left == 0 {
            ctx.stop();
            return;
        }
        self.at = Instant::now();
        self.out.send(Frames::text("ping"), ctx);
    }
}

#[derive(Deserialize)]
struct PingerParams {
    count: usize,
}

impl Role for Pinger {
    type Params = PingerParams;
    fn ports(p: &mut Ports<Self>) {
        p.output::<Frames>("out").input::<Frames>("in");
    }
    fn build(p: &PingerParams, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Pinger {
            out: io.output("out")?,
            at: Instant::now(),
            left: p.count,
        })
    }
}

pub(super) async fn rolecall_reqrep(port: u16) -> Result<Vec<f64>, String> {
    if let Ok(mut r) = RTTS.lock() {
        r.clear();
    }
    let mut registry = registry()?;
    registry
        .register::<Pinger>("bench.pinger")
        .map_err(|e| e.to_string())?;
    let text = format!(
        r#"
        [topology]
        finish_when = ["pinger"]
        drain_timeout = "1s"
        [actors.pinger]
        kind = "bench.pinger"
        params = {{ count = {ROUND_TRIPS} }}
        [actors.req]
        kind = "zmq.req"
        after = ["rep"]
        params = {{ connect = ["tcp://127.0.0.1:{port}"] }}
        [actors.rep]
        kind = "zmq.rep"
        params = {{ bind = ["tcp://127.0.0.1:{port}"] }}
        [actors.server]
        kind = "text.responder"
        params = {{ reply_prefix = "" }}
        [[wires]]
        from = "pinger.out"
        to = "req.in"
        [[wires]]
        from = "req.out"
        to = "pinger.in"
        [[wires]]
        from = "rep.out"
        to = "server.in"
        [[wires]]
        from = "server.out"
        to = "rep.in"
        "#
    );
    run_topology(&text, registry).await?;
    let rtts = RTTS.lock().map_err(|_| "poisoned")?.clone();
    Ok(rtts)
}
