//! [`PortRef`]: one end of a wire, named as in a topology file.

/// An `actor.port` reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRef {
    /// Actor name.
    pub actor: String,
    /// Port name.
    pub port: String,
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.actor, self.port)
    }
}
