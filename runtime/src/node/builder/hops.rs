//! Step four of [`Node::start`]: the cross-node hops, started once every
//! hosted producer is registered on its wires.

use super::{BuildError, Hop, Node, HOP_HWM};
use crate::remote::{RemoteEndpoint, RemoteLink, HOP_LINGER_MS};

impl Node {
    pub(super) fn start_hops(&self, hops: Vec<Hop>) -> Result<Vec<RemoteLink>, BuildError> {
        let codecs = self.registry.codecs();
        let mut links = Vec::with_capacity(hops.len());
        for hop in hops {
            let context = self.zmq.get().map_err(|e| BuildError::Remote {
                wire: hop.label.clone(),
                source: e.into(),
            })?;
            self.zmq.note_linger(HOP_LINGER_MS);
            let endpoint = RemoteEndpoint {
                context,
                address: hop.address,
                hwm: HOP_HWM,
                label: hop.label.clone(),
            };
            let link = if hop.sender {
                hop.ops
                    .spawn_sender(&hop.queue, &hop.codec, codecs, endpoint, hop.identity)
            } else {
                hop.ops
                    .spawn_receiver(&hop.queue, &hop.codec, codecs, endpoint, hop.identity)
            };
            links.push(link.map_err(|source| BuildError::Remote {
                wire: hop.label,
                source,
            })?);
        }
        Ok(links)
    }
}
