//! Overrides: `--set PATH=VALUE` from the command line and `ROLECALL_SET*`
//! environment variables, so one topology runs locally, on emulated hosts and
//! in containers.
//!
//! * `NODE.ACTOR.PARAM[.SUB...]=VALUE` sets a parameter of actor ACTOR, which
//!   must run on node NODE;
//! * `NODE.FIELD=VALUE` sets a node field (`address`, `listen`, `base_port`).
//!
//! VALUE is read as a TOML value (`20`, `true`, `[1, 2]`, `"text"`); anything
//! that is not valid TOML is taken as a plain string, so
//! `--set main.address=10.0.0.2` needs no quotes.

/// Environment variables holding assignments: `ROLECALL_SET` and `ROLECALL_SET_*`.
pub const ENV_PREFIX: &str = "ROLECALL_SET";

/// One `PATH=VALUE` assignment and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assignment {
    pub(crate) path: Vec<String>,
    pub(crate) value: String,
    pub(crate) origin: String,
}

/// A malformed assignment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {problem}")]
pub struct OverrideError {
    /// `--set ...` or `environment NAME`.
    pub origin: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Assignments applied to a topology before validation, in order (later wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub(crate) assignments: Vec<Assignment>,
}

impl Overrides {
    /// No overrides.
    pub fn new() -> Self {
        Overrides::default()
    }

    /// Adds one command-line assignment `PATH=VALUE`.
    pub fn set(&mut self, assignment: &str) -> Result<&mut Self, OverrideError> {
        let origin = format!("--set {assignment}");
        self.push(assignment, origin)?;
        Ok(self)
    }

    fn push(&mut self, assignment: &str, origin: String) -> Result<(), OverrideError> {
        let err = |problem: &str| OverrideError {
            origin: origin.clone(),
            problem: problem.to_owned(),
        };
        let (path, value) = assignment
            .split_once('=')
            .ok_or_else(|| err("expected PATH=VALUE, e.g. main.source.count=10"))?;
        let path: Vec<String> = path
            .trim()
            .split('.')
            .map(|p| p.trim().to_owned())
            .collect();
        if path.len() < 2 || path.iter().any(String::is_empty) {
            return Err(err(
                "the path must be NODE.ACTOR.PARAM (an actor parameter) or NODE.FIELD (a node field)",
            ));
        }
        self.assignments.push(Assignment {
            path,
            value: value.trim().to_owned(),
            origin,
        });
        Ok(())
    }

    /// The assignments in `ROLECALL_SET` and `ROLECALL_SET_*`, by variable name.
    pub fn from_env() -> Result<Self, OverrideError> {
        let mut vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k == ENV_PREFIX || k.starts_with(&format!("{ENV_PREFIX}_")))
            .collect();
        vars.sort();
        let mut o = Overrides::new();
        for (name, value) in vars {
            o.push(&value, format!("environment {name}"))?;
        }
        Ok(o)
    }

    /// Appends `other`'s assignments after these (they win).
    pub fn extend(&mut self, other: Overrides) {
        self.assignments.extend(other.assignments);
    }

    /// True when there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.assignments.is_empty()
    }
}
