//! Durations in topology files: a number with a unit (`250ms`, `1.5s`, `2m`, `1h`).

use std::time::Duration;

/// Parses a duration; the error says what is accepted.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: write a number with a unit, e.g. \"250ms\", \"5s\", \"2m\""))?;
    let secs = match unit.trim() {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "" => {
            return Err(format!(
                "`{text}` has no unit: write e.g. \"{text}ms\" or \"{text}s\""
            ))
        }
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use ms, s, m or h"
            ))
        }
    };
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}
