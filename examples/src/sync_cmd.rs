//! `ci-sync run`: one incremental sync of every configured source into a destination, with a
//! summary per source.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cidata_bitbucket::Bitbucket;
use cidata_circleci::{CircleCi, ProjectSlug};
use cidata_core::RetryPolicy;
use cidata_jenkins::{Jenkins, JobFilter};
use cidata_sources::bitbucket::{BitbucketSource, BitbucketSyncOptions};
use cidata_sources::circleci::{CircleCiSource, CircleCiSyncOptions};
use cidata_sources::jenkins::JenkinsSource;
use cidata_sync::{
    Destination, DestinationUrl, Engine, OpenOptions, RunStats, Source, TableSchema,
};
use cidata_wfapi::Wfapi;
use clap::Args;

use crate::cli_error::{CliError, Settings};
use crate::config::{BitbucketSection, CircleCiSection, ConfigFile, JenkinsSection};
use crate::progress::{Display, Reporter};

/// Options of `ci-sync run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The config file.
    #[arg(long, default_value = "ci-sync.toml")]
    config: PathBuf,
    /// The destination, overriding the config's: `sqlite://ci-sync.db`, `sqlite:///abs/path.db`,
    /// `postgres://user@host/db` (password from `PGPASSWORD` or the URL), `jsonl://-`.
    #[arg(long)]
    dest: Option<String>,
    /// With PostgreSQL: when another process is syncing the same source into the database, wait
    /// for it to finish instead of stopping at once.
    #[arg(long)]
    wait_for_lock: bool,
    /// With a `jsonl://` destination: read the state from FILE at start and rewrite it after the
    /// records each checkpoint covers, so that runs are incremental (the Singer convention).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Let a listing mark every known job or repository (or most of them) deleted at once; without
    /// it such a run stops before deleting anything, since an empty listing is more often a broken
    /// server or proxy than a wiped one.
    #[arg(long)]
    allow_mass_delete: bool,
    /// Write what the run did to FILE as JSON, for schedulers and benchmarks: per source its
    /// requests, retries, rows per table, items carried over and time, and the process's peak
    /// memory. Written also when a source fails.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// The default destination: an SQLite file in the current folder.
pub const DEFAULT_DESTINATION: &str = "sqlite://ci-sync.db";

/// Where a run writes: the destination's URL and how to meet another writer of the same source.
#[derive(Debug, Clone)]
pub struct Target {
    /// `sqlite://...`, `postgres://...` or `jsonl://...`.
    pub url: String,
    /// PostgreSQL: wait for another process syncing the same source instead of stopping.
    pub wait_for_lock: bool,
    /// JSON lines: the state file (`--state`).
    pub state_file: Option<PathBuf>,
}

impl Target {
    /// A destination that does not wait for locks.
    pub fn new(url: impl Into<String>) -> Target {
        Target {
            url: url.into(),
            wait_for_lock: false,
            state_file: None,
        }
    }
}

/// Opens a destination for a further source of the same run: a JSON-lines file is appended
/// to, not replaced.
pub fn reopen_destination(target: &Target) -> Result<Box<dyn Destination>, CliError> {
    match DestinationUrl::parse(&target.url).map_err(|e| CliError::Usage(e.to_string()))? {
        DestinationUrl::JsonLines(Some(path)) => {
            let mut out =
                cidata_sync::JsonLinesDestination::open_append(&path).map_err(CliError::Sync)?;
            if let Some(state) = &target.state_file {
                out = out.with_state_file(state.clone());
            }
            Ok(Box::new(out))
        }
        _ => open_destination(target),
    }
}

/// Every source's parts of the `ci_runs` and `ci_steps` views.
pub fn view_parts() -> Vec<cidata_sync::views::ViewPart> {
    cidata_sources::view_parts()
}

