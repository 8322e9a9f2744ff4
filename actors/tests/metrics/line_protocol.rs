//! Line protocol: table-driven escaping cases and property tests of the round trip.

use proptest::prelude::*;
use rolecall_actors::metrics::line_protocol::{
    encode, parse, parse_line, to_line, validate, Dialect, EncodeError, Part,
};
use rolecall_actors::metrics::{Field, Point};

fn point() -> Point {
    Point::new("m", 1_700_000_000_123_456_789)
}

#[test]
fn escapes_as_the_reference_says() {
    let cases: Vec<(Point, &str, &str)> = vec![
        (
            point().field("v", 1.5),
            "m v=1.5 1700000000123456789\n",
            "m v=1.5 1700000000123456789\n",
        ),
        (
            Point::new("my measurement,x", 1).field("v", 2i64),
            "my\\ measurement\\,x v=2i 1\n",
            "my\\ measurement\\,x v=2i 1\n",
        ),
        (
            Point::new("m=1", 1)
                .tag("a b", "c,d=e")
                .field("f=g h", true),
            "m=1,a\\ b=c\\,d\\=e f\\=g\\ h=true 1\n",
            "m=1,a\\ b=c\\,d\\=e f\\=g\\ h=true 1\n",
        ),
        (
            point().field("s", "say \"hi\" \\ bye"),
            "m s=\"say \\\"hi\\\" \\\\ bye\" 1700000000123456789\n",
            "m s=\"say \\\"hi\\\" \\\\ bye\" 1700000000123456789\n",
        ),
        (
            Point::new("mé", -5)
                .tag("städt", "Zürich 東京")
                .field("ü", "ñ"),
            "mé,städt=Zürich\\ 東京 ü=\"ñ\" -5\n",
            "mé,städt=Zürich\\ 東京 ü=\"ñ\" -5\n",
        ),
        (
            point().tag("path", "a\\b").field("v", 0.0),
            "m,path=a\\\\b v=0.0 1700000000123456789\n",
            "m,path=a\\b v=0.0 1700000000123456789\n",
        ),
        (
            // Shortest round-trip text; very large and small magnitudes in
            // exponent form, which both servers read.
            point()
                .field("big", 1e16)
                .field("small", -1.5e-7)
                .field("third", 1.0 / 3.0),
            "m big=1e16,small=-1.5e-7,third=0.3333333333333333 1700000000123456789\n",
            "m big=1e16,small=-1.5e-7,third=0.3333333333333333 1700000000123456789\n",
        ),
    ];
    for (p, v2, v1) in cases {
        assert_eq!(to_line(&p, Dialect::V2).unwrap(), v2, "{p:?}");
        assert_eq!(to_line(&p, Dialect::V1).unwrap(), v1, "{p:?}");
        assert_eq!(parse_line(v2.trim_end(), Dialect::V2).unwrap(), p);
        assert_eq!(parse_line(v1.trim_end(), Dialect::V1).unwrap(), p);
    }
}

#[test]
fn refuses_what_line_protocol_cannot_carry() {
    let err = |p: Point, d| validate(&p, d).unwrap_err();
    assert!(matches!(
        err(Point::new("", 1).field("v", 1.0), Dialect::V2),
        EncodeError::Empty {
            part: Part::Measurement,
            ..
        }
    ));
    assert!(matches!(
        err(point(), Dialect::V2),
        EncodeError::NoFields { .. }
    ));
    assert!(matches!(
        err(point().tag("t", "").field("v", 1.0), Dialect::V2),
        EncodeError::Empty {
            part: Part::TagValue,
            ..
        }
    ));
    assert!(matches!(
        err(point().tag("t", "a\nb").field("v", 1.0), Dialect::V2),
        EncodeError::Newline {
            part: Part::TagValue,
            ..
        }
    ));
    assert!(matches!(
        err(point().field("s", "line1\nline2"), Dialect::V1),
        EncodeError::Newline {
            part: Part::FieldValue,
            ..
        }
    ));
    assert!(matches!(
        err(point().field("v", f64::NAN), Dialect::V2),
        EncodeError::NotFinite { .. }
    ));
    // InfluxDB 1.x reads backslashes literally: one at the end or before a
    // special character cannot be written; InfluxDB 2 escapes it.
    let trailing = point().tag("t", "x\\").field("v", 1.0);
    assert!(matches!(
        err(trailing.clone(), Dialect::V1),
        EncodeError::Unrepresentable { .. }
    ));
    assert_eq!(
        to_line(&trailing, Dialect::V2).unwrap(),
        "m,t=x\\\\ v=1.0 1700000000123456789\n"
    );
    let msg = err(point().tag("host", "a\nb").field("v", 1.0), Dialect::V2).to_string();
    assert!(msg.contains("tag value of `host`"), "{msg}");
    // encode leaves the buffer as it was on error
    let mut out = String::from("keep\n");
    assert!(encode(&point(), Dialect::V2, &mut out).is_err());
    assert_eq!(out, "keep\n");
}

