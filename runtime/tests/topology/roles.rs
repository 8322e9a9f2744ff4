//! Small roles to validate topologies against.

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, ParamCheck, Ports, Role};
use rolecall_runtime::wire::Output;
use rolecall_runtime::Registry;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub(crate) struct Reading(pub(crate) f64);

#[derive(Debug, Clone, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub(crate) struct Text(pub(crate) String);

/// A message without serde: it cannot cross nodes.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub(crate) struct Local;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SensorParams {
    pub(crate) rate: u32,
    #[serde(default)]
    pub(crate) bind: Option<String>,
}

pub(crate) struct Sensor;
impl Actor for Sensor {
    type Context = Context<Self>;
}
impl Role for Sensor {
    type Params = SensorParams;
    fn ports(p: &mut Ports<Self>) {
        p.output::<Reading>("out").local_output::<Local>("local");
    }
    fn check(p: &SensorParams, check: &mut ParamCheck) {
        if let Some(bind) = &p.bind {
            check.binds("bind", bind);
        }
        if p.rate == 0 {
            check.error_with_help("rate", "must be at least 1", "readings per second");
        }
    }
    fn build(_: &SensorParams, _: &mut Io) -> Result<Self, CreateError> {
        Ok(Sensor)
    }
}

pub(crate) struct Display;
impl Actor for Display {
    type Context = Context<Self>;
}
impl Handler<Reading> for Display {
    type Result = ();
    fn handle(&mut self, _: Reading, _: &mut Context<Self>) {}
}
impl Handler<Text> for Display {
    type Result = ();
    fn handle(&mut self, _: Text, _: &mut Context<Self>) {}
}
impl Handler<Local> for Display {
    type Result = ();
    fn handle(&mut self, _: Local, _: &mut Context<Self>) {}
}
impl Role for Display {
    type Params = toml::Table;
    fn ports(p: &mut Ports<Self>) {
        p.input::<Reading>("in")
            .input::<Text>("text")
            .local_input::<Local>("local");
    }
    fn build(_: &toml::Table, _: &mut Io) -> Result<Self, CreateError> {
        Ok(Display)
    }
}

pub(crate) struct Relay {
    #[allow(dead_code)]
    out: Output<Reading>,
}
impl Actor for Relay {
    type Context = Context<Self>;
}
impl Handler<Reading> for Relay {
    type Result = ();
    fn handle(&mut self, _: Reading, _: &mut Context<Self>) {}
}
impl Role for Relay {
    type Params = toml::Table;
    const REACTIVE: bool = true;
    fn ports(p: &mut Ports<Self>) {
        p.input::<Reading>("in").output::<Reading>("out");
    }
    fn build(_: &toml::Table, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Relay {
            out: io.output("out")?,
        })
    }
}

/// A relay that may also send on its own (a timer, say): not reactive.
pub(crate) struct Ticker {
    #[allow(dead_code)]
    out: Output<Reading>,
}
impl Actor for Ticker {
    type Context = Context<Self>;
}
impl Handler<Reading> for Ticker {
    type Result = ();
    fn handle(&mut self, _: Reading, _: &mut Context<Self>) {}
}
impl Role for Ticker {
    type Params = toml::Table;
    fn ports(p: &mut Ports<Self>) {
        p.input::<Reading>("in").output::<Reading>("out");
    }
    fn build(_: &toml::Table, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Ticker {
            out: io.output("out")?,
        })
    }
}

pub(crate) fn registry() -> Registry {
    let mut r = Registry::new();
    r.register::<Sensor>("t.sensor")
        .and_then(|r| r.register::<Display>("t.display"))
        .and_then(|r| r.register::<Relay>("t.relay"))
        .and_then(|r| r.register::<Ticker>("t.ticker"))
        .expect("register");
    r
}
