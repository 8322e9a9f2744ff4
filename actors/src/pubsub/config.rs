//! The course's `config.ini`, read as Python's `configparser` reads it:
//! `[Section]` headers, `key = value` or `key: value`, case-insensitive keys,
//! `#` and `;` comment lines.
//!
//! ```ini
//! [Discovery]
//! Strategy = Centralized   ; or DHT (the Chord ring; `Chord` too) or Kademlia
//! [Dissemination]
//! Strategy = Direct        ; or Broker
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
}

/// The strategies a `config.ini` chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Strategies {
    /// `[Discovery] Strategy`.
    pub discovery: DiscoveryStrategy,
    /// `[Dissemination] Strategy`.
    pub dissemination: Dissemination,
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
            if !key.trim().eq_ignore_ascii_case("strategy") {
                continue;
            }
            let bad = |reason: String| ConfigError::Value {
                path: path.into(),
                line: at,
                reason,
            };
            match section.as_str() {
                "Discovery" => {
                    out.discovery = match value.to_ascii_lowercase().as_str() {
                        "centralized" => DiscoveryStrategy::Centralized,
                        "dht" | "chord" => DiscoveryStrategy::Chord,
                        "kademlia" => DiscoveryStrategy::Kademlia,
                        other => {
                            return Err(bad(format!(
                            "unknown discovery strategy '{other}' (Centralized, DHT or Kademlia)"
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
                dissemination: Dissemination::Broker
            }
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = Strategies::parse("[Discovery]\nStrategy = Gossip\n", "config.ini").unwrap_err();
        assert_eq!(
            e.to_string(),
            "config.ini:2: unknown discovery strategy 'gossip' (Centralized, DHT or Kademlia)"
        );
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
