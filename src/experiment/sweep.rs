//! `[sweep]`: one parameter's values multiply the variants — a topology
//! override (`set`) for topology variants, `{x}` in app sets' `args` and
//! `count` (copies of an app) — with one `expect` per value.

use serde::Deserialize;
use toml::Spanned;

use super::apps;
use super::file::Ctx;
use super::model::Variant;

/// `[sweep]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSweep {
    pub(super) name: String,
    pub(super) set: Option<Spanned<String>>,
    pub(super) values: Spanned<Vec<toml::Value>>,
    pub(super) expect: Option<Spanned<Vec<u64>>>,
}

/// Replaces `variants` by every variant × every value; returns the swept
/// parameter's name (the x axis).
pub(super) fn expand(cx: &mut Ctx<'_>, s: RawSweep, variants: &mut Vec<Variant>) -> String {
    let values = s.values.get_ref();
    let mut xs = Vec::new();
    for v in values {
        match v.as_float().or(v.as_integer().map(|i| i as f64)) {
            Some(x) => xs.push((x, v.to_string())),
            None => cx.error(s.values.span(), "sweep `values` must be numbers"),
        }
    }
    if xs.is_empty() {
        cx.error(s.values.span(), "sweep `values` is empty");
    }
    if let Some(e) = &s.expect {
        if e.get_ref().len() != xs.len() {
            cx.error(e.span(), "sweep `expect` needs one count per value");
        }
    }
    if let Some(set) = s.set.as_ref().filter(|set| !set.get_ref().contains('.')) {
        cx.error(
            set.span(),
            "sweep `set` must be a path NODE.ACTOR.PARAM or NODE.FIELD",
        );
    }
    let base = std::mem::take(variants);
    for b in base {
        for (i, (x, text)) in xs.iter().enumerate() {
            let mut v = b.clone();
            v.name = if b.name == "default" {
                format!("{}={text}", s.name)
            } else {
                format!("{} {}={text}", b.name, s.name)
            };
            if let Some(set) = &s.set {
                if v.apps.is_empty() {
                    v.set.push(format!("{}={text}", set.get_ref()));
                }
            }
            v.x = Some(*x);
            if let Some(e) = s.expect.as_ref().and_then(|e| e.get_ref().get(i)) {
                v.expect = Some(*e);
            }
            if !v.apps.is_empty() {
                apps::instantiate(cx, &mut v, Some(text));
            }
            variants.push(v);
        }
    }
    s.name
}

/// A number as `{x}` writes it: `4`, not `4.0`.
pub(super) fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}
