//! [`Tracer`]: the runtime's recorder of a real run, one per node.
//!
//! Wires built with a tracer stamp every message they accept with the
//! sender's clocks ([`Tracer::send`]); the receiving actor's inlet records
//! the receive and the handle ([`Tracer::handle`]). The tracer keeps the
//! clocks of the node's actors ([`Clocks`]) and writes events as they happen
//! through a bounded [`Writer`] under one lock, so the file's order is the
//! clocks' order. Once the cap is reached events are counted, not written;
//! [`Tracer::finish`] states how many.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use super::{Clocks, Event, Kind, Stamp, TraceError, Writer};

/// Most actors in a topology for which events carry vector clocks; larger
/// topologies get Lamport clocks only (a vector clock grows with the actors).
pub const VECTOR_LIMIT: usize = 16;

/// Events a trace file holds by default before it stops recording.
pub const DEFAULT_CAP: usize = 1_000_000;

/// A sent message as the wire keeps it until the receiver handles it: its
/// stamp, type and payload summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped {
    /// The sender's clocks and the message id.
    pub stamp: Stamp,
    /// The message type.
    pub msg_type: &'static str,
    /// The payload summary.
    pub payload: String,
}

struct State {
    clocks: Clocks,
    writer: Option<Writer<BufWriter<File>>>,
    /// The first write error, reported by [`Tracer::finish`].
    error: Option<std::io::Error>,
}

/// Records the events of one node's actors into one trace file.
pub struct Tracer {
    node: String,
    /// The node of each actor, where it is not `node` (a process hosting
    /// several topology nodes).
    nodes: BTreeMap<String, String>,
    path: PathBuf,
    state: Mutex<State>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("node", &self.node)
            .field("path", &self.path)
            .finish()
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros().min(u128::from(u64::MAX)) as u64)
        .unwrap_or(0)
}

impl Tracer {
    /// A tracer of node `node` writing at most `cap` events to `path`
    /// (created or truncated); vector clocks when `actors` ≤ [`VECTOR_LIMIT`].
    pub fn create(path: &Path, node: &str, cap: usize, actors: usize) -> Result<Self, TraceError> {
        let file = File::create(path).map_err(|source| TraceError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut clocks = Clocks::new();
        clocks.vector = actors <= VECTOR_LIMIT;
        Ok(Tracer {
            node: node.to_string(),
            nodes: BTreeMap::new(),
            path: path.to_path_buf(),
            state: Mutex::new(State {
                clocks,
                writer: Some(Writer::new(BufWriter::new(file), cap)),
                error: None,
            }),
        })
    }

    /// Names the topology node of each actor (actor, node) in its events,
    /// for a process that hosts several nodes.
    pub fn with_actor_nodes(mut self, nodes: impl IntoIterator<Item = (String, String)>) -> Self {
        self.nodes.extend(nodes);
        self
    }

    /// The node whose events this tracer records.
    pub fn node(&self) -> &str {
        &self.node
    }

    fn event(&self, actor: &str, kind: Kind, clock: (u64, BTreeMap<String, u64>)) -> Event {
        Event {
            actor: actor.to_string(),
            node: self.nodes.get(actor).unwrap_or(&self.node).clone(),
            kind,
            time: now_us(),
            logical: false,
            lamport: clock.0,
            vc: clock.1,
            msg: None,
            peer: None,
            msg_type: String::new(),
            payload: String::new(),
        }
    }

    fn write(state: &mut State, event: &Event) {
        let Some(w) = state.writer.as_mut() else {
            return;
        };
        if let Err(e) = w.write(event) {
            state.error.get_or_insert(e);
        }
    }

    /// `from` sends a message of `msg_type` to `to`: records the send and
    /// returns what travels with the message.
    pub fn send(&self, from: &str, to: &str, msg_type: &'static str, payload: String) -> Stamped {
        let mut state = self.state.lock();
        let stamp = state.clocks.send(from);
        let mut e = self.event(from, Kind::Send, (stamp.lamport, stamp.vc.clone()));
        e.msg = Some(stamp.id.clone());
        e.peer = Some(to.to_string());
        e.msg_type = msg_type.to_string();
        e.payload = payload.clone();
        Self::write(&mut state, &e);
        Stamped {
            stamp,
            msg_type,
            payload,
        }
    }

    /// `to` takes `msg` from its wire and handles it: records the receive
    /// (its clocks merge the sender's) and the handle.
    pub fn handle(&self, to: &str, msg: &Stamped) {
        let mut state = self.state.lock();
        let clock = state.clocks.receive(to, &msg.stamp);
        let mut e = self.event(to, Kind::Receive, clock);
        e.msg = Some(msg.stamp.id.clone());
        e.peer = Some(msg.stamp.from.clone());
        e.msg_type = msg.msg_type.to_string();
        e.payload = msg.payload.clone();
        Self::write(&mut state, &e);
        let clock = state.clocks.local(to);
        let mut e = self.event(to, Kind::Handle, clock);
        e.msg = Some(msg.stamp.id.clone());
        e.msg_type = msg.msg_type.to_string();
        Self::write(&mut state, &e);
    }

    /// A message of `from` on its way to `to` was dropped (by the wire's
    /// policy or fault injection; `msg` when it had been stamped) or
    /// duplicated by fault injection: a local event of `from`.
    pub fn lost(
        &self,
        kind: Kind,
        from: &str,
        to: &str,
        msg: Option<&Stamped>,
        msg_type: &'static str,
    ) {
        let mut state = self.state.lock();
        let clock = state.clocks.local(from);
        let mut e = self.event(from, kind, clock);
        e.peer = Some(to.to_string());
        e.msg = msg.map(|m| m.stamp.id.clone());
        e.msg_type = msg_type.to_string();
        Self::write(&mut state, &e);
    }

    /// `actor` starts its incarnation number `incarnation` (2 and up) after
    /// a failure or its group's restart: a local event; what it receives
    /// next happens after it.
    pub fn restart(&self, actor: &str, incarnation: u64) {
        let mut state = self.state.lock();
        let clock = state.clocks.local(actor);
        let mut e = self.event(actor, Kind::Restart, clock);
        e.payload = format!("incarnation {incarnation}");
        Self::write(&mut state, &e);
    }

    /// Stops recording: states the events not recorded, flushes the file.
    /// Later events are ignored; a second call does nothing.
    pub fn finish(&self) -> Result<(), TraceError> {
        let mut state = self.state.lock();
        let io = |source| TraceError::Io {
            path: self.path.display().to_string(),
            source,
        };
        if let Some(e) = state.error.take() {
            state.writer = None;
            return Err(io(e));
        }
        match state.writer.take() {
            Some(w) => w.finish().map(drop).map_err(io),
            None => Ok(()),
        }
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            tracing::warn!("trace not completed: {e}");
        }
    }
}
