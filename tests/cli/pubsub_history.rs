//! The course's PA4 "history" QoS (issue 15): a late subscriber gets a
//! publisher's last H publications before its live data; H > N is refused.

use crate::pubsub::{background, completed};
use crate::support::*;

/// `rolecall pubsub ARGS` run to the end, with the merge's deliveries logged.
fn pubsub_debug(args: &[&str]) -> std::process::Output {
    run(rolecall().arg("pubsub").args(args).env(
        "ROLECALL_LOG",
        "info,rolecall_actors::pubsub::history_io=debug",
    ))
}

/// `(publisher, topic, seq, from history)` of every delivery, in order.
fn deliveries(log: &str) -> Vec<(String, String, u64, bool)> {
    log.lines()
        .filter(|l| l.contains(" delivered publisher="))
        .map(|l| {
            let field = |name: &str| {
                l.split_whitespace()
                    .find_map(|w| w.strip_prefix(&format!("{name}=")))
                    .unwrap_or_else(|| panic!("no {name} in {l}"))
                    .to_owned()
            };
            (
                field("publisher"),
                field("topic"),
                field("seq").parse().expect("a seq"),
                field("history") == "true",
            )
        })
        .collect()
}

#[test]
fn a_late_subscriber_gets_the_last_h_then_live_without_gap_or_duplicate() {
    let _discovery = background(&["discovery", "-P", "1", "-S", "0", "-p", "33861"]);
    let d = "127.0.0.1:33861";
    let publisher = std::thread::spawn(move || {
        pubsub_debug(&[
            "publisher",
            "-n",
            "pub1",
            "-a",
            "127.0.0.1",
            "-p",
            "33862",
            "-d",
            d,
            "--topics",
            "weather",
            "-i",
            "60",
            "-f",
            "20",
            "--pause-ms",
            "50",
            "--history",
            "10",
        ])
    });
    // A probe without history that ends after 15 publications: the late
    // subscriber joins after at least 15 (discovery does not wait for either).
    let dir = tempfile::tempdir().expect("a temp dir");
    let probe = pubsub_debug(&[
        "subscriber",
        "-n",
        "probe",
        "-d",
        d,
        "--topics",
        "weather",
        "--pause-ms",
        "50",
        "--stop-after",
        "15",
        "--results",
        dir.path().join("probe.lp").to_str().unwrap(),
    ]);
    assert!(probe.status.success(), "{}", stderr(&probe));
    let sub = pubsub_debug(&[
        "subscriber",
        "-n",
        "late",
        "-d",
        d,
        "--topics",
        "weather",
        "--pause-ms",
        "50",
        "--history",
        "5",
        "--idle-timeout-ms",
        "1500",
        "--results",
        dir.path().join("late.lp").to_str().unwrap(),
    ]);
    let p = publisher.join().expect("publisher thread");
    let plog = stderr(&p);
    assert!(p.status.success(), "{plog}");
    assert!(
        plog.contains(
            "history: keeping the last 10 publications of each topic, served at tcp://*:33863"
        ),
        "{plog}"
    );
    assert!(
        plog.contains("history: sent 5 of the last 5 publications of weather to late"),
        "{plog}"
    );
    let log = stderr(&sub);
    assert!(sub.status.success(), "{log}");
    let got = deliveries(&log);
    assert!(
        got.iter().all(|(p, t, ..)| p == "pub1" && t == "weather"),
        "{log}"
    );
    let (history, live): (Vec<_>, Vec<_>) = got.iter().partition(|d| d.3);
    // History first: exactly 5, then only live.
    assert_eq!(history.len(), 5, "{log}");
    assert!(got[..5].iter().all(|d| d.3), "{log}");
    let seqs: Vec<u64> = got.iter().map(|d| d.2).collect();
    let first = seqs[0];
    // Joined after at least 15 publications: the 5 before its join end at 14 or later...
    assert!(first >= 10, "joined too early: {seqs:?}");
    // ... and got a run of consecutive seqs to the publisher's last: no gap, no duplicate.
    assert_eq!(seqs, (first..60).collect::<Vec<_>>(), "{log}");
    assert!(!live.is_empty(), "{log}");
    assert!(
        log.contains("got 5 of 5 from pub1 on weather (it keeps 10)"),
        "{log}"
    );
    assert!(log.contains("pub1/weather: 5 from history"), "{log}");
    let total = 60 - first;
    assert_eq!(
        completed(&log).get("subscriber").map(|c| c.0),
        Some(total),
        "{log}"
    );
}