/// Creates or replaces `ci_runs`, `ci_steps` and `ci_daily` over the tables the destination
/// holds now (after every sync: a source synced for the first time joins them). JSON lines keep
/// no tables, so no views. Blocking.
pub fn refresh_views(target: &Target) -> Result<(), CliError> {
    let parsed = DestinationUrl::parse(&target.url).map_err(|e| CliError::Usage(e.to_string()))?;
    if matches!(parsed, DestinationUrl::JsonLines(_)) {
        return Ok(());
    }
    let mut destination = open_destination(target)?;
    let refreshed =
        cidata_sync::views::refresh(destination.as_mut(), &view_parts()).map_err(CliError::Sync)?;
    tracing::debug!(?refreshed, "views refreshed");
    Ok(())
}

/// Opens a destination. `CI_SYNC_ABORT_AFTER_STATEMENTS=N` makes an SQLite or PostgreSQL
/// destination abort the process after N statements, inside a transaction (the crash tests use
/// it).
pub fn open_destination(target: &Target) -> Result<Box<dyn Destination>, CliError> {
    let parsed = DestinationUrl::parse(&target.url).map_err(|e| CliError::Usage(e.to_string()))?;
    if matches!(parsed, DestinationUrl::Postgres(_)) && !cidata_sync::POSTGRES_SUPPORTED {
        return Err(CliError::Usage(
            "this ci-sync was built without PostgreSQL support: build it with `--features postgres` \
             (cargo install cidata-cli --features postgres)"
                .into(),
        ));
    }
    let options = OpenOptions::default()
        .wait_for_lock(target.wait_for_lock)
        .state_file(target.state_file.clone())
        .abort_after_statements(
            std::env::var("CI_SYNC_ABORT_AFTER_STATEMENTS")
                .ok()
                .and_then(|v| v.parse().ok()),
        );
    parsed.open_with(&options).map_err(CliError::Sync)
}

/// How a source's summary names its partitions and its items not final.
#[derive(Debug, Clone, Copy)]
pub struct Vocabulary {
    /// `jobs`, `projects`.
    pub partitions: &'static str,
    /// `running builds`, `running workflows`.
    pub non_final: &'static str,
}

/// The Jenkins source's words.
pub const JENKINS_WORDS: Vocabulary = Vocabulary {
    partitions: "jobs",
    non_final: "running builds",
};

/// The CircleCI source's words.
pub const CIRCLECI_WORDS: Vocabulary = Vocabulary {
    partitions: "projects",
    non_final: "running workflows",
};

/// The Bitbucket source's words.
pub const BITBUCKET_WORDS: Vocabulary = Vocabulary {
    partitions: "repositories",
    non_final: "running pipelines",
};

