//! `ci-sync.toml`: the sources (`[jenkins]`, `[circleci]`; one run syncs every one configured),
//! their tuning, and the destination.

use std::path::Path;

use cidata_jenkins::{JobFilter, JobPattern};
use serde::Deserialize;

use crate::cli_error::CliError;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The Jenkins servers: `[jenkins]`, or several `[[jenkins]]` each with a `name`.
    #[serde(default)]
    pub jenkins: Sections<JenkinsSection>,
    /// The CircleCI organisations: `[circleci]`, or several `[[circleci]]` each with a `name`.
    #[serde(default)]
    pub circleci: Sections<CircleCiSection>,
    /// The Bitbucket Cloud accounts: `[bitbucket]`, or several `[[bitbucket]]` each with a
    /// `name`.
    #[serde(default)]
    pub bitbucket: Sections<BitbucketSection>,
    /// Where to write.
    #[serde(default)]
    pub destination: DestinationSection,
}

/// `[jenkins]`, with the seed connector's keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JenkinsSection {
    /// The server's name in the tables (`server` column, state, lock): needed when several are
    /// configured. Default `jenkins`.
    pub name: Option<String>,
    /// The server's URL, with its context path.
    pub base_url: String,
    /// The user.
    pub username: Option<String>,
    /// The API token (better: the `JENKINS_API_TOKEN` environment variable).
    pub api_token: Option<Secret>,
    /// A file holding the API token (`/run/secrets/jenkins-token`), read at start.
    pub api_token_file: Option<std::path::PathBuf>,
    /// Which jobs to sync.
    #[serde(default)]
    pub jobs: JobsSection,
    /// Builds per request.
    pub page_size: Option<u32>,
    /// Folder levels one listing request covers (default 5; deeper folders cost one request each).
    pub folder_depth: Option<u32>,
    /// Jobs read at the same time.
    pub concurrency: Option<usize>,
    /// The deadline of one request.
    pub request_timeout_seconds: Option<u64>,
    /// Attempts per request, the first included.
    pub retry_attempts: Option<u32>,
    /// A PEM file of CA certificates to trust besides the system's (a company CA).
    pub ca_file: Option<std::path::PathBuf>,
}

/// `[circleci]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircleCiSection {
    /// The organisation's name in the tables (`server` column, state, lock): needed when several
    /// are configured. Default `circleci`.
    pub name: Option<String>,
    /// The API's URL (default `https://circleci.com/api/v2/`; CircleCI server installations
    /// have their own).
    pub base_url: Option<String>,
    /// The API token (better: the `CIRCLECI_TOKEN` environment variable).
    pub token: Option<Secret>,
    /// A file holding the token (`/run/secrets/circleci-token`), read at start.
    pub token_file: Option<std::path::PathBuf>,
    /// The projects to sync (`gh/org/repo`, `bb/org/repo`, `circleci/<org id>/<project id>`).
    pub project_slugs: Vec<String>,
    /// Only pipelines of this branch.
    pub branch: Option<String>,
    /// Pipelines read at the same time.
    pub concurrency: Option<usize>,
    /// How old a pipeline may be and still have its reruns caught: `24h` (default), `90m`,
    /// `2d`, `0` for none.
    pub rerun_lookback: Option<String>,
    /// Read each finished job's details (executor, parallelism, queued time): one request per job.
    #[serde(default)]
    pub job_details: bool,
    /// Read each finished job's test results into `circleci_tests`: one request per job.
    #[serde(default)]
    pub job_tests: bool,
    /// The deadline of one request.
    pub request_timeout_seconds: Option<u64>,
    /// Attempts per request, the first included.
    pub retry_attempts: Option<u32>,
    /// A PEM file of CA certificates to trust besides the system's (a company CA).
    pub ca_file: Option<std::path::PathBuf>,
}

