//! Reading spanned TOML tables: typed getters that report wrong types and
//! unknown keys as diagnostics instead of failing.

use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::duration;
use super::source::{Diagnostic, SourceMap};

pub(crate) type Span = Range<usize>;

/// Collects diagnostics while reading.
pub(crate) struct Reader<'s> {
    pub(crate) src: &'s SourceMap,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// The entry `key` of `table`, with the key's span.
pub(crate) fn entry<'t, 'i>(
    table: &'t DeTable<'i>,
    key: &str,
) -> Option<(Span, &'t Spanned<DeValue<'i>>)> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(k, v)| (k.span(), v))
}

/// What a TOML value is, for messages.
pub(crate) fn type_name(v: &DeValue<'_>) -> &'static str {
    v.type_str()
}

/// The closest of `known` to `word`, if close enough to suggest.
pub(crate) fn suggest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (distance(word, k), k))
        .filter(|(d, k)| {
            *d <= 2.max(k.len() / 3)
                || (word.len() >= 3 && k.len() >= 3 && (k.starts_with(word) || word.starts_with(k)))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl<'s> Reader<'s> {
    pub(crate) fn new(src: &'s SourceMap) -> Self {
        Reader {
            src,
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, span: Option<Span>, message: String, help: Option<String>) {
        self.diagnostics
            .push(self.src.diagnostic(span, message, help));
    }

    /// Reports keys of `table` that are not in `allowed`.
    pub(crate) fn unknown_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], what: &str) {
        for (k, _) in table.iter() {
            let key = k.get_ref().as_ref();
            if !allowed.contains(&key) {
                let help = match suggest(key, allowed.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("{what} takes: {}", allowed.join(", ")),
                };
                self.error(
                    Some(k.span()),
                    format!("unknown key `{key}` in {what}"),
                    Some(help),
                );
            }
        }
    }

    fn wrong_type(&mut self, key: &str, what: &str, expected: &str, v: &Spanned<DeValue<'_>>) {
        self.error(
            Some(v.span()),
            format!(
                "`{key}` in {what} must be {expected}, not {}",
                type_name(v.get_ref())
            ),
            None,
        );
    }

    /// A table entry that must be a table.
    pub(crate) fn table<'t, 'i>(
        &mut self,
        v: &'t Spanned<DeValue<'i>>,
        key: &str,
        what: &str,
    ) -> Option<&'t DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong_type(key, what, "a table", v);
                None
            }
        }
    }

    /// An optional string entry.
    pub(crate) fn string(
        &mut self,
        t: &DeTable<'_>,
        key: &str,
        what: &str,
    ) -> Option<(String, Span)> {
        let (_, v) = entry(t, key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span())),
            _ => {
                self.wrong_type(key, what, "a string", v);
                None
            }
        }
    }

    /// An optional string, or array of strings, entry.
    pub(crate) fn strings(
        &mut self,
        t: &DeTable<'_>,
        key: &str,
        what: &str,
    ) -> Option<Vec<(String, Span)>> {
        let (_, v) = entry(t, key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(vec![(s.to_string(), v.span())]),
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push((s.to_string(), item.span())),
                        _ => self.wrong_type(key, what, "a string or an array of strings", item),
                    }
                }
                Some(out)
            }
            _ => {
                self.wrong_type(key, what, "a string or an array of strings", v);
                None
            }
        }
    }

    /// An optional integer entry within `range`.
    pub(crate) fn integer(
        &mut self,
        t: &DeTable<'_>,
        key: &str,
        what: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<(i64, Span)> {
        let (_, v) = entry(t, key)?;
        if !matches!(v.get_ref(), DeValue::Integer(_)) {
            self.wrong_type(key, what, "an integer", v);
            return None;
        }
        match i64::deserialize(ValueDeserializer::from(v.clone())) {
            Ok(n) if range.contains(&n) => Some((n, v.span())),
            Ok(n) => {
                self.error(
                    Some(v.span()),
                    format!(
                        "`{key}` in {what} is {n}, outside {}..={}",
                        range.start(),
                        range.end()
                    ),
                    None,
                );
                None
            }
            Err(e) => {
                self.error(
                    Some(v.span()),
                    format!("`{key}` in {what}: {}", e.message()),
                    None,
                );
                None
            }
        }
    }

    /// An optional number (integer or float) entry within `range`.
    pub(crate) fn number(
        &mut self,
        t: &DeTable<'_>,
        key: &str,
        what: &str,
        range: std::ops::RangeInclusive<f64>,
    ) -> Option<f64> {
        let (_, v) = entry(t, key)?;
        let n = match v.get_ref() {
            DeValue::Integer(_) => i64::deserialize(ValueDeserializer::from(v.clone()))
                .ok()
                .map(|i| i as f64),
            DeValue::Float(_) => f64::deserialize(ValueDeserializer::from(v.clone())).ok(),
            _ => None,
        };
        match n {
            Some(n) if range.contains(&n) => Some(n),
            Some(n) => {
                self.error(
                    Some(v.span()),
                    format!(
                        "`{key}` in {what} is {n}, outside {}..={}",
                        range.start(),
                        range.end()
                    ),
                    None,
                );
                None
            }
            None => {
                self.wrong_type(key, what, "a number", v);
                None
            }
        }
    }

    /// An optional duration entry (`"250ms"`, `"5s"`).
    pub(crate) fn duration(&mut self, t: &DeTable<'_>, key: &str, what: &str) -> Option<Duration> {
        let (text, span) = self.string(t, key, what)?;
        match duration::parse(&text) {
            Ok(d) => Some(d),
            Err(problem) => {
                self.error(Some(span), format!("`{key}` in {what}: {problem}"), None);
                None
            }
        }
    }
}
