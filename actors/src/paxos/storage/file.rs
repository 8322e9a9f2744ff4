//! [`FileStorage`]: an fsync'd append-only log of [`Record`]s.
//!
//! Each record is `[length: u32 LE][checksum: u32 LE][postcard bytes]`. `append`
//! writes all records of a batch with one `write` and one `fsync`
//! (`File::sync_data`). `load` reads records until the end; a torn last
//! record (short, or with a bad checksum, as a crash in the middle of a write
//! leaves it) is cut off, and the file is truncated there so the next append
//! starts clean. A bad record followed by good ones is corruption and an error.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{Record, State, Storage, StorageError};

/// Records larger than this are treated as garbage when reading back.
const MAX_RECORD: usize = 64 << 20;

/// An acceptor's state in an append-only file, fsync'd before `append` returns.
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
}

impl FileStorage {
    /// Opens (creating if needed) the log at `path`. The parent directory is
    /// created too.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| StorageError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io)?;
        Ok(FileStorage {
            path,
            file,
            buf: Vec::new(),
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> StorageError {
        StorageError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }
}

/// CRC-32 (IEEE), bitwise: enough for records of a few hundred bytes.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// How one record at `offset` reads.
enum Parsed {
    Good(Record, usize),
    /// Incomplete or bad: valid only as the last thing in the file.
    Bad(String),
}

fn parse(data: &[u8]) -> Parsed {
    if data.len() < 8 {
        return Parsed::Bad(format!("{} bytes of header", data.len()));
    }
    let len = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
    let sum = u32::from_le_bytes([data[4], data[5], data[6], data[7]]);
    if len > MAX_RECORD {
        return Parsed::Bad(format!("length {len} is too large"));
    }
    let Some(body) = data.get(8..8 + len) else {
        return Parsed::Bad(format!("{} of {len} bytes", data.len() - 8));
    };
    if crc32(body) != sum {
        return Parsed::Bad("checksum mismatch".into());
    }
    match postcard::from_bytes::<Record>(body) {
        Ok(r) => Parsed::Good(r, 8 + len),
        Err(e) => Parsed::Bad(format!("undecodable: {e}")),
    }
}

impl Storage for FileStorage {
    fn load(&mut self) -> Result<State, StorageError> {
        let mut data = Vec::new();
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.read_to_end(&mut data))
            .map_err(|e| self.io(e))?;
        let mut state = State::default();
        let mut at = 0usize;
        while at < data.len() {
            match parse(&data[at..]) {
                Parsed::Good(r, n) => {
                    state.apply(&r);
                    at += n;
                }
                Parsed::Bad(problem) => {
                    // A torn tail is the last record; anything good after it is corruption.
                    let rest = &data[at..];
                    let later_good =
                        (1..rest.len()).any(|k| matches!(parse(&rest[k..]), Parsed::Good(..)));
                    if later_good {
                        return Err(StorageError::Corrupt {
                            path: self.path.display().to_string(),
                            offset: at as u64,
                            problem,
                        });
                    }
                    tracing::warn!(path = %self.path.display(), offset = at, %problem, "cutting off a torn last record");
                    self.file
                        .set_len(at as u64)
                        .and_then(|_| self.file.sync_data())
                        .map_err(|e| self.io(e))?;
                    break;
                }
            }
        }
        Ok(state)
    }

    fn append(&mut self, records: &[Record]) -> Result<(), StorageError> {
        if records.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        for r in records {
            let start = self.buf.len();
            self.buf.extend_from_slice(&[0; 8]);
            let body = postcard::to_extend(r, std::mem::take(&mut self.buf))
                .map_err(|e| self.io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
            self.buf = body;
            let len = (self.buf.len() - start - 8) as u32;
            let sum = crc32(&self.buf[start + 8..]);
            self.buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
            self.buf[start + 4..start + 8].copy_from_slice(&sum.to_le_bytes());
        }
        self.file.write_all(&self.buf).map_err(|e| self.io(e))?;
        self.file.sync_data().map_err(|e| self.io(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paxos::Ballot;

    fn records() -> Vec<Record> {
        vec![
            Record::Promise(Ballot::new(1, 1)),
            Record::Accept {
                slot: 0,
                ballot: Ballot::new(1, 1),
                value: vec!["x".into()],
            },
            Record::Promise(Ballot::new(3, 2)),
        ]
    }

    #[test]
    fn reads_back_what_was_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/acceptor.log");
        let mut s = FileStorage::open(&path).unwrap();
        s.append(&records()).unwrap();
        drop(s);
        let state = FileStorage::open(&path).unwrap().load().unwrap();
        assert_eq!(state.promised, Ballot::new(3, 2));
        assert_eq!(
            state.accepted[&0],
            (Ballot::new(1, 1), vec!["x".to_string()])
        );
    }

    #[test]
    fn a_torn_last_record_is_cut_off_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acceptor.log");
        let mut s = FileStorage::open(&path).unwrap();
        s.append(&records()[..2]).unwrap();
        let good = std::fs::metadata(&path).unwrap().len();
        s.append(&records()[2..]).unwrap();
        drop(s);
        // Tear the last record in the middle.
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(good + 5).unwrap();
        let mut s = FileStorage::open(&path).unwrap();
        let state = s.load().unwrap();
        assert_eq!(state.promised, Ballot::new(1, 1));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
        s.append(&[Record::Promise(Ballot::new(7, 1))]).unwrap();
        let state = FileStorage::open(&path).unwrap().load().unwrap();
        assert_eq!(state.promised, Ballot::new(7, 1));
    }

    #[test]
    fn corruption_in_the_middle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acceptor.log");
        let mut s = FileStorage::open(&path).unwrap();
        s.append(&records()).unwrap();
        drop(s);
        let mut data = std::fs::read(&path).unwrap();
        data[9] ^= 0xff;
        std::fs::write(&path, data).unwrap();
        let err = FileStorage::open(&path).unwrap().load().unwrap_err();
        assert!(
            matches!(err, StorageError::Corrupt { offset: 0, .. }),
            "{err}"
        );
    }
}
