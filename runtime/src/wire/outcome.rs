//! [`Outcome`]: how a handler's return value tells the runtime it failed.

use std::fmt::Display;

/// The result of handling one wired message. `()` never fails; `Err(e)` from a
/// `Result<(), E>` crashes the actor with `e` as the reason, exactly like a panic.
pub trait Outcome {
    /// The failure this outcome reports, if any.
    fn failure(self) -> Option<String>;
}

impl Outcome for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<E: Display> Outcome for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|e| e.to_string())
    }
}
