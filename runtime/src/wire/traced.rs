//! [`WireTrace`]: what a traced wire knows to stamp its messages — the
//! node's [`Tracer`], the actors at its two ends and how to summarize a
//! message. Installed once, when the node builds the wire; a wire without
//! one costs a single branch per message.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::queue::{PushError, Queue};
use crate::trace::{Stamp, Stamped, Tracer};

/// Where a pushed message comes from.
pub(super) enum Origin {
    /// Sent by the wire's producer on this node: stamped here.
    Local,
    /// Received by a hop from another node, with the stamp it carried.
    Hop(Option<Stamp>),
}

impl<T> Queue<T> {
    /// Pushes every message of `items` that a hop receiver decoded, with
    /// `stamps` (in lockstep: the stamp each carried across the hop, if
    /// any), as [`Queue::push_available`] does. Returns how many left `items`.
    pub(crate) fn push_available_from_hop(
        &self,
        items: &mut VecDeque<T>,
        stamps: &mut VecDeque<Option<Stamp>>,
    ) -> usize {
        let mut n = 0;
        while let Some(m) = items.pop_front() {
            let stamp = stamps.pop_front().flatten();
            match self.push_from(m, Origin::Hop(stamp.clone())) {
                Err(PushError::Full(m)) => {
                    items.push_front(m);
                    stamps.push_front(stamp);
                    break;
                }
                _ => n += 1,
            }
        }
        n
    }
}

/// The tracing of one wire from actor `from` to actor `to`.
pub struct WireTrace<T> {
    pub(super) tracer: Arc<Tracer>,
    from: Arc<str>,
    pub(super) to: Arc<str>,
    pub(super) msg_type: &'static str,
    summarize: fn(&T) -> String,
    /// Messages that crossed a hop without a stamp so far.
    unstamped: AtomicU64,
}

impl<T> std::fmt::Debug for WireTrace<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireTrace")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("msg_type", &self.msg_type)
            .finish()
    }
}

/// The last path segment of a type name, generics kept:
/// `a::b::Msg<c::D>` → `Msg<c::D>`.
pub(crate) fn short_type_name(full: &'static str) -> &'static str {
    let head = full.split('<').next().unwrap_or(full);
    match head.rfind("::") {
        Some(at) => &full[at + 2..],
        None => full,
    }
}

impl<T> WireTrace<T> {
    /// Tracing of a wire of messages `T` from `from` to `to`, summarizing
    /// each message's payload with `summarize`.
    pub fn new(tracer: Arc<Tracer>, from: &str, to: &str, summarize: fn(&T) -> String) -> Self {
        WireTrace {
            tracer,
            from: from.into(),
            to: to.into(),
            msg_type: short_type_name(std::any::type_name::<T>()),
            summarize,
            unstamped: AtomicU64::new(0),
        }
    }

    /// Records the send of `msg` and returns its stamp.
    pub(super) fn send(&self, msg: &T) -> Stamped {
        self.tracer
            .send(&self.from, &self.to, self.msg_type, (self.summarize)(msg))
    }

    /// What a message that crossed a hop with `stamp` waits in the wire with.
    pub(super) fn received(&self, stamp: crate::trace::Stamp, msg: &T) -> Stamped {
        Stamped {
            stamp,
            msg_type: self.msg_type,
            payload: (self.summarize)(msg),
        }
    }

    /// What a message that crossed a hop without a stamp (its node runs
    /// without a trace) waits in the wire with: an id of its own,
    /// `from#?n`, that no send event has, and no clocks to merge.
    pub(super) fn unstamped(&self, msg: &T) -> Stamped {
        let n = self.unstamped.fetch_add(1, Ordering::Relaxed) + 1;
        Stamped {
            stamp: Stamp {
                id: format!("{}#?{n}", self.from),
                from: self.from.to_string(),
                lamport: 0,
                vc: BTreeMap::new(),
            },
            msg_type: self.msg_type,
            payload: (self.summarize)(msg),
        }
    }

    /// Records a message lost (dropped) or duplicated on the way.
    pub(super) fn lost(&self, kind: crate::trace::Kind, msg: Option<&Stamped>) {
        self.tracer
            .lost(kind, &self.from, &self.to, msg, self.msg_type);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Arc;

    use super::{short_type_name, WireTrace};
    use crate::trace::{self, Kind, Tracer};
    use crate::wire::{Policy, Popped, Queue};

    /// Stamps stay in lockstep with the messages through a drop-oldest
    /// eviction, a batch pop and a crash's put-back.
    #[test]
    fn stamps_follow_their_messages_through_eviction_and_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let tracer = Arc::new(Tracer::create(&path, "n", 100, 2).unwrap());
        let q = Queue::<u32>::new(2, Policy::DropOldest);
        q.set_trace(WireTrace::new(Arc::clone(&tracer), "a", "b", |m| {
            format!("{m}")
        }));
        for m in [10, 11, 12] {
            q.try_push(m).unwrap();
        }
        let mut buf = VecDeque::new();
        assert_eq!(q.pop_batch(&mut buf, 8, None), Popped::Items(2));
        assert_eq!(buf, [11, 12]);
        q.trace_handle(0); // 11 handled, then the consumer crashes
        buf.pop_front();
        q.settle(1, &mut buf);
        assert_eq!(q.pop_batch(&mut buf, 8, None), Popped::Items(1));
        assert_eq!(buf, [12]);
        q.trace_handle(0);
        q.settle(1, &mut VecDeque::new());
        tracer.finish().unwrap();

        let events = trace::read(&path).unwrap();
        let line = |e: &trace::Event| {
            format!(
                "{} {} {} {}",
                e.actor,
                e.kind.name(),
                e.msg.as_deref().unwrap_or("-"),
                e.payload
            )
        };
        let lines: Vec<String> = events.iter().map(line).collect();
        assert_eq!(
            lines,
            [
                "a send a#1 10",
                "a send a#2 11",
                "a drop a#1 ",
                "a send a#3 12",
                "b receive a#2 11",
                "b handle a#2 ",
                "b receive a#3 12",
                "b handle a#3 ",
            ]
        );
        assert!(events.iter().all(|e| e.msg_type == "u32"));
        // Every receive comes after its send.
        let sent = |id: &str| {
            events
                .iter()
                .find(|e| e.kind == Kind::Send && e.msg.as_deref() == Some(id))
        };
        for r in events.iter().filter(|e| e.kind == Kind::Receive) {
            let s = sent(r.msg.as_deref().unwrap()).unwrap();
            assert!(s.lamport < r.lamport);
            assert!(s.vc.get("a") <= r.vc.get("a"));
        }
    }

    #[test]
    fn type_names_are_shortened_to_their_last_segment() {
        assert_eq!(short_type_name("a::b::Msg"), "Msg");
        assert_eq!(short_type_name("a::Msg<b::C>"), "Msg<b::C>");
        assert_eq!(short_type_name("u64"), "u64");
    }
}
