//! The one-line errors `ci-sync` prints and its exit codes.
//!
//! A line is `error: <what failed>; <one hint>`, where the hint names the setting to check as the
//! user gave it (`JENKINS_URL (or --url)` for `ci-sync jenkins`, `[jenkins] base_url in ci-sync.toml`
//! for `ci-sync run`) and the thing that was asked for (the server, a job, a build number).
//! Exit codes: 0 success (also when the reader of stdout went away), 1 failure, 2 bad usage or
//! settings, 3 a sync that committed what it could but left some partitions for the next run.

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use cidata_core::ErrorKind;

/// Where the user set the connection, to name it in hints.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The kind of server (`Jenkins`, `CircleCI`).
    pub system: &'static str,
    /// What to check when a request of a sync answers 404 (the subject unknown).
    pub not_found: Option<String>,
    /// Where the server's URL comes from.
    pub url: String,
    /// Where the user name comes from.
    pub user: String,
    /// Where the API token comes from.
    pub token: String,
}

impl Settings {
    /// `ci-sync jenkins ...`: environment variables or flags.
    pub fn env() -> Settings {
        Settings {
            system: "Jenkins",
            not_found: None,
            url: "JENKINS_URL (or --url)".into(),
            user: "JENKINS_USER (or --user)".into(),
            token: "JENKINS_API_TOKEN".into(),
        }
    }

    /// `ci-sync run`: the config file.
    pub fn config(path: &Path) -> Settings {
        let file = path.display();
        Settings {
            system: "Jenkins",
            not_found: None,
            url: format!("[jenkins] base_url in {file}"),
            user: format!("[jenkins] username in {file}"),
            token: format!("JENKINS_API_TOKEN or [jenkins] api_token in {file}"),
        }
    }

    /// `ci-sync circleci ...`: environment variables or flags.
    pub fn circleci_env() -> Settings {
        Settings {
            system: "CircleCI",
            not_found: Some("check the project slug (`gh/org/repo`) or the id".into()),
            url: "CIRCLECI_URL (or --url)".into(),
            user: String::new(),
            token: "CIRCLECI_TOKEN".into(),
        }
    }

    /// `ci-sync run`: the `[circleci]` table of the config file.
    pub fn circleci_config(path: &Path) -> Settings {
        let file = path.display();
        Settings {
            system: "CircleCI",
            not_found: Some(format!(
                "check [circleci] project_slugs in {file} (`gh/org/repo`) and that the token may read them"
            )),
            url: format!("[circleci] base_url in {file}"),
            user: String::new(),
            token: format!("CIRCLECI_TOKEN or [circleci] token in {file}"),
        }
    }

    /// `ci-sync run`: the `[bitbucket]` table (or the seed's JSON) of the config file.
    pub fn bitbucket_config(path: &Path) -> Settings {
        let file = path.display();
        Settings {
            system: "Bitbucket",
            not_found: Some(format!(
                "check [bitbucket] workspaces in {file} and that the credentials may read them"
            )),
            url: format!("[bitbucket] base_url in {file}"),
            user: format!("[bitbucket] email (or username) in {file}"),
            token: "BITBUCKET_API_TOKEN, BITBUCKET_APP_PASSWORD or BITBUCKET_ACCESS_TOKEN".into(),
        }
    }

    /// `ci-sync bitbucket ...`: environment variables or flags.
    pub fn bitbucket_env() -> Settings {
        Settings {
            system: "Bitbucket",
            not_found: Some("check the workspace and repository names".into()),
            url: "BITBUCKET_URL (or --url)".into(),
            user: "BITBUCKET_EMAIL or BITBUCKET_USERNAME".into(),
            token: "BITBUCKET_API_TOKEN, BITBUCKET_APP_PASSWORD or BITBUCKET_ACCESS_TOKEN".into(),
        }
    }

