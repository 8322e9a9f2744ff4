//! Causal trace files: what happened in a run, one JSON object per line.
//!
//! Every line is an [`Event`] of one actor on one node: a message sent,
//! received, handled (a message or a timer), dropped or duplicated by fault
//! injection, or the actor restarted. Each event carries its actor's Lamport
//! clock and vector clock, so files written by several nodes merge into one
//! run ([`merge`]) in happens-before order, and a send is linked to its
//! receive by the message id `msg`. Payloads are summaries (the message type
//! and its `Debug` cut to [`SUMMARY_BOUND`] characters).
//!
//! [`Clocks`] keeps the clocks of a set of actors without I/O: a recorder
//! (the model checker's counterexamples, the runtime's [`Tracer`] on the
//! wires of a real run) asks it for each event and writes the result with a bounded [`Writer`],
//! which states how many events it did not record.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io::{BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

mod tracer;

pub use tracer::{Stamped, Tracer, DEFAULT_CAP, VECTOR_LIMIT};

/// The lane of the embedding program in a trace: what it feeds through a
/// [`crate::Injector`] is sent from here, what a [`crate::Tap`] takes is
/// received here. No actor has this name (actor names are letters, digits,
/// `_` and `-`).
pub const PROGRAM: &str = "(program)";

/// Longest payload summary, in characters.
pub const SUMMARY_BOUND: usize = 160;

/// What an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The actor sent message `msg` to `peer`.
    Send,
    /// The actor received message `msg` from `peer`.
    Receive,
    /// The actor handled a message or a timer.
    Handle,
    /// The actor restarted (from its durable state, if any).
    Restart,
    /// Fault injection or the wire's policy dropped a message (`msg` when
    /// known) on its way to `peer`.
    Drop,
    /// Fault injection duplicated message `msg` on its way to `peer`.
    Duplicate,
    /// The writer's bound was reached: `payload` says how many events were not recorded.
    Truncated,
}

impl Kind {
    /// The lowercase name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Send => "send",
            Kind::Receive => "receive",
            Kind::Handle => "handle",
            Kind::Restart => "restart",
            Kind::Drop => "drop",
            Kind::Duplicate => "duplicate",
            Kind::Truncated => "truncated",
        }
    }
}

