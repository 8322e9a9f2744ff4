//! [`CodecRegistry`]: codecs by message type and format name.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::binary::Binary;
use crate::codec::Codec;
use crate::fb::{TopicFlatBuffers, TopicView, TopicViewFlatBuffers};
use crate::json::Json;
use crate::topic::Topic;

/// The formats every serde type has, sorted.
pub const SERDE_FORMATS: &[&str] = &["binary", "json"];

/// The serde-based codec named `format` (`json` or `binary`) for `T`.
pub fn serde_codec<T: Serialize + DeserializeOwned + 'static>(
    format: &str,
) -> Option<Arc<dyn Codec<T>>> {
    match format {
        "json" => Some(Arc::new(Json)),
        "binary" => Some(Arc::new(Binary)),
        _ => None,
    }
}

/// Codecs registered for specific message types (beyond the serde ones),
/// looked up by the type and the format name a topology gives.
///
/// Cloning is cheap (the codecs are shared `Arc`s).
#[derive(Clone, Default)]
pub struct CodecRegistry {
    /// type → format → `Arc<dyn Codec<T>>` boxed as `Any`.
    codecs: BTreeMap<TypeId, BTreeMap<&'static str, Arc<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for CodecRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodecRegistry")
            .field(
                "formats",
                &self.codecs.values().map(|m| m.keys()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl CodecRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        CodecRegistry::default()
    }

    /// A registry with the built-in codecs, under `flatbuffers`:
    /// [`TopicFlatBuffers`] for [`Topic`] and [`TopicViewFlatBuffers`] for
    /// [`TopicView`].
    pub fn with_builtin() -> Self {
        let mut r = CodecRegistry::new();
        r.register::<Topic>(Arc::new(TopicFlatBuffers));
        r.register::<TopicView>(Arc::new(TopicViewFlatBuffers));
        r
    }

    /// Registers `codec` for `T` under [`Codec::name`], replacing an earlier
    /// codec of the same type and name.
    pub fn register<T: 'static>(&mut self, codec: Arc<dyn Codec<T>>) {
        let name = codec.name();
        self.codecs
            .entry(TypeId::of::<T>())
            .or_default()
            .insert(name, Arc::new(codec));
    }

    /// The codec named `format` registered for `T`, if any.
    pub fn get<T: 'static>(&self, format: &str) -> Option<Arc<dyn Codec<T>>> {
        self.codecs
            .get(&TypeId::of::<T>())?
            .get(format)?
            .downcast_ref::<Arc<dyn Codec<T>>>()
            .cloned()
    }

    /// The formats registered for the type `type_id`, sorted.
    pub fn formats_for(&self, type_id: TypeId) -> Vec<&'static str> {
        self.codecs
            .get(&type_id)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }
}
