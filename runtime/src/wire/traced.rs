//! [`WireTrace`]: what a traced wire knows to stamp its messages — the
//! node's [`Tracer`], the actors at its two ends and how to summarize a
//! message. Installed once, when the node builds the wire; a wire without
//! one costs a single branch per message.

use std::sync::Arc;

use crate::trace::{Stamped, Tracer};

/// The tracing of one wire from actor `from` to actor `to`.
pub struct WireTrace<T> {
    pub(super) tracer: Arc<Tracer>,
    from: Arc<str>,
    pub(super) to: Arc<str>,
    pub(super) msg_type: &'static str,
    summarize: fn(&T) -> String,
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
        }
    }

    /// Records the send of `msg` and returns its stamp.
    pub(super) fn send(&self, msg: &T) -> Stamped {
        self.tracer
            .send(&self.from, &self.to, self.msg_type, (self.summarize)(msg))
    }

    /// Records a message lost (dropped) or duplicated on the way.
    pub(super) fn lost(&self, kind: crate::trace::Kind, msg: Option<&Stamped>) {
        self.tracer.lost(kind, &self.from, &self.to, msg, self.msg_type);
    }
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn type_names_are_shortened_to_their_last_segment() {
        assert_eq!(short_type_name("a::b::Msg"), "Msg");
        assert_eq!(short_type_name("a::Msg<b::C>"), "Msg<b::C>");
        assert_eq!(short_type_name("u64"), "u64");
    }
}
