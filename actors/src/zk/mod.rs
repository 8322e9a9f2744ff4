//! ZooKeeper: a session actor and coordination recipes, on the async
//! `zookeeper-client` crate.
//!
//! | kind | what it does |
//! |---|---|
//! | `zk.session` | a session: typed requests (`requests` → `replies`, or [`Call`] through its `Ref`), watches (`events`), connection states (`state`); re-creates its ephemeral nodes after an expiry |
//! | `zk.election` | a leader-election candidate in kazoo's layout: `leadership` gets [`Leadership::Elected`] or [`Leadership::Following`] |
//! | `zk.barrier` | a barrier member (course protocol) and double barrier: `commands` ([`BarrierCommand`]) in, `events` ([`BarrierEvent`]) out |
//! | `zk.membership` | group membership / service registry: registers `name` → `address`, sends [`Members`] at every change |
//! | `zk.script` | sends one-line request steps to a `zk.session`, in order ([`script`]) |
//! | `zk.print` | prints what the other kinds report, one line per message (for examples and tests) |
//! | `zk.lock` | a distributed lock in kazoo's layout: `commands` ([`LockCommand`]) in, `events` ([`LockEvent`]) out |
//!
//! The recipes' contention logic (who holds a lock, whom to watch, when a
//! barrier opens) lives in I/O-free functions tested without a server; the
//! actors around them do the requests. See `docs/zookeeper.md`.

pub mod barrier;
mod config;
mod contender;
pub mod contention;
pub mod election;
mod ephemeral;
mod error;
pub mod lock;
pub mod membership;
mod print;
mod request;
pub mod script;
mod session;

pub use barrier::{Barrier, BarrierCommand, BarrierEvent};
pub use config::{Connect, SERVERS_ENV};
pub use election::{Election, Leadership};
pub use error::{validate_path, Error, Result};
pub use lock::{Lock, LockCommand, LockEvent};
pub use membership::{Members, Membership};
pub use print::Print;
pub use request::{
    Access, Call, ConnectionState, EventKind, Mode, Op, Outcome, Reply, Request, WatchEvent,
};
pub use script::Script;
/// Parameters of `zk.session`.
pub use session::Params as SessionParams;
pub use session::{Info, Session};
/// The client crate, for callers that need its types (`SessionInfo`).
pub use zookeeper_client as client;

use rolecall_runtime::kind::{RegisterError, Registry};

/// Registers the ZooKeeper kinds.
pub fn register(registry: &mut Registry) -> std::result::Result<(), RegisterError> {
    registry
        .register::<Session>("zk.session")?
        .register::<Election>("zk.election")?
        .register::<Lock>("zk.lock")?
        .register::<Barrier>("zk.barrier")?
        .register::<Membership>("zk.membership")?
        .register::<Script>("zk.script")?
        .register::<Print>("zk.print")?;
    Ok(())
}