/// `[bitbucket]`: the seed connector's keys as they are (its `configuration.json` holds every
/// value as a string: both forms are read), then ours.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BitbucketSection {
    /// The account's name in the tables (`server` column, state, lock): needed when several are
    /// configured. Default `bitbucket`.
    pub name: Option<String>,
    /// The username, with `app_password` (seed).
    pub username: Option<String>,
    /// The app password (seed; better: `BITBUCKET_APP_PASSWORD`).
    pub app_password: Option<Secret>,
    /// A file holding `app_password`, read at start.
    pub app_password_file: Option<std::path::PathBuf>,
    /// How often the seed's scheduler ran it; ci-sync runs when its scheduler (cron) says.
    #[serde(deserialize_with = "lenient")]
    pub sync_frequency_hours: Option<u64>,
    /// How far back pipelines and pull requests go on a repository's first run (seed; default 30).
    #[serde(deserialize_with = "lenient")]
    pub initial_sync_days: Option<u32>,
    /// Items per page, 10 to 100 (seed; default 100).
    #[serde(deserialize_with = "lenient")]
    pub max_records_per_page: Option<u32>,
    /// The deadline of one request (seed).
    #[serde(deserialize_with = "lenient")]
    pub request_timeout_seconds: Option<u64>,
    /// Attempts per request, the first included (seed).
    #[serde(deserialize_with = "lenient")]
    pub retry_attempts: Option<u32>,
    /// Read only what changed (seed; default true).
    #[serde(deserialize_with = "lenient")]
    pub enable_incremental_sync: Option<bool>,
    /// Sync repositories (seed; default true).
    #[serde(deserialize_with = "lenient")]
    pub enable_repositories: Option<bool>,
    /// Sync projects (seed; default true).
    #[serde(deserialize_with = "lenient")]
    pub enable_projects: Option<bool>,
    /// More logs (seed; `-v` or `RUST_LOG` do this in ci-sync).
    #[serde(deserialize_with = "lenient")]
    pub enable_debug_logging: Option<bool>,
    /// The account e-mail, with `api_token`.
    pub email: Option<String>,
    /// An API token (better: `BITBUCKET_API_TOKEN`).
    pub api_token: Option<Secret>,
    /// A file holding `api_token`, read at start.
    pub api_token_file: Option<std::path::PathBuf>,
    /// An access token (better: `BITBUCKET_ACCESS_TOKEN`).
    pub access_token: Option<Secret>,
    /// A file holding `access_token`, read at start.
    pub access_token_file: Option<std::path::PathBuf>,
    /// The workspaces to sync (default: every workspace the user can see).
    #[serde(deserialize_with = "lenient_list")]
    pub workspaces: Vec<String>,
    /// The API's URL (default `https://api.bitbucket.org/2.0/`).
    pub base_url: Option<String>,
    /// Sync pipelines (default true).
    #[serde(deserialize_with = "lenient")]
    pub enable_pipelines: Option<bool>,
    /// Sync pull requests (default true).
    #[serde(deserialize_with = "lenient")]
    pub enable_pull_requests: Option<bool>,
    /// Sync the steps of pipelines (default false: one more request per pipeline).
    #[serde(deserialize_with = "lenient")]
    pub enable_pipeline_steps: Option<bool>,
    /// Every repository is read in full this often (deletions are seen then); default 24.
    #[serde(deserialize_with = "lenient")]
    pub full_check_hours: Option<u64>,
    /// Repositories read at the same time.
    #[serde(deserialize_with = "lenient")]
    pub concurrency: Option<usize>,
    /// A PEM file of CA certificates to trust besides the system's (a company CA).
    pub ca_file: Option<std::path::PathBuf>,
}

/// A value given natively or, as the seed's JSON does, as a string (`"true"`, `"30"`).
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr + serde::de::DeserializeOwned,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<T> {
        Native(T),
        Text(String),
    }
    match Option::<Either<T>>::deserialize(d)? {
        None => Ok(None),
        Some(Either::Native(v)) => Ok(Some(v)),
        Some(Either::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Either::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("`{t}`: {e}"))),
    }
}

/// A list given natively or as one comma-separated string.
fn lenient_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => Vec::new(),
        Some(Either::List(list)) => list,
        Some(Either::Text(t)) => t
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// Parses a duration such as `24h`, `90m`, `2d`, `30s` or `0`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, CliError> {
    let text = text.trim();
    let bad = || {
        CliError::Usage(format!(
            "`{text}` is not a duration: write a number and a unit, such as `24h`, `90m`, `2d` or `0`"
        ))
    };
    if text == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    Ok(std::time::Duration::from_secs(
        number.saturating_mul(seconds),
    ))
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
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationSection {
    /// `sqlite://ci-sync.db` (default), `sqlite:///abs/path.db`, `jsonl://-`, `jsonl://file.jsonl`,
    /// `postgres://user:password@host/db`.
    pub url: Option<String>,
}

impl std::fmt::Debug for DestinationSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A PostgreSQL URL may hold a password: shown as its parse shows it, without.
        let url = self
            .url
            .as_deref()
            .map(|u| match cidata_sync::DestinationUrl::parse(u) {
                Ok(parsed) => format!("{parsed:?}"),
                Err(_) => "(not a destination URL)".to_owned(),
            });
        f.debug_struct("DestinationSection")
            .field("url", &url)
            .finish()
    }
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

