//! The course's `config.ini`, read as Python's `configparser` reads it:
//! `[Section]` headers, `key = value` or `key: value`, case-insensitive keys,
//! `#` and `;` comment lines.
//!
//! ```ini
//! [Discovery]
//! Strategy = Centralized   ; or DHT (the Chord ring; `Chord` too), Kademlia or ZooKeeper
//! [Dissemination]
//! Strategy = Direct        ; or Broker
//! Groups = 1               ; ZooKeeper + Broker: topic groups, each with its own broker replicas
//! ```

use std::path::Path;

use thiserror::Error;

use super::directory::Dissemination;

/// How clients find each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiscoveryStrategy {
    /// One discovery service.
    #[default]
    Centralized,
    /// The course's Chord ring of discovery nodes (PA2's `DHT`).
    Chord,
    /// The libp2p Kademlia DHT (`dht.node`).
    Kademlia,
    /// Replicas of the centralized service, one primary elected in ZooKeeper
    /// (PA3); brokers replicated per topic group.
    ZooKeeper,
}

/// The strategies a `config.ini` chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strategies {
    /// `[Discovery] Strategy`.
    pub discovery: DiscoveryStrategy,
    /// `[Dissemination] Strategy`.
    pub dissemination: Dissemination,
    /// `[Dissemination] Groups`: topic groups of the replicated brokers (default 1).
    pub groups: usize,
}

impl Default for Strategies {
    fn default() -> Self {
        Strategies {
            discovery: DiscoveryStrategy::default(),
            dissemination: Dissemination::default(),
            groups: 1,
        }
    }
}

/// A `config.ini` that cannot be used, with its file and line.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: cannot read: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A line that is neither a header, a key/value nor a comment.
    #[error("{path}:{line}: expected `[Section]` or `key = value`, found `{text}`")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The line.
        text: String,
    },
    /// A value that is not one of the strategies.
    #[error("{path}:{line}: {reason}")]
    Value {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// Why.
        reason: String,
    },
}

impl Strategies {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses the text of a file called `path` (for messages). Sections and
    /// keys other than the two strategies are ignored, as the course's code does.
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let mut out = Strategies::default();
        let mut section = String::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let at = i + 1;
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_owned();
                continue;
            }
            let Some((key, value)) = line.split_once(['=', ':']) else {
                return Err(ConfigError::Syntax {
                    path: path.into(),
                    line: at,
                    text: line.into(),
                });
            };
            // An inline comment after the value, as `configparser` with inline prefixes.
            let value = value.split([';', '#']).next().unwrap_or_default().trim();
            let bad = |reason: String| ConfigError::Value {
                path: path.into(),
                line: at,
                reason,
            };
            if section == "Dissemination" && key.trim().eq_ignore_ascii_case("groups") {
                out.groups = match value.parse::<usize>() {
                    Ok(g) if (1..=9).contains(&g) => g,
                    _ => return Err(bad(format!("Groups must be 1-9, not '{value}'"))),
                };
                continue;
            }
            if !key.trim().eq_ignore_ascii_case("strategy") {
                continue;
            }
            match section.as_str() {
                "Discovery" => {
                    out.discovery = match value.to_ascii_lowercase().as_str() {
                        "centralized" => DiscoveryStrategy::Centralized,
                        "dht" | "chord" => DiscoveryStrategy::Chord,
                        "kademlia" => DiscoveryStrategy::Kademlia,
                        "zookeeper" => DiscoveryStrategy::ZooKeeper,
                        other => {
                            return Err(bad(format!(
                            "unknown discovery strategy '{other}' (Centralized, DHT, Kademlia or ZooKeeper)"
                        )))
                        }
                    }
                }
                "Dissemination" => out.dissemination = value.parse().map_err(bad)?,
                _ => {}
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_file() {
        let text = "[Discovery]\nStrategy=Centralized\n\n[Dissemination]\nStrategy=Direct\n";
        assert_eq!(
            Strategies::parse(text, "config.ini").unwrap(),
            Strategies::default()
        );
        let text = "# PA2\n[Discovery]\nstrategy : DHT ; the ring\n[Dissemination]\nSTRATEGY = Broker\n[Other]\nx = 1\n";
        assert_eq!(
            Strategies::parse(text, "c.ini").unwrap(),
            Strategies {
                discovery: DiscoveryStrategy::Chord,
                dissemination: Dissemination::Broker,
                groups: 1
            }
        );
        let text =
            "[Discovery]\nStrategy = ZooKeeper\n[Dissemination]\nStrategy = Broker\nGroups = 3\n";
        assert_eq!(
            Strategies::parse(text, "c.ini").unwrap(),
            Strategies {
                discovery: DiscoveryStrategy::ZooKeeper,
                dissemination: Dissemination::Broker,
                groups: 3
            }
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = Strategies::parse("[Discovery]\nStrategy = Gossip\n", "config.ini").unwrap_err();
        assert_eq!(
            e.to_string(),
            "config.ini:2: unknown discovery strategy 'gossip' (Centralized, DHT, Kademlia or ZooKeeper)"
        );
        let e = Strategies::parse("[Dissemination]\nGroups = 0\n", "c.ini").unwrap_err();
        assert_eq!(e.to_string(), "c.ini:2: Groups must be 1-9, not '0'");
        let e = Strategies::parse("[Dissemination]\n\nStrategy = Flood\n", "c.ini").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.ini:3: unknown dissemination strategy 'flood' (Direct or Broker)"
        );
        let e = Strategies::parse("[Discovery]\njunk\n", "c.ini").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.ini:2: expected `[Section]` or `key = value`, found `junk`"
        );
        assert!(Strategies::read(Path::new("/nonexistent/config.ini"))
            .unwrap_err()
            .to_string()
            .starts_with("/nonexistent/config.ini: cannot read:"));
    }
}
