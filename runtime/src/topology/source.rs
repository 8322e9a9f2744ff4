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
    /// 1-based line; 0 when there is no position.
    pub line: usize,
    /// 1-based column (in characters); 0 when there is no position.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// The source line, for display.
    pub snippet: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: error: {}",
                self.origin, self.line, self.column, self.message
            )?;
        } else {
            write!(f, "{}: error: {}", self.origin, self.message)?;
        }
        if let Some(line) = &self.snippet {
            let pad = " ".repeat(self.line.to_string().len());
            write!(f, "\n {pad} |\n {} | {line}", self.line)?;
            if self.column > 0 {
                write!(f, "\n {pad} | {}^", " ".repeat(self.column - 1))?;
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}

/// A topology could not be loaded; every problem found is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The problems, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{d}")?;
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
                snippet: None,
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
                snippet: None,
            };
        }
        let file = self.file();
        let start = floor_char_boundary(file, span.start.min(file.len()));
        let before = &file[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = file[line_start..start].chars().count() + 1;
        let line_end = file[start..]
            .find('\n')
            .map(|i| start + i)
            .unwrap_or(file.len());
        let snippet = file[line_start..line_end].trim_end_matches('\r').to_owned();
        Diagnostic {
            origin: self.origin.clone(),
            line,
            column,
            message,
            help,
            snippet: Some(snippet),
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
