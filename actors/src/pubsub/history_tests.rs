use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::pubsub::catchup::*;
use crate::pubsub::publication::Stamp;

fn publication(topic: &str, seq: u64) -> Publication {
    Publication {
        topic: topic.into(),
        value: format!("v{seq}"),
        stamp: Some(Stamp {
            publisher: "pub1".into(),
            seq,
            sent_ns: 1_000 + seq as i64,
        }),
    }
}

fn frames(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// (seq, history) of every delivery, in order.
fn delivered<T>(out: &[Out<T>]) -> Vec<(u64, bool)> {
    out.iter()
        .filter_map(|o| match o {
            Out::Deliver { seq, history, .. } => Some((*seq, *history)),
            _ => None,
        })
        .collect()
}

fn asks<T>(out: &[Out<T>]) -> usize {
    out.iter().filter(|o| matches!(o, Out::Ask { .. })).count()
}

#[test]
fn the_publisher_keeps_the_last_n_per_topic() {
    let mut h = History::new(3, &["weather".into(), "light".into()]);
    assert_eq!(h.depth(), 3);
    for seq in 0..5 {
        h.record(&publication("weather", seq));
        h.record(&publication("light", seq));
    }
    // Another topic is not kept.
    h.record(&publication("sound", 0));
    let (reply, served) = h.serve(&request("weather", 2));
    assert_eq!(
        served,
        Served::Sent {
            topic: "weather".into(),
            asked: 2,
            sent: 2
        }
    );
    match parse_reply(&reply).unwrap() {
        Reply::Samples {
            topic,
            keeps,
            samples,
        } => {
            assert_eq!((topic.as_str(), keeps), ("weather", 3));
            let seqs: Vec<u64> = samples
                .iter()
                .map(|p| p.stamp.as_ref().unwrap().seq)
                .collect();
            assert_eq!(seqs, [3, 4]);
            assert_eq!(samples[1], publication("weather", 4));
        }
        other => panic!("{other:?}"),
    }
    // All it has while the history is filling.
    let mut young = History::new(10, &["weather".into()]);
    young.record(&publication("weather", 0));
    let (reply, served) = young.serve(&request("weather", 10));
    assert!(matches!(served, Served::Sent { sent: 1, .. }));
    assert_eq!(reply.len(), 4);
}

#[test]
fn more_than_n_is_refused_naming_both() {
    let h = History::new(10, &["weather".into()]);
    let (reply, served) = h.serve(&request("weather", 20));
    assert_eq!(
        served,
        Served::Refused {
            topic: "weather".into(),
            keeps: 10,
            asked: 20
        }
    );
    assert_eq!(
        parse_reply(&reply).unwrap(),
        Reply::Refused {
            topic: "weather".into(),
            keeps: 10,
            reason: "asked for the last 20 publications of weather; this publisher keeps 10".into()
        }
    );
    // A publisher keeping nothing refuses any H > 0.
    let none = History::new(0, &["weather".into()]);
    assert!(matches!(
        none.serve(&request("weather", 1)).1,
        Served::Refused { keeps: 0, .. }
    ));
    assert!(matches!(
        none.serve(&request("weather", 0)).1,
        Served::Sent { sent: 0, .. }
    ));
}

#[test]
fn malformed_requests_are_answered_error_and_topics_not_published_notopic() {
    let h = History::new(5, &["weather".into()]);
    let cases: [(Vec<Vec<u8>>, RequestError); 5] = [
        (frames(&["HISTORY", "weather"]), RequestError::Frames(2)),
        (
            frames(&["GIVE", "weather", "3"]),
            RequestError::Verb("GIVE".into()),
        ),
        (
            frames(&["HISTORY", "weather", "-3"]),
            RequestError::Count("-3".into()),
        ),
        (
            frames(&["HISTORY", "weather", "10001"]),
            RequestError::Count("10001".into()),
        ),
        (
            vec![b"HISTORY".to_vec(), vec![0xff], b"3".to_vec()],
            RequestError::NotUtf8,
        ),
    ];
    for (req, want) in cases {
        let (reply, served) = h.serve(&req);
        assert_eq!(served, Served::Malformed(want.clone()));
        assert_eq!(parse_reply(&reply).unwrap(), Reply::Error(want.to_string()));
    }
    let (reply, served) = h.serve(&request("light", 3));
    assert_eq!(served, Served::NotPublished("light".into()));
    assert_eq!(
        parse_reply(&reply).unwrap(),
        Reply::NotPublished {
            topic: "light".into()
        }
    );
}

#[test]
fn malformed_replies_are_errors() {
    for bad in [
        frames(&[]),
        frames(&["OK"]),
        frames(&["OK", "weather", "x"]),
        frames(&["OK", "weather", "3", "no colon"]),
        frames(&["MAYBE", "weather"]),
        frames(&["REFUSED", "weather", "3"]),
        frames(&["NOTOPIC"]),
        frames(&["ERROR"]),
    ] {
        assert!(parse_reply(&bad).is_err(), "{bad:?}");
    }
}

#[test]
fn history_port_is_the_pub_port_plus_one() {
    assert_eq!(history_port(5577), Some(5578));
    assert_eq!(history_port(65535), None);
    assert_eq!(history_port(u32::MAX), None);
}

fn catchup(asked: usize) -> (Catchup<u64>, Instant) {
    let now = Instant::now();
    let mut c = Catchup::new(asked, Timing::default());
    c.watch("pub1", "weather", now);
    (c, now)
}

#[test]
fn history_then_live_without_duplicates() {
    let (mut c, now) = catchup(3);
    // The first live publication asks, and is buffered with the next.
    let out = c.on_live("pub1", "weather", 7, 7, now);
    assert_eq!(asks(&out), 1);
    assert!(delivered(&out).is_empty());
    assert!(delivered(&c.on_live("pub1", "weather", 8, 8, now)).is_empty());
    assert_eq!(c.pending(), [("pub1".into(), "weather".into(), 2)]);
    // The answer was taken after 8: 6, 7, 8; the buffered 7 and 8 are duplicates.
    let out = c.on_samples("pub1", "weather", 10, vec![(6, 6), (7, 7), (8, 8)]);
    assert_eq!(delivered(&out), [(6, true), (7, true), (8, true)]);
    assert!(out.contains(&Out::Note(Note::Got {
        publisher: "pub1".into(),
        topic: "weather".into(),
        got: 3,
        asked: 3,
        keeps: 10
    })));
    assert_eq!(
        delivered(&c.on_live("pub1", "weather", 9, 9, now)),
        [(9, false)]
    );
    assert!(delivered(&c.on_live("pub1", "weather", 9, 9, now)).is_empty());
    let stats = *c.stats().next().unwrap().1;
    assert_eq!((stats.history, stats.live, stats.duplicates), (3, 1, 3));
    // A late second answer changes nothing.
    assert!(c.on_samples("pub1", "weather", 10, vec![(9, 9)]).is_empty());
    assert!(c.pending().is_empty());
}

#[test]
fn buffered_live_after_the_history_follows_it() {
    let (mut c, now) = catchup(2);
    for seq in [5, 6, 7] {
        c.on_live("pub1", "weather", seq, seq, now);
    }
    // Taken when 5 was the last: 4, 5; then the buffered 6, 7.
    let out = c.on_samples("pub1", "weather", 2, vec![(4, 4), (5, 5)]);
    assert_eq!(
        delivered(&out),
        [(4, true), (5, true), (6, false), (7, false)]
    );
    // More samples than asked: the last `asked` only.
    let (mut c, _) = catchup(2);
    let out = c.on_samples("pub1", "weather", 9, vec![(1, 1), (2, 2), (3, 3)]);
    assert_eq!(delivered(&out), [(2, true), (3, true)]);
}

#[test]
fn a_gap_is_reported_not_hidden() {
    let (mut c, now) = catchup(2);
    c.on_samples("pub1", "weather", 2, vec![(0, 0), (1, 1)]);
    let out = c.on_live("pub1", "weather", 4, 4, now);
    assert_eq!(delivered(&out), [(4, false)]);
    assert!(out.contains(&Out::Note(Note::Gap {
        publisher: "pub1".into(),
        topic: "weather".into(),
        after: 1,
        next: 4
    })));
    assert_eq!(c.stats().next().unwrap().1.gaps, 1);
}

#[test]
fn a_refusal_drops_the_pair_and_counts_it() {
    let (mut c, now) = catchup(20);
    c.on_live("pub1", "weather", 0, 0, now);
    c.on_live("pub1", "weather", 1, 1, now);
    let out = c.on_refused("pub1", "weather", Some(10), "keeps 10");
    let Out::Note(note @ Note::Refused { dropped: 2, .. }) = &out[0] else {
        panic!("{out:?}");
    };
    let text = note.to_string();
    assert!(
        text.contains("pub1 on weather keeps N=10, asked H=20"),
        "{text}"
    );
    assert!(delivered(&c.on_live("pub1", "weather", 2, 2, now)).is_empty());
    assert_eq!(c.stats().next().unwrap().1.refused, 3);
    // Another (publisher, topic), never watched, passes through.
    assert_eq!(
        delivered(&c.on_live("pub2", "weather", 5, 5, now)),
        [(5, false)]
    );
}

#[test]
fn a_topic_not_published_releases_what_arrived() {
    let (mut c, now) = catchup(2);
    c.on_live("pub1", "weather", 3, 3, now);
    let out = c.on_not_published("pub1", "weather");
    assert_eq!(delivered(&out), [(3, false)]);
    assert!(out
        .iter()
        .any(|o| matches!(o, Out::Note(Note::NotPublished { .. }))));
    assert!(c.pending().is_empty());
}

#[test]
fn a_silent_publisher_is_asked_after_the_wait_then_resent_then_given_up() {
    let (mut c, t0) = catchup(5);
    let t = Timing::default();
    assert!(c.on_tick(t0 + t.first_live_wait / 2).is_empty());
    let t1 = t0 + t.first_live_wait;
    assert_eq!(asks(&c.on_tick(t1)), 1);
    assert!(c.on_tick(t1 + t.answer_timeout / 2).is_empty());
    let t2 = t1 + t.answer_timeout;
    let out = c.on_tick(t2);
    assert_eq!(asks(&out), 1);
    assert!(out.contains(&Out::Note(Note::Resent {
        publisher: "pub1".into(),
        topic: "weather".into(),
        attempt: 2
    })));
    let t3 = t2 + t.answer_timeout;
    assert_eq!(asks(&c.on_tick(t3)), 1);
    let out = c.on_tick(t3 + t.answer_timeout);
    assert_eq!(asks(&out), 0);
    match &out[..] {
        [Out::Note(Note::Refused {
            keeps: None,
            reason,
            ..
        })] => {
            assert_eq!(reason, "no history answer (3 requests, 2000 ms each)")
        }
        other => panic!("{other:?}"),
    }
    assert!(c.on_tick(t3 + Duration::from_secs(60)).is_empty());
}

#[test]
fn the_buffer_is_bounded() {
    let (mut c, now) = catchup(1);
    let mut overflows = 0;
    for seq in 0..(MAX_PENDING as u64 + 3) {
        overflows += c
            .on_live("pub1", "weather", seq, seq, now)
            .iter()
            .filter(|o| matches!(o, Out::Note(Note::Overflow { .. })))
            .count();
    }
    assert_eq!(overflows, 3);
    assert_eq!(c.pending()[0].2, MAX_PENDING);
    assert_eq!(c.stats().next().unwrap().1.overflowed, 3);
}

proptest! {
    /// The publisher publishes 0..total; the subscriber's SUB sees from
    /// `first` on (with duplicates), the history answer was taken when `taken`
    /// was the last publication (at or after first - 1) and arrives after
    /// `at` of the live arrivals: the subscriber delivers exactly the last H
    /// up to `taken`, then every later one, in order, once.
    #[test]
    fn any_interleaving_gives_history_then_live(
        total in 1u64..60,
        first_frac in 0.0f64..1.0,
        taken_frac in 0.0f64..1.0,
        at_frac in 0.0f64..1.0,
        asked in 1usize..12,
        dups in proptest::collection::vec(0usize..80, 0..10),
    ) {
        let first = ((total as f64) * first_frac) as u64;
        // The answer is taken at or after the subscription is up.
        let lo = first.saturating_sub(1);
        let taken = lo + (((total - lo) as f64) * taken_frac) as u64;
        let taken = taken.min(total - 1);
        let mut arrivals: Vec<u64> = (first..total).collect();
        for d in dups {
            if !arrivals.is_empty() {
                let i = d % arrivals.len();
                let seq = arrivals[i];
                arrivals.insert(i + 1, seq);
            }
        }
        let at = ((arrivals.len() as f64) * at_frac) as usize;
        let from = (taken + 1).saturating_sub(asked as u64);
        let samples: Vec<(u64, u64)> = (from..=taken).map(|s| (s, s)).collect();
        let (mut c, now) = catchup(asked);
        let mut got = Vec::new();
        for (i, seq) in arrivals.iter().enumerate() {
            if i == at {
                got.extend(delivered(&c.on_samples("pub1", "weather", asked, samples.clone())));
            }
            got.extend(delivered(&c.on_live("pub1", "weather", *seq, *seq, now)));
        }
        if at >= arrivals.len() {
            got.extend(delivered(&c.on_samples("pub1", "weather", asked, samples.clone())));
        }
        let mut want: Vec<(u64, bool)> = samples.iter().map(|(s, _)| (*s, true)).collect();
        want.extend((taken + 1..total).map(|s| (s, false)));
        prop_assert_eq!(got, want);
        let stats = *c.stats().next().unwrap().1;
        prop_assert_eq!(stats.gaps, 0);
    }

    /// A refused pair delivers nothing, whatever the interleaving.
    #[test]
    fn a_refused_pair_delivers_nothing(seqs in proptest::collection::vec(0u64..50, 0..30), at in 0usize..30) {
        let (mut c, now) = catchup(20);
        let mut got = Vec::new();
        for (i, s) in seqs.iter().enumerate() {
            if i == at {
                got.extend(delivered(&c.on_refused("pub1", "weather", Some(10), "H > N")));
            }
            got.extend(delivered(&c.on_live("pub1", "weather", *s, *s, now)));
        }
        got.extend(delivered(&c.on_refused("pub1", "weather", Some(10), "H > N")));
        prop_assert!(got.is_empty());
        prop_assert_eq!(c.stats().next().unwrap().1.refused, seqs.len() as u64);
    }

    #[test]
    fn serve_and_parse_never_panic(
        verb in prop::sample::select(vec!["OK", "REFUSED", "NOTOPIC", "ERROR", "HISTORY", "x"]),
        parts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 0..6),
    ) {
        let h = History::new(3, &["weather".into()]);
        let _ = h.serve(&parts);
        let _ = parse_reply(&parts);
        // With a known first frame, so that every branch is reached.
        let mut known = vec![verb.as_bytes().to_vec()];
        known.extend(parts);
        let _ = h.serve(&known);
        let _ = parse_reply(&known);
    }
}

#[test]
fn the_history_parameter_is_bounded() {
    use crate::pubsub::kinds::ClientParams;
    use crate::pubsub::Kind;
    let e = toml::from_str::<ClientParams>("id = \"p\"\nhistory = 10001").unwrap_err();
    assert!(
        e.to_string().contains("history must be 0-10000, not 10001"),
        "{e}"
    );
    let p: ClientParams = toml::from_str("id = \"p\"\nhistory = 10").unwrap();
    let c = p.driver_config(Kind::Subscriber).unwrap();
    assert_eq!(c.history, 10);
    assert_eq!(c.dissemination, crate::pubsub::Dissemination::Direct);
}
