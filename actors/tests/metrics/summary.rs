//! Percentile summaries: nearest-rank percentiles, series grouping, rates.

use rolecall_actors::metrics::summary::{percentile, rows, series};
use rolecall_actors::metrics::Point;

#[test]
fn nearest_rank_percentiles() {
    let v: Vec<f64> = (1..=1000).map(f64::from).collect();
    for (p, want) in [
        (50.0, 500.0),
        (90.0, 900.0),
        (99.0, 990.0),
        (99.9, 999.0),
        (100.0, 1000.0),
    ] {
        assert_eq!(percentile(&v, p), want, "p{p}");
    }
    assert_eq!(percentile(&[7.0], 99.9), 7.0);
    assert_eq!(percentile(&[], 50.0), 0.0);
    let ten: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(percentile(&ten, 50.0), 5.0);
    assert_eq!(percentile(&ten, 99.0), 10.0);
}

#[test]
fn series_are_measurement_tags_and_numeric_field_in_time_order() {
    let points = vec![
        Point::new("lat", 2_000_000_000)
            .tag("t", "a")
            .field("us", 3.0)
            .field("note", "x"),
        Point::new("lat", 1_000_000_000)
            .tag("t", "a")
            .field("us", 1.0),
        Point::new("lat", 1_500_000_000)
            .tag("t", "b")
            .field("us", 2i64),
        Point::new("lat", 3_000_000_000)
            .tag("t", "a")
            .field("us", 2.0),
    ];
    let s = series(&points);
    let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["lat,t=a us", "lat,t=b us"],
        "string fields are left out"
    );
    assert_eq!(
        s[0].samples,
        vec![
            (1_000_000_000, 1.0),
            (2_000_000_000, 3.0),
            (3_000_000_000, 2.0)
        ]
    );
    let r = rows(&points);
    assert_eq!((r[0].count, r[0].p50, r[0].max), (3, 2.0, 3.0));
    assert_eq!(r[0].per_second, 1.0, "2 intervals over 2 s");
    assert_eq!((r[1].count, r[1].per_second), (1, 0.0));
}
