//! Images from local files only: a root file system holding a binary and the
//! shared libraries `ldd` lists, packed as a reproducible tar (sorted names,
//! zero times and owners) and loaded with `docker import`. The same binary
//! gives the same layer digest every time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::docker::{Docker, DockerError};

/// The label every image built here carries (its value: the tool version).
pub const LABEL: &str = "org.rolecall.image";

/// Why an image was not built.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The binary does not exist or is not a file.
    #[error("{0}: no such binary")]
    NoBinary(PathBuf),
    /// `ldd` could not run or failed.
    #[error("ldd {path}: {detail}")]
    Ldd {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// A library the binary needs is missing on this host.
    #[error("{binary}: needs {library}, which is not installed on this host")]
    MissingLibrary {
        /// The file.
        binary: PathBuf,
        /// The library's soname.
        library: String,
    },
    /// The tag names an image that `rolecall image` did not build.
    #[error("image tag `{0}` already exists and was not built by `rolecall image`: choose another --tag or remove it (docker rmi {0})")]
    TagClash(String),
    /// Packing the root file system failed.
    #[error("packing the image's files: {0}")]
    Pack(String),
    /// Docker failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// A file could not be copied.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// The libraries in `ldd`'s output, as absolute paths (the dynamic loader
/// included, the vDSO skipped). Err(soname) for one "not found".
pub fn parse_ldd(output: &str) -> Result<Vec<PathBuf>, String> {
    let mut libs = Vec::new();
    for line in output.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let target = match line.split_once("=>") {
            Some((name, rest)) => {
                let rest = rest.trim();
                if rest.starts_with("not found") {
                    return Err(name.trim().to_owned());
                }
                rest.split_whitespace().next().unwrap_or("")
            }
            None => line.split_whitespace().next().unwrap_or(""),
        };
        if target.starts_with('/') {
            libs.push(PathBuf::from(target));
        }
    }
    Ok(libs)
}

/// The libraries `binary` needs, by `ldd`. A static binary needs none.
pub fn libraries(binary: &Path) -> Result<Vec<PathBuf>, ImageError> {
    libraries_in(binary, &[])
}

/// As [`libraries`], also searching `dirs` (as `LD_LIBRARY_PATH`).
pub fn libraries_in(binary: &Path, dirs: &[PathBuf]) -> Result<Vec<PathBuf>, ImageError> {
    let mut ldd = Command::new("ldd");
    if !dirs.is_empty() {
        ldd.env(
            "LD_LIBRARY_PATH",
            std::env::join_paths(dirs).unwrap_or_default(),
        );
    }
    let out = ldd.arg(binary).output().map_err(|e| ImageError::Ldd {
        path: binary.into(),
        detail: e.to_string(),
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if text.contains("not a dynamic executable") || err.contains("not a dynamic executable") {
            return Ok(Vec::new());
        }
        return Err(ImageError::Ldd {
            path: binary.into(),
            detail: err.lines().next().unwrap_or("failed").to_owned(),
        });
    }
    parse_ldd(&text).map_err(|library| ImageError::MissingLibrary {
        binary: binary.into(),
        library,
    })
}

/// What goes into an image: files (path in the image → host source, or
/// generated content) and the entrypoint.
#[derive(Debug, Clone, Default)]
pub struct RootFs {
    files: BTreeMap<PathBuf, Source>,
    dirs: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
enum Source {
    Host(PathBuf),
    Text(String, u32),
}

impl RootFs {
    /// An empty root file system.
    pub fn new() -> Self {
        RootFs::default()
    }

    /// Adds host file `from` (links followed) at `to`.
    pub fn file(&mut self, to: impl Into<PathBuf>, from: impl Into<PathBuf>) -> &mut Self {
        self.files.insert(to.into(), Source::Host(from.into()));
        self
    }

    /// Adds a file with `text` and permission bits `mode`.
    pub fn text(&mut self, to: impl Into<PathBuf>, text: &str, mode: u32) -> &mut Self {
        self.files
            .insert(to.into(), Source::Text(text.into(), mode));
        self
    }

    /// Adds an empty directory (world-writable and sticky, like /tmp).
    pub fn dir(&mut self, to: impl Into<PathBuf>) -> &mut Self {
        self.dirs.push(to.into());
        self
    }

    /// Adds `binary` and every library it needs at their own paths.
    pub fn binary_with_libraries(
        &mut self,
        to: &Path,
        binary: &Path,
    ) -> Result<&mut Self, ImageError> {
        for lib in libraries(binary)? {
            self.files.insert(lib.clone(), Source::Host(lib));
        }
        self.files.insert(to.into(), Source::Host(binary.into()));
        Ok(self)
    }

    /// Adds the libraries `binary` needs, except those under `skip`.
    pub fn libraries_of(
        &mut self,
        binary: &Path,
        skip: Option<&Path>,
    ) -> Result<&mut Self, ImageError> {
        // A directory mounted at run time: its libraries are found there.
        let dirs: Vec<PathBuf> = skip
            .map(|s| vec![s.join("lib"), s.join("lib/server")])
            .unwrap_or_default();
        for lib in libraries_in(binary, &dirs)? {
            if skip.is_some_and(|s| lib.starts_with(s)) {
                continue;
            }
            self.files.insert(lib.clone(), Source::Host(lib));
        }
        Ok(self)
    }

    /// Writes the tree under `root` and packs it into `tar` reproducibly.
    /// `strip`: remove debug sections from `strip` (a path in the image).
    pub fn pack(&self, root: &Path, tar: &Path, strip: Option<&Path>) -> Result<(), ImageError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ImageError::Io { path, source }
        };
        for (to, src) in &self.files {
            let dest = root.join(to.strip_prefix("/").unwrap_or(to));
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            match src {
                Source::Host(from) => {
                    std::fs::copy(from, &dest).map_err(io(from))?;
                }
                Source::Text(text, mode) => {
                    std::fs::write(&dest, text).map_err(io(&dest))?;
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(*mode))
                        .map_err(io(&dest))?;
                }
            }
        }
        for d in &self.dirs {
            let dest = root.join(d.strip_prefix("/").unwrap_or(d));
            std::fs::create_dir_all(&dest).map_err(io(&dest))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o1777))
                .map_err(io(&dest))?;
        }
        if let Some(s) = strip {
            let dest = root.join(s.strip_prefix("/").unwrap_or(s));
            // Debug sections are most of a debug build; without `strip` the
            // image is only bigger.
            let _ = Command::new("strip")
                .arg("--strip-debug")
                .arg(&dest)
                .status();
        }
        let out = Command::new("tar")
            .args([
                "--sort=name",
                "--mtime=@0",
                "--owner=0",
                "--group=0",
                "--numeric-owner",
                "--format=gnu",
                "-C",
            ])
            .arg(root)
            .arg("-cf")
            .arg(tar)
            .arg(".")
            .env("TZ", "UTC")
            .output()
            .map_err(|e| ImageError::Pack(format!("tar: {e}")))?;
        if !out.status.success() {
            return Err(ImageError::Pack(
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .next()
                    .unwrap_or("tar failed")
                    .to_owned(),
            ));
        }
        Ok(())
    }
}

