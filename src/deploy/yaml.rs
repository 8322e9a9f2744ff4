//! A small YAML writer for generated manifests: block style; every string
//! value double-quoted (JSON escapes are valid YAML), so no value is ever
//! read back as another type (`"yes"`, `"1.0"`, `"null"` stay strings);
//! multi-line text as a literal block (`|`); keys plain when unambiguous.

use serde_json::Value;

/// `value` as a YAML document (without the leading `---`).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0, false);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Several documents separated by `---`.
pub fn to_yaml_stream(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| format!("---\n{}", to_yaml(v)))
        .collect()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(quote(s)),
        Value::Array(a) if a.is_empty() => Some("[]".into()),
        Value::Object(o) if o.is_empty() => Some("{}".into()),
        _ => None,
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A key is written plain when it cannot be read as anything but a string.
fn key(k: &str) -> String {
    let plain = k
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        k.to_owned()
    } else {
        quote(k)
    }
}

/// Multi-line text as a literal block, when it can be one exactly.
fn literal(s: &str, indent: usize) -> Option<String> {
    if !s.contains('\n')
        || s.starts_with([' ', '\n'])
        || s.chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{feff}')
        || s.lines().any(|l| l.ends_with(' '))
    {
        return None;
    }
    let body = s.trim_end_matches('\n');
    let chomp = match s.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let mut out = format!("|{chomp}\n");
    for line in s.split_inclusive('\n') {
        if line != "\n" {
            pad(&mut out, indent);
        }
        out.push_str(line);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Some(out)
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Writes `v` at `indent`; `inline` when the caller already wrote a `- `
/// on the current line (the first key goes there).
fn write_value(out: &mut String, v: &Value, indent: usize, inline: bool) {
    if let Some(s) = scalar(v) {
        out.push_str(&s);
        out.push('\n');
        return;
    }
    match v {
        Value::Object(map) => {
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 || !inline {
                    pad(out, indent);
                }
                out.push_str(&key(k));
                out.push(':');
                if let Some(block) = item.as_str().and_then(|s| literal(s, indent + 2)) {
                    out.push(' ');
                    out.push_str(&block);
                    continue;
                }
                match scalar(item) {
                    Some(s) => {
                        out.push(' ');
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => {
                        out.push('\n');
                        write_value(out, item, indent + 2, false);
                    }
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 || !inline {
                    pad(out, indent);
                }
                out.push_str("- ");
                match scalar(item) {
                    Some(s) => {
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => write_value(out, item, indent + 2, true),
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nested_maps_and_lists() {
        let v = json!({"a": 1, "b": ["x", {"c": true, "d": []}], "e": {"f": "yes"}});
        assert_eq!(
            to_yaml(&v),
            "a: 1\nb:\n  - \"x\"\n  - c: true\n    d: []\ne:\n  f: \"yes\"\n"
        );
    }

    #[test]
    fn lists_of_lists_and_escapes() {
        let v = json!({"l": [["a", "b"], {}], "s": "two\nlines \"q\""});
        assert_eq!(
            to_yaml(&v),
            "l:\n  - - \"a\"\n    - \"b\"\n  - {}\ns: |-\n  two\n  lines \"q\"\n"
        );
    }

    #[test]
    fn ambiguous_keys_are_quoted_and_blocks_keep_newlines() {
        let v = json!({"on": 1, "8558": 2, "t": "a\n\nb\n", "u": "x\n\n", "w": " lead\n"});
        assert_eq!(
            to_yaml(&v),
            "\"8558\": 2\n\"on\": 1\nt: |\n  a\n\n  b\nu: |+\n  x\n\nw: \" lead\\n\"\n"
        );
    }
}