/// One sync pass: the source, where to write, and how to report.
pub struct Pass<'a, S> {
    /// What to read.
    pub source: S,
    /// The server it reads (for messages and the hints of errors).
    pub base: String,
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
pub async fn sync_once<S: Source>(pass: Pass<'_, S>) -> Result<RunStats, CliError> {
    let Pass {
        source,
        base,
        destination,
        concurrency,
        display,
        label,
        settings,
    } = pass;
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

/// The summary of a pass: one line per table of the source and a line of counters.
pub fn summary(stats: &RunStats, tables: &[TableSchema], words: Vocabulary) -> Vec<String> {
    let mut lines = Vec::new();
    for table in tables {
        let c = stats.tables.get(&table.name).copied().unwrap_or_default();
        let mut line = format!("  {:<24} {:>7} rows written", table.name, c.upserted);
        if c.unchanged > 0 {
            line.push_str(&format!(", {} unchanged", c.unchanged));
        }
        if c.deleted > 0 {
            line.push_str(&format!(", {} marked deleted", c.deleted));
        }
        lines.push(line);
    }
    lines.push(format!(
        "  {} requests ({} retried), {} {} read, {} {} carried over, {:.2} s",
        stats.requests,
        stats.retries,
        stats.partitions,
        words.partitions,
        stats.non_final,
        words.non_final,
        stats.duration.as_secs_f64()
    ));
    if !stats.reported.is_empty() {
        lines.push(format!(
            "  {} items reported, not trusted (see the warnings), first: {}: {}",
            stats.reported.len(),
            crate::terminal::safe(&stats.reported[0].item),
            crate::terminal::safe(&stats.reported[0].problem)
        ));
    }
    lines
}

/// Builds the Jenkins client from the config (the token from `JENKINS_API_TOKEN` first).
fn jenkins_from(j: &JenkinsSection) -> Result<Jenkins, CliError> {
    let token = secret(
        "JENKINS_API_TOKEN",
        "[jenkins] api_token",
        &j.api_token,
        &j.api_token_file,
    )?;
    let mut builder = Jenkins::builder(j.base_url.clone())
        .user_agent(concat!("ci-sync/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &j.ca_file {
        builder = builder.extra_root_certificates_pem(crate::net_args::read_ca_bundle(
            "[jenkins] ca_file",
            path,
        )?);
    }
    builder = match (&j.username, token) {
        (Some(user), Some(token)) => builder.basic_auth(user.clone(), token),
        (Some(_), None) => {
            return Err(CliError::Usage(
                "[jenkins] has a username but no api_token: set JENKINS_API_TOKEN (or api_token_file)".into(),
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
    if let Some(n) = j.folder_depth {
        builder = builder.folder_depth(n);
    }
    if let Some(s) = j.request_timeout_seconds {
        builder = builder.request_timeout(crate::config::request_timeout("jenkins", s)?);
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

/// Builds the CircleCI client and source from `[circleci]` (the token from `CIRCLECI_TOKEN`
/// first).
fn circleci_from(c: &CircleCiSection) -> Result<CircleCiSource, CliError> {
    let token = secret(
        "CIRCLECI_TOKEN",
        "[circleci] token",
        &c.token,
        &c.token_file,
    )?;
    let mut builder =
        CircleCi::builder().user_agent(concat!("ci-sync/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &c.ca_file {
        builder = builder.extra_root_certificates_pem(crate::net_args::read_ca_bundle(
            "[circleci] ca_file",
            path,
        )?);
    }
    if let Some(url) = &c.base_url {
        builder = builder.base_url(url.clone());
    }
    if let Some(token) = token {
        builder = builder.token(token);
    }
    if let Some(n) = c.concurrency {
        builder = builder.concurrency(n);
    }
    if let Some(s) = c.request_timeout_seconds {
        builder = builder.request_timeout(crate::config::request_timeout("circleci", s)?);
    }
    if let Some(n) = c.retry_attempts {
        builder = builder.retry(RetryPolicy {
            max_attempts: n.max(1),
            ..RetryPolicy::default()
        });
    }
    let client = builder
        .build()
        .map_err(|e| CliError::Usage(format!("[circleci] base_url: {e}")))?;
    let projects = c
        .project_slugs
        .iter()
        .map(|s| {
            ProjectSlug::parse(s)
                .map_err(|e| CliError::Usage(format!("[circleci] project_slugs: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if projects.is_empty() {
        return Err(CliError::Usage(
            "[circleci] project_slugs is empty: list the projects to sync, such as [\"gh/acme/web\"]".into(),
        ));
    }
    let rerun_lookback = match &c.rerun_lookback {
        Some(text) => crate::config::parse_duration(text)?,
        None => CircleCiSyncOptions::default().rerun_lookback,
    };
    Ok(
        CircleCiSource::new(client, projects).options(CircleCiSyncOptions {
            branch: c.branch.clone(),
            rerun_lookback,
            job_details: c.job_details,
            job_tests: c.job_tests,
        }),
    )
}

/// A secret from the environment first, else from the config file.
/// A secret: from the environment variable `var`, else the config's value, else the file the
/// config names (`key`_file: its contents, without the final newline).
fn secret(
    var: &str,
    key: &str,
    configured: &Option<crate::config::Secret>,
    file: &Option<PathBuf>,
) -> Result<Option<String>, CliError> {
    if let Some(value) = std::env::var(var).ok().filter(|t| !t.is_empty()) {
        return Ok(Some(value));
    }
    if let Some(value) = configured {
        return Ok(Some(value.expose()));
    }
    let Some(path) = file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("{key}_file {}: {e}", path.display())))?;
    let value = text.trim_end_matches(['\n', '\r']);
    if value.is_empty() {
        return Err(CliError::Usage(format!(
            "{key}_file {} is empty",
            path.display()
        )));
    }
    Ok(Some(value.to_owned()))
}

/// Builds the Bitbucket client and source from `[bitbucket]` (or the seed's JSON).
fn bitbucket_from(
    b: &BitbucketSection,
    allow_mass_delete: bool,
) -> Result<BitbucketSource, CliError> {
    let mut builder =
        Bitbucket::builder().user_agent(concat!("ci-sync/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &b.ca_file {
        builder = builder.extra_root_certificates_pem(crate::net_args::read_ca_bundle(
            "[bitbucket] ca_file",
            path,
        )?);
    }
    if let Some(url) = &b.base_url {
        builder = builder.base_url(url.clone());
    }
    let access_token = secret(
        "BITBUCKET_ACCESS_TOKEN",
        "[bitbucket] access_token",
        &b.access_token,
        &b.access_token_file,
    )?;
    let api_token = secret(
        "BITBUCKET_API_TOKEN",
        "[bitbucket] api_token",
        &b.api_token,
        &b.api_token_file,
    )?;
    let app_password = secret(
        "BITBUCKET_APP_PASSWORD",
        "[bitbucket] app_password",
        &b.app_password,
        &b.app_password_file,
    )?;
    builder = match (access_token, api_token, app_password) {
        (Some(token), _, _) => builder.access_token(token),
        (None, Some(token), _) => {
            let email = b.email.clone().ok_or_else(|| {
                CliError::Usage(
                    "an API token needs the account's e-mail: set [bitbucket] email".into(),
                )
            })?;
            builder.api_token(email, token)
        }
        (None, None, Some(password)) => {
            let user = b.username.clone().ok_or_else(|| {
                CliError::Usage("an app password needs [bitbucket] username".into())
            })?;
            builder.app_password(user, password)
        }
        (None, None, None) => builder,
    };
    if let Some(n) = b.max_records_per_page {
        builder = builder.pagelen(n);
    }
    if let Some(n) = b.concurrency {
        builder = builder.concurrency(n);
    }
    if let Some(s) = b.request_timeout_seconds {
        builder = builder.request_timeout(crate::config::request_timeout("bitbucket", s)?);
    }
    if let Some(n) = b.retry_attempts {
        builder = builder.retry(RetryPolicy {
            max_attempts: n.max(1),
            ..RetryPolicy::default()
        });
    }
    if b.enable_debug_logging == Some(true) {
        tracing::info!("enable_debug_logging: ci-sync's -v (or RUST_LOG=debug) gives debug logs");
    }
    let client = builder
        .build()
        .map_err(|e| CliError::Usage(format!("[bitbucket] base_url: {e}")))?;
    let defaults = BitbucketSyncOptions::default();
    let options = BitbucketSyncOptions {
        workspaces: b.workspaces.clone(),
        repositories: b.enable_repositories.unwrap_or(true),
        projects: b.enable_projects.unwrap_or(true),
        pipelines: b.enable_pipelines.unwrap_or(true),
        pull_requests: b.enable_pull_requests.unwrap_or(true),
        pipeline_steps: b.enable_pipeline_steps.unwrap_or(false),
        initial_sync_days: b.initial_sync_days.unwrap_or(defaults.initial_sync_days),
        full_check: b
            .full_check_hours
            .map_or(defaults.full_check, |h| Duration::from_secs(h * 3600)),
        incremental: b.enable_incremental_sync.unwrap_or(true),
        allow_mass_delete,
        ..defaults
    };
    Ok(BitbucketSource::new(client, options))
}

/// Prints the summary of one source's pass.
fn report(
    display: Display,
    base: &str,
    described: &str,
    tables: &[TableSchema],
    words: Vocabulary,
    stats: &RunStats,
) {
    if display != Display::Quiet {
        let (base, described) = (
            crate::terminal::safe(base),
            crate::terminal::safe(described),
        );
        eprintln!("ci-sync: synced {base} into {described}");
        for line in summary(stats, tables, words) {
            eprintln!("{}", crate::terminal::safe(&line));
        }
    }
}

/// A source ready to sync, with what its messages need.
pub struct Configured<'a, S> {
    /// The source.
    pub source: S,
    /// The server it reads.
    pub base: String,
    /// Partitions read at once.
    pub concurrency: usize,
    /// Where its connection was configured.
    pub settings: Settings,
    /// The progress label.
    pub label: &'a str,
    /// How its summary names things.
    pub words: Vocabulary,
}

/// What one source's pass gave: its statistics, tables and destination's description.
pub struct Synced {
    /// The run's statistics.
    pub stats: RunStats,
    /// The source's tables.
    pub tables: Vec<TableSchema>,
    /// How its summary names things.
    pub words: Vocabulary,
    /// The destination, for messages.
    pub described: String,
}

/// Syncs one configured source into `target`; a further source of the same run appends
/// (`reopen`) to a JSON-lines file rather than replacing it.
pub async fn sync_source<S: Source>(
    c: Configured<'_, S>,
    target: &Target,
    reopen: bool,
    display: Display,
) -> Result<Synced, CliError> {
    let tables = c.source.tables();
    let destination = if reopen {
        reopen_destination(target)?
    } else {
        open_destination(target)?
    };
    let described = destination.describe();
    let stats = sync_once(Pass {
        source: c.source,
        base: c.base,
        destination,
        concurrency: c.concurrency,
        display,
        label: c.label,
        settings: &c.settings,
    })
    .await?;
    // The PostgreSQL client blocks: off the runtime's thread.
    let views_target = target.clone();
    tokio::task::spawn_blocking(move || refresh_views(&views_target))
        .await
        .map_err(|e| CliError::Usage(format!("refreshing the views failed: {e}")))??;
    Ok(Synced {
        stats,
        tables,
        words: c.words,
        described,
    })
}

/// The sources of one `ci-sync run`, one after the other: a source that fails does not keep the
/// others from running (but a closed stdout ends the run).
struct Runner {
    target: Target,
    display: Display,
    passes: usize,
    failures: Vec<CliError>,
    partial: Vec<String>,
    report: crate::report::RunReport,
}

impl Runner {
    async fn pass<S: Source>(
        &mut self,
        kind: &str,
        name: &str,
        configured: Result<Configured<'_, S>, CliError>,
    ) {
        if self.failures.iter().any(CliError::is_broken_pipe) {
            return;
        }
        let reopen = self.passes > 0;
        self.passes += 1;
        let outcome = match configured {
            Ok(c) => {
                let base = c.base.clone();
                sync_source(c, &self.target, reopen, self.display)
                    .await
                    .map(|synced| (base, synced))
            }
            Err(e) => Err(e),
        };
        self.report.add(kind, name, &outcome);
        match outcome {
            Ok((base, synced)) => {
                report(
                    self.display,
                    &base,
                    &synced.described,
                    &synced.tables,
                    synced.words,
                    &synced.stats,
                );
                self.partial
                    .extend(failed_partitions(&synced.stats, synced.words.partitions));
            }
            Err(e) => self.failures.push(e),
        }
    }
}

/// Runs `ci-sync run`: every configured source, one after the other, into one destination. The
/// worst outcome decides the exit.
pub async fn run(args: RunArgs, display: Display) -> Result<(), CliError> {
    let config = ConfigFile::load(&args.config)?;
    let url = args
        .dest
        .clone()
        .or(config.destination.url.clone())
        .unwrap_or_else(|| DEFAULT_DESTINATION.to_owned());
    if args.state.is_some() && !runner_url_is_jsonl(&url) {
        return Err(CliError::Usage(
            "--state is for jsonl:// destinations: SQLite and PostgreSQL keep their state in their own tables".into(),
        ));
    }
    let mut runner = Runner {
        target: Target {
            url,
            wait_for_lock: args.wait_for_lock,
            state_file: args.state.clone(),
        },
        display,
        passes: 0,
        failures: Vec::new(),
        partial: Vec::new(),
        report: crate::report::RunReport::default(),
    };
    let names = |kind: &str, names: Vec<Option<&str>>| crate::config::section_names(kind, &names);
    let jenkins_names = names(
        "jenkins",
        config.jenkins.iter().map(|s| s.name.as_deref()).collect(),
    )?;
    for (section, name) in config.jenkins.iter().zip(&jenkins_names) {
        let configured = jenkins_from(section).and_then(|jenkins| {
            let filter: JobFilter = section.jobs.filter()?;
            Ok(Configured {
                concurrency: jenkins.concurrency(),
                base: jenkins.base().to_string(),
                source: JenkinsSource::new(Wfapi::new(jenkins))
                    .named(name.clone())
                    .filter(filter)
                    .allow_mass_delete(args.allow_mass_delete),
                settings: Settings::config(&args.config),
                label: name,
                words: JENKINS_WORDS,
            })
        });
        runner.pass("jenkins", name, configured).await;
    }
    let circleci_names = names(
        "circleci",
        config.circleci.iter().map(|s| s.name.as_deref()).collect(),
    )?;
    for (section, name) in config.circleci.iter().zip(&circleci_names) {
        let configured = circleci_from(section).map(|source| Configured {
            base: source.client().base().to_string(),
            concurrency: source.client().concurrency(),
            source: source.named(name.clone()),
            settings: Settings::circleci_config(&args.config),
            label: name,
            words: CIRCLECI_WORDS,
        });
        runner.pass("circleci", name, configured).await;
    }
    let bitbucket_names = names(
        "bitbucket",
        config.bitbucket.iter().map(|s| s.name.as_deref()).collect(),
    )?;
    for (section, name) in config.bitbucket.iter().zip(&bitbucket_names) {
        let configured = bitbucket_from(section, args.allow_mass_delete).map(|source| Configured {
            base: source.client().base().to_string(),
            concurrency: source.client().concurrency(),
            source: source.named(name.clone()),
            settings: Settings::bitbucket_config(&args.config),
            label: name,
            words: BITBUCKET_WORDS,
        });
        runner.pass("bitbucket", name, configured).await;
    }
    if let Some(path) = &args.report {
        runner.report.write(path)?;
    }
    if let Some(first) = runner.failures.into_iter().next() {
        return Err(first);
    }
    if !runner.partial.is_empty() {
        return Err(CliError::Partial(runner.partial.join("; ")));
    }
    Ok(())
}

fn runner_url_is_jsonl(url: &str) -> bool {
    matches!(DestinationUrl::parse(url), Ok(DestinationUrl::JsonLines(_)))
}

/// The message of the partitions that failed, if any.
fn failed_partitions(stats: &RunStats, what: &str) -> Option<String> {
    let (_, first) = stats.failed_partitions.first()?;
    let names: Vec<&str> = stats
        .failed_partitions
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    Some(format!(
        "{} {what} failed and will be read again next run: {} (first error: {first})",
        names.len(),
        names.join(", "),
    ))
}