    /// `ci-sync demo`: the built-in simulator, which nobody configures.
    pub fn simulator() -> Settings {
        let url = "the built-in simulator (a bug: please report it)".to_owned();
        Settings {
            system: "the simulator",
            not_found: None,
            url: url.clone(),
            user: url.clone(),
            token: url,
        }
    }
}

/// What a request was about, so that a 404 says what does not exist.
#[derive(Debug, Clone)]
pub enum Subject {
    /// The server's root (job listing): a 404 means the URL is wrong.
    Server,
    /// A job, by full name.
    Job(String),
    /// A build of a job: the job's full name, the number asked for, the newest number if known.
    Build(String, u64, Option<u64>),
}

/// An error of the tool.
#[derive(Debug)]
pub enum CliError {
    /// An API error, with at most one hint.
    Api {
        /// The SDK's error (its `Display` is one short line).
        error: cidata_core::Error,
        /// What to check.
        hint: Option<String>,
    },
    /// A missing or invalid flag or setting, or a name that fits nothing (exit code 2).
    Usage(String),
    /// The sync engine or the destination failed.
    Sync(cidata_sync::Error),
    /// A sync committed what it could; some partitions failed and are read again next run
    /// (exit code 3).
    Partial(String),
    /// Writing the output failed.
    Io(std::io::Error),
}

impl CliError {
    /// Whether stdout was closed by its reader (`ci-sync ... | head`): not an error for a CLI.
    pub fn is_broken_pipe(&self) -> bool {
        let io = match self {
            CliError::Io(e) => e,
            CliError::Sync(cidata_sync::Error::Io { source, .. }) => source,
            _ => return false,
        };
        io.kind() == std::io::ErrorKind::BrokenPipe
    }

    /// The process's exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            _ if self.is_broken_pipe() => ExitCode::SUCCESS,
            CliError::Usage(_) => ExitCode::from(2),
            CliError::Partial(_) => ExitCode::from(3),
            _ => ExitCode::FAILURE,
        }
    }

    /// Wraps a sync error; an API error inside it gets the hints of [`CliError::api`], the
    /// subject read off its URL.
    pub fn sync(error: cidata_sync::Error, settings: &Settings, base: &str) -> CliError {
        match error {
            cidata_sync::Error::Source(inner) => match inner.downcast::<cidata_core::Error>() {
                Ok(api) => {
                    let subject = subject_of(&api, base);
                    CliError::api(*api, settings, subject)
                }
                Err(other) => CliError::Sync(cidata_sync::Error::Source(other)),
            },
            cidata_sync::Error::Config(message) => CliError::Usage(message),
            other => CliError::Sync(other),
        }
    }

    /// Wraps an API error with the one hint that fits its kind and subject.
    pub fn api(
        error: cidata_core::Error,
        settings: &Settings,
        subject: Option<Subject>,
    ) -> CliError {
        let hint = hint(&error, settings, subject);
        CliError::Api { error, hint }
    }
}

/// The server's root listing is `<base>api/json`; any other 404 of a sync is about one job.
fn subject_of(error: &cidata_core::Error, base: &str) -> Option<Subject> {
    let url = error.url()?;
    let root = format!("{}api/json", base.trim_end_matches('/').to_owned() + "/");
    let without_query = format!("{}{}", url.origin().ascii_serialization(), url.path());
    (without_query == root).then_some(Subject::Server)
}

