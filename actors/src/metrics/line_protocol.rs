//! InfluxDB line protocol: encoding [`Point`]s and parsing them back.
//!
//! ```text
//! measurement[,tag_key=tag_value...] field_key=field_value[,...] timestamp_ns
//! ```
//!
//! Escaping follows InfluxDB's line-protocol reference:
//!
//! | element | escaped with `\` |
//! |---|---|
//! | measurement | comma, space |
//! | tag keys, tag values, field keys | comma, equals sign, space |
//! | string field values (in `"..."`) | double quote, backslash |
//!
//! Two dialects differ only in backslashes inside measurements, tags and field
//! keys. [`Dialect::V2`] (InfluxDB 2 and VictoriaMetrics) reads `\\` as one
//! backslash, so a backslash is written as `\\`. [`Dialect::V1`] (InfluxDB
//! 1.x) keeps every backslash literally and has no way to write one that ends
//! a name or stands before a comma, equals sign or space: such a point is
//! refused with [`EncodeError::Unrepresentable`] rather than written wrong.
//! Line protocol has no escape for a newline in any element, so a newline (or
//! carriage return) anywhere is refused with [`EncodeError::Newline`]. Unicode
//! passes through as UTF-8. Floats are written in their shortest round-trip
//! form (`ryu`: `20.0`, `0.25`, `1e16`, `1.5e-7`; both servers read the
//! exponent form), integers with the `i` suffix.

use super::point::{Field, Point};

/// Which server's reading of backslashes to write for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// InfluxDB 1.x: backslashes in names and tags are literal.
    V1,
    /// InfluxDB 2 (and VictoriaMetrics): `\\` is one backslash.
    #[default]
    V2,
}

/// The part of a point an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The measurement name.
    Measurement,
    /// A tag key.
    TagKey,
    /// A tag value.
    TagValue,
    /// A field key.
    FieldKey,
    /// A field value.
    FieldValue,
    /// The timestamp.
    Timestamp,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Measurement => "measurement",
            Part::TagKey => "tag key",
            Part::TagValue => "tag value",
            Part::FieldKey => "field key",
            Part::FieldValue => "field value",
            Part::Timestamp => "timestamp",
        })
    }
}

/// Why a point cannot be written as line protocol.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    /// The measurement, a tag key, a tag value or a field key is empty.
    #[error("point `{measurement}`: empty {part}{}", key_suffix(.key))]
    Empty {
        /// Measurement of the point.
        measurement: String,
        /// Which part is empty.
        part: Part,
        /// The key it belongs to, if any.
        key: Option<String>,
    },
    /// A point needs at least one field.
    #[error("point `{measurement}` has no field: line protocol needs at least one")]
    NoFields {
        /// Measurement of the point.
        measurement: String,
    },
    /// Line protocol cannot carry a newline or carriage return.
    #[error("point `{measurement}`: newline in {part}{}: line protocol cannot carry it", key_suffix(.key))]
    Newline {
        /// Measurement of the point.
        measurement: String,
        /// Where the newline is.
        part: Part,
        /// The key it belongs to, if any.
        key: Option<String>,
    },
    /// NaN or an infinity in a float field.
    #[error("point `{measurement}`: field `{key}` is {value}: only finite floats can be written")]
    NotFinite {
        /// Measurement of the point.
        measurement: String,
        /// Field key.
        key: String,
        /// The value.
        value: f64,
    },
    /// InfluxDB 1.x cannot read this backslash back (it ends the element or
    /// stands before a comma, equals sign or space).
    #[error("point `{measurement}`: {part} `{text}` has a backslash that InfluxDB 1.x cannot read back (at the end or before a comma, equals sign or space)")]
    Unrepresentable {
        /// Measurement of the point.
        measurement: String,
        /// Which part.
        part: Part,
        /// The text.
        text: String,
    },
}

fn key_suffix(key: &Option<String>) -> String {
    key.as_ref()
        .map(|k| format!(" of `{k}`"))
        .unwrap_or_default()
}

