//! `rolecall model` and `rolecall trace`: a seeded bug's counterexample,
//! written as a trace, drawn as a page that headless Chromium loads.

use std::path::Path;
use std::process::Command;

use crate::support::*;

#[test]
fn model_finds_a_seeded_bug_and_the_viewer_draws_it_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("cx.jsonl");
    let out = run(rolecall()
        .args([
            "model",
            "paxos",
            "--learners",
            "0",
            "--bug",
            "quorum-of-one",
            "--trace",
        ])
        .arg(&trace));
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("violation of agreement after 8 steps"),
        "{text}"
    );
    assert!(text.contains("  8. deliver acceptor"), "{text}");

    let page = dir.path().join("cx.html");
    let svg = dir.path().join("cx.svg");
    // The same run split over two files (as two nodes would write it) merges back.
    let lines: Vec<String> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let (a, b): (Vec<_>, Vec<_>) = lines
        .iter()
        .partition(|l| l.contains("\"node\":\"proposers\""));
    let (fa, fb) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    std::fs::write(
        &fa,
        a.into_iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    std::fs::write(
        &fb,
        b.into_iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    let out = run(rolecall()
        .arg("trace")
        .arg(&fa)
        .arg(&fb)
        .arg("--html")
        .arg(&page)
        .arg("--svg")
        .arg(&svg));
    assert!(out.status.success(), "{}", stderr(&out));
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(
        picture.matches("class=\"msg\"").count(),
        8,
        "one arrow per delivery"
    );
    assert_eq!(picture.matches("class=\"lane\"").count(), 4);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("http://") || html.matches("http://").count() == 1,
        "only the SVG namespace"
    );

    let dom = chromium(&page, &["--dump-dom"], dir.path());
    assert!(
        dom.contains("ready: "),
        "the page's script did not run: {dom}"
    );
    let status = dom
        .split("id=\"status\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap();
    assert_eq!(
        status,
        format!("ready: {} events, 8 arrows, 4 lanes", lines.len())
    );

    let shot = dir.path().join("shot.png");
    let flag = format!("--screenshot={}", shot.display());
    let log = chromium(
        &page,
        &[
            &flag,
            "--window-size=1200,800",
            "--enable-logging=stderr",
            "--v=0",
        ],
        dir.path(),
    );
    assert!(!log.contains("Uncaught"), "console error: {log}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}

/// Runs headless Chromium on `page`; returns stdout and stderr.
pub(crate) fn chromium(page: &Path, flags: &[&str], profile: &Path) -> String {
    let mut c = Command::new("chromium");
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--virtual-time-budget=2000",
    ])
    .arg(format!(
        "--user-data-dir={}",
        profile.join("chromium").display()
    ))
    .args(flags)
    .arg(format!("file://{}", page.display()));
    let out = run(&mut c);
    assert!(
        out.status.success(),
        "chromium (apt-get install chromium): {}",
        stderr(&out)
    );
    format!("{}{}", stdout(&out), stderr(&out))
}

#[test]
fn bad_input_gives_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"actor\":\"a\"}\n").unwrap();
    let out = run(rolecall().arg("trace").arg(&bad).args(["--html", "x.html"]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.jsonl:1: not a trace event"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let out = run(rolecall().args(["model", "paxos", "--acceptors", "9"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--acceptors 9: must be 1 to 5"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn model_proves_a_small_configuration_safe() {
    let out = run(rolecall().args([
        "model",
        "paxos",
        "--proposers",
        "1",
        "--restarts",
        "1",
        "--drops",
        "1",
    ]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(
        text.contains("ok: agreement, validity hold in every state explored"),
        "{text}"
    );
}
