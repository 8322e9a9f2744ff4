//! Positions and diagnostics: mapping byte spans to `origin:line:column`.
//!
//! The loader parses one text: the topology file followed by the text of each
//! override value. A span inside the file is reported as `file:line:column`; a
//! span inside an override is reported with the override's origin (for
//! example `--set main.source.count=abc`).

use std::fmt;
use std::ops::Range;

/// One problem found in a topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, or the override (`--set ...`, `environment ROLECALL_SET_1`).
    pub origin: String,
    /// 1-based line; 0 when there is no position (an override, an unreadable file).
    pub line: usize,
    /// 1-based column (in characters); 0 when there is no position.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    fn header(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.origin, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.origin, self.message)
        }
    }

    fn help(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.help {
            Some(help) => write!(f, "\n  = help: {help}"),
            None => Ok(()),
        }
    }
}

/// `origin:line:column: message` (`origin: message` without a position),
/// then `  = help: ...` on its own line when there is help.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.header(f)?;
        self.help(f)
    }
}

/// A topology could not be loaded; every problem found is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The problems, in source order (override problems last).
    pub diagnostics: Vec<Diagnostic>,
    /// The source line of each diagnostic (same index), for display.
    snippets: Vec<Option<String>>,
}

impl LoadError {
    /// An error of diagnostics without source lines.
    pub fn new(diagnostics: Vec<Diagnostic>) -> Self {
        LoadError {
            diagnostics,
            snippets: Vec::new(),
        }
    }

    /// The source line diagnostic `index` points into, if it has one.
    pub fn source_line(&self, index: usize) -> Option<&str> {
        self.snippets.get(index).and_then(|s| s.as_deref())
    }
}

/// Every diagnostic with its source line and a caret under the column, then a
/// count: `2 errors in topology`.
impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            d.header(f)?;
            if let Some(line) = self.source_line(i) {
                let pad = " ".repeat(d.line.to_string().len());
                write!(f, "\n {pad} |\n {} | {line}", d.line)?;
                if d.column > 0 {
                    // Tabs stay tabs so the caret lines up under them.
                    let lead: String = line
                        .chars()
                        .take(d.column - 1)
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    write!(f, "\n {pad} | {lead}^")?;
                }
            }
            d.help(f)?;
            writeln!(f)?;
        }
        let n = self.diagnostics.len();
        write!(f, "{n} error{} in topology", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for LoadError {}

/// The text the loader parses and where each part came from.
#[derive(Debug)]
pub(crate) struct SourceMap {
    pub(crate) text: String,
    file_len: usize,
    origin: String,
    /// Byte range of each override value in `text`, with its origin.
    overrides: Vec<(Range<usize>, String)>,
}

impl SourceMap {
    pub(crate) fn new(file: &str, origin: &str) -> Self {
        SourceMap {
            text: file.to_owned(),
            file_len: file.len(),
            origin: origin.to_owned(),
            overrides: Vec::new(),
        }
    }

    /// Appends an override's value text; returns its byte range.
    pub(crate) fn add_override(&mut self, value: &str, origin: &str) -> Range<usize> {
        self.text.push('\n');
        let start = self.text.len();
        self.text.push_str(value);
        let range = start..self.text.len();
        self.overrides.push((range.clone(), origin.to_owned()));
        range
    }

    pub(crate) fn file(&self) -> &str {
        &self.text[..self.file_len]
    }

    /// A diagnostic at `span` (None: at the start of the file, no position).
    pub(crate) fn diagnostic(
        &self,
        span: Option<Range<usize>>,
        message: String,
        help: Option<String>,
    ) -> Diagnostic {
        let Some(span) = span else {
            return Diagnostic {
                origin: self.origin.clone(),
                line: 0,
                column: 0,
                message,
                help,
            };
        };
        if let Some((_, origin)) = self
            .overrides
            .iter()
            .find(|(r, _)| r.start <= span.start && span.start <= r.end)
        {
            return Diagnostic {
                origin: origin.clone(),
                line: 0,
                column: 0,
                message,
                help,
            };
        }
        let file = self.file();
        let start = floor_char_boundary(file, span.start.min(file.len()));
        let before = &file[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = file[line_start..start].chars().count() + 1;
        Diagnostic {
            origin: self.origin.clone(),
            line,
            column,
            message,
            help,
        }
    }

    /// The error listing `diagnostics` (sorted by position, override problems
    /// last, duplicates removed) with their source lines.
    pub(crate) fn error(&self, mut diagnostics: Vec<Diagnostic>) -> LoadError {
        diagnostics.sort_by_key(|d| (d.line == 0, d.line, d.column));
        diagnostics.dedup();
        let file = self.file();
        let snippets = diagnostics
            .iter()
            .map(|d| {
                if d.line == 0 || d.origin != self.origin {
                    return None;
                }
                file.split('\n')
                    .nth(d.line - 1)
                    .map(|l| l.trim_end_matches('\r').to_owned())
            })
            .collect();
        LoadError {
            diagnostics,
            snippets,
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
