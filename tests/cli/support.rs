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

/// The built example program `name`, run from the repository root.
///
/// Builds it first (`cargo build --example NAME`, a no-op when `cargo test`
/// already built the examples) outside the 60-second limit of [`run`], so a
/// slow build on a loaded machine is never taken for a hung example.
pub(crate) fn example(name: &str) -> Command {
    let status = Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["build", "--quiet", "--example", name])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build --example {name} failed");
    // The test binary is target/<profile>/deps/cli-HASH; examples are in
    // target/<profile>/examples/.
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let mut c = Command::new(profile_dir.join("examples").join(name));
    c.current_dir(root());
    c
}

/// Runs and captures; a run that takes over 60 s is killed and fails the test.
pub(crate) fn run(c: &mut Command) -> Output {
    run_within(c, 60)
}

/// Runs and captures; a run that takes over `seconds` is killed and fails the test.
pub(crate) fn run_within(c: &mut Command, seconds: u64) -> Output {
    use std::io::Read;
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rolecall runs");
    // Drain the pipes on threads so a chatty child never blocks on them.
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("rolecall did not finish within {seconds} s: {c:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// stdout as text.
pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Checks a bench comparison measured in pairs of rounds (`round_ratios`,
/// `pair_ratios`, `ratio` of the JSON object `c`): `pairs` pairs of two
/// rounds, each pair's ratio the geometric mean of its rounds', `ratio` the
/// median of the pairs'. Returns the pairs' ratios, sorted. `line` is the
/// whole JSON line, for the messages.
pub(crate) fn assert_paired_ratios(c: &serde_json::Value, pairs: usize, line: &str) -> Vec<f64> {
    let floats = |key: &str| -> Vec<f64> {
        let values = c[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key}: {line}"));
        values
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .collect()
    };
    let (rounds, pair_ratios) = (floats("round_ratios"), floats("pair_ratios"));
    assert_eq!(
        (rounds.len(), pair_ratios.len()),
        (2 * pairs, pairs),
        "{line}"
    );
    for (pair, two) in pair_ratios.iter().zip(rounds.chunks(2)) {
        assert!((pair - (two[0] * two[1]).sqrt()).abs() < 1e-9, "{line}");
    }
    let mut sorted = pair_ratios;
    sorted.sort_by(f64::total_cmp);
    assert_eq!(c["ratio"].as_f64(), Some(sorted[pairs / 2]), "{line}");
    sorted
}

/// Waits for `child` up to `timeout`; kills it (and returns None) past it.
pub(crate) fn wait_with_timeout(
    child: &mut std::process::Child,
    timeout: std::time::Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

/// Starts `rolecall ARGS` with stdout and stderr piped.
pub(crate) fn spawn(args: &[&str]) -> std::process::Child {
    rolecall()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rolecall starts")
}

/// Everything the child wrote (call after it exited).
pub(crate) fn read_all(child: &mut std::process::Child) -> (String, String) {
    use std::io::Read;
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    (out, err)
}

/// The Python that test peers run with: `$ROLECALL_PYTHON`, else the venv
/// `make test` creates (`.tools/pyvenv`, with pyzmq, protobuf and kazoo).
pub(crate) fn python() -> PathBuf {
    let p = std::env::var_os("ROLECALL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/pyvenv/bin/python3"));
    assert!(
        p.exists(),
        "python with pyzmq, protobuf and kazoo not found at {}: set ROLECALL_PYTHON or run `make test` (it creates .tools/pyvenv)",
        p.display()
    );
    p
}

/// Runs `script` with a started kazoo client `zk` on `servers` and the node
/// path `p` (as the test peers' Python runs it); its stdout.
pub(crate) fn kazoo(servers: &str, p: &str, script: &str) -> String {
    let script = format!(
        "import sys\nfrom kazoo.client import KazooClient\n\
         zk = KazooClient(hosts=sys.argv[1], timeout=4.0)\nzk.start(timeout=10)\n\
         p = sys.argv[2]\n{script}\nzk.stop()\n"
    );
    let out = Command::new(python())
        .args(["-c", &script, servers, p])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "kazoo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
