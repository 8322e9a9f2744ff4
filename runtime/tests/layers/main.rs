//! The runtime's layers stack one way (docs/architecture.md, "Layers inside
//! the runtime"): a module may use modules of lower layers only. This test
//! reads every source file under `runtime/src` and fails, naming the file and
//! line, when one refers (`crate::…`) to a module of its own layer or above.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The top-level modules of `rolecall-runtime`, lowest layer first. A module
/// may use any module of a lower layer, none of its own or a higher one.
const LAYERS: &[&[&str]] = &[
    &["supervision", "trace"],
    &["wire"],
    &["fault", "remote"],
    &["kind"],
    &["topology"],
    &["node"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read runtime/src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a line of code names after `crate::`, including
/// inside `use crate::{a, b::c}` groups.
fn crate_refs(line: &str) -> Vec<String> {
    let mut refs = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `rolecall_runtime::…` or similar, not this crate's root
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        refs.push(first_segment(&item));
                        item.clear();
                    }
                    _ if depth == 0 => item.push(c),
                    _ => {}
                }
            }
            refs.push(first_segment(&item));
        } else {
            refs.push(first_segment(rest));
        }
    }
    refs.retain(|r| !r.is_empty());
    refs
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Every reference to a module of the same or a higher layer, as
/// `file:line: module uses other`.
fn violations(src: &Path) -> (Vec<String>, BTreeMap<(String, String), usize>) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    let mut edges = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src");
        let Some(first) = relative.components().next() else {
            continue;
        };
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let Some(own) = layer_of(&module) else {
            continue; // lib.rs: the crate root re-exports every layer
        };
        let text = std::fs::read_to_string(&file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for used in crate_refs(code) {
                if used == module {
                    continue;
                }
                *edges.entry((module.clone(), used.clone())).or_insert(0) += 1;
                match layer_of(&used) {
                    Some(l) if l < own => {}
                    Some(_) => found.push(format!(
                        "runtime/src/{}:{}: `{module}` (layer {own}) uses `{used}` (layer {}): {}",
                        relative.display(),
                        n + 1,
                        layer_of(&used).unwrap_or(0),
                        code.trim()
                    )),
                    None => found.push(format!(
                        "runtime/src/{}:{}: `{used}` is not in a layer of this test's table",
                        relative.display(),
                        n + 1
                    )),
                }
            }
        }
    }
    (found, edges)
}

#[test]
fn every_module_uses_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (found, edges) = violations(&src);
    assert!(
        found.is_empty(),
        "modules that use their own layer or a higher one:\n{}",
        found.join("\n")
    );
    // The table is not stale: every module it names exists.
    for module in LAYERS.iter().flat_map(|l| l.iter()) {
        let dir = src.join(module);
        let file = src.join(format!("{module}.rs"));
        assert!(
            dir.is_dir() || file.is_file(),
            "no module `{module}` in runtime/src"
        );
    }
    // And the check sees real references (it would pass vacuously otherwise).
    assert!(edges.contains_key(&("node".to_owned(), "kind".to_owned())));
}

#[test]
fn the_reference_parser_sees_groups_and_paths() {
    assert_eq!(crate_refs("use crate::wire::{Queue, Policy};"), ["wire"]);
    assert_eq!(
        crate_refs("use crate::{fault::Faults, kind::{Direction, Registry}};"),
        ["fault", "kind"]
    );
    assert_eq!(
        crate_refs("let x: &crate::topology::Topology = crate::node::f();"),
        ["topology", "node"]
    );
    assert!(crate_refs("use rolecall_runtime::crate_like::x;").is_empty());
    assert!(crate_refs("use super::queue::Queue;").is_empty());
}

#[test]
fn a_reference_upwards_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wire = dir.path().join("wire");
    std::fs::create_dir(&wire).expect("mkdir");
    std::fs::write(
        wire.join("queue.rs"),
        "// crate::node in a comment is fine\nuse crate::node::NodeHandle;\n",
    )
    .expect("write");
    let (found, _) = violations(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("runtime/src/wire/queue.rs:2: `wire` (layer 1) uses `node` (layer 5)")
    );
}