/// One line of a trace file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The actor.
    pub actor: String,
    /// Its node.
    pub node: String,
    /// What happened.
    pub kind: Kind,
    /// Wall time in µs since the Unix epoch, or the step number when `logical`.
    pub time: u64,
    /// `time` is a step of a model run, not wall time.
    #[serde(default, skip_serializing_if = "is_false")]
    pub logical: bool,
    /// The actor's Lamport clock after the event.
    pub lamport: u64,
    /// The actor's vector clock after the event (actor → count); may be empty
    /// where the topology is too large for one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vc: BTreeMap<String, u64>,
    /// The message's id (sends, receives, drops, duplicates): `sender#n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    /// The other actor: the receiver of a send, the sender of a receive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// The message type (or `timer`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub msg_type: String,
    /// The payload's `Debug`, cut to [`SUMMARY_BOUND`] characters.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub payload: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Reading a trace failed.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// A line is not a trace event.
    #[error("{path}:{line}: not a trace event: {problem}")]
    Parse {
        /// The file.
        path: String,
        /// The line (from 1).
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

/// `value`'s `Debug`, cut to `bound` characters (an ellipsis marks the cut).
pub fn summary(value: &impl Debug, bound: usize) -> String {
    let text = format!("{value:?}");
    cut(&text, bound)
}

/// `text` cut to `bound` characters (an ellipsis marks the cut).
pub fn cut(text: &str, bound: usize) -> String {
    match text.char_indices().nth(bound) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

/// The type name in a `Debug` text: what comes before the first space, brace or parenthesis.
pub fn type_of(debug: &str) -> String {
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Reads one trace file; blank lines are skipped.
pub fn read(path: &Path) -> Result<Vec<Event>, TraceError> {
    let name = path.display().to_string();
    let io = |source| TraceError::Io {
        path: name.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut events = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let event = serde_json::from_str(&line).map_err(|e| TraceError::Parse {
            path: name.clone(),
            line: i + 1,
            problem: e.to_string(),
        })?;
        events.push(event);
    }
    Ok(events)
}

/// Merges the events of several files (nodes) into one run, in an order
/// consistent with happens-before: by Lamport clock, then node, actor and
/// position in its file.
pub fn merge(files: Vec<Vec<Event>>) -> Vec<Event> {
    let mut all: Vec<(usize, usize, Event)> = files
        .into_iter()
        .enumerate()
        .flat_map(|(f, events)| events.into_iter().enumerate().map(move |(i, e)| (f, i, e)))
        .collect();
    all.sort_by(|(fa, ia, a), (fb, ib, b)| {
        (a.lamport, &a.node, &a.actor, fa, ia).cmp(&(b.lamport, &b.node, &b.actor, fb, ib))
    });
    all.into_iter().map(|(_, _, e)| e).collect()
}

/// Writes events as JSON lines, at most `cap`; the rest are counted and
/// stated in a final [`Kind::Truncated`] line by [`Writer::finish`].
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    cap: usize,
    written: usize,
    not_recorded: u64,
}

impl<W: Write> Writer<W> {
    /// A writer that records at most `cap` events.
    pub fn new(out: W, cap: usize) -> Self {
        Writer {
            out,
            cap,
            written: 0,
            not_recorded: 0,
        }
    }

    /// Writes `event`, or counts it once the cap is reached.
    pub fn write(&mut self, event: &Event) -> std::io::Result<()> {
        if self.written >= self.cap {
            self.not_recorded += 1;
            return Ok(());
        }
        self.written += 1;
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")
    }

    /// States the events not recorded (if any), flushes, returns the sink.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.not_recorded > 0 {
            let e = Event {
                actor: String::new(),
                node: String::new(),
                kind: Kind::Truncated,
                time: 0,
                logical: false,
                lamport: u64::MAX,
                vc: BTreeMap::new(),
                msg: None,
                peer: None,
                msg_type: String::new(),
                payload: format!("{} events not recorded", self.not_recorded),
            };
            serde_json::to_writer(&mut self.out, &e)?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A message's stamp: its id and the sender's clocks at the send (it
/// crosses nodes as JSON in stamped hop frames).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// The message id (`sender#n`).
    pub id: String,
    /// The sender.
    pub from: String,
    /// The sender's Lamport clock at the send.
    pub lamport: u64,
    /// The sender's vector clock at the send.
    pub vc: BTreeMap<String, u64>,
}

/// The Lamport and vector clocks of a set of actors; hands out events.
#[derive(Debug, Clone, Default)]
pub struct Clocks {
    lamport: BTreeMap<String, u64>,
    vc: BTreeMap<String, BTreeMap<String, u64>>,
    sent: BTreeMap<String, u64>,
    /// Keep vector clocks (off for large topologies: Lamport only).
    pub vector: bool,
}

impl Clocks {
    /// Clocks with vector clocks on.
    pub fn new() -> Self {
        Clocks {
            vector: true,
            ..Self::default()
        }
    }

    fn tick(&mut self, actor: &str) -> (u64, BTreeMap<String, u64>) {
        let l = self.lamport.entry(actor.to_string()).or_default();
        *l += 1;
        let l = *l;
        if !self.vector {
            return (l, BTreeMap::new());
        }
        let vc = self.vc.entry(actor.to_string()).or_default();
        *vc.entry(actor.to_string()).or_default() += 1;
        (l, vc.clone())
    }

    /// A local event of `actor` (handle, restart).
    pub fn local(&mut self, actor: &str) -> (u64, BTreeMap<String, u64>) {
        self.tick(actor)
    }

    /// `from` sends a message: its stamp (the message travels with it).
    pub fn send(&mut self, from: &str) -> Stamp {
        let (lamport, vc) = self.tick(from);
        let n = self.sent.entry(from.to_string()).or_default();
        *n += 1;
        Stamp {
            id: format!("{from}#{n}"),
            from: from.to_string(),
            lamport,
            vc,
        }
    }

    /// `to` receives a message stamped `stamp`: its clocks after the receive.
    pub fn receive(&mut self, to: &str, stamp: &Stamp) -> (u64, BTreeMap<String, u64>) {
        let l = self.lamport.entry(to.to_string()).or_default();
        *l = (*l).max(stamp.lamport);
        if self.vector {
            let vc = self.vc.entry(to.to_string()).or_default();
            for (k, v) in &stamp.vc {
                let e = vc.entry(k.clone()).or_default();
                *e = (*e).max(*v);
            }
        }
        self.tick(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_follow_happens_before() {
        let mut c = Clocks::new();
        let s = c.send("a");
        assert_eq!(s.id, "a#1");
        c.local("b");
        c.local("b");
        let (l, vc) = c.receive("b", &s);
        assert_eq!(l, 3);
        assert_eq!(vc.get("a"), Some(&1));
        assert_eq!(vc.get("b"), Some(&3));
        let s2 = c.send("b");
        let (l, _) = c.receive("a", &s2);
        assert_eq!(l, 5);
    }

    #[test]
    fn summaries_are_cut_and_writers_bounded() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("ab", 3), "ab");
        assert_eq!(type_of("Prepare { ballot: 1 }"), "Prepare");
        let mut w = Writer::new(Vec::new(), 1);
        let e = Event {
            actor: "a".into(),
            node: "n".into(),
            kind: Kind::Handle,
            time: 1,
            logical: true,
            lamport: 1,
            vc: BTreeMap::new(),
            msg: None,
            peer: None,
            msg_type: "timer".into(),
            payload: String::new(),
        };
        w.write(&e).unwrap();
        w.write(&e).unwrap();
        w.write(&e).unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.contains("2 events not recorded"), "{text}");
    }

    #[test]
    fn a_bad_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        std::fs::write(&p, "\n{\"nope\":1}\n").unwrap();
        let err = read(&p).unwrap_err().to_string();
        assert!(err.contains("t.jsonl:2: not a trace event"), "{err}");
    }
}
