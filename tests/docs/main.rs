//! Documentation that compiles: every ```rust block of the guides named in
//! [`GUIDES`] appears, line for line, in a module here that is compiled and
//! run as a test. Change a snippet in the guide and this test fails until the
//! code here says the same (and still compiles and works).

// Kept as the guide shows it (rustfmt would reflow the snippets).
#[rustfmt::skip]
mod writing_a_role;

use std::path::Path;

/// (guide, the source file its snippets come from).
const GUIDES: &[(&str, &str)] = &[("docs/writing-a-role.md", "tests/docs/writing_a_role.rs")];

/// The ```rust blocks of a Markdown text, each as its lines.
fn rust_blocks(markdown: &str) -> Vec<(usize, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    for (n, line) in markdown.lines().enumerate() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```rust") => current = Some((n + 2, Vec::new())),
            Some(_) if fence.starts_with("```") => blocks.extend(current.take()),
            Some((_, lines)) => lines.push(line.to_owned()),
            None => {}
        }
    }
    blocks
}

/// Whether `snippet` occurs in `source` as consecutive lines, comparing each
/// line without its leading and trailing spaces (a snippet may be indented
/// differently in the guide and in the code).
fn occurs(snippet: &[String], source: &[&str]) -> bool {
    let want: Vec<&str> = snippet.iter().map(|l| l.trim()).collect();
    let have: Vec<&str> = source.iter().map(|l| l.trim()).collect();
    !want.is_empty() && have.windows(want.len()).any(|w| w == want.as_slice())
}

#[test]
fn every_rust_snippet_of_the_guides_is_compiled_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (guide, code) in GUIDES {
        let text = std::fs::read_to_string(root.join(guide)).expect("read the guide");
        let source = std::fs::read_to_string(root.join(code)).expect("read the code");
        let lines: Vec<&str> = source.lines().collect();
        let blocks = rust_blocks(&text);
        assert!(
            blocks.len() >= 5,
            "{guide}: only {} rust blocks found",
            blocks.len()
        );
        let missing: Vec<String> = blocks
            .iter()
            .filter(|(_, b)| !occurs(b, &lines))
            .map(|(line, b)| format!("{guide}:{line}:\n{}", b.join("\n")))
            .collect();
        assert!(
            missing.is_empty(),
            "snippets not found in {code} (make the code say the same):\n{}",
            missing.join("\n\n")
        );
    }
}

#[test]
fn a_changed_snippet_is_noticed() {
    let source = ["fn a() {", "    let x = 1;", "}"];
    assert!(occurs(&["let x = 1;".to_owned()], &source));
    assert!(!occurs(&["let x = 2;".to_owned()], &source));
    let md = "text\n```rust\nlet x = 1;\n```\n```toml\na = 1\n```\n  ```rust\n  fn b() {}\n  ```\n";
    let blocks = rust_blocks(md);
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0], (3, vec!["let x = 1;".to_owned()]));
    assert_eq!(blocks[1].1, vec!["  fn b() {}".to_owned()]);
}
