//! `ci-sync.toml`: the connection, job patterns, tuning and the destination.

use std::path::Path;

use cidata_jenkins::{JobFilter, JobPattern};
use serde::Deserialize;

use crate::cli_error::CliError;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The Jenkins server.
    pub jenkins: JenkinsSection,
    /// Where to write.
    #[serde(default)]
    pub destination: DestinationSection,
}

/// `[jenkins]`, with the seed connector's keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JenkinsSection {
    /// The server's URL, with its context path.
    pub base_url: String,
    /// The user.
    pub username: Option<String>,
    /// The API token (better: the `JENKINS_API_TOKEN` environment variable).
    pub api_token: Option<String>,
    /// Which jobs to sync.
    #[serde(default)]
    pub jobs: JobsSection,
    /// Builds per request.
    pub page_size: Option<u32>,
    /// Jobs read at the same time.
    pub concurrency: Option<usize>,
    /// The deadline of one request.
    pub request_timeout_seconds: Option<u64>,
    /// Attempts per request, the first included.
    pub retry_attempts: Option<u32>,
}

/// `[jenkins.jobs]`: glob patterns over full names (`team/*`, `**/main`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSection {
    /// Jobs to sync (all when empty).
    #[serde(default)]
    pub include: Vec<String>,
    /// Jobs to leave out.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// `[destination]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationSection {
    /// `sqlite://ci-sync.db` (default), `sqlite:///abs/path.db`, `jsonl://-`, `jsonl://file.jsonl`.
    pub url: Option<String>,
}

impl JobsSection {
    /// The filter the patterns describe.
    pub fn filter(&self) -> Result<JobFilter, CliError> {
        let parse = |list: &[String]| -> Result<Vec<JobPattern>, CliError> {
            list.iter()
                .map(|p| {
                    JobPattern::parse(p)
                        .map_err(|e| CliError::Usage(format!("[jenkins.jobs]: {e}")))
                })
                .collect()
        };
        Ok(JobFilter {
            include: parse(&self.include)?,
            exclude: parse(&self.exclude)?,
        })
    }
}

impl ConfigFile {
    /// Reads and checks a config file; warns when it holds a secret and others may read it.
    pub fn load(path: &Path) -> Result<ConfigFile, CliError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::Usage(if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "no config file {}: start from the example, `cp examples/ci-sync.example.toml {}` \
                     (it is in the repository and in the README), or pass --config PATH; \
                     `ci-sync demo` needs none",
                    path.display(),
                    path.display()
                )
            } else {
                format!("cannot read the config file {}: {e}", path.display())
            })
        })?;
        let config: ConfigFile = toml::from_str(&text)
            .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
        if config.jenkins.api_token.is_some() {
            warn_if_readable_by_others(path);
        }
        Ok(config)
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o044 != 0
    {
        tracing::warn!(
            "{} holds an api_token and other users can read it: `chmod 600 {}`, or use JENKINS_API_TOKEN instead",
            path.display(),
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_keys_and_ours() {
        let c: ConfigFile = toml::from_str(
            r#"
            [jenkins]
            base_url = "https://ci.example.com/jenkins/"
            username = "alice"
            page_size = 50
            concurrency = 8
            request_timeout_seconds = 30
            retry_attempts = 3
            [jenkins.jobs]
            include = ["team/**"]
            exclude = ["**/sandbox"]
            [destination]
            url = "sqlite:///var/lib/ci-sync.db"
            "#,
        )
        .unwrap();
        assert_eq!(c.jenkins.page_size, Some(50));
        assert_eq!(c.jenkins.jobs.filter().unwrap().include.len(), 1);
        assert_eq!(
            c.destination.url.as_deref(),
            Some("sqlite:///var/lib/ci-sync.db")
        );
    }

    #[test]
    fn unknown_keys_and_bad_patterns_are_errors() {
        assert!(
            toml::from_str::<ConfigFile>("[jenkins]\nbase_url='x'\nbase_ulr='y'")
                .unwrap_err()
                .to_string()
                .contains("base_ulr")
        );
        let c: ConfigFile =
            toml::from_str("[jenkins]\nbase_url='x'\n[jenkins.jobs]\ninclude=['a//b']").unwrap();
        assert!(c.jenkins.jobs.filter().is_err());
    }
}
