//! The course's publish/subscribe assignments: discovery, publishers,
//! subscribers and broker on loopback, counted exactly.

use std::collections::BTreeMap;

use crate::support::*;

/// `(actor, total, {publisher/topic: count})` of every `subscriber COMPLETED` line.
fn completed(log: &str) -> BTreeMap<String, (u64, BTreeMap<String, u64>)> {
    let mut out = BTreeMap::new();
    for line in log
        .lines()
        .filter(|l| l.contains("subscriber COMPLETED: received"))
    {
        let actor = line
            .rsplit("actor=")
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let rest = line.split("received ").nth(1).unwrap_or_default();
        let total: u64 = rest
            .split_whitespace()
            .next()
            .unwrap_or("x")
            .parse()
            .expect("a count");
        let inner = rest
            .split('[')
            .nth(1)
            .and_then(|s| s.split(']').next())
            .unwrap_or_default();
        let pairs = inner
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.parse().expect("a count")))
            .collect();
        out.insert(actor, (total, pairs));
    }
    out
}

/// What the examples' subscribers must receive: 50 of every (publisher, topic) they want.
fn expected() -> BTreeMap<String, (u64, BTreeMap<String, u64>)> {
    let want: [(&str, &[&str]); 4] = [
        ("sub1", &["pub1/weather", "pub2/weather", "pub5/weather"]),
        (
            "sub2",
            &["pub2/light", "pub3/sound", "pub4/light", "pub5/sound"],
        ),
        ("sub3", &["pub1/humidity", "pub4/location"]),
        (
            "sub4",
            &[
                "pub1/weather",
                "pub2/weather",
                "pub5/temperature",
                "pub5/weather",
            ],
        ),
    ];
    want.iter()
        .map(|(s, pairs)| {
            (
                (*s).to_owned(),
                (
                    50 * pairs.len() as u64,
                    pairs.iter().map(|p| ((*p).to_owned(), 50)).collect(),
                ),
            )
        })
        .collect()
}

fn run_example(name: &str) -> (String, String) {
    let out = run(rolecall()
        .args(["run", &format!("examples/{name}/topology.toml")])
        .env("ROLECALL_LOG", "info"));
    let (text, log) = (stdout(&out), stderr(&out));
    assert!(
        out.status.success(),
        "status {:?}\n{text}\n{log}",
        out.status
    );
    (text, log)
}

/// The reporter's rows: series -> count.
fn latency_rows(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter(|l| l.starts_with("latency,"))
        .map(|l| {
            let mut cols = l.split_whitespace();
            let series = cols.next().unwrap_or_default().to_owned();
            let _unit = cols.next();
            (
                series,
                cols.next().and_then(|c| c.parse().ok()).unwrap_or(0),
            )
        })
        .collect()
}

fn check_run(text: &str, log: &str) {
    assert_eq!(completed(log), expected(), "{log}");
    let rows = latency_rows(text);
    assert_eq!(rows.len(), 13, "{text}");
    assert!(rows.values().all(|&c| c == 50), "{text}");
    assert!(
        rows.contains_key("latency,publisher=pub5,subscriber=sub4,topic=temperature"),
        "{text}"
    );
    assert!(!log.contains(" ERROR "), "{log}");
}

#[test]
fn direct_five_publishers_four_subscribers_every_publication_counted() {
    let (text, log) = run_example("pubsub_direct");
    check_run(&text, &log);
}

#[test]
fn broker_five_publishers_four_subscribers_every_publication_counted() {
    let (text, log) = run_example("pubsub_broker");
    check_run(&text, &log);
    assert!(
        log.contains("broker COMPLETED: forwarded 500 publications"),
        "{log}"
    );
}