/// A secret of the config file: read like a string, shown as `***` by `Debug`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the client that sends it.
    pub fn expose(&self) -> String {
        self.0.clone()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// A source's sections: none, one `[kind]` table, or an array of `[[kind]]` tables.
#[derive(Debug)]
pub struct Sections<T>(pub Vec<T>);

impl<T> Default for Sections<T> {
    fn default() -> Self {
        Sections(Vec::new())
    }
}

impl<T> Sections<T> {
    /// The sections in the file's order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sections<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // One table or an array of them, each decoded as itself so that its errors (an
        // unknown key) keep their words.
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = Sections<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table or an array of tables")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|one| Sections(vec![one]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(Sections)
            }
        }
        deserializer.deserialize_any(Visitor(std::marker::PhantomData))
    }
}

/// The name of each of `names` (one per section of `kind`, `None` where not given), checked:
/// a name is letters, digits, `-` and `_`; several sections each need a distinct one; a lone
/// section defaults to `kind`.
pub fn section_names(kind: &str, names: &[Option<&str>]) -> Result<Vec<String>, CliError> {
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let name = match name {
            Some(name) => *name,
            None if names.len() == 1 => kind,
            None => {
                return Err(CliError::Usage(format!(
                    "[[{kind}]] number {}: several {kind} sections each need a `name`",
                    i + 1
                )));
            }
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(CliError::Usage(format!(
                "[{kind}] name `{}`: use letters, digits, `-` and `_`",
                crate::terminal::safe(name)
            )));
        }
        if out.iter().any(|n: &String| n == name) {
            return Err(CliError::Usage(format!(
                "[{kind}] name `{name}` is given twice: each section needs its own"
            )));
        }
        out.push(name.to_owned());
    }
    Ok(out)
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
        let config: ConfigFile = if path.extension().is_some_and(|e| e == "json") {
            // The Bitbucket seed connector's `configuration.json`: its keys at the top level.
            let bitbucket: BitbucketSection = serde_json::from_str(&text)
                .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
            ConfigFile {
                jenkins: Sections::default(),
                circleci: Sections::default(),
                bitbucket: Sections(vec![bitbucket]),
                destination: DestinationSection::default(),
            }
        } else {
            toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?
        };
        let bitbucket_secret = config
            .bitbucket
            .iter()
            .any(|b| b.app_password.is_some() || b.api_token.is_some() || b.access_token.is_some());
        let destination_secret = config.destination.url.as_deref().is_some_and(|url| {
            url.split_once("://").is_some_and(|(_, rest)| {
                rest.split(['/', '?'])
                    .next()
                    .is_some_and(|host| host.contains(':') && host.contains('@'))
            })
        });
        if config.jenkins.iter().any(|j| j.api_token.is_some())
            || config.circleci.iter().any(|c| c.token.is_some())
            || bitbucket_secret
            || destination_secret
        {
            warn_if_readable_by_others(path);
        }
        section_names(
            "jenkins",
            &config
                .jenkins
                .iter()
                .map(|s| s.name.as_deref())
                .collect::<Vec<_>>(),
        )?;
        section_names(
            "circleci",
            &config
                .circleci
                .iter()
                .map(|s| s.name.as_deref())
                .collect::<Vec<_>>(),
        )?;
        section_names(
            "bitbucket",
            &config
                .bitbucket
                .iter()
                .map(|s| s.name.as_deref())
                .collect::<Vec<_>>(),
        )?;
        if config.jenkins.is_empty() && config.circleci.is_empty() && config.bitbucket.is_empty() {
            return Err(CliError::Usage(format!(
                "{} configures no source: add a [jenkins], [circleci] or [bitbucket] table (see examples/ci-sync.example.toml)",
                path.display()
            )));
        }
        Ok(config)
    }
}

/// A TOML error as `path: line L, column C: message`, without the quoted source line that toml's
/// own `Display` adds: that line may hold a token.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> CliError {
    let at = e
        .span()
        .map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: ")
        })
        .unwrap_or_default();
    CliError::Usage(format!(
        "{}: {at}{}",
        path.display(),
        e.message().trim_end()
    ))
}

