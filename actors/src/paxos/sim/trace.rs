//! [`Trace`]: a bounded record of a simulation's events around its first
//! safety violation, for the replay tool.

use std::collections::VecDeque;

use super::{Event, NodeId, Payload};
use crate::paxos::message::{FromAcceptor, ToAcceptor, Value};

/// Keeps the last `before` events; once a violation is marked, keeps `after`
/// more and then stops. Memory is bounded by `before + after + 1` lines.
#[derive(Debug, Clone)]
pub(super) struct Trace {
    before: usize,
    after: usize,
    lines: VecDeque<String>,
    /// Index in `lines` of the violation line, right after the event at
    /// which the violation was first seen.
    violation: Option<usize>,
}

impl Trace {
    pub(super) fn new(before: usize, after: usize) -> Self {
        Trace {
            before,
            after,
            lines: VecDeque::with_capacity(before + after + 1),
            violation: None,
        }
    }

    /// True while events are still wanted.
    pub(super) fn recording(&self) -> bool {
        match self.violation {
            None => true,
            Some(at) => self.lines.len() <= at + self.after,
        }
    }

    pub(super) fn violated(&self) -> bool {
        self.violation.is_some()
    }

    pub(super) fn push(&mut self, line: String) {
        if !self.recording() {
            return;
        }
        if self.violation.is_none() && self.lines.len() > self.before {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    /// Marks the last event pushed as the first one where safety broke.
    pub(super) fn mark(&mut self, what: String) {
        if self.violation.is_none() {
            self.lines.push_back(format!(">>> first violation: {what}"));
            self.violation = Some(self.lines.len() - 1);
        }
    }

    /// The lines, and the index of the violation line if there was one.
    pub(super) fn into_parts(self) -> (Vec<String>, Option<usize>) {
        (self.lines.into(), self.violation)
    }
}

/// One event as a line: nodes by protocol id (index + 1), ballots as
/// `round.proposer`, values as their commands.
pub(super) fn describe(e: &Event) -> String {
    match e {
        Event::Start(p) => format!("proposer {} starts", p + 1),
        Event::Tick(p) => format!("proposer {} tick", p + 1),
        Event::Crash(a) => format!("acceptor {} crashes", a + 1),
        Event::Restart(a) => format!("acceptor {} restarts from its storage", a + 1),
        Event::RestartProposer(p) => {
            format!("proposer {} restarts without memory", p + 1)
        }
        Event::Deliver { to, payload } => {
            let to = match to {
                NodeId::Proposer(i) => format!("proposer {}", i + 1),
                NodeId::Acceptor(i) => format!("acceptor {}", i + 1),
                NodeId::Learner(i) => format!("learner {}", i + 1),
            };
            format!("-> {to:<11} {}", message(payload))
        }
    }
}

fn value(v: &Value) -> String {
    if v.is_empty() {
        "no-op".to_string()
    } else {
        format!("[{}]", v.join(", "))
    }
}

fn message(p: &Payload) -> String {
    match p {
        Payload::ToAcceptor(ToAcceptor::Prepare { ballot, from_slot }) => {
            format!("Prepare {ballot} from slot {from_slot}")
        }
        Payload::ToAcceptor(ToAcceptor::Accept {
            ballot,
            slot,
            value: v,
        }) => format!("Accept {ballot} slot {slot} {}", value(v)),
        Payload::FromAcceptor(FromAcceptor::Promise {
            acceptor,
            ballot,
            from_slot,
            accepted,
        }) => {
            let acc: Vec<String> = accepted
                .iter()
                .map(|(s, b, v)| format!("{s}@{b}={}", value(v)))
                .collect();
            format!(
                "Promise {ballot} from slot {from_slot} by acceptor {acceptor}, accepted {{{}}}",
                acc.join(" ")
            )
        }
        Payload::FromAcceptor(FromAcceptor::Accepted {
            acceptor,
            ballot,
            slot,
            value: v,
        }) => format!(
            "Accepted {ballot} slot {slot} {} by acceptor {acceptor}",
            value(v)
        ),
        Payload::FromAcceptor(FromAcceptor::Nack {
            acceptor,
            ballot,
            promised,
        }) => format!("Nack {ballot} by acceptor {acceptor} (promised {promised})"),
        Payload::Decided(d) => format!("Decided slot {} {}", d.slot, value(&d.value)),
    }
}
