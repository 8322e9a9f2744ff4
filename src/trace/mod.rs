//! Pictures of causal traces (`rolecall trace`): a space-time diagram with
//! one lane per actor, lanes grouped by node, time going down in
//! happens-before order (by Lamport clock), and an arrow per delivered
//! message. Restarts, drops and duplicates are marked. [`svg`] draws the
//! static picture; [`html`] wraps it in one self-contained page with a
//! filter and an event inspector.

mod html;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use rolecall_runtime::trace::{Event, Kind};

pub use html::html;

/// Width of a lane, px.
const LANE: f64 = 150.0;
/// Height of a row of the diagram, px.
const ROW: f64 = 28.0;
/// Space above the first row (node and actor labels), px.
const TOP: f64 = 64.0;
/// Space left of the first lane, px.
const LEFT: f64 = 40.0;

/// Where everything goes.
#[derive(Debug)]
pub(crate) struct Layout {
    /// (node, actor) per lane, in order.
    pub(crate) lanes: Vec<(String, String)>,
    /// Per event: (lane, row).
    pub(crate) at: Vec<(usize, usize)>,
    /// Per message arrow: (send event, receive event).
    pub(crate) arrows: Vec<(usize, usize)>,
    /// Rows.
    pub(crate) rows: usize,
}

impl Layout {
    /// Lays `events` (merged, in happens-before order) out.
    pub(crate) fn new(events: &[Event]) -> Self {
        let lanes: Vec<(String, String)> = events
            .iter()
            .filter(|e| e.kind != Kind::Truncated)
            .map(|e| (e.node.clone(), e.actor.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let lane_of: BTreeMap<(&str, &str), usize> = lanes
            .iter()
            .enumerate()
            .map(|(i, (n, a))| ((n.as_str(), a.as_str()), i))
            .collect();
        // A row per distinct Lamport time: happens-before goes down.
        let times: BTreeSet<u64> = events.iter().map(|e| e.lamport).collect();
        let row_of: BTreeMap<u64, usize> = times.iter().enumerate().map(|(i, t)| (*t, i)).collect();
        let at = events
            .iter()
            .map(|e| {
                let lane = lane_of
                    .get(&(e.node.as_str(), e.actor.as_str()))
                    .copied()
                    .unwrap_or(0);
                (lane, row_of.get(&e.lamport).copied().unwrap_or(0))
            })
            .collect();
        let mut sends: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, e) in events.iter().enumerate() {
            if let (Kind::Send, Some(m)) = (e.kind, &e.msg) {
                sends.insert(m, i);
            }
        }
        let arrows = events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == Kind::Receive)
            .filter_map(|(i, e)| Some((*sends.get(e.msg.as_deref()?)?, i)))
            .collect();
        Layout {
            lanes,
            at,
            arrows,
            rows: times.len(),
        }
    }

    fn x(&self, lane: usize) -> f64 {
        LEFT + LANE * (lane as f64 + 0.5)
    }

    fn y(&self, row: usize) -> f64 {
        TOP + ROW * (row as f64 + 0.5)
    }

    fn width(&self) -> f64 {
        LEFT * 2.0 + LANE * self.lanes.len().max(1) as f64
    }

    fn height(&self) -> f64 {
        TOP + ROW * (self.rows.max(1) as f64 + 1.0)
    }
}

/// Escapes text for XML and HTML.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn color(kind: Kind) -> &'static str {
    match kind {
        Kind::Send => "#1f6fd1",
        Kind::Receive => "#2e9d4a",
        Kind::Handle => "#777777",
        Kind::Restart => "#d12f1f",
        Kind::Drop => "#d12f1f",
        Kind::Duplicate => "#e08a00",
        Kind::Truncated => "#000000",
    }
}

