//! The loader never panics, whatever it is given.

use proptest::prelude::*;
use rolecall_runtime::topology::{load_str, Overrides};

use crate::fixtures::all_fixtures;
use crate::model::TWO_NODES;
use crate::roles::registry;

/// Loads `text`; an error has at least one diagnostic, every position is
/// inside the text, and displaying it works.
fn load(text: &str) {
    if let Err(e) = load_str(text, "fuzz.toml", &registry(), &Overrides::new()) {
        assert!(!e.diagnostics.is_empty());
        let lines = text.split('\n').count();
        for (i, d) in e.diagnostics.iter().enumerate() {
            assert_eq!(d.origin, "fuzz.toml");
            assert!(d.line <= lines, "{d:?} beyond {lines} lines");
            if d.line > 0 {
                let line = e.source_line(i).expect("a source line");
                assert!(
                    d.column >= 1 && d.column <= line.chars().count() + 1,
                    "{d:?} in {line:?}"
                );
            }
        }
        let _ = e.to_string();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text(text in "\\PC{0,400}") {
        load(&text);
    }

    #[test]
    fn toml_like_text(text in "(\\[{1,2}[a-z.]{0,12}\\]{1,2}\n|[a-z_]{1,8} = (\"[a-z.:/*0-9]{0,12}\"|[0-9]{1,6}|\\[\"[a-z.]{0,6}\"\\]|\\{ [a-z]{1,4} = [0-9]{1,3} \\})\n){0,24}") {
        load(&text);
    }

    #[test]
    fn byte_flips_of_a_valid_topology(pos in 0usize..2000, byte in any::<u8>()) {
        let mut bytes = TWO_NODES.as_bytes().to_vec();
        let i = pos % bytes.len();
        bytes[i] = byte;
        load(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn overrides_of_anything(path in "[a-z.]{0,20}", value in "\\PC{0,20}") {
        let mut o = Overrides::new();
        if o.set(&format!("{path}={value}")).is_ok() {
            let _ = load_str(TWO_NODES, "fuzz.toml", &registry(), &o);
        }
    }
}

/// Loads `text` with each line deleted in turn, and (if `duplicate`) doubled in turn.
fn mutate_lines(text: &str, duplicate: bool) {
    let lines: Vec<&str> = text.lines().collect();
    for i in 0..lines.len() {
        let mut deleted = lines.clone();
        deleted.remove(i);
        load(&deleted.join("\n"));
        if duplicate {
            let mut doubled = lines.clone();
            doubled.insert(i, lines[i]);
            load(&doubled.join("\n"));
        }
    }
}

#[test]
fn every_line_deleted_and_duplicated_in_turn() {
    mutate_lines(TWO_NODES, true);
    let fixtures = all_fixtures();
    assert!(fixtures.len() >= 3, "{fixtures:?}");
    for path in fixtures {
        let text = std::fs::read_to_string(&path).expect("fixture");
        mutate_lines(&text, true);
    }
    for example in ["quickstart", "two_nodes"] {
        let path = format!(
            "{}/../examples/{example}/topology.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        if let Ok(text) = std::fs::read_to_string(&path) {
            mutate_lines(&text, false);
        }
    }
}

/// Fixture texts, read once per case (cheap: a few small files).
fn fixture_texts() -> Vec<String> {
    all_fixtures()
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Flip(usize, u8),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Flip(a, b)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for e in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match *e {
            Edit::Delete(i) => {
                lines.remove(i % n);
            }
            Edit::Duplicate(i) => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Edit::Swap(a, b) => lines.swap(a % n, b % n),
            Edit::Flip(i, byte) => {
                let line = &mut lines[i % n];
                let mut bytes = std::mem::take(line).into_bytes();
                if !bytes.is_empty() {
                    let at = i % bytes.len();
                    bytes[at] = byte;
                }
                *line = String::from_utf8_lossy(&bytes).into_owned();
            }
            Edit::Truncate(i) => {
                let line = &mut lines[i % n];
                let keep = line
                    .char_indices()
                    .nth(i % (line.len() + 1))
                    .map_or(line.len(), |(k, _)| k);
                line.truncate(keep);
            }
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_edits_of_the_fixtures(which in any::<usize>(), edits in proptest::collection::vec(edit(), 1..8)) {
        let texts = fixture_texts();
        let text = &texts[which % texts.len()];
        load(&apply(text, &edits));
    }

    #[test]
    fn overrides_of_the_fixtures(
        which in any::<usize>(),
        node in prop_oneof![Just("main".to_owned()), Just("edge".to_owned()), Just("core".to_owned()), Just("archive".to_owned()), Just("a".to_owned()), Just("b".to_owned()), "[a-z]{1,5}"],
        actor in prop_oneof![Just("sensor".to_owned()), Just("relay".to_owned()), Just("screen".to_owned()), Just("s".to_owned()), "[a-z]{1,5}"],
        key in prop_oneof![Just("rate".to_owned()), Just("bind".to_owned()), Just("address".to_owned()), Just("base_port".to_owned()), Just("listen".to_owned()), "[a-z.]{1,8}"],
        value in prop_oneof![Just("1".to_owned()), Just("70000".to_owned()), Just("\"x\"".to_owned()), Just("[1,".to_owned()), Just("{a=[]}".to_owned()), Just("tcp://*:7000".to_owned()), "\\PC{0,12}"],
        node_field in any::<bool>(),
    ) {
        let texts = fixture_texts();
        let text = &texts[which % texts.len()];
        let mut o = Overrides::new();
        let assignment = if node_field {
            format!("{node}.{key}={value}")
        } else {
            format!("{node}.{actor}.{key}={value}")
        };
        if o.set(&assignment).is_ok() {
            let _ = load_str(text, "fixture.toml", &registry(), &o);
        }
    }
}