/// A request deadline from the config, checked: 1 s to 1 day (a huge value would overflow the
/// HTTP client's clock arithmetic).
pub fn request_timeout(section: &str, seconds: u64) -> Result<std::time::Duration, CliError> {
    if (1..=86_400).contains(&seconds) {
        Ok(std::time::Duration::from_secs(seconds))
    } else {
        Err(CliError::Usage(format!(
            "[{section}] request_timeout_seconds = {seconds}: give 1 to 86400 seconds"
        )))
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o044 != 0
    {
        tracing::warn!(
            "{} holds a token and other users can read it: `chmod 600 {}`, or use JENKINS_API_TOKEN / CIRCLECI_TOKEN instead",
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
        let jenkins = c.jenkins.iter().next().unwrap();
        assert_eq!(jenkins.page_size, Some(50));
        assert_eq!(jenkins.jobs.filter().unwrap().include.len(), 1);
        assert_eq!(
            c.destination.url.as_deref(),
            Some("sqlite:///var/lib/ci-sync.db")
        );
    }

    #[test]
    fn a_circleci_table_and_durations() {
        let c: ConfigFile = toml::from_str(
            r#"
            [circleci]
            project_slugs = ["gh/acme/web", "bb/acme/api"]
            rerun_lookback = "36h"
            "#,
        )
        .unwrap();
        let circleci = c.circleci.0.into_iter().next().unwrap();
        assert_eq!(circleci.project_slugs.len(), 2);
        assert_eq!(
            parse_duration(circleci.rerun_lookback.as_deref().unwrap()).unwrap(),
            std::time::Duration::from_secs(36 * 3600)
        );
        assert_eq!(parse_duration("0").unwrap(), std::time::Duration::ZERO);
        for bad in ["", "h", "12", "3 weeks", "-1h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_seed_connectors_json_with_every_value_a_string() {
        let seed: BitbucketSection = serde_json::from_str(
            r#"{"username": "alice", "app_password": "pw", "sync_frequency_hours": "6",
                "initial_sync_days": "90", "max_records_per_page": "50", "request_timeout_seconds": "30",
                "retry_attempts": "3", "enable_incremental_sync": "true", "enable_repositories": "true",
                "enable_projects": "false", "enable_debug_logging": "false"}"#,
        )
        .unwrap();
        assert_eq!(seed.initial_sync_days, Some(90));
        assert_eq!(seed.enable_projects, Some(false));
        assert_eq!(seed.max_records_per_page, Some(50));
        let toml: ConfigFile = toml::from_str(
            "[bitbucket]\nemail = \"a@example.com\"\nworkspaces = [\"acme\"]\ninitial_sync_days = 7\n",
        )
        .unwrap();
        assert_eq!(toml.bitbucket.0[0].workspaces, ["acme"]);
        assert!(serde_json::from_str::<BitbucketSection>(r#"{"retry_attempts": "many"}"#).is_err());
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
        assert!(c.jenkins.iter().next().unwrap().jobs.filter().is_err());
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let config: ConfigFile = toml::from_str(
            "[jenkins]\nbase_url = \"https://a/\"\nusername = \"u\"\napi_token = \"s3cret-1\"\n\
             [circleci]\ntoken = \"s3cret-2\"\nproject_slugs = [\"gh/a/b\"]\n\
             [bitbucket]\nusername = \"u\"\napp_password = \"s3cret-3\"\napi_token = \"s3cret-4\"\naccess_token = \"s3cret-5\"\n\
             [destination]\nurl = \"postgres://ci:s3cret-6@db/ci\"\n",
        )
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://ci@db/ci"), "{shown}");
    }

    #[test]
    fn several_servers_of_a_kind_each_need_their_own_name() {
        let two: ConfigFile = toml::from_str(
            "[[jenkins]]\nname = \"eu\"\nbase_url = \"https://a/\"\n[[jenkins]]\nname = \"us\"\nbase_url = \"https://b/\"\n",
        )
        .unwrap();
        let names: Vec<Option<&str>> = two.jenkins.iter().map(|s| s.name.as_deref()).collect();
        assert_eq!(section_names("jenkins", &names).unwrap(), ["eu", "us"]);
        // One section needs no name; an unknown key keeps its message.
        assert_eq!(section_names("jenkins", &[None]).unwrap(), ["jenkins"]);
        let err = toml::from_str::<ConfigFile>("[jenkins]\nbase_url = \"https://a/\"\nurl = 1\n")
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `url`"), "{err}");
        for bad in [
            vec![None, Some("us")],
            vec![Some("eu"), Some("eu")],
            vec![Some("e:u")],
            vec![Some("")],
        ] {
            assert!(section_names("jenkins", &bad).is_err(), "{bad:?}");
        }
    }
}