/// What went wrong reading a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseReason {
    /// The line ended before this part.
    #[error("line ended before the {0}")]
    Truncated(Part),
    /// This part is empty.
    #[error("empty {0}")]
    Empty(Part),
    /// A tag has no `=`.
    #[error("tag without `=`")]
    TagWithoutValue,
    /// A field has no `=`.
    #[error("field without `=`")]
    FieldWithoutValue,
    /// A string field value has no closing quote.
    #[error("string field value without closing quote")]
    UnclosedString,
    /// A field value is not a float, integer, boolean or string.
    #[error("bad field value `{0}`")]
    BadFieldValue(String),
    /// The timestamp is not an integer.
    #[error("bad timestamp `{0}`")]
    BadTimestamp(String),
    /// Characters after the timestamp.
    #[error("unexpected text after the timestamp")]
    Trailing,
}

/// A line that is not valid line protocol: where (byte column, from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {reason}")]
pub struct ParseError {
    /// Byte column (1-based) where the problem was found.
    pub column: usize,
    /// What is wrong.
    pub reason: ParseReason,
}

const MEASUREMENT: &[char] = &[',', ' '];
const KEY: &[char] = &[',', '=', ' '];

/// Bytes that send a measurement ([`MEASUREMENT_CAREFUL`]) or a key or tag
/// value ([`KEY_CAREFUL`]) off the copy-as-is path of [`encode`]: its
/// specials, backslash, newline and carriage return.
const MEASUREMENT_CAREFUL: [bool; 256] = careful_bytes(MEASUREMENT);
const KEY_CAREFUL: [bool; 256] = careful_bytes(KEY);

const fn careful_bytes(specials: &[char]) -> [bool; 256] {
    let mut table = [false; 256];
    table[b'\\' as usize] = true;
    table[b'\n' as usize] = true;
    table[b'\r' as usize] = true;
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] = true;
        i += 1;
    }
    table
}

