//! The supervision state machine with a controllable clock and a fixed seed.

use std::time::{Duration, Instant};

use rolecall_runtime::supervision::{
    ActorPolicy, Backoff, Directive, EventKind, Exit, GroupPolicy, Intensity, Restart, Strategy,
    Tree,
};

fn policy(restart: Restart, max: u32, within_s: u64) -> ActorPolicy {
    ActorPolicy {
        restart,
        intensity: Intensity {
            max_restarts: max,
            within: Duration::from_secs(within_s),
        },
        backoff: Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_secs(2),
            factor: 2.0,
            jitter: 0.0,
        },
    }
}

fn crash() -> Exit {
    Exit::Failed("boom".into())
}

fn starts(d: &[Directive]) -> Vec<(usize, Duration)> {
    d.iter()
        .filter_map(|d| match d {
            Directive::Start { actor, after } => Some((actor.0, *after)),
            _ => None,
        })
        .collect()
}

#[test]
fn on_failure_restarts_with_exponential_backoff_then_escalates_to_the_node() {
    let mut t = Tree::new(7);
    let a = t.add_actor("a", None, policy(Restart::OnFailure, 3, 10));
    t.started(a);
    let t0 = Instant::now();
    let mut delays = Vec::new();
    for i in 0..3 {
        let d = t.exited(a, crash(), t0 + Duration::from_secs(i));
        delays.push(starts(&d.directives)[0].1);
        t.started(a);
    }
    assert_eq!(
        delays,
        vec![
            Duration::from_millis(100),
            Duration::from_millis(200),
            Duration::from_millis(400)
        ]
    );
    let d = t.exited(a, crash(), t0 + Duration::from_secs(3));
    assert!(matches!(d.directives.last(), Some(Directive::FailNode(_))));
    assert!(t.node_failed());
    assert!(d
        .events
        .iter()
        .any(|(_, e)| matches!(e, EventKind::Escalated { to, .. } if to == "node")));
}

#[test]
fn restarts_outside_the_window_are_forgotten() {
    let mut t = Tree::new(7);
    let a = t.add_actor("a", None, policy(Restart::OnFailure, 2, 10));
    t.started(a);
    let t0 = Instant::now();
    for i in 0..10u64 {
        // One crash every 6 s: never more than 2 within 10 s.
        let d = t.exited(a, crash(), t0 + Duration::from_secs(6 * i));
        assert_eq!(starts(&d.directives).len(), 1, "crash {i}");
        t.started(a);
    }
    assert!(!t.node_failed());
}

#[test]
fn policies_decide_between_restart_and_retire() {
    let mut t = Tree::new(1);
    let never = t.add_actor("never", None, policy(Restart::Never, 3, 10));
    let transient = t.add_actor("transient", None, policy(Restart::OnFailure, 3, 10));
    let permanent = t.add_actor("permanent", None, policy(Restart::Always, 3, 10));
    for id in [never, transient, permanent] {
        t.started(id);
    }
    let now = Instant::now();
    assert_eq!(
        t.exited(never, crash(), now).directives,
        vec![Directive::Retire(never)]
    );
    assert_eq!(
        t.exited(transient, Exit::Normal, now).directives,
        vec![Directive::Retire(transient)]
    );
    assert_eq!(
        starts(&t.exited(permanent, Exit::Normal, now).directives).len(),
        1
    );
    assert!(t.is_retired(never) && t.is_retired(transient) && !t.is_retired(permanent));
}

#[test]
fn one_for_all_stops_and_restarts_every_sibling() {
    let mut t = Tree::new(3);
    let g = t.add_group(
        "g",
        None,
        GroupPolicy {
            strategy: Strategy::OneForAll,
            ..GroupPolicy::default()
        },
    );
    let a = t.add_actor("a", Some(g), policy(Restart::OnFailure, 3, 10));
    let b = t.add_actor("b", Some(g), policy(Restart::OnFailure, 3, 10));
    let c = t.add_actor("c", None, policy(Restart::OnFailure, 3, 10));
    for id in [a, b, c] {
        t.started(id);
    }
    let d = t.exited(a, crash(), Instant::now());
    assert!(d.directives.contains(&Directive::Stop(b)));
    assert!(!d.directives.contains(&Directive::Stop(c)));
    let mut started: Vec<usize> = starts(&d.directives).iter().map(|s| s.0).collect();
    started.sort_unstable();
    assert_eq!(started, vec![a.0, b.0]);
    // b's exit after being stopped is expected and changes nothing.
    assert_eq!(t.exited(b, Exit::Normal, Instant::now()).directives, vec![]);
}

