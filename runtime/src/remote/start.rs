//! Starting the ends of a hop on a wire whose message type the caller has
//! erased (the node builds wires from a topology file): the typed code that
//! knows `T` and its codec calls these.

use std::sync::Arc;

use rolecall_codecs::Codec;

use super::{HopIdentity, RemoteEndpoint, RemoteError, RemoteLink};
use crate::wire::erased::{typed, AnyWire};

fn queue_of<T: Send + 'static>(
    wire: &Arc<dyn AnyWire>,
) -> Result<crate::wire::Queue<T>, RemoteError> {
    typed::<T>(wire).ok_or(RemoteError::TypeMismatch {
        expected: std::any::type_name::<T>(),
    })
}

/// Starts the sending end of a hop that drains `wire` (messages `T`).
pub(crate) fn start_sender<T: Send + 'static>(
    wire: &Arc<dyn AnyWire>,
    codec: Arc<dyn Codec<T>>,
    endpoint: RemoteEndpoint,
    identity: HopIdentity,
) -> Result<RemoteLink, RemoteError> {
    super::hop::spawn_sender(queue_of::<T>(wire)?, codec, endpoint, identity)
}

/// Starts the receiving end of a hop that fills `wire` (messages `T`).
pub(crate) fn start_receiver<T: Send + 'static>(
    wire: &Arc<dyn AnyWire>,
    codec: Arc<dyn Codec<T>>,
    endpoint: RemoteEndpoint,
    identity: HopIdentity,
) -> Result<RemoteLink, RemoteError> {
    super::hop::spawn_receiver(queue_of::<T>(wire)?, codec, endpoint, identity)
}
