//! The registry of actor kinds: the names a topology's `kind = "..."` refers to.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::{self, Deserializer, Visitor};
use toml::de::DeValue;
use toml::Spanned;

use super::check::ParamCheck;
use super::message_type::MessageOps;
use super::ports::{Direction, Ports};
use super::role::Role;
use super::spawn::{ActorFactory, TypedFactory};

/// Public description of one port.
#[derive(Debug, Clone)]
pub struct PortInfo {
    /// Port name.
    pub name: &'static str,
    /// Input or output.
    pub direction: Direction,
    /// Rust type name of its messages.
    pub message: &'static str,
    pub(crate) ops: Arc<dyn MessageOps>,
}

impl std::fmt::Debug for dyn MessageOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.type_name())
    }
}

impl PortInfo {
    /// `TypeId` of its messages.
    pub fn type_id(&self) -> TypeId {
        self.ops.message_type_id()
    }
}

/// Public description of a kind.
#[derive(Debug, Clone)]
pub struct KindInfo {
    /// Registered name, e.g. `zmq.pub`.
    pub name: String,
    /// One-line description.
    pub about: &'static str,
    /// Rust type of the parameters.
    pub params_type: &'static str,
    /// Parameter names, when the parameters are a struct.
    pub params: Vec<&'static str>,
    /// Ports in declaration order.
    pub ports: Vec<PortInfo>,
    /// Sends only in answer to what it receives ([`Role::REACTIVE`]).
    pub reactive: bool,
}

impl KindInfo {
    /// The port named `name`.
    pub fn port(&self, name: &str) -> Option<&PortInfo> {
        self.ports.iter().find(|p| p.name == name)
    }
}

/// A registered kind with its type erased.
pub(crate) trait DynKind: Send + Sync {
    fn info(&self) -> &KindInfo;
    /// Deserializes the parameters to check them; errors carry spans into the source.
    /// Deserializes `params` and runs the role's [`Role::check`] on them.
    fn check_params(&self, params: Spanned<DeValue<'_>>) -> Result<ParamCheck, toml::de::Error>;
    /// Prepares a factory of incarnations from already checked parameters.
    fn factory(&self, params: &toml::Value) -> Result<Box<dyn ActorFactory>, toml::de::Error>;
    /// `TypeId` of the actor type, for typed lookups.
    fn actor_type(&self) -> TypeId;
}

struct KindImpl<A: Role> {
    info: KindInfo,
    ports: Arc<Ports<A>>,
}

impl<A: Role> DynKind for KindImpl<A> {
    fn info(&self) -> &KindInfo {
        &self.info
    }
    fn check_params(&self, params: Spanned<DeValue<'_>>) -> Result<ParamCheck, toml::de::Error> {
        let de = toml::de::ValueDeserializer::from(params);
        let params: A::Params = serde::Deserialize::deserialize(de)?;
        let mut check = ParamCheck::new();
        A::check(&params, &mut check);
        Ok(check)
    }
    fn factory(&self, params: &toml::Value) -> Result<Box<dyn ActorFactory>, toml::de::Error> {
        let params: A::Params = params.clone().try_into()?;
        Ok(Box::new(TypedFactory::<A>::new(
            Arc::new(params),
            Arc::clone(&self.ports),
        )))
    }
    fn actor_type(&self) -> TypeId {
        TypeId::of::<A>()
    }
}

/// Registering a kind failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// Another kind already has this name.
    #[error("kind `{0}` is already registered")]
    Duplicate(String),
    /// Two ports of the kind share a name.
    #[error("kind `{kind}` declares port `{port}` twice")]
    DuplicatePort {
        /// Kind name.
        kind: String,
        /// Port name.
        port: String,
    },
    /// The name is empty or has characters other than letters, digits, `.`, `_`, `-`.
    #[error("kind name `{0}` is invalid: use letters, digits, `.`, `_` and `-`")]
    InvalidName(String),
}

/// The actor kinds a topology can use, by name.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: BTreeMap<String, Arc<dyn DynKind>>,
    codecs: rolecall_codecs::CodecRegistry,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("kinds", &self.kinds.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    /// An empty registry with the built-in codecs.
    pub fn new() -> Self {
        Registry {
            kinds: BTreeMap::new(),
            codecs: rolecall_codecs::CodecRegistry::with_builtin(),
        }
    }

    /// Registers role `A` under `name`.
    pub fn register<A: Role>(&mut self, name: &str) -> Result<&mut Self, RegisterError> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(RegisterError::InvalidName(name.to_owned()));
        }
        if self.kinds.contains_key(name) {
            return Err(RegisterError::Duplicate(name.to_owned()));
        }
        let mut ports = Ports::<A>::new();
        A::ports(&mut ports);
        let mut infos: Vec<PortInfo> = Vec::new();
        for decl in &ports.decls {
            if infos.iter().any(|p| p.name == decl.name) {
                return Err(RegisterError::DuplicatePort {
                    kind: name.to_owned(),
                    port: decl.name.to_owned(),
                });
            }
            infos.push(PortInfo {
                name: decl.name,
                direction: decl.direction,
                message: decl.message.type_name(),
                ops: Arc::clone(&decl.message),
            });
        }
        let info = KindInfo {
            name: name.to_owned(),
            about: A::ABOUT,
            params_type: std::any::type_name::<A::Params>(),
            params: struct_fields::<A::Params>(),
            ports: infos,
            reactive: A::REACTIVE,
        };
        self.kinds.insert(
            name.to_owned(),
            Arc::new(KindImpl::<A> {
                info,
                ports: Arc::new(ports),
            }),
        );
        Ok(self)
    }

    /// The kind registered under `name`.
    pub fn kind(&self, name: &str) -> Option<&KindInfo> {
        self.kinds.get(name).map(|k| k.info())
    }

    pub(crate) fn dyn_kind(&self, name: &str) -> Option<&Arc<dyn DynKind>> {
        self.kinds.get(name)
    }

    /// Every registered kind, by name.
    pub fn kinds(&self) -> impl Iterator<Item = &KindInfo> {
        self.kinds.values().map(|k| k.info())
    }

    /// Kind names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.kinds.keys().map(String::as_str).collect()
    }

    /// The codecs wires can use across nodes.
    pub fn codecs(&self) -> &rolecall_codecs::CodecRegistry {
        &self.codecs
    }

    /// Registers a codec for message type `T` (for example a FlatBuffers schema).
    pub fn register_codec<T: 'static>(
        &mut self,
        codec: Arc<dyn rolecall_codecs::Codec<T>>,
    ) -> &mut Self {
        self.codecs.register(codec);
        self
    }

    /// Codec formats available for the messages of `port`.
    pub fn formats(&self, port: &PortInfo) -> Vec<&'static str> {
        port.ops.formats(&self.codecs)
    }
}

/// The field names of a struct type, read by letting it ask a recording deserializer.
fn struct_fields<T: de::DeserializeOwned>() -> Vec<&'static str> {
    struct Recorder<'a>(&'a mut Vec<&'static str>);
    impl<'de> Deserializer<'de> for Recorder<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _v: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _v: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.extend_from_slice(fields);
            Err(de::Error::custom("recorded"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields = Vec::new();
    let _ = T::deserialize(Recorder(&mut fields));
    fields
}
