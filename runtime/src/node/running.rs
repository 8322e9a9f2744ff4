//! [`Running`]: a started node, with typed access to its actors by name.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::NodeExit;
use crate::kind::Role;
use crate::kind::{NodeHandle, Ref};
use crate::wire::erased::AnyWire;
use crate::wire::WireStats;

/// Looking up an actor by name failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// No actor of that name runs in this process.
    #[error("no actor `{0}` on this node")]
    NoSuchActor(String),
    /// The actor is of another Rust type.
    #[error("actor `{name}` is not a `{asked}`")]
    WrongType {
        /// Actor name.
        name: String,
        /// Type asked for.
        asked: &'static str,
    },
}

/// A started node.
pub struct Running {
    handle: NodeHandle,
    refs: HashMap<String, (TypeId, Arc<dyn Any + Send + Sync>)>,
    exit: oneshot::Receiver<NodeExit>,
    wires: Vec<(String, Arc<dyn AnyWire>)>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("node", &self.handle.name())
            .field("actors", &self.refs.len())
            .finish()
    }
}

impl Running {
    pub(crate) fn new(
        handle: NodeHandle,
        refs: HashMap<String, (TypeId, Arc<dyn Any + Send + Sync>)>,
        exit: oneshot::Receiver<NodeExit>,
        wires: Vec<(String, Arc<dyn AnyWire>)>,
    ) -> Self {
        Running {
            handle,
            refs,
            exit,
            wires,
        }
    }

    /// The typed address of actor `name`, valid across its restarts.
    pub fn actor<A: Role>(&self, name: &str) -> Result<Ref<A>, LookupError> {
        let (type_id, any) = self
            .refs
            .get(name)
            .ok_or_else(|| LookupError::NoSuchActor(name.to_owned()))?;
        let wrong = || LookupError::WrongType {
            name: name.to_owned(),
            asked: std::any::type_name::<A>(),
        };
        if *type_id != TypeId::of::<A>() {
            return Err(wrong());
        }
        any.downcast_ref::<Ref<A>>().cloned().ok_or_else(wrong)
    }

    /// Names of the actors in this process.
    pub fn actor_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.refs.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Node services: shutdown, event subscription.
    pub fn handle(&self) -> &NodeHandle {
        &self.handle
    }

    /// Starts a graceful shutdown.
    pub fn shutdown(&self) {
        self.handle.shutdown();
    }

    /// Counters of every wire with an end in this process, labelled `from -> to`.
    pub fn wire_stats(&self) -> Vec<(String, WireStats)> {
        self.wires
            .iter()
            .map(|(l, w)| (l.clone(), w.stats()))
            .collect()
    }

    /// Shuts down on SIGINT or SIGTERM (a second signal is not waited for:
    /// the drain timeout bounds the shutdown).
    pub fn shutdown_on_signals(&self) {
        let handle = self.handle.clone();
        actix_rt::spawn(async move {
            wait_for_signal().await;
            tracing::info!("signal received; shutting down gracefully");
            handle.shutdown();
        });
    }

    /// Waits until the node has stopped.
    pub async fn wait(self) -> NodeExit {
        self.exit
            .await
            .unwrap_or_else(|_| NodeExit::Failed("supervisor vanished".into()))
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
