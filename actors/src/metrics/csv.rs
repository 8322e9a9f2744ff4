//! The CSV results format: one row per field of a point.
//!
//! ```text
//! time_ns,measurement,tags,field,value
//! 1700000000000000000,latency,subscriber=stats;topic=weather,us,12.5
//! ```
//!
//! Cells are quoted as RFC 4180 says (a cell holding a comma, quote or
//! newline is put in `"..."` with quotes doubled). The `tags` cell is
//! `key=value` pairs joined by `;`, with `\`, `;` and `=` escaped by a
//! backslash. The `value` cell is the field value as line protocol writes it
//! (`12.5`, `3i`, `true`, `"text"`), so types survive a round trip.

use std::fmt::Write as _;

use super::line_protocol::{self, Dialect, EncodeError, ParseError, ParseReason};
use super::point::{Field, Point};

/// The header row.
pub const HEADER: &str = "time_ns,measurement,tags,field,value\n";

fn cell(out: &mut String, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

fn tag_escape(out: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(c, '\\' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Appends the rows of `point` (one per field) to `out`.
pub fn encode(point: &Point, out: &mut String) -> Result<(), EncodeError> {
    line_protocol::validate(point, Dialect::V2)?;
    let mut tags = String::new();
    for (i, (k, v)) in point.tags.iter().enumerate() {
        if i > 0 {
            tags.push(';');
        }
        tag_escape(&mut tags, k);
        tags.push('=');
        tag_escape(&mut tags, v);
    }
    for (k, v) in &point.fields {
        let _ = write!(out, "{},", point.time_ns);
        cell(out, &point.measurement);
        out.push(',');
        cell(out, &tags);
        out.push(',');
        cell(out, k);
        out.push(',');
        let value = match v {
            Field::Float(f) => format!("{f}"),
            Field::Int(i) => format!("{i}i"),
            Field::Bool(b) => b.to_string(),
            Field::Str(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        };
        cell(out, &value);
        out.push('\n');
    }
    Ok(())
}

/// Splits one CSV record into cells, reading quoted cells; returns the cells
/// and the bytes consumed (a quoted cell may span lines).
fn record(text: &str) -> Result<(Vec<String>, usize), usize> {
    let mut cells = vec![String::new()];
    let mut chars = text.char_indices().peekable();
    let mut quoted = false;
    while let Some((i, c)) = chars.next() {
        let cur = cells.last_mut().ok_or(i)?;
        if quoted {
            if c == '"' {
                if chars.peek().map(|&(_, n)| n) == Some('"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' if cur.is_empty() => quoted = true,
            ',' => cells.push(String::new()),
            '\n' => return Ok((cells, i + 1)),
            '\r' => {}
            _ => cur.push(c),
        }
    }
    if quoted {
        return Err(text.len());
    }
    Ok((cells, text.len()))
}

fn split_tags(cell: &str) -> Option<Vec<(String, String)>> {
    let mut tags = Vec::new();
    if cell.is_empty() {
        return Some(tags);
    }
    let (mut key, mut value, mut in_value) = (String::new(), String::new(), false);
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        let target = if in_value { &mut value } else { &mut key };
        match c {
            '\\' => target.push(chars.next()?),
            '=' if !in_value => in_value = true,
            ';' if in_value => {
                tags.push((std::mem::take(&mut key), std::mem::take(&mut value)));
                in_value = false;
            }
            '=' | ';' => return None,
            _ => target.push(c),
        }
    }
    if !in_value {
        return None;
    }
    tags.push((key, value));
    Some(tags)
}

/// Why a CSV results file does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// A record does not have the five cells.
    #[error("line {line}: expected 5 cells (time_ns,measurement,tags,field,value), found {found}")]
    Cells {
        /// 1-based line.
        line: usize,
        /// Cells found.
        found: usize,
    },
    /// A quoted cell is not closed.
    #[error("line {line}: unclosed quoted cell")]
    Unclosed {
        /// 1-based line.
        line: usize,
    },
    /// The time is not an integer.
    #[error("line {line}: bad time_ns `{text}`")]
    Time {
        /// 1-based line.
        line: usize,
        /// The cell.
        text: String,
    },
    /// The tags cell is not `k=v;k=v`.
    #[error("line {line}: bad tags `{text}`")]
    Tags {
        /// 1-based line.
        line: usize,
        /// The cell.
        text: String,
    },
    /// The value cell is not a line-protocol field value.
    #[error("line {line}: bad value: {error}")]
    Value {
        /// 1-based line.
        line: usize,
        /// Why.
        error: ParseError,
    },
}

/// Reads a CSV results file back into points (rows of the same point, which
/// follow each other, are merged).
pub fn parse(text: &str) -> Result<Vec<Point>, CsvError> {
    let mut points: Vec<Point> = Vec::new();
    let mut rest = text;
    let mut line = 1;
    while !rest.is_empty() {
        let (cells, used) = record(rest).map_err(|_| CsvError::Unclosed { line })?;
        let this_line = line;
        line += rest[..used].matches('\n').count();
        rest = &rest[used..];
        if cells.len() == 1 && cells[0].is_empty() {
            continue;
        }
        if cells.len() != 5 {
            return Err(CsvError::Cells {
                line: this_line,
                found: cells.len(),
            });
        }
        if cells[0] == "time_ns" {
            continue;
        }
        let time_ns = cells[0].parse().map_err(|_| CsvError::Time {
            line: this_line,
            text: cells[0].clone(),
        })?;
        let tags = split_tags(&cells[2]).ok_or_else(|| CsvError::Tags {
            line: this_line,
            text: cells[2].clone(),
        })?;
        // Read the value with the line-protocol parser, as a one-field line.
        let probe = format!("m f={} 0", cells[4]);
        let value = line_protocol::parse_line(&probe, Dialect::V2)
            .map_err(|error| CsvError::Value {
                line: this_line,
                error,
            })?
            .fields
            .remove("f")
            .ok_or(CsvError::Value {
                line: this_line,
                error: ParseError {
                    column: 1,
                    reason: ParseReason::Empty(line_protocol::Part::FieldValue),
                },
            })?;
        let same = points.last().is_some_and(|p| {
            p.time_ns == time_ns
                && p.measurement == cells[1]
                && p.tags.len() == tags.len()
                && tags.iter().all(|(k, v)| p.tags.get(k) == Some(v))
                && !p.fields.contains_key(&cells[3])
        });
        if !same {
            let mut p = Point::new(cells[1].clone(), time_ns);
            p.tags.extend(tags);
            points.push(p);
        }
        if let Some(p) = points.last_mut() {
            p.fields.insert(cells[3].clone(), value);
        }
    }
    Ok(points)
}
