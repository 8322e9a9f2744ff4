//! Running the model checker from a program: [`check`] searches a
//! [`Model`], prints what it found (the shortest counterexample, step by
//! step), and writes the counterexample as a trace file (and its picture).
//! `rolecall model` and a student's own checked role both go through it.

use std::path::{Path, PathBuf};

use rolecall_actors::model::{self, Model, Outcome, Role};
use rolecall_runtime::trace::{self, Writer};

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// Breadth-first with state hashing (shortest counterexample).
    Bfs,
    /// Depth-first to a bound of steps, with or without state hashing.
    Dfs {
        /// Most steps.
        depth: u32,
        /// Skip states already explored at the same or a smaller depth.
        hashing: bool,
    },
}

/// What [`check`] does.
#[derive(Debug, Clone)]
pub struct Options {
    /// The search.
    pub search: Search,
    /// Stop after this many states (memory bound).
    pub max_states: u64,
    /// Write a counterexample here as a trace file.
    pub trace: Option<PathBuf>,
    /// Write a counterexample's picture here as an HTML page.
    pub html: Option<PathBuf>,
}

impl Default for Options {
    /// BFS, at most 20 million states, no files.
    fn default() -> Self {
        Options {
            search: Search::Bfs,
            max_states: 20_000_000,
            trace: None,
            html: None,
        }
    }
}

/// The exit status of a check: 0 the properties hold in every state
/// explored and the search was complete, 1 a violation, 3 the search
/// stopped at its bound with no violation found (inconclusive), 2 an error.
pub fn check<R: Role>(model: &Model<R>, options: &Options) -> i32 {
    let outcome = search(model, options);
    println!("{}", summary(&outcome));
    let Some(cx) = &outcome.violation else {
        let props = model.properties().join(", ");
        if outcome.complete {
            println!("ok: {props} hold in every state explored");
            return 0;
        }
        println!("inconclusive: no violation of {props} in the states explored, but the search stopped at its bound");
        return 3;
    };
    println!(
        "violation of {} after {} steps: {}",
        cx.property,
        cx.path.len(),
        cx.problem
    );
    for (i, event) in cx.path.iter().enumerate() {
        println!("  {:>3}. {}", i + 1, model.describe(event));
    }
    if let Err(e) = write_counterexample(model, &cx.path, options) {
        eprintln!("error: {e}");
        return 2;
    }
    1
}

/// Runs the search `options` asks for.
pub fn search<R: Role>(model: &Model<R>, options: &Options) -> Outcome<R::Msg> {
    match options.search {
        Search::Bfs => model.bfs(options.max_states),
        Search::Dfs { depth, hashing } => model.dfs(depth, hashing, options.max_states),
    }
}

/// One line: states, transitions, depth, time, rate.
pub fn summary<M>(o: &Outcome<M>) -> String {
    let secs = o.elapsed.as_secs_f64();
    format!(
        "explored {} states, {} transitions, depth {}, in {:.2} s ({:.0} states/s){}",
        o.states,
        o.transitions,
        o.depth,
        secs,
        o.states as f64 / secs.max(1e-9),
        if o.complete {
            ""
        } else {
            " (stopped at the bound)"
        }
    )
}

/// Writing a counterexample failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The path does not replay (a bug of the checker).
    #[error("counterexample: {0}")]
    Replay(#[from] model::ReplayError),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
}

fn write_counterexample<R: Role>(
    model: &Model<R>,
    path: &[model::Event<R::Msg>],
    options: &Options,
) -> Result<(), WriteError> {
    if options.trace.is_none() && options.html.is_none() {
        return Ok(());
    }
    let events = model::record(model, path)?;
    if let Some(file) = &options.trace {
        write_trace(file, &events)?;
        println!(
            "counterexample written to {} (see it: rolecall trace {} --html OUT.html)",
            file.display(),
            file.display()
        );
    }
    if let Some(file) = &options.html {
        let page = crate::trace::html(&events, "counterexample");
        std::fs::write(file, page).map_err(|source| WriteError::Io {
            path: file.display().to_string(),
            source,
        })?;
        println!("counterexample drawn in {}", file.display());
    }
    Ok(())
}

/// Writes `events` to `file` as JSON lines (at most a million events).
pub fn write_trace(file: &Path, events: &[trace::Event]) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: file.display().to_string(),
        source,
    };
    let out = std::fs::File::create(file).map_err(io)?;
    let mut w = Writer::new(std::io::BufWriter::new(out), 1_000_000);
    for e in events {
        w.write(e).map_err(io)?;
    }
    w.finish().map_err(io)?;
    Ok(())
}
