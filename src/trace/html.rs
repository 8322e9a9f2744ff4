//! The self-contained HTML page: the diagram inline, the events as JSON, a
//! filter by actor and message type, and an inspector that shows an event's
//! payload and vector clock on click. No network access: everything inline.
//!
//! When its script has run, the page writes `ready: N events, M arrows, L
//! lanes` into `#status` (or `error: ...` if a script error happened), so a
//! headless browser can check it.

use std::collections::BTreeSet;

use rolecall_runtime::trace::{Event, Kind};

use super::{esc, svg};

const STYLE: &str = r#"
body { font-family: sans-serif; margin: 0; display: flex; height: 100vh; }
#side { width: 300px; padding: 10px; border-right: 1px solid #ccc; overflow: auto; font-size: 13px; }
#main { flex: 1; overflow: auto; }
#detail { white-space: pre-wrap; font-family: monospace; font-size: 12px; background: #f6f6f6; padding: 6px; }
.hidden { display: none; }
.ev { cursor: pointer; }
.ev.selected circle, .ev.selected rect { stroke: #000; stroke-width: 3; }
h3 { margin: 10px 0 4px; font-size: 14px; }
label { display: block; }
"#;

const SCRIPT: &str = r#"
(function () {
  var status = document.getElementById('status');
  window.addEventListener('error', function (e) { status.textContent = 'error: ' + e.message; });
  var events = JSON.parse(document.getElementById('events').textContent);
  var svg = document.getElementById('diagram');
  var hiddenActors = {}, hiddenTypes = {};
  function apply() {
    svg.querySelectorAll('.lane').forEach(function (g) {
      g.classList.toggle('hidden', !!hiddenActors[g.dataset.actor]);
    });
    svg.querySelectorAll('.ev').forEach(function (g) {
      var t = g.dataset.type;
      g.classList.toggle('hidden', !!hiddenActors[g.dataset.actor] || (t !== '' && !!hiddenTypes[t]));
    });
    svg.querySelectorAll('.msg').forEach(function (l) {
      l.classList.toggle('hidden', !!hiddenActors[l.dataset.from] || !!hiddenActors[l.dataset.to] || !!hiddenTypes[l.dataset.type]);
    });
  }
  document.querySelectorAll('input[data-filter]').forEach(function (box) {
    box.addEventListener('change', function () {
      var table = box.dataset.filter === 'actor' ? hiddenActors : hiddenTypes;
      table[box.value] = !box.checked;
      apply();
    });
  });
  function show(i) {
    var e = events[i];
    svg.querySelectorAll('.ev.selected').forEach(function (g) { g.classList.remove('selected'); });
    var g = svg.querySelector('.ev[data-i="' + i + '"]');
    if (g) { g.classList.add('selected'); }
    var vc = Object.keys(e.vc || {}).map(function (k) { return k + ': ' + e.vc[k]; }).join(', ');
    document.getElementById('detail').textContent =
      e.kind + ' at ' + e.actor + ' (node ' + e.node + ')\n' +
      (e.logical ? 'step ' : 'time µs ') + e.time + ', lamport ' + e.lamport + '\n' +
      'vector clock: {' + vc + '}\n' +
      (e.msg ? 'message ' + e.msg + (e.peer ? (e.kind === 'send' ? ' to ' : ' from ') + e.peer : '') + '\n' : '') +
      (e.msg_type ? 'type ' + e.msg_type + '\n' : '') +
      (e.payload ? 'payload: ' + e.payload : '');
  }
  svg.addEventListener('click', function (ev) {
    var g = ev.target.closest('.ev');
    if (g) { show(Number(g.dataset.i)); }
  });
  apply();
  status.textContent = 'ready: ' + events.length + ' events, ' +
    svg.querySelectorAll('.msg').length + ' arrows, ' +
    svg.querySelectorAll('.lane').length + ' lanes';
  document.body.dataset.ready = '1';
})();
"#;

/// The page for `events` (merged, in happens-before order); `title` names it.
pub fn html(events: &[Event], title: &str) -> String {
    let actors: BTreeSet<&str> = events
        .iter()
        .filter(|e| e.kind != Kind::Truncated)
        .map(|e| e.actor.as_str())
        .collect();
    let types: BTreeSet<&str> = events
        .iter()
        .map(|e| e.msg_type.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    let boxes = |kind: &str, names: &BTreeSet<&str>| -> String {
        names
            .iter()
            .map(|n| {
                format!(
                    r#"<label><input type="checkbox" checked data-filter="{kind}" value="{v}"> {v}</label>"#,
                    v = esc(n)
                )
            })
            .collect()
    };
    // JSON inside <script>: `</` must not close the element.
    let json = serde_json::to_string(events)
        .unwrap_or_else(|_| "[]".into())
        .replace("</", "<\\/");
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{t}</title><style>{STYLE}</style></head>
<body>
<div id="side">
<h3>{t}</h3>
<div id="status">loading</div>
<h3>Actors</h3>{actors}
<h3>Message types</h3>{types}
<h3>Event</h3><div id="detail">click an event</div>
<p style="color:#666">time goes down; arrows are messages; ✕ drop, ×2 duplicate, red bar restart</p>
</div>
<div id="main">{svg}</div>
<script type="application/json" id="events">{json}</script>
<script>{SCRIPT}</script>
</body></html>
"#,
        t = esc(title),
        actors = boxes("actor", &actors),
        types = boxes("type", &types),
        svg = svg(events),
    )
}
