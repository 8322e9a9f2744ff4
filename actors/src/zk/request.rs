//! The session's typed requests ([`Op`]), their results ([`Outcome`]) and the
//! messages the session sends on its ports ([`Reply`], [`WatchEvent`],
//! [`ConnectionState`]).

use actix::Message;
use serde::{Deserialize, Serialize};
use zookeeper_client as zkc;

use super::error::Result;

/// How a node is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Stays until deleted.
    Persistent,
    /// Persistent, with a 10-digit sequence number appended to the name.
    PersistentSequential,
    /// Deleted when the session that created it ends; re-created by the
    /// session actor after an expiry.
    Ephemeral,
    /// Ephemeral, with a sequence number appended to the name.
    EphemeralSequential,
}

impl Mode {
    pub(crate) fn client(self) -> zkc::CreateMode {
        match self {
            Mode::Persistent => zkc::CreateMode::Persistent,
            Mode::PersistentSequential => zkc::CreateMode::PersistentSequential,
            Mode::Ephemeral => zkc::CreateMode::Ephemeral,
            Mode::EphemeralSequential => zkc::CreateMode::EphemeralSequential,
        }
    }

    /// Whether the server appends a sequence number.
    pub fn is_sequential(self) -> bool {
        matches!(self, Mode::PersistentSequential | Mode::EphemeralSequential)
    }
}

/// Who may do what with a new node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Anyone may do anything (`world:anyone`, all permissions).
    #[default]
    Open,
    /// Anyone may read; nobody may change it.
    ReadOnly,
    /// Only sessions holding the creator's credentials (`auth` scheme; the
    /// session must have digest credentials).
    Creator,
}

impl Access {
    pub(crate) fn acls(self) -> zkc::Acls<'static> {
        match self {
            Access::Open => zkc::Acls::anyone_all(),
            Access::ReadOnly => zkc::Acls::anyone_read(),
            Access::Creator => zkc::Acls::creator_all(),
        }
    }
}

/// One request to the ZooKeeper session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// Creates a node.
    Create {
        /// Its path (for a sequential node, the prefix).
        path: String,
        /// Its data.
        data: Vec<u8>,
        /// Persistent, ephemeral, sequential.
        mode: Mode,
        /// Its ACL.
        access: Access,
    },
    /// Reads a node's data; `watch` sets a one-shot data watch.
    Get {
        /// The path.
        path: String,
        /// Set a one-shot watch (delivered as a [`WatchEvent`]).
        watch: bool,
    },
    /// Writes a node's data if its version is `version` (`None`: any).
    Set {
        /// The path.
        path: String,
        /// The new data.
        data: Vec<u8>,
        /// The expected version.
        version: Option<i32>,
    },
    /// Deletes a node if its version is `version` (`None`: any).
    Delete {
        /// The path.
        path: String,
        /// The expected version.
        version: Option<i32>,
    },
    /// Whether a node exists; `watch` sets a one-shot watch (fires on create too).
    Exists {
        /// The path.
        path: String,
        /// Set a one-shot watch.
        watch: bool,
    },
    /// A node's children, sorted; `watch` sets a one-shot child watch.
    Children {
        /// The path.
        path: String,
        /// Set a one-shot watch.
        watch: bool,
    },
    /// Sets a persistent watch on `path` (and, if `recursive`, on every node
    /// below it), kept until the session ends and set again after an expiry.
    Watch {
        /// The path.
        path: String,
        /// Also watch descendants.
        recursive: bool,
    },
}

impl Op {
    /// The path the request is about.
    pub fn path(&self) -> &str {
        match self {
            Op::Create { path, .. }
            | Op::Get { path, .. }
            | Op::Set { path, .. }
            | Op::Delete { path, .. }
            | Op::Exists { path, .. }
            | Op::Children { path, .. }
            | Op::Watch { path, .. } => path,
        }
    }

    /// A persistent open node.
    pub fn create(path: &str, data: &[u8], mode: Mode) -> Op {
        Op::Create {
            path: path.into(),
            data: data.to_vec(),
            mode,
            access: Access::Open,
        }
    }
}

/// What a successful request returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The node was created at `path` (with its sequence number, if any).
    Created {
        /// The full path.
        path: String,
    },
    /// A node's data and version.
    Data {
        /// The data.
        data: Vec<u8>,
        /// Its version.
        version: i32,
    },
    /// Whether the node exists, and its version.
    Exists {
        /// `Some(version)` if it exists.
        version: Option<i32>,
    },
    /// The new version after a set.
    Written {
        /// The new version.
        version: i32,
    },
    /// A node's children, sorted by name.
    Children {
        /// Child names (not full paths).
        names: Vec<String>,
    },
    /// The node was deleted.
    Deleted,
    /// The persistent watch is set.
    Watching,
}

/// A request sent into the session's `requests` port; its [`Reply`] leaves on
/// `replies` with the same `id`.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct Request {
    /// Correlates the reply.
    pub id: u64,
    /// What to do.
    pub op: Op,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct Reply {
    /// The request's id.
    pub id: u64,
    /// Its result.
    pub result: Result<Outcome>,
}

/// A request through the session's `Ref` (`session.send(Call(op)).await`).
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "Result<Outcome>")]
pub struct Call(pub Op);

/// What happened to a watched node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// The node was created.
    Created,
    /// The node was deleted.
    Deleted,
    /// Its data changed.
    DataChanged,
    /// Its children changed.
    ChildrenChanged,
}

impl EventKind {
    pub(crate) fn from_client(e: zkc::EventType) -> Option<Self> {
        Some(match e {
            zkc::EventType::NodeCreated => EventKind::Created,
            zkc::EventType::NodeDeleted => EventKind::Deleted,
            zkc::EventType::NodeDataChanged => EventKind::DataChanged,
            zkc::EventType::NodeChildrenChanged => EventKind::ChildrenChanged,
            zkc::EventType::Session => return None,
        })
    }
}

/// A watch fired; sent on the session's `events` port.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct WatchEvent {
    /// The node the event is about.
    pub path: String,
    /// What happened.
    pub kind: EventKind,
    /// Whether it came from a persistent watch (`Op::Watch`).
    pub persistent: bool,
}

/// The session's connection state; sent on the `state` port at every change.
#[derive(Debug, Clone, PartialEq, Eq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub enum ConnectionState {
    /// Connected with session `session`; `fresh` is true for a new session
    /// (first connection, or after an expiry), false when an existing one
    /// reconnected.
    Connected {
        /// Session id.
        session: i64,
        /// A new session (ephemeral nodes were created anew).
        fresh: bool,
    },
    /// The connection is lost; the client is reconnecting the same session.
    Disconnected,
    /// The session expired; a new one is being opened.
    Expired,
    /// The server refused the credentials.
    AuthFailed,
}