#[test]
fn parse_errors_name_line_and_column() {
    let text = "m v=1 1\nm,t v=1 1\n";
    let (line, e) = parse(text, Dialect::V2).unwrap_err();
    assert_eq!(line, 2);
    assert_eq!(e.column, 4, "{e}");
    assert!(parse_line("m v=\"open 1", Dialect::V2).is_err());
    assert!(parse_line("m v=1 x", Dialect::V2).is_err());
    assert!(parse_line("m v=abc 1", Dialect::V2).is_err());
    assert!(parse_line("m v=1", Dialect::V2).is_err());
}

/// Any text without newlines: ASCII specials weighted up, plus any unicode.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => prop::sample::select(vec![' ', ',', '=', '"', '\\', 'a', 'Z', '0', '\t', 'é', '東', '🦀']),
            1 => any::<char>().prop_filter("no newline", |c| *c != '\n' && *c != '\r'),
        ],
        1..12,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Field::Float),
        any::<i64>().prop_map(Field::Int),
        any::<bool>().prop_map(Field::Bool),
        proptest::collection::vec(
            any::<char>().prop_filter("no newline", |c| *c != '\n' && *c != '\r'),
            0..10
        )
        .prop_map(|v| Field::Str(v.into_iter().collect())),
    ]
}

fn any_point() -> impl Strategy<Value = Point> {
    (
        text(),
        proptest::collection::btree_map(text(), text(), 0..4),
        proptest::collection::btree_map(text(), field(), 1..4),
        any::<i64>(),
    )
        .prop_map(|(measurement, tags, fields, time_ns)| Point {
            measurement,
            tags,
            fields,
            time_ns,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn v2_round_trips_every_point_without_newlines(p in any_point()) {
        let line = to_line(&p, Dialect::V2).unwrap();
        prop_assert_eq!(line.matches('\n').count(), 1);
        prop_assert_eq!(parse_line(line.trim_end_matches('\n'), Dialect::V2).unwrap(), p);
    }

    #[test]
    fn v1_round_trips_or_refuses_with_a_reason(p in any_point()) {
        match to_line(&p, Dialect::V1) {
            Ok(line) => prop_assert_eq!(parse_line(line.trim_end_matches('\n'), Dialect::V1).unwrap(), p),
            Err(EncodeError::Unrepresentable { text, .. }) => {
                let bad = text.ends_with('\\')
                    || [",", "=", " "].iter().any(|s| text.contains(&format!("\\{s}")));
                prop_assert!(bad, "refused {:?}", text);
            }
            Err(e) => prop_assert!(false, "unexpected {}", e),
        }
    }

    #[test]
    fn a_newline_anywhere_is_refused(p in any_point(), at in 0usize..4) {
        let mut p = p;
        match at {
            0 => p.measurement.push('\n'),
            1 => { p.tags.insert("k\nk".into(), "v".into()); }
            2 => { p.fields.insert("f".into(), Field::Str("a\nb".into())); }
            _ => { p.tags.insert("k".into(), "v\rv".into()); }
        }
        let refused = matches!(validate(&p, Dialect::V2), Err(EncodeError::Newline { .. }));
        prop_assert!(refused);
    }

    #[test]
    fn csv_round_trips(points in proptest::collection::vec(any_point(), 1..5)) {
        use rolecall_actors::metrics::csv;
        let mut text = String::from(csv::HEADER);
        // distinct timestamps so rows of different points are not merged
        let points: Vec<Point> = points.into_iter().enumerate().map(|(i, mut p)| { p.time_ns = i as i64; p }).collect();
        for p in &points {
            csv::encode(p, &mut text).unwrap();
        }
        prop_assert_eq!(csv::parse(&text).unwrap(), points);
    }
}
