//! A thin driver of the `docker` command: runs it, turns its failures into
//! typed errors with one line of text.

use std::process::{Command, Stdio};

/// A failed `docker` command.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// The `docker` program is not installed.
    #[error("the `docker` command was not found: install Docker Engine")]
    NotInstalled,
    /// The daemon does not answer.
    #[error("the Docker daemon is not reachable{}: {detail}", host.as_deref().map(|h| format!(" at {h}")).unwrap_or_default())]
    Daemon {
        /// `DOCKER_HOST`, when set.
        host: Option<String>,
        /// Docker's own message.
        detail: String,
    },
    /// The command ran and failed.
    #[error("`docker {command}` failed: {detail}")]
    Failed {
        /// The arguments, shortened.
        command: String,
        /// The first line of its standard error.
        detail: String,
    },
    /// Running it failed for another reason.
    #[error("cannot run `docker`: {0}")]
    Io(#[from] std::io::Error),
}

/// The `docker` command (honours `DOCKER_HOST`).
#[derive(Debug, Clone, Default)]
pub struct Docker {
    _private: (),
}

fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("DEPRECATED"))
        .unwrap_or("no message")
        .to_owned()
}

fn shorten(args: &[&str]) -> String {
    let mut s = args.iter().take(4).copied().collect::<Vec<_>>().join(" ");
    if args.len() > 4 {
        s.push_str(" ...");
    }
    s
}

impl Docker {
    /// The driver.
    pub fn new() -> Self {
        Docker::default()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("docker");
        c.args(args);
        c
    }

    fn classify(&self, args: &[&str], stderr: &[u8]) -> DockerError {
        let detail = first_line(stderr);
        if detail.contains("Cannot connect to the Docker daemon")
            || detail.contains("error during connect")
        {
            DockerError::Daemon {
                host: std::env::var("DOCKER_HOST").ok(),
                detail,
            }
        } else {
            DockerError::Failed {
                command: shorten(args),
                detail,
            }
        }
    }

    fn spawn_err(e: std::io::Error) -> DockerError {
        if e.kind() == std::io::ErrorKind::NotFound {
            DockerError::NotInstalled
        } else {
            DockerError::Io(e)
        }
    }

    /// Runs `docker ARGS`, returns its standard output (trimmed).
    pub fn run(&self, args: &[&str]) -> Result<String, DockerError> {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .map_err(Self::spawn_err)?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(self.classify(args, &out.stderr))
        }
    }

    /// Checks that the daemon answers.
    pub fn ping(&self) -> Result<(), DockerError> {
        self.run(&["version", "--format", "{{.Server.Version}}"])
            .map(|_| ())
    }

    /// True when an object (`container`, `network`, `volume`, `image`) exists.
    pub fn exists(&self, kind: &str, name: &str) -> Result<bool, DockerError> {
        match self.run(&[kind, "inspect", "--format", "{{.Id}}", name]) {
            Ok(_) => Ok(true),
            Err(DockerError::Failed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `docker inspect --format FORMAT NAME` of an object.
    pub fn inspect(&self, kind: &str, name: &str, format: &str) -> Result<String, DockerError> {
        self.run(&[kind, "inspect", "--format", format, name])
    }
}