/// What an image was built as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The tag.
    pub tag: String,
    /// The image id.
    pub id: String,
    /// Digest of its one layer (equal for equal contents).
    pub layer: String,
    /// Size of the packed files in bytes.
    pub size: u64,
}

/// Loads `fs` as image `tag` with `entrypoint`. A tag that exists and was
/// not built here is a clash; one built here is replaced.
pub fn build(
    docker: &Docker,
    fs: &RootFs,
    tag: &str,
    entrypoint: &[&str],
    strip: Option<&Path>,
) -> Result<Built, ImageError> {
    docker.ping()?;
    let previous = if docker.exists("image", tag)? {
        let label = docker.inspect(
            "image",
            tag,
            &format!("{{{{index .Config.Labels \"{LABEL}\"}}}}"),
        )?;
        if label.is_empty() || label == "<no value>" {
            return Err(ImageError::TagClash(tag.to_owned()));
        }
        Some(docker.inspect("image", tag, "{{.Id}}")?)
    } else {
        None
    };
    let dir = tempfile::Builder::new()
        .prefix("rolecall-image-")
        .tempdir()
        .map_err(|e| ImageError::Pack(e.to_string()))?;
    let root = dir.path().join("root");
    let tar = dir.path().join("root.tar");
    fs.pack(&root, &tar, strip)?;
    let size = std::fs::metadata(&tar).map(|m| m.len()).unwrap_or(0);
    let entry = serde_json::to_string(entrypoint).unwrap_or_else(|_| "[]".into());
    let tar_arg = tar.display().to_string();
    let id = docker.run(&[
        "import",
        "--change",
        &format!("ENTRYPOINT {entry}"),
        "--change",
        &format!("LABEL {LABEL}={}", env!("CARGO_PKG_VERSION")),
        "--change",
        "WORKDIR /",
        &tar_arg,
        tag,
    ])?;
    if let Some(old) = previous.filter(|old| *old != id) {
        // The replaced image, unless a container still uses it.
        let _ = docker.run(&["image", "rm", &old]);
    }
    let layer = docker.inspect("image", tag, "{{index .RootFS.Layers 0}}")?;
    Ok(Built {
        tag: tag.to_owned(),
        id,
        layer,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_parses() {
        let out = "\tlinux-vdso.so.1 (0x00007f1743b48000)\n\
                   \tlibzmq.so.5 => /lib/x86_64-linux-gnu/libzmq.so.5 (0x00007f1743a7a000)\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007f1743b4a000)\n";
        assert_eq!(
            parse_ldd(out).unwrap(),
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libzmq.so.5"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2")
            ]
        );
        assert_eq!(
            parse_ldd("\tlibfoo.so.1 => not found\n"),
            Err("libfoo.so.1".to_owned())
        );
    }
}
