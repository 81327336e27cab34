//! `ci-sync run`: one incremental sync of a Jenkins into a destination, with a summary.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cidata_core::RetryPolicy;
use cidata_jenkins::{Jenkins, JobFilter};
use cidata_sync::{Destination, DestinationUrl, Engine, RunStats, SqliteDestination};
use cidata_wfapi::Wfapi;
use cidata_wfapi::sync::JenkinsSource;
use clap::Args;

use crate::cli_error::{CliError, Settings};
use crate::config::ConfigFile;
use crate::progress::{Display, Reporter};

/// Options of `ci-sync run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The config file.
    #[arg(long, default_value = "ci-sync.toml")]
    config: PathBuf,
    /// The destination, overriding the config's: `sqlite://ci-sync.db`, `sqlite:///abs/path.db`, `jsonl://-`.
    #[arg(long)]
    dest: Option<String>,
}

/// The default destination: an SQLite file in the current folder.
pub const DEFAULT_DESTINATION: &str = "sqlite://ci-sync.db";

/// Opens a destination URL. `CI_SYNC_ABORT_AFTER_STATEMENTS=N` makes an SQLite destination abort
/// the process after N statements, inside a transaction (the crash tests use it).
pub fn open_destination(url: &str) -> Result<Box<dyn Destination>, CliError> {
    let parsed = DestinationUrl::parse(url).map_err(|e| CliError::Usage(e.to_string()))?;
    match &parsed {
        DestinationUrl::Sqlite(path) => {
            let mut db = SqliteDestination::open(path).map_err(CliError::Sync)?;
            if let Some(n) = std::env::var("CI_SYNC_ABORT_AFTER_STATEMENTS")
                .ok()
                .and_then(|v| v.parse().ok())
            {
                db.abort_after_statements(n);
            }
            Ok(Box::new(db))
        }
        DestinationUrl::JsonLines(_) => parsed.open().map_err(CliError::Sync),
    }
}

/// One sync pass: the source, where to write, and how to report.
pub struct Pass<'a> {
    /// What to read.
    pub source: JenkinsSource,
    /// Where to write.
    pub destination: Box<dyn Destination>,
    /// Partitions read at once.
    pub concurrency: usize,
    /// Progress bars, plain lines or nothing.
    pub display: Display,
    /// The progress bar's label.
    pub label: &'a str,
    /// Where the connection was configured, for the hints of errors.
    pub settings: &'a Settings,
}

/// Runs one sync pass.
pub async fn sync_once(pass: Pass<'_>) -> Result<RunStats, CliError> {
    let Pass {
        source,
        destination,
        concurrency,
        display,
        label,
        settings,
    } = pass;
    let base = source.jenkins().base().to_string();
    let reporter = Arc::new(Reporter::new(display, label));
    let events = reporter.clone();
    let engine = Engine::new()
        .concurrency(concurrency)
        .on_progress(move |p| events.event(p));
    engine
        .run(Arc::new(source), destination)
        .await
        .map_err(|e| CliError::sync(e, settings, &base))
}

/// The summary of a pass, one line per table and a line of counters.
pub fn summary(stats: &RunStats) -> Vec<String> {
    let mut lines = Vec::new();
    for table in [
        "jenkins_jobs",
        "jenkins_builds",
        "jenkins_artifacts",
        "jenkins_stages",
    ] {
        let c = stats.tables.get(table).copied().unwrap_or_default();
        let mut line = format!("  {table:<18} {:>7} rows written", c.upserted);
        if c.unchanged > 0 {
            line.push_str(&format!(", {} unchanged", c.unchanged));
        }
        if c.deleted > 0 {
            line.push_str(&format!(", {} marked deleted", c.deleted));
        }
        lines.push(line);
    }
    lines.push(format!(
        "  {} requests ({} retried), {} jobs read, {} running builds carried over, {:.2} s",
        stats.requests,
        stats.retries,
        stats.partitions,
        stats.non_final,
        stats.duration.as_secs_f64()
    ));
    lines
}

/// Builds the Jenkins client from the config (the token from `JENKINS_API_TOKEN` first).
fn jenkins_from(config: &ConfigFile) -> Result<Jenkins, CliError> {
    let j = &config.jenkins;
    let token = std::env::var("JENKINS_API_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .or_else(|| j.api_token.clone());
    let mut builder = Jenkins::builder(j.base_url.clone())
        .user_agent(concat!("ci-sync/", env!("CARGO_PKG_VERSION")));
    builder = match (&j.username, token) {
        (Some(user), Some(token)) => builder.basic_auth(user.clone(), token),
        (Some(_), None) => {
            return Err(CliError::Usage(
                "[jenkins] has a username but no api_token: set JENKINS_API_TOKEN".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(CliError::Usage(
                "an API token is set but [jenkins] has no username".into(),
            ));
        }
        (None, None) => builder,
    };
    if let Some(n) = j.page_size {
        builder = builder.page_size(n);
    }
    if let Some(n) = j.concurrency {
        builder = builder.concurrency(n);
    }
    if let Some(s) = j.request_timeout_seconds {
        builder = builder.request_timeout(Duration::from_secs(s));
    }
    if let Some(n) = j.retry_attempts {
        builder = builder.retry(RetryPolicy {
            max_attempts: n.max(1),
            ..RetryPolicy::default()
        });
    }
    builder
        .build()
        .map_err(|e| CliError::Usage(format!("[jenkins] base_url: {e}")))
}

/// Runs `ci-sync run`.
pub async fn run(args: RunArgs, display: Display) -> Result<(), CliError> {
    let config = ConfigFile::load(&args.config)?;
    let jenkins = jenkins_from(&config)?;
    let filter: JobFilter = config.jenkins.jobs.filter()?;
    let concurrency = jenkins.concurrency();
    let base = jenkins.base().to_string();
    let source = JenkinsSource::new(Wfapi::new(jenkins)).filter(filter);
    let url = args
        .dest
        .or(config.destination.url)
        .unwrap_or_else(|| DEFAULT_DESTINATION.to_owned());
    let destination = open_destination(&url)?;
    let described = destination.describe();
    let settings = Settings::config(&args.config);
    let stats = sync_once(Pass {
        source,
        destination,
        concurrency,
        display,
        label: "sync",
        settings: &settings,
    })
    .await?;
    if display != Display::Quiet {
        eprintln!("ci-sync: synced {base} into {described}");
        for line in summary(&stats) {
            eprintln!("{line}");
        }
    }
    if !stats.failed_partitions.is_empty() {
        let names: Vec<&str> = stats
            .failed_partitions
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        return Err(CliError::Partial(format!(
            "{} jobs failed and will be read again next run: {} (first error: {})",
            names.len(),
            names.join(", "),
            stats.failed_partitions[0].1
        )));
    }
    Ok(())
}
