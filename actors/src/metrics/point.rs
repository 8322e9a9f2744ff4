//! [`Point`]: one measurement (name, tags, fields, timestamp), the message every
//! sender gives the reporter.

use std::collections::BTreeMap;

use actix::Message;
use serde::{Deserialize, Serialize};

/// The value of one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Field {
    /// A float (line protocol `1.5`); must be finite.
    Float(f64),
    /// A signed integer (line protocol `15i`).
    Int(i64),
    /// A boolean (line protocol `true` / `false`).
    Bool(bool),
    /// A string (line protocol `"..."`).
    Str(String),
}

impl Field {
    /// The value as a float, if it is a number (for percentiles and plots).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Field::Float(v) => Some(*v),
            Field::Int(v) => Some(*v as f64),
            Field::Bool(_) | Field::Str(_) => None,
        }
    }
}

impl From<f64> for Field {
    fn from(v: f64) -> Self {
        Field::Float(v)
    }
}
impl From<i64> for Field {
    fn from(v: i64) -> Self {
        Field::Int(v)
    }
}
impl From<u32> for Field {
    fn from(v: u32) -> Self {
        Field::Int(i64::from(v))
    }
}
impl From<bool> for Field {
    fn from(v: bool) -> Self {
        Field::Bool(v)
    }
}
impl From<&str> for Field {
    fn from(v: &str) -> Self {
        Field::Str(v.to_owned())
    }
}
impl From<String> for Field {
    fn from(v: String) -> Self {
        Field::Str(v)
    }
}

/// One measurement at one instant: what InfluxDB calls a point.
///
/// Tags and fields are kept sorted by key (InfluxDB's preferred order). The
/// timestamp is in nanoseconds since the Unix epoch. Whether a point can be
/// written (non-empty names, at least one field, finite floats, no newlines)
/// is checked when it is encoded, by [`line_protocol::encode`](super::line_protocol::encode).
///
/// ```
/// use rolecall_actors::metrics::{Field, Point};
/// let p = Point::new("latency", 1_700_000_000_000_000_000)
///     .tag("topic", "weather")
///     .field("us", 12.5);
/// assert_eq!(p.fields["us"], Field::Float(12.5));
/// ```
#[derive(Debug, Clone, PartialEq, Message, Serialize, Deserialize)]
#[rtype(result = "()")]
pub struct Point {
    /// Measurement name.
    pub measurement: String,
    /// Tag set (indexed strings).
    pub tags: BTreeMap<String, String>,
    /// Field set (at least one to be writable).
    pub fields: BTreeMap<String, Field>,
    /// Nanoseconds since the Unix epoch.
    pub time_ns: i64,
}

impl Point {
    /// A point with no tags and no fields yet.
    pub fn new(measurement: impl Into<String>, time_ns: i64) -> Self {
        Point {
            measurement: measurement.into(),
            tags: BTreeMap::new(),
            fields: BTreeMap::new(),
            time_ns,
        }
    }

    /// A point stamped with the current time.
    pub fn now(measurement: impl Into<String>) -> Self {
        Self::new(measurement, now_ns())
    }

    /// Adds (or replaces) a tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// Adds (or replaces) a field.
    pub fn field(mut self, key: impl Into<String>, value: impl Into<Field>) -> Self {
        self.fields.insert(key.into(), value.into());
        self
    }
}

/// Nanoseconds since the Unix epoch, now.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
