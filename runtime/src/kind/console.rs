//! [`Console`]: where roles write the lines a user reads — a learned Paxos
//! slot, a latency table, a printed message — instead of printing themselves.
//!
//! A node hands every role its node's console through
//! [`Io::console`](super::Io::console). By default that is the process's
//! stdout, one line per call, exactly as `println!` would write it; a program
//! that embeds the runtime replaces it with
//! [`Node::with_console`](crate::node::Node::with_console) to capture the
//! lines ([`Capture`]), silence them ([`Console::silent`]) or send them
//! anywhere else (any [`Sink`], a closure included).
//!
//! ```
//! use rolecall_runtime::kind::{Capture, Console, Line};
//!
//! // What a role does with the console it got from `io.console()`:
//! let capture = Capture::new(100);
//! let console = Console::new(capture.clone()).for_actor("learner");
//! console.line(format_args!("slot {} = {:?}", 0, "set x 1"));
//! assert_eq!(capture.lines()[0].actor, "learner");
//! assert_eq!(capture.lines()[0].text, "slot 0 = \"set x 1\"");
//!
//! // A sink of one's own: a closure over each line.
//! let console = Console::new(|line: &Line<'_>| eprintln!("[{}] {}", line.actor(), line));
//! console.for_actor("printer").line("hello");
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;

/// One line a role reports: which actor, and the text (without the newline).
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    actor: &'a str,
    text: fmt::Arguments<'a>,
}

impl<'a> Line<'a> {
    /// The reporting actor's name in the topology (empty for a console not
    /// bound to an actor).
    pub fn actor(&self) -> &'a str {
        self.actor
    }

    /// The text, to format (`line.to_string()` gives it as a `String`).
    pub fn text(&self) -> fmt::Arguments<'a> {
        self.text
    }
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.text, f)
    }
}

/// Where a console's lines go. Implemented for closures over a [`Line`].
///
/// Called on the reporting actor's thread, while it handles a message: a
/// sink should not block for long.
pub trait Sink: Send + Sync + 'static {
    /// Takes one line.
    fn line(&self, line: &Line<'_>);
}

impl<F> Sink for F
where
    F: Fn(&Line<'_>) + Send + Sync + 'static,
{
    fn line(&self, line: &Line<'_>) {
        self(line)
    }
}

/// The process's stdout, a line at a time (what `println!` writes).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

impl Sink for Stdout {
    #[allow(clippy::print_stdout)] // the one place a role's report reaches stdout
    fn line(&self, line: &Line<'_>) {
        println!("{}", line.text);
    }
}

/// Drops every line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Sink for Silent {
    fn line(&self, _: &Line<'_>) {}
}

/// A console: a [`Sink`] shared by a node's roles, bound to one actor's name
/// when a role gets it. Cheap to clone.
#[derive(Clone)]
pub struct Console {
    sink: Arc<dyn Sink>,
    actor: Arc<str>,
}

impl fmt::Debug for Console {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Console")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl Default for Console {
    /// [`Console::stdout`].
    fn default() -> Self {
        Console::stdout()
    }
}

impl Console {
    /// Lines go to `sink`.
    pub fn new(sink: impl Sink) -> Self {
        Console {
            sink: Arc::new(sink),
            actor: Arc::from(""),
        }
    }

    /// Lines go to the process's stdout (the default of every node).
    pub fn stdout() -> Self {
        Console::new(Stdout)
    }

    /// Lines are dropped.
    pub fn silent() -> Self {
        Console::new(Silent)
    }

    /// The same sink, reporting as actor `actor`.
    pub fn for_actor(&self, actor: &str) -> Self {
        Console {
            sink: Arc::clone(&self.sink),
            actor: Arc::from(actor),
        }
    }

    /// The actor this console reports as (empty if none).
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Reports one line (`text` without its newline; a text of several lines,
    /// such as a table, is one report). Use `format_args!` to format without
    /// allocating: `console.line(format_args!("slot {slot} = {value}"))`.
    pub fn line(&self, text: impl fmt::Display) {
        self.sink.line(&Line {
            actor: &self.actor,
            text: format_args!("{text}"),
        });
    }
}

/// A line kept by a [`Capture`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedLine {
    /// The reporting actor.
    pub actor: String,
    /// The text, without the newline.
    pub text: String,
}

/// A [`Sink`] that keeps the last `capacity` lines in memory, counting the
/// ones it had to drop: for a program or a test that reads what its roles
/// report. Clones share the lines.
#[derive(Debug, Clone)]
pub struct Capture {
    inner: Arc<Mutex<Captured>>,
}

#[derive(Debug)]
struct Captured {
    capacity: usize,
    lines: VecDeque<CapturedLine>,
    dropped: u64,
}

impl Capture {
    /// Keeps up to `capacity` lines; older ones are dropped (and counted)
    /// when more arrive.
    pub fn new(capacity: usize) -> Self {
        Capture {
            inner: Arc::new(Mutex::new(Captured {
                capacity,
                lines: VecDeque::with_capacity(capacity.min(1024)),
                dropped: 0,
            })),
        }
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> Vec<CapturedLine> {
        self.inner.lock().lines.iter().cloned().collect()
    }

    /// The texts of the lines `actor` reported, oldest first.
    pub fn lines_of(&self, actor: &str) -> Vec<String> {
        self.inner
            .lock()
            .lines
            .iter()
            .filter(|l| l.actor == actor)
            .map(|l| l.text.clone())
            .collect()
    }

    /// Lines dropped because the capture was full.
    pub fn dropped(&self) -> u64 {
        self.inner.lock().dropped
    }
}

impl Sink for Capture {
    fn line(&self, line: &Line<'_>) {
        let captured = CapturedLine {
            actor: line.actor.to_owned(),
            text: line.to_string(),
        };
        let mut inner = self.inner.lock();
        if inner.capacity == 0 {
            inner.dropped += 1;
            return;
        }
        if inner.lines.len() == inner.capacity {
            inner.lines.pop_front();
            inner.dropped += 1;
        }
        inner.lines.push_back(captured);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_the_last_lines_and_counts_the_dropped() {
        let capture = Capture::new(2);
        let console = Console::new(capture.clone());
        let a = console.for_actor("a");
        let b = console.for_actor("b");
        a.line("one");
        b.line(format_args!("two {}", 2));
        a.line("three\nfour");
        assert_eq!(capture.dropped(), 1);
        assert_eq!(capture.lines_of("a"), vec!["three\nfour".to_owned()]);
        assert_eq!(
            capture.lines()[0],
            CapturedLine {
                actor: "b".into(),
                text: "two 2".into()
            }
        );
    }

    #[test]
    fn a_closure_is_a_sink_and_silent_drops() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&seen);
        let console = Console::new(move |l: &Line<'_>| {
            keep.lock().push(format!("{}|{}", l.actor(), l));
        });
        console.for_actor("x").line(42);
        assert_eq!(*seen.lock(), vec!["x|42".to_owned()]);
        Console::silent().for_actor("x").line("nothing");
        assert_eq!(Console::default().actor(), "");
    }
}