fn hint(error: &cidata_core::Error, s: &Settings, subject: Option<Subject>) -> Option<String> {
    let status = error.status().map(|s| s.as_u16());
    Some(match (error.kind(), status) {
        (ErrorKind::Auth, Some(401)) if s.user.is_empty() => format!("check {}", s.token),
        (ErrorKind::Auth, Some(401)) => format!("check {} and {}", s.user, s.token),
        (ErrorKind::Auth, _) if s.user.is_empty() => {
            format!(
                "the token was refused for this: check {} and its scope",
                s.token
            )
        }
        (ErrorKind::Auth, _) => format!(
            "the user was refused: check that {} has Overall/Read and Job/Read",
            s.user
        ),
        (ErrorKind::NotFound, _) if subject.is_none() => s.not_found.clone()?,
        (ErrorKind::NotFound, _) => match subject? {
            Subject::Server => format!(
                "check {}: it must be {}'s root, with its context path (`https://host/jenkins/`)",
                s.url, s.system
            ),
            Subject::Job(name) => {
                format!("check the job's full name `{name}` (folders joined by `/`)")
            }
            Subject::Build(job, number, Some(newest)) => {
                format!("`{job}` has no build #{number} (the newest is #{newest})")
            }
            Subject::Build(job, number, None) => {
                format!("`{job}` has no build #{number} (it has no builds)")
            }
        },
        (ErrorKind::Transport | ErrorKind::Timeout, _) => {
            format!("check that {} is reachable from here", s.url)
        }
        (ErrorKind::UnexpectedContent | ErrorKind::Redirect, _) => format!(
            "something other than {} answered, such as a proxy or a login page: check {}",
            s.system, s.url
        ),
        (ErrorKind::RateLimited, _) => {
            "the server limits requests: run again later or lower the concurrency".to_owned()
        }
        _ => return None,
    })
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Api {
                error,
                hint: Some(hint),
            } => write!(f, "{error}; {hint}"),
            CliError::Api { error, hint: None } => write!(f, "{error}"),
            CliError::Usage(message) | CliError::Partial(message) => f.write_str(message),
            CliError::Sync(e) => write!(f, "{e}"),
            CliError::Io(e) => write!(f, "could not write the output: {e}"),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_found(url: &str) -> cidata_core::Error {
        cidata_core::Error::from_status(cidata_core::StatusCode::NOT_FOUND, b"")
            .with_request("GET", &url.parse().unwrap())
    }

    #[test]
    fn a_404_on_the_root_names_the_url_setting_of_the_command() {
        let base = "https://ci.example.com/jenkins/";
        let err = not_found("https://ci.example.com/jenkins/api/json?tree=jobs%5Bname%5D");
        let run = CliError::sync(
            cidata_sync::Error::source(err),
            &Settings::config(Path::new("ci-sync.toml")),
            base,
        )
        .to_string();
        assert!(run.contains("[jenkins] base_url in ci-sync.toml"), "{run}");
        assert!(!run.contains("JENKINS_URL"), "{run}");
        assert!(!run.contains("job's full name"), "{run}");
        assert_eq!(run.matches("check").count(), 1, "one hint: {run}");
    }

    #[test]
    fn a_missing_build_names_its_number() {
        let err = not_found("https://ci.example.com/job/app/42/api/json");
        let line = CliError::api(
            err,
            &Settings::env(),
            Some(Subject::Build("app".into(), 42, Some(41))),
        )
        .to_string();
        assert!(
            line.ends_with("; `app` has no build #42 (the newest is #41)"),
            "{line}"
        );
    }

    #[test]
    fn exit_codes_tell_usage_partial_and_broken_pipe_apart() {
        let code = |e: CliError| format!("{:?}", e.exit_code());
        assert_eq!(
            code(CliError::Usage("x".into())),
            format!("{:?}", ExitCode::from(2))
        );
        assert_eq!(
            code(CliError::Partial("x".into())),
            format!("{:?}", ExitCode::from(3))
        );
        let pipe = cidata_sync::Error::Io {
            what: "stdout".into(),
            source: std::io::ErrorKind::BrokenPipe.into(),
        };
        assert_eq!(
            code(CliError::Sync(pipe)),
            format!("{:?}", ExitCode::SUCCESS)
        );
        let engine = CliError::Sync(cidata_sync::Error::Engine("writer".into()));
        assert!(!engine.to_string().contains("configuration"));
        assert_eq!(code(engine), format!("{:?}", ExitCode::FAILURE));
    }
}
