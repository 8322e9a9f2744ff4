//! [`ParamCheck`]: what a role's parameters contribute to checking a topology
//! before anything starts ([`Role::check`](super::Role::check)).

/// Problems a role finds in its parameter values, and the addresses it will
/// bind. The loader reports each problem at the named parameter (file:line),
/// and compares the binds of every actor and hop of a node.
#[derive(Debug, Default)]
pub struct ParamCheck {
    pub(crate) problems: Vec<ParamProblem>,
    pub(crate) binds: Vec<(String, String)>,
}

/// One problem with a parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParamProblem {
    /// The parameter's key in the `params` table.
    pub(crate) key: String,
    pub(crate) message: String,
    pub(crate) help: Option<String>,
}

impl ParamCheck {
    /// Nothing found yet.
    pub fn new() -> Self {
        ParamCheck::default()
    }

    /// The value of parameter `key` is wrong: `message` says why (e.g. "must
    /// be at least 1").
    pub fn error(&mut self, key: &str, message: impl Into<String>) -> &mut Self {
        self.problems.push(ParamProblem {
            key: key.to_owned(),
            message: message.into(),
            help: None,
        });
        self
    }

    /// As [`ParamCheck::error`], with a hint on how to fix it.
    pub fn error_with_help(
        &mut self,
        key: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> &mut Self {
        self.problems.push(ParamProblem {
            key: key.to_owned(),
            message: message.into(),
            help: Some(help.into()),
        });
        self
    }

    /// The actor binds `endpoint` (a ZeroMQ endpoint such as `tcp://*:5555`),
    /// given by parameter `key`: no other actor or hop of its node may bind
    /// the same address.
    pub fn binds(&mut self, key: &str, endpoint: impl Into<String>) -> &mut Self {
        self.binds.push((key.to_owned(), endpoint.into()));
        self
    }

    /// Whether no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The problems found, as `key: message` lines (for roles' own tests).
    pub fn messages(&self) -> Vec<String> {
        self.problems
            .iter()
            .map(|p| format!("{}: {}", p.key, p.message))
            .collect()
    }

    /// The endpoints declared with [`ParamCheck::binds`].
    pub fn bound(&self) -> impl Iterator<Item = &str> {
        self.binds.iter().map(|(_, e)| e.as_str())
    }
}