fn escape(out: &mut String, text: &str, specials: &[char], dialect: Dialect) {
    let needs =
        |b: &u8| specials.contains(&char::from(*b)) || (*b == b'\\' && dialect == Dialect::V2);
    if !text.as_bytes().iter().any(needs) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        if specials.contains(&c) || (c == '\\' && dialect == Dialect::V2) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Checks that `point` can be written in `dialect` (by encoding it into a
/// scratch line: the checks are [`encode`]'s own).
pub fn validate(point: &Point, dialect: Dialect) -> Result<(), EncodeError> {
    encode(point, dialect, &mut String::with_capacity(128))
}

/// Appends `point` as one line (with its `\n`) to `out`; on error `out` is unchanged.
///
/// One pass over each element: text with nothing to escape (the common case)
/// is copied as it is; anything else is checked and escaped character by
/// character. Errors are found in the order of the line: measurement, tags,
/// fields.
pub fn encode(point: &Point, dialect: Dialect, out: &mut String) -> Result<(), EncodeError> {
    let start = out.len();
    let result = encode_into(point, dialect, out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn encode_into(point: &Point, dialect: Dialect, out: &mut String) -> Result<(), EncodeError> {
    let p = point;
    put(
        out,
        &p.measurement,
        Part::Measurement,
        None,
        MEASUREMENT,
        p,
        dialect,
    )?;
    for (k, v) in &p.tags {
        out.push(',');
        put(out, k, Part::TagKey, Some(k), KEY, p, dialect)?;
        out.push('=');
        put(out, v, Part::TagValue, Some(k), KEY, p, dialect)?;
    }
    if p.fields.is_empty() {
        return Err(EncodeError::NoFields {
            measurement: p.measurement.clone(),
        });
    }
    let mut sep = ' ';
    for (k, v) in &p.fields {
        out.push(sep);
        sep = ',';
        put(out, k, Part::FieldKey, Some(k), KEY, p, dialect)?;
        out.push('=');
        match v {
            Field::Float(f) if !f.is_finite() => {
                return Err(EncodeError::NotFinite {
                    measurement: p.measurement.clone(),
                    key: k.clone(),
                    value: *f,
                })
            }
            Field::Float(f) => out.push_str(ryu::Buffer::new().format_finite(*f)),
            Field::Int(i) => {
                push_int(out, *i);
                out.push('i');
            }
            Field::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Field::Str(s) => {
                if s.contains(['\n', '\r']) {
                    return Err(EncodeError::Newline {
                        measurement: p.measurement.clone(),
                        part: Part::FieldValue,
                        key: Some(k.clone()),
                    });
                }
                out.push('"');
                for c in s.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
        }
    }
    out.push(' ');
    push_int(out, p.time_ns);
    out.push('\n');
    Ok(())
}

/// Appends one measurement, key or tag value: copied as it is when no byte
/// needs attention, else checked (empty, newline, a backslash InfluxDB 1.x
/// cannot read back) and escaped.
fn put(
    out: &mut String,
    text: &str,
    part: Part,
    key: Option<&str>,
    specials: &[char],
    point: &Point,
    dialect: Dialect,
) -> Result<(), EncodeError> {
    let careful = if specials == KEY {
        &KEY_CAREFUL
    } else {
        &MEASUREMENT_CAREFUL
    };
    let plain = !text.is_empty() && !text.bytes().any(|b| careful[usize::from(b)]);
    if plain {
        out.push_str(text);
        return Ok(());
    }
    if text.is_empty() {
        return Err(EncodeError::Empty {
            measurement: point.measurement.clone(),
            part,
            key: key.map(str::to_owned),
        });
    }
    // One pass over the bytes: the characters looked for are all ASCII, and
    // no byte of a multi-byte UTF-8 character is ASCII.
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\n' | b'\r' => {
                return Err(EncodeError::Newline {
                    measurement: point.measurement.clone(),
                    part,
                    key: key.map(str::to_owned),
                })
            }
            b'\\'
                if dialect == Dialect::V1
                    && bytes
                        .get(i + 1)
                        .is_none_or(|&n| specials.contains(&char::from(n))) =>
            {
                // a newline later in the text is still reported as such
                if text.contains(['\n', '\r']) {
                    continue;
                }
                return Err(EncodeError::Unrepresentable {
                    measurement: point.measurement.clone(),
                    part,
                    text: text.to_owned(),
                });
            }
            _ => {}
        }
    }
    escape(out, text, specials, dialect);
    Ok(())
}

/// Appends an integer in decimal, without going through `fmt`.
fn push_int(out: &mut String, value: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push('-');
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// One point as a line (with its `\n`).
pub fn to_line(point: &Point, dialect: Dialect) -> Result<String, EncodeError> {
    let mut s = String::new();
    encode(point, dialect, &mut s)?;
    Ok(s)
}

struct Cursor<'a> {
    line: &'a str,
    pos: usize,
    dialect: Dialect,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.line[self.pos..].chars().next()
    }

    fn err(&self, reason: ParseReason) -> ParseError {
        ParseError {
            column: self.pos + 1,
            reason,
        }
    }

    /// Reads an escaped element up to an unescaped char of `stops` (not consumed).
    fn element(&mut self, specials: &[char], stops: &[char]) -> String {
        let mut out = String::new();
        let rest = &self.line[self.pos..];
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '\\' {
                if let Some(&(_, n)) = chars.peek() {
                    let escapes =
                        specials.contains(&n) || (n == '\\' && self.dialect == Dialect::V2);
                    if escapes {
                        out.push(n);
                        chars.next();
                        continue;
                    }
                }
                out.push(c);
                continue;
            }
            if stops.contains(&c) {
                self.pos += i;
                return out;
            }
            out.push(c);
        }
        self.pos = self.line.len();
        out
    }

    fn expect_nonempty(&self, text: &str, part: Part, start: usize) -> Result<(), ParseError> {
        if text.is_empty() {
            return Err(ParseError {
                column: start + 1,
                reason: ParseReason::Empty(part),
            });
        }
        Ok(())
    }

    fn field_value(&mut self) -> Result<Field, ParseError> {
        if self.peek() == Some('"') {
            self.pos += 1;
            let mut out = String::new();
            let rest = &self.line[self.pos..];
            let mut chars = rest.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.clone().next() {
                        Some((_, n)) if n == '"' || n == '\\' => {
                            out.push(n);
                            chars.next();
                        }
                        _ => out.push(c),
                    },
                    '"' => {
                        self.pos += i + 1;
                        return Ok(Field::Str(out));
                    }
                    _ => out.push(c),
                }
            }
            return Err(self.err(ParseReason::UnclosedString));
        }
        let start = self.pos;
        let end = self.line[start..]
            .find([',', ' '])
            .map_or(self.line.len(), |i| start + i);
        let token = &self.line[start..end];
        self.pos = end;
        let bad = || ParseError {
            column: start + 1,
            reason: ParseReason::BadFieldValue(token.to_owned()),
        };
        match token {
            "t" | "T" | "true" | "True" | "TRUE" => Ok(Field::Bool(true)),
            "f" | "F" | "false" | "False" | "FALSE" => Ok(Field::Bool(false)),
            _ if token.ends_with('i') => token[..token.len() - 1]
                .parse()
                .map(Field::Int)
                .map_err(|_| bad()),
            _ => match token.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Field::Float(f)),
                _ => Err(bad()),
            },
        }
    }
}

