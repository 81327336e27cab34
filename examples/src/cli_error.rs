//! The one-line errors `ci-sync` prints: what failed, and which setting to check.

use std::fmt;

use cidata_core::ErrorKind;

/// An error of the tool: an SDK error with a hint, a bad setting, or an I/O failure.
#[derive(Debug)]
pub enum CliError {
    /// A client error, with the settings that may explain it.
    Client {
        error: cidata_core::Error,
        hint: Option<String>,
    },
    /// A setting is missing or invalid.
    Config(String),
    /// Writing the output failed.
    Io(std::io::Error),
}

impl CliError {
    /// Whether stdout was closed by the reader (`ci-sync ... | head`): not an error for a CLI.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }

    /// Wraps a sync error; an API error inside it gets the same hints as [`CliError::jenkins`].
    pub fn sync(error: cidata_sync::Error) -> CliError {
        match error {
            cidata_sync::Error::Source(inner) => match inner.downcast::<cidata_core::Error>() {
                Ok(client) => CliError::jenkins(*client),
                Err(other) => CliError::Config(format!("source: {other}")),
            },
            other => CliError::Config(other.to_string()),
        }
    }

    /// Wraps a Jenkins client error with a hint naming the settings to check.
    pub fn jenkins(error: cidata_core::Error) -> CliError {
        let status = error.status().map(|s| s.as_u16());
        let hint = match (error.kind(), status) {
            (ErrorKind::Auth, Some(401)) => Some("check JENKINS_USER and JENKINS_API_TOKEN".to_owned()),
            (ErrorKind::Auth, _) => {
                Some("check that JENKINS_USER has the permissions (Overall/Read, Job/Read) and JENKINS_API_TOKEN is set".to_owned())
            }
            (ErrorKind::NotFound, _) => {
                Some("check the job's full name (folders joined by `/`) and JENKINS_URL, including its context path".to_owned())
            }
            (ErrorKind::Transport, _) => Some("check that JENKINS_URL is reachable from here".to_owned()),
            (ErrorKind::UnexpectedContent | ErrorKind::Redirect, _) => {
                Some("something other than Jenkins answered: check JENKINS_URL (a proxy or login page?)".to_owned())
            }
            _ => None,
        };
        CliError::Client { error, hint }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Client {
                error,
                hint: Some(hint),
            } => write!(f, "{error} ({hint})"),
            CliError::Client { error, hint: None } => write!(f, "{error}"),
            CliError::Config(msg) => f.write_str(msg),
            CliError::Io(e) => write!(f, "could not write the output: {e}"),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError::Io(e)
    }
}