/// The space-time diagram of `events` (merged, in happens-before order) as
/// one SVG element. Events carry `data-i` (their index), `data-actor` and
/// `data-type`, arrows `data-from`, `data-to` and `data-type`, for the page's
/// script.
pub fn svg(events: &[Event]) -> String {
    let lay = Layout::new(events);
    let (w, h) = (lay.width(), lay.height());
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" id="diagram" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>
<rect width="{w}" height="{h}" fill="#ffffff"/>
"##
    );
    // Node groups: one box over the lanes of each node.
    let mut start = 0;
    while start < lay.lanes.len() {
        let node = &lay.lanes[start].0;
        let end = (start..lay.lanes.len())
            .find(|&i| lay.lanes[i].0 != *node)
            .unwrap_or(lay.lanes.len());
        let x0 = LEFT + LANE * start as f64 + 4.0;
        let gw = LANE * (end - start) as f64 - 8.0;
        let _ = writeln!(
            s,
            r##"<g class="node"><rect x="{x0}" y="6" width="{gw}" height="{}" rx="6" fill="#f3f5f9" stroke="#c9d1de"/><text x="{}" y="22" text-anchor="middle" font-weight="bold">{}</text></g>"##,
            h - 12.0,
            x0 + gw / 2.0,
            esc(node)
        );
        start = end;
    }
    for (i, (_, actor)) in lay.lanes.iter().enumerate() {
        let x = lay.x(i);
        let _ = writeln!(
            s,
            r##"<g class="lane" data-actor="{a}"><text x="{x}" y="44" text-anchor="middle">{a}</text><line x1="{x}" y1="52" x2="{x}" y2="{}" stroke="#9aa5b5" stroke-width="2"/></g>"##,
            h - 14.0,
            a = esc(actor)
        );
    }
    for &(from, to) in &lay.arrows {
        let (a, b) = (&events[from], &events[to]);
        let (x1, y1) = (lay.x(lay.at[from].0), lay.y(lay.at[from].1));
        let (x2, y2) = (lay.x(lay.at[to].0), lay.y(lay.at[to].1));
        let _ = writeln!(
            s,
            r##"<line class="msg" data-from="{}" data-to="{}" data-type="{}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{}" stroke="#444" stroke-width="1.3" marker-end="url(#arrow)"/>"##,
            esc(&a.actor),
            esc(&b.actor),
            esc(&a.msg_type),
            y2 - 5.0
        );
    }
    for (i, e) in events.iter().enumerate() {
        if e.kind == Kind::Truncated {
            continue;
        }
        let (x, y) = (lay.x(lay.at[i].0), lay.y(lay.at[i].1));
        let data = format!(
            r#"class="ev {}" data-i="{i}" data-actor="{}" data-type="{}""#,
            e.kind.name(),
            esc(&e.actor),
            esc(&e.msg_type)
        );
        let c = color(e.kind);
        match e.kind {
            Kind::Restart => {
                let _ = writeln!(
                    s,
                    r##"<g {data}><rect x="{}" y="{}" width="60" height="10" fill="{c}"/><text x="{}" y="{}" fill="{c}">restart</text></g>"##,
                    x - 30.0,
                    y - 5.0,
                    x + 34.0,
                    y + 4.0
                );
            }
            Kind::Drop | Kind::Duplicate => {
                let label = if e.kind == Kind::Drop {
                    "✕ drop"
                } else {
                    "×2 dup"
                };
                let _ = writeln!(
                    s,
                    r##"<g {data}><circle cx="{x}" cy="{y}" r="6" fill="{c}"/><text x="{}" y="{}" fill="{c}">{label} → {}</text></g>"##,
                    x + 9.0,
                    y + 4.0,
                    esc(e.peer.as_deref().unwrap_or("?"))
                );
            }
            Kind::Handle => {
                let _ = writeln!(
                    s,
                    r##"<g {data}><rect x="{}" y="{}" width="11" height="11" fill="{c}"/><text x="{}" y="{}" fill="{c}">{}</text></g>"##,
                    x - 5.5,
                    y - 5.5,
                    x + 9.0,
                    y + 4.0,
                    esc(&e.msg_type)
                );
            }
            _ => {
                let label = if e.kind == Kind::Send {
                    format!(
                        r#"<text x="{}" y="{}" fill="{c}" font-size="9">{}</text>"#,
                        x + 7.0,
                        y - 4.0,
                        esc(&e.msg_type)
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(
                    s,
                    r##"<g {data}><circle cx="{x}" cy="{y}" r="5" fill="{c}"/>{label}</g>"##
                );
            }
        }
    }
    if let Some(t) = events.iter().find(|e| e.kind == Kind::Truncated) {
        let _ = writeln!(
            s,
            r##"<text x="{LEFT}" y="{}" fill="#d12f1f">{}</text>"##,
            h - 2.0,
            esc(&t.payload)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(actor: &str, kind: Kind, lamport: u64, msg: Option<&str>) -> Event {
        Event {
            actor: actor.into(),
            node: "n".into(),
            kind,
            time: 0,
            logical: true,
            lamport,
            vc: Default::default(),
            msg: msg.map(str::to_string),
            peer: None,
            msg_type: "Ping".into(),
            payload: "Ping <1>".into(),
        }
    }

    #[test]
    fn arrows_link_sends_to_receives_and_text_is_escaped() {
        let events = vec![
            ev("a", Kind::Send, 1, Some("a#1")),
            ev("b", Kind::Receive, 2, Some("a#1")),
            ev("b", Kind::Receive, 3, Some("a#1")),
        ];
        let lay = Layout::new(&events);
        assert_eq!(lay.lanes.len(), 2);
        assert_eq!(lay.arrows, vec![(0, 1), (0, 2)]);
        assert_eq!(lay.rows, 3);
        let s = svg(&events);
        assert_eq!(s.matches("class=\"msg\"").count(), 2);
        assert!(!s.contains("<1>"));
    }
}