#[test]
fn asking_more_than_a_publisher_keeps_is_refused_on_both_sides() {
    let _discovery = background(&["discovery", "-P", "2", "-S", "1", "-p", "33865"]);
    let d = "127.0.0.1:33865";
    let publisher = |name: &'static str, port: &'static str, keeps: &'static str| {
        std::thread::spawn(move || {
            pubsub_debug(&[
                "publisher",
                "-n",
                name,
                "-a",
                "127.0.0.1",
                "-p",
                port,
                "-d",
                d,
                "--topics",
                "weather",
                "-i",
                "40",
                "-f",
                "40",
                "--pause-ms",
                "50",
                "--history",
                keeps,
            ])
        })
    };
    let short = publisher("short", "33866", "10");
    let deep = publisher("deep", "33868", "30");
    let dir = tempfile::tempdir().expect("a temp dir");
    let sub = pubsub_debug(&[
        "subscriber",
        "-n",
        "greedy",
        "-d",
        d,
        "--topics",
        "weather",
        "--pause-ms",
        "50",
        "--history",
        "20",
        "--idle-timeout-ms",
        "1500",
        "--results",
        dir.path().join("greedy.lp").to_str().unwrap(),
    ]);
    let short = short.join().expect("publisher thread");
    let deep = deep.join().expect("publisher thread");
    assert!(deep.status.success(), "{}", stderr(&deep));
    let plog = stderr(&short);
    assert!(short.status.success(), "{plog}");
    assert!(
        plog.contains("history REFUSED: greedy asked for the last H=20 publications of weather; short keeps N=10"),
        "{plog}"
    );
    let log = stderr(&sub);
    assert!(sub.status.success(), "{log}");
    assert!(
        log.lines().any(|l| l.contains(" WARN ")
            && l.contains("history refused: short on weather keeps N=10, asked H=20")),
        "{log}"
    );
    // None of short's data; all of deep's, each once, in order.
    let got = deliveries(&log);
    assert!(got.iter().all(|(p, ..)| p == "deep"), "{log}");
    let seqs: Vec<u64> = got.iter().map(|d| d.2).collect();
    assert_eq!(seqs, (0..40).collect::<Vec<_>>(), "{log}");
    let want = [("deep/weather".to_owned(), 40)].into_iter().collect();
    assert_eq!(
        completed(&log).get("subscriber"),
        Some(&(40, want)),
        "{log}"
    );
    // The refused publications are counted.
    assert!(
        log.contains("short/weather: 0 from history, 0 live"),
        "{log}"
    );
    assert!(
        !log.contains(
            "short/weather: 0 from history, 0 live, 0 duplicates dropped, 0 gaps, 0 refused"
        ),
        "{log}"
    );
}

#[test]
fn history_needs_direct_and_a_free_port_plus_one() {
    // Under Broker: both sides say so once, and the data still flows.
    let dir = tempfile::tempdir().expect("a temp dir");
    let ini = dir.path().join("config.ini");
    std::fs::write(&ini, "[Dissemination]\nStrategy = Broker\n").unwrap();
    let ini = ini.to_str().unwrap().to_owned();
    let _discovery = background(&["discovery", "-P", "1", "-S", "1", "-p", "33871", "-c", &ini]);
    let d = "127.0.0.1:33871";
    let _broker = background(&[
        "broker",
        "-n",
        "b",
        "-a",
        "127.0.0.1",
        "-p",
        "33872",
        "-d",
        d,
        "-c",
        &ini,
        "--pause-ms",
        "50",
    ]);
    let ini2 = ini.clone();
    let publisher = std::thread::spawn(move || {
        pubsub_debug(&[
            "publisher",
            "-n",
            "p",
            "-a",
            "127.0.0.1",
            "-p",
            "33873",
            "-d",
            d,
            "-c",
            &ini2,
            "--topics",
            "sound",
            "-i",
            "20",
            "-f",
            "100",
            "--pause-ms",
            "50",
            "--history",
            "10",
        ])
    });
    let sub = pubsub_debug(&[
        "subscriber",
        "-n",
        "s",
        "-d",
        d,
        "-c",
        &ini,
        "--topics",
        "sound",
        "--pause-ms",
        "50",
        "--history",
        "5",
        "--stop-after",
        "20",
        "--results",
        dir.path().join("s.lp").to_str().unwrap(),
    ]);
    let p = publisher.join().expect("publisher thread");
    let plog = stderr(&p);
    assert!(p.status.success(), "{plog}");
    assert!(
        plog.contains(
            "WARN history = 10 is not served under Broker dissemination: history needs Direct"
        ),
        "{plog}"
    );
    let log = stderr(&sub);
    assert!(sub.status.success(), "{log}");
    assert_eq!(log.matches("history needs Direct").count(), 1, "{log}");
    assert!(
        log.contains("subscriber COMPLETED: received 20 [p/sound=20]"),
        "{log}"
    );

    // The history port taken: the publisher fails naming it.
    let _discovery = background(&["discovery", "-P", "1", "-S", "0", "-p", "33875"]);
    let _squatter = background(&["discovery", "-P", "1", "-S", "0", "-p", "33877"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = pubsub_debug(&[
        "publisher",
        "-n",
        "p",
        "-a",
        "127.0.0.1",
        "-p",
        "33876",
        "-d",
        "127.0.0.1:33875",
        "--topics",
        "sound",
        "-i",
        "5",
        "--pause-ms",
        "50",
        "--history",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("binding the history (PUB port + 1) at tcp://*:33877"),
        "{}",
        stderr(&out)
    );
}
