//! Running the built `rolecall` binary.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `rolecall` command run from the repository root, logging warnings only.
pub(crate) fn rolecall() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rolecall"));
    c.current_dir(root()).env("ROLECALL_LOG", "warn");
    c
}

/// Runs and captures.
pub(crate) fn run(c: &mut Command) -> Output {
    c.output().expect("rolecall runs")
}

/// stdout as text.
pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
