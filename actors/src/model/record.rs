//! A run of a model as a causal trace: the counterexample a viewer draws.

use std::collections::{BTreeMap, VecDeque};

use rolecall_runtime::trace::{self, Clocks, Event as TraceEvent, Kind, Stamp};

use super::{Envelope, Event, Model, ReplayError, Role};

/// Replays `path` and records it as trace events (logical time = step):
/// each delivery is a `receive` on the receiver's lane followed by its
/// `send`s; a timer is a `handle`; a drop or duplicate is marked on the
/// sender's lane; a restart on the restarted actor's.
pub fn record<R: Role>(
    model: &Model<R>,
    path: &[Event<R::Msg>],
) -> Result<Vec<TraceEvent>, ReplayError> {
    let mut rec = Recorder {
        model,
        clocks: Clocks::new(),
        in_flight: BTreeMap::new(),
        events: Vec::new(),
        step: 0,
    };
    let mut state = model.initial().clone();
    // The messages in flight at the start were sent by the roles' start.
    let initial: Vec<Envelope<R::Msg>> = state
        .net
        .iter()
        .flat_map(|(e, n)| std::iter::repeat_n(e.clone(), *n as usize))
        .collect();
    rec.sends(&initial);
    for (i, event) in path.iter().enumerate() {
        rec.step = i as u64 + 1;
        let sent = state.apply(event).ok_or_else(|| ReplayError::NotEnabled {
            step: i + 1,
            event: model.describe(event),
        })?;
        match event {
            Event::Deliver(env) => {
                let stamp = rec.take(env);
                let (lamport, vc) = rec.clocks.receive(rec.actor(env.to), &stamp);
                let mut e = rec.event(env.to, Kind::Receive, lamport, vc);
                e.msg = Some(stamp.id);
                e.peer = Some(rec.actor(env.from).to_string());
                rec.payload(&mut e, &env.msg);
                rec.events.push(e);
            }
            Event::Drop(env) | Event::Duplicate(env) => {
                let stamp = rec.take(env);
                let (lamport, vc) = rec.clocks.local(rec.actor(env.from));
                let kind = if matches!(event, Event::Drop(_)) {
                    Kind::Drop
                } else {
                    // Both copies are now in flight.
                    rec.put(env, stamp.clone());
                    rec.put(env, stamp.clone());
                    Kind::Duplicate
                };
                let mut e = rec.event(env.from, kind, lamport, vc);
                e.msg = Some(stamp.id);
                e.peer = Some(rec.actor(env.to).to_string());
                rec.payload(&mut e, &env.msg);
                rec.events.push(e);
            }
            Event::Timer(i) => {
                let (lamport, vc) = rec.clocks.local(rec.actor(*i));
                let mut e = rec.event(*i, Kind::Handle, lamport, vc);
                e.msg_type = "timer".into();
                rec.events.push(e);
            }
            Event::Restart(i) => {
                let (lamport, vc) = rec.clocks.local(rec.actor(*i));
                let e = rec.event(*i, Kind::Restart, lamport, vc);
                rec.events.push(e);
            }
        }
        rec.sends(&sent);
    }
    Ok(rec.events)
}

struct Recorder<'a, R: Role> {
    model: &'a Model<R>,
    clocks: Clocks,
    /// Stamps of the copies of each message in flight, oldest first.
    in_flight: BTreeMap<Envelope<R::Msg>, VecDeque<Stamp>>,
    events: Vec<TraceEvent>,
    step: u64,
}

impl<'a, R: Role> Recorder<'a, R> {
    fn actor(&self, i: usize) -> &'a str {
        self.model.name(i).0
    }

    fn event(&self, i: usize, kind: Kind, lamport: u64, vc: BTreeMap<String, u64>) -> TraceEvent {
        let (actor, node) = self.model.name(i);
        TraceEvent {
            actor: actor.to_string(),
            node: node.to_string(),
            kind,
            time: self.step,
            logical: true,
            lamport,
            vc,
            msg: None,
            peer: None,
            msg_type: String::new(),
            payload: String::new(),
        }
    }

    fn payload(&self, e: &mut TraceEvent, msg: &R::Msg) {
        e.payload = trace::summary(msg, trace::SUMMARY_BOUND);
        e.msg_type = trace::type_of(&e.payload);
    }

    fn put(&mut self, env: &Envelope<R::Msg>, stamp: Stamp) {
        self.in_flight
            .entry(env.clone())
            .or_default()
            .push_back(stamp);
    }

    fn take(&mut self, env: &Envelope<R::Msg>) -> Stamp {
        let stamp = self.in_flight.get_mut(env).and_then(VecDeque::pop_front);
        // Every message in flight was recorded when sent; a missing stamp
        // would be a recorder bug, shown as an unlinked message.
        stamp.unwrap_or_else(|| Stamp {
            id: format!("{}#?", self.actor(env.from)),
            from: self.actor(env.from).to_string(),
            lamport: 0,
            vc: BTreeMap::new(),
        })
    }

    fn sends(&mut self, sent: &[Envelope<R::Msg>]) {
        for env in sent {
            let stamp = self.clocks.send(self.actor(env.from));
            let mut e = self.event(env.from, Kind::Send, stamp.lamport, stamp.vc.clone());
            e.msg = Some(stamp.id.clone());
            e.peer = Some(self.actor(env.to).to_string());
            self.payload(&mut e, &env.msg);
            self.events.push(e);
            self.put(env, stamp);
        }
    }
}
