//! [`Registry`]: codecs by message type and format name.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::binary::Binary;
use crate::codec::Codec;
use crate::fb::TopicFlatBuffers;
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
#[derive(Clone, Default)]
pub struct Registry {
    /// (type, format) → `Arc<dyn Codec<T>>` boxed as `Any`.
    codecs: BTreeMap<(TypeId, &'static str), Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.codecs.keys().map(|(_, n)| n))
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// A registry with the built-in codecs: FlatBuffers for [`Topic`].
    pub fn with_builtin() -> Self {
        let mut r = Registry::new();
        r.register::<Topic>(Arc::new(TopicFlatBuffers));
        r
    }

    /// Registers `codec` for `T` under its name, replacing an earlier one.
    pub fn register<T: 'static>(&mut self, codec: Arc<dyn Codec<T>>) {
        let key = (TypeId::of::<T>(), codec.name());
        self.codecs.insert(key, Arc::new(codec));
    }

    /// The codec named `format` registered for `T`.
    pub fn get<T: 'static>(&self, format: &str) -> Option<Arc<dyn Codec<T>>> {
        self.codecs
            .iter()
            .find(|((t, n), _)| *t == TypeId::of::<T>() && *n == format)
            .and_then(|(_, c)| c.downcast_ref::<Arc<dyn Codec<T>>>().cloned())
    }

    /// The formats registered for the type `type_id`, sorted.
    pub fn formats_for(&self, type_id: TypeId) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self
            .codecs
            .keys()
            .filter(|(t, _)| *t == type_id)
            .map(|(_, n)| *n)
            .collect();
        v.sort_unstable();
        v
    }
}
