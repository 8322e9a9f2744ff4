//! The loader never panics, whatever it is given.

use proptest::prelude::*;
use rolecall_runtime::topology::{load_str, Overrides};

use crate::model::TWO_NODES;
use crate::roles::registry;

fn load(text: &str) {
    let _ = load_str(text, "fuzz.toml", &registry(), &Overrides::new());
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
    for example in ["quickstart", "two_nodes"] {
        let path = format!(
            "{}/../examples/{example}/topology.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("example exists");
        mutate_lines(&text, false);
    }
}
