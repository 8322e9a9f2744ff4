//! [`File`]: the embedded default output, a local results file in line
//! protocol or CSV that `rolecall report` reads.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use serde::Deserialize;

use super::line_protocol::{self, Dialect, EncodeError};
use super::point::Point;
use super::sink::{Sink, SinkError, WriteError};

/// The format of a results file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// InfluxDB line protocol (InfluxDB 2 dialect), one point per line.
    #[default]
    LineProtocol,
    /// CSV, one row per field (see [`csv`](super::csv)).
    Csv,
}

impl Format {
    /// The format a path's extension suggests (`.csv` is CSV, anything else line protocol).
    pub fn of_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => Format::Csv,
            _ => Format::LineProtocol,
        }
    }
}

/// Files this process has already truncated: a restarted reporter appends to
/// what its previous incarnation wrote instead of erasing it.
static TRUNCATED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// Appends batches to a local file.
#[derive(Debug)]
pub struct File {
    path: PathBuf,
    format: Format,
}

impl File {
    /// A sink appending to `path` (parent directories are created). With
    /// `truncate`, the file is emptied the first time this process opens it.
    pub fn new(path: &Path, format: Format, truncate: bool) -> Result<Self, SinkError> {
        let io = |source| SinkError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let first = {
            let mut seen = TRUNCATED.lock().unwrap_or_else(|e| e.into_inner());
            seen.get_or_insert_with(HashSet::new)
                .insert(path.to_path_buf())
        };
        let fresh = (truncate && first) || !path.exists();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(!fresh)
            .truncate(fresh)
            .open(path)
            .map_err(io)?;
        if fresh && format == Format::Csv {
            file.write_all(super::csv::HEADER.as_bytes()).map_err(io)?;
        }
        Ok(File {
            path: path.to_path_buf(),
            format,
        })
    }
}

impl Sink for File {
    fn encode(&self, point: &Point, out: &mut String) -> Result<(), EncodeError> {
        match self.format {
            Format::LineProtocol => line_protocol::encode(point, Dialect::V2, out),
            Format::Csv => super::csv::encode(point, out),
        }
    }

    /// Appends with blocking file I/O, on the reporter's I/O thread (a local
    /// append of one batch takes microseconds).
    fn write(&self, body: Bytes) -> BoxFuture<'static, Result<(), WriteError>> {
        let path = self.path.clone();
        async move {
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(&body))
                .map_err(|source| WriteError::Io {
                    path: path.display().to_string(),
                    source,
                })
        }
        .boxed()
    }

    fn target(&self) -> String {
        format!("file {}", self.path.display())
    }
}

/// Reads a results file (format from its extension) back into points.
pub fn read(path: &Path) -> Result<Vec<Point>, ReadError> {
    read_as(path, Format::of_path(path))
}

/// Reads a results file in `format` back into points.
pub fn read_as(path: &Path, format: Format) -> Result<Vec<Point>, ReadError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    match format {
        Format::Csv => super::csv::parse(&text).map_err(|error| ReadError::Csv {
            path: path.display().to_string(),
            error,
        }),
        Format::LineProtocol => {
            line_protocol::parse(&text, Dialect::V2).map_err(|(line, error)| {
                ReadError::LineProtocol {
                    path: path.display().to_string(),
                    line,
                    error,
                }
            })
        }
    }
}

/// Reading a results file failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A line is not line protocol.
    #[error("{path}:{line}: {error}")]
    LineProtocol {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// Why.
        error: line_protocol::ParseError,
    },
    /// The CSV does not read.
    #[error("{path}: {error}")]
    Csv {
        /// The file.
        path: String,
        /// Why.
        error: super::csv::CsvError,
    },
}