/// Parses one line (without its newline) written in `dialect`.
pub fn parse_line(line: &str, dialect: Dialect) -> Result<Point, ParseError> {
    let mut c = Cursor {
        line,
        pos: 0,
        dialect,
    };
    let measurement = c.element(MEASUREMENT, &[',', ' ']);
    c.expect_nonempty(&measurement, Part::Measurement, 0)?;
    let mut point = Point::new(measurement, 0);
    while c.peek() == Some(',') {
        c.pos += 1;
        let start = c.pos;
        let key = c.element(KEY, &[',', '=', ' ']);
        c.expect_nonempty(&key, Part::TagKey, start)?;
        if c.peek() != Some('=') {
            return Err(c.err(ParseReason::TagWithoutValue));
        }
        c.pos += 1;
        let start = c.pos;
        let value = c.element(KEY, &[',', ' ']);
        c.expect_nonempty(&value, Part::TagValue, start)?;
        point.tags.insert(key, value);
    }
    if c.peek() != Some(' ') {
        return Err(c.err(ParseReason::Truncated(Part::FieldKey)));
    }
    loop {
        c.pos += 1;
        let start = c.pos;
        let key = c.element(KEY, &[',', '=', ' ']);
        c.expect_nonempty(&key, Part::FieldKey, start)?;
        if c.peek() != Some('=') {
            return Err(c.err(ParseReason::FieldWithoutValue));
        }
        c.pos += 1;
        let value = c.field_value()?;
        point.fields.insert(key, value);
        if c.peek() != Some(',') {
            break;
        }
    }
    if c.peek() != Some(' ') {
        return Err(c.err(ParseReason::Truncated(Part::Timestamp)));
    }
    c.pos += 1;
    let rest = &line[c.pos..];
    if rest.contains(' ') {
        return Err(ParseError {
            column: c.pos + rest.find(' ').unwrap_or(0) + 1,
            reason: ParseReason::Trailing,
        });
    }
    point.time_ns = rest
        .parse()
        .map_err(|_| c.err(ParseReason::BadTimestamp(rest.to_owned())))?;
    Ok(point)
}

/// Parses a whole text, one point per line; empty lines are skipped.
/// Errors carry the 1-based line number.
pub fn parse(text: &str, dialect: Dialect) -> Result<Vec<Point>, (usize, ParseError)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| parse_line(l, dialect).map_err(|e| (i + 1, e)))
        .collect()
}
