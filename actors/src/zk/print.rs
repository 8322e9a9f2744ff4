//! [`Print`] (`zk.print`): prints what the ZooKeeper kinds report, one line
//! per message, for examples and multi-process tests that read stdout.
//!
//! Lines are `<label> <what>`, for example `c1 elected`, `c2 following c1`,
//! `m0 released m0,m1,m2`, `zk state connected fresh`, `zk event
//! data-changed /demo`, reported on the node's console (stdout, flushed at
//! every line, unless the embedding program chose another).

use actix::prelude::*;
use rolecall_runtime::kind::{Console, CreateError, Io, Ports, Role};
use serde::Deserialize;

use super::barrier::BarrierEvent;
use super::election::Leadership;
use super::lock::LockEvent;
use super::membership::Members;
use super::request::{ConnectionState, EventKind, Outcome, Reply, WatchEvent};

/// Parameters of `zk.print`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The first word of every line (default: the actor's name).
    #[serde(default)]
    pub label: Option<String>,
}

/// Prints every message it gets.
#[derive(Debug)]
pub struct Print {
    label: String,
    console: Console,
}

impl Print {
    fn line(&self, what: String) {
        self.console.line(format_args!("{} {what}", self.label));
    }
}

impl Actor for Print {
    type Context = Context<Self>;
}

/// The one-line text of a request's outcome.
pub(crate) fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Created { path } => format!("created {path}"),
        Outcome::Data { data, version } => {
            format!("data {:?} version {version}", String::from_utf8_lossy(data))
        }
        Outcome::Exists { version: Some(v) } => format!("exists version {v}"),
        Outcome::Exists { version: None } => "absent".into(),
        Outcome::Written { version } => format!("written version {version}"),
        Outcome::Children { names } => format!("children [{}]", names.join(",")),
        Outcome::Deleted => "deleted".into(),
        Outcome::Watching => "watching".into(),
    }
}

impl Handler<Leadership> for Print {
    type Result = ();
    fn handle(&mut self, m: Leadership, _: &mut Context<Self>) {
        self.line(match m {
            Leadership::Elected { .. } => "elected".into(),
            Leadership::Following { leader } => format!("following {leader}"),
        });
    }
}

impl Handler<BarrierEvent> for Print {
    type Result = ();
    fn handle(&mut self, m: BarrierEvent, _: &mut Context<Self>) {
        self.line(match m {
            BarrierEvent::Entered => "entered".into(),
            BarrierEvent::Released { members } => format!("released {}", members.join(",")),
            BarrierEvent::Left => "left".into(),
        });
    }
}

impl Handler<LockEvent> for Print {
    type Result = ();
    fn handle(&mut self, m: LockEvent, _: &mut Context<Self>) {
        self.line(match m {
            LockEvent::Acquired { node } => format!("acquired {node}"),
            LockEvent::Released => "released".into(),
        });
    }
}

impl Handler<Members> for Print {
    type Result = ();
    fn handle(&mut self, m: Members, _: &mut Context<Self>) {
        let list: Vec<String> = m.members.iter().map(|(n, a)| format!("{n}={a}")).collect();
        self.line(format!("members [{}]", list.join(",")));
    }
}

impl Handler<ConnectionState> for Print {
    type Result = ();
    fn handle(&mut self, m: ConnectionState, _: &mut Context<Self>) {
        self.line(match m {
            ConnectionState::Connected { session, fresh } => format!(
                "state connected {session:#x} {}",
                if fresh { "fresh" } else { "resumed" }
            ),
            ConnectionState::Disconnected => "state disconnected".into(),
            ConnectionState::Expired => "state expired".into(),
            ConnectionState::AuthFailed => "state auth-failed".into(),
        });
    }
}

impl Handler<WatchEvent> for Print {
    type Result = ();
    fn handle(&mut self, m: WatchEvent, _: &mut Context<Self>) {
        let kind = match m.kind {
            EventKind::Created => "created",
            EventKind::Deleted => "deleted",
            EventKind::DataChanged => "data-changed",
            EventKind::ChildrenChanged => "children-changed",
        };
        self.line(format!(
            "event {kind} {}{}",
            m.path,
            if m.persistent { " (persistent)" } else { "" }
        ));
    }
}

impl Handler<Reply> for Print {
    type Result = ();
    fn handle(&mut self, m: Reply, _: &mut Context<Self>) {
        self.line(match m.result {
            Ok(o) => format!("reply {} {}", m.id, outcome_text(&o)),
            Err(e) => format!("reply {} error: {e}", m.id),
        });
    }
}

impl Role for Print {
    type Params = Params;
    const ABOUT: &'static str =
        "prints ZooKeeper events (leadership, barrier, lock, members, state, watch events, replies), one line each";

    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<Leadership>("leadership")
            .input::<BarrierEvent>("barrier")
            .input::<LockEvent>("lock")
            .input::<Members>("members")
            .input::<ConnectionState>("state")
            .input::<WatchEvent>("events")
            .input::<Reply>("replies");
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Print {
            label: params
                .label
                .clone()
                .unwrap_or_else(|| io.actor_name().to_owned()),
            console: io.console(),
        })
    }
}
