//! Run-time descriptions of message types, so that wires built from a topology
//! file stay statically typed inside the process.
//!
//! A port declares its message type `T` once, with Rust types; from then on the
//! runtime handles wires of that type through the object-safe [`MessageOps`]
//! (made by generic code that knows `T`) and `AnyWire` (a [`Queue<T>`](crate::wire::Queue) behind
//! `dyn`, in `wire::erased`). Type equality on a wire is checked by `TypeId` at load time.

use std::any::TypeId;
use std::marker::PhantomData;
use std::sync::Arc;

use rolecall_codecs::{serde_codec, Codec, CodecRegistry, SERDE_FORMATS};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::remote::{self, HopIdentity, RemoteEndpoint, RemoteError, RemoteLink};
use crate::trace::{cut, Tracer, SUMMARY_BOUND};
use crate::wire::erased::AnyWire;
use crate::wire::{WireConfig, WireTrace};

/// What every message on a wire is: an actix message that can be moved between
/// threads and copied for fan-out.
pub trait Payload: actix::Message + Clone + Send + 'static {}

impl<T: actix::Message + Clone + Send + 'static> Payload for T {}

/// Type-specific operations on wires of one message type.
pub(crate) trait MessageOps: Send + Sync {
    fn message_type_id(&self) -> TypeId;
    fn type_name(&self) -> &'static str;
    fn new_wire(&self, config: WireConfig) -> Arc<dyn AnyWire>;
    /// Traces `wire` (made by [`MessageOps::new_wire`]) from actor `from` to `to`.
    fn trace_wire(&self, wire: &Arc<dyn AnyWire>, tracer: &Arc<Tracer>, from: &str, to: &str);
    /// Formats a wire of this type can use across nodes.
    fn formats(&self, codecs: &CodecRegistry) -> Vec<&'static str>;
    /// Starts the sending end of a hop that drains `wire`.
    fn spawn_sender(
        &self,
        wire: &Arc<dyn AnyWire>,
        format: &str,
        codecs: &CodecRegistry,
        endpoint: RemoteEndpoint,
        identity: HopIdentity,
    ) -> Result<RemoteLink, RemoteError>;
    /// Starts the receiving end of a hop that fills `wire`.
    fn spawn_receiver(
        &self,
        wire: &Arc<dyn AnyWire>,
        format: &str,
        codecs: &CodecRegistry,
        endpoint: RemoteEndpoint,
        identity: HopIdentity,
    ) -> Result<RemoteLink, RemoteError>;
}

/// Finds a codec for `T`: the serde formats when `T` is serde, then the registry.
type CodecLookup<T> = fn(&str, &CodecRegistry) -> Option<Arc<dyn Codec<T>>>;

struct Ops<T> {
    lookup: CodecLookup<T>,
    serde: bool,
    /// A message's payload summary in traces.
    summarize: fn(&T) -> String,
    _t: PhantomData<fn() -> T>,
}

impl<T: Payload> MessageOps for Ops<T> {
    fn message_type_id(&self) -> TypeId {
        TypeId::of::<T>()
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn new_wire(&self, config: WireConfig) -> Arc<dyn AnyWire> {
        crate::wire::erased::new_wire::<T>(config)
    }
    fn trace_wire(&self, wire: &Arc<dyn AnyWire>, tracer: &Arc<Tracer>, from: &str, to: &str) {
        if let Some(queue) = crate::wire::erased::typed::<T>(wire) {
            queue.set_trace(WireTrace::new(Arc::clone(tracer), from, to, self.summarize));
        }
    }
    fn formats(&self, codecs: &CodecRegistry) -> Vec<&'static str> {
        let mut formats = codecs.formats_for(TypeId::of::<T>());
        if self.serde {
            formats.extend_from_slice(SERDE_FORMATS);
        }
        formats.sort_unstable();
        formats.dedup();
        formats
    }
    fn spawn_sender(
        &self,
        wire: &Arc<dyn AnyWire>,
        format: &str,
        codecs: &CodecRegistry,
        endpoint: RemoteEndpoint,
        identity: HopIdentity,
    ) -> Result<RemoteLink, RemoteError> {
        let codec = (self.lookup)(format, codecs).ok_or_else(|| RemoteError::NoCodec {
            format: format.to_owned(),
            message: self.type_name(),
        })?;
        remote::start_sender(wire, codec, endpoint, identity)
    }
    fn spawn_receiver(
        &self,
        wire: &Arc<dyn AnyWire>,
        format: &str,
        codecs: &CodecRegistry,
        endpoint: RemoteEndpoint,
        identity: HopIdentity,
    ) -> Result<RemoteLink, RemoteError> {
        let codec = (self.lookup)(format, codecs).ok_or_else(|| RemoteError::NoCodec {
            format: format.to_owned(),
            message: self.type_name(),
        })?;
        remote::start_receiver(wire, codec, endpoint, identity)
    }
}

/// A serde message's payload summary: its JSON, cut to [`SUMMARY_BOUND`] characters.
fn json_summary<T: Serialize>(msg: &T) -> String {
    serde_json::to_string(msg)
        .map(|json| cut(&json, SUMMARY_BOUND))
        .unwrap_or_default()
}

fn registry_lookup<T: 'static>(format: &str, codecs: &CodecRegistry) -> Option<Arc<dyn Codec<T>>> {
    codecs.get::<T>(format)
}

fn serde_lookup<T: Serialize + DeserializeOwned + 'static>(
    format: &str,
    codecs: &CodecRegistry,
) -> Option<Arc<dyn Codec<T>>> {
    codecs.get::<T>(format).or_else(|| serde_codec::<T>(format))
}

/// Operations for a type that crosses nodes with registered codecs only.
pub(crate) fn local_ops<T: Payload>() -> Arc<dyn MessageOps> {
    Arc::new(Ops::<T> {
        lookup: registry_lookup::<T>,
        serde: false,
        summarize: |_| String::new(),
        _t: PhantomData,
    })
}

/// Operations for a serde type: JSON and binary codecs come for free.
pub(crate) fn serde_ops<T: Payload + Serialize + DeserializeOwned>() -> Arc<dyn MessageOps> {
    Arc::new(Ops::<T> {
        lookup: serde_lookup::<T>,
        serde: true,
        summarize: json_summary::<T>,
        _t: PhantomData,
    })
}