#[test]
fn one_for_one_restarts_only_the_failed_member() {
    let mut t = Tree::new(3);
    let g = t.add_group("g", None, GroupPolicy::default());
    let a = t.add_actor("a", Some(g), policy(Restart::OnFailure, 3, 10));
    let b = t.add_actor("b", Some(g), policy(Restart::OnFailure, 3, 10));
    t.started(a);
    t.started(b);
    let d = t.exited(a, crash(), Instant::now());
    assert_eq!(
        starts(&d.directives)
            .iter()
            .map(|s| s.0)
            .collect::<Vec<_>>(),
        vec![a.0]
    );
    assert!(!d.directives.iter().any(|d| matches!(d, Directive::Stop(_))));
}

#[test]
fn exceeding_an_actor_limit_escalates_to_its_group_which_restarts_everyone() {
    let mut t = Tree::new(3);
    let g = t.add_group(
        "g",
        None,
        GroupPolicy {
            strategy: Strategy::OneForOne,
            intensity: Intensity {
                max_restarts: 1,
                within: Duration::from_secs(60),
            },
            backoff: Backoff {
                jitter: 0.0,
                ..Backoff::default()
            },
        },
    );
    let a = t.add_actor("a", Some(g), policy(Restart::OnFailure, 1, 60));
    let b = t.add_actor("b", Some(g), policy(Restart::OnFailure, 1, 60));
    t.started(a);
    t.started(b);
    let now = Instant::now();
    assert_eq!(starts(&t.exited(a, crash(), now).directives).len(), 1);
    t.started(a);
    // Second crash within the window: a's limit (1) is exceeded -> group g.
    let d = t.exited(a, crash(), now + Duration::from_secs(1));
    assert!(d
        .events
        .iter()
        .any(|(s, e)| s == "a" && matches!(e, EventKind::Escalated { to, .. } if to == "g")));
    assert!(d.directives.contains(&Directive::Stop(b)));
    assert_eq!(starts(&d.directives).len(), 2);
    assert!(!t.node_failed());
    t.started(a);
    t.started(b);
    // Third: a exceeds again, g exceeds its own limit (1) -> node.
    let d = t.exited(a, crash(), now + Duration::from_secs(2));
    assert!(matches!(d.directives.last(), Some(Directive::FailNode(_))));
}

#[test]
fn jitter_is_bounded_and_replays_from_the_seed() {
    let backoff = Backoff {
        min: Duration::from_millis(100),
        max: Duration::from_secs(10),
        factor: 2.0,
        jitter: 0.25,
    };
    let draw = |seed| {
        let mut t = Tree::new(seed);
        let a = t.add_actor(
            "a",
            None,
            ActorPolicy {
                restart: Restart::Always,
                intensity: Intensity {
                    max_restarts: 100,
                    within: Duration::from_secs(1000),
                },
                backoff,
            },
        );
        let now = Instant::now();
        (0..8)
            .map(|_| {
                t.started(a);
                starts(&t.exited(a, Exit::Normal, now).directives)[0].1
            })
            .collect::<Vec<_>>()
    };
    let one = draw(42);
    assert_eq!(one, draw(42));
    assert_ne!(one, draw(43));
    for (i, d) in one.iter().enumerate() {
        let base = (0.1 * 2f64.powi(i as i32)).min(10.0);
        assert!(
            d.as_secs_f64() >= base * 0.75 - 1e-9
                && d.as_secs_f64() <= (base * 1.25).min(10.0) + 1e-9,
            "{i}: {d:?}"
        );
    }
}
