//! `ci-sync jenkins ...`: jobs, builds, artifacts and console logs of a Jenkins server.

use std::io::Write;

use cidata_jenkins::{ConsoleOptions, Jenkins, JobLookup, JobPath, Tree};
use cidata_wfapi::Wfapi;
use clap::{Args, Subcommand};
use futures::TryStreamExt;
use serde::Serialize;

use crate::cli_error::{CliError, Settings, Subject};
use crate::output::JsonLines;

/// Connection settings and the subcommand. The settings are global: they may come before or
/// after the subcommand (`ci-sync jenkins builds app --url ...`).
#[derive(Debug, Args)]
pub struct JenkinsArgs {
    /// The server's URL, with its context path if any (`https://host/jenkins/`).
    #[arg(long, env = "JENKINS_URL", hide_env_values = true, global = true)]
    url: Option<String>,
    /// The user to authenticate as; the API token is read from `JENKINS_API_TOKEN` (never from the
    /// command line). Without a user, requests are anonymous.
    #[arg(long, env = "JENKINS_USER", hide_env_values = true, global = true)]
    user: Option<String>,
    /// Builds per request when listing builds.
    #[arg(long, default_value_t = 100, global = true)]
    page_size: u32,
    #[command(flatten)]
    net: crate::net_args::NetArgs,
    #[command(subcommand)]
    command: JenkinsCommand,
}

/// A job as typed: its full name (`team/app`, `app/feature/login` for a branch Jenkins names
/// `feature%2Flogin`), or a job or build URL pasted from the browser.
const JOB_HELP: &str = "The job's full name, folders joined by `/` (`team/app/main`), or its URL";

#[derive(Debug, Subcommand)]
enum JenkinsCommand {
    /// Every job, recursively through folders: full_name, name, url, class, color.
    Jobs,
    /// Every build of a job (all of them, not only the newest 100).
    Builds {
        #[arg(help = JOB_HELP)]
        job: String,
    },
    /// The artifacts of a build.
    Artifacts {
        #[arg(help = JOB_HELP)]
        job: String,
        /// The build number (optional when the job is a build's URL).
        number: Option<u64>,
    },
    /// The stages of a Pipeline run, in order: stage_id, name, status, start_ms, duration_ms, error.
    Stages {
        #[arg(help = JOB_HELP)]
        job: String,
        /// The build number (optional when the job is a build's URL).
        number: Option<u64>,
    },
    /// Answers the `input` step a Pipeline run waits for: exactly one of --proceed or --abort.
    #[command(group = clap::ArgGroup::new("answer").required(true).args(["proceed", "abort"]))]
    Input {
        #[arg(help = JOB_HELP)]
        job: String,
        /// The build number (optional when the job is a build's URL).
        number: Option<u64>,
        /// Proceed; parameters not given with --param take their default values.
        #[arg(long)]
        proceed: bool,
        /// Abort (the run stops).
        #[arg(long, conflicts_with = "params")]
        abort: bool,
        /// Which input, when the run waits for several.
        #[arg(long)]
        id: Option<String>,
        /// A parameter value for proceeding, `NAME=VALUE` (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
    /// The console log of a build, written to stdout as it grows.
    Log {
        #[arg(help = JOB_HELP)]
        job: String,
        /// The build number (optional when the job is a build's URL).
        number: Option<u64>,
        /// Keep reading until the build ends.
        #[arg(long, short)]
        follow: bool,
    },
}

impl JenkinsCommand {
    /// The job as typed and the build number given, if the command names them.
    fn target(&self) -> Option<(&str, Option<u64>)> {
        match self {
            JenkinsCommand::Jobs => None,
            JenkinsCommand::Builds { job } => Some((job, None)),
            JenkinsCommand::Artifacts { job, number }
            | JenkinsCommand::Stages { job, number }
            | JenkinsCommand::Input { job, number, .. }
            | JenkinsCommand::Log { job, number, .. } => Some((job, *number)),
        }
    }
}

#[derive(Serialize)]
struct JobLine<'a> {
    full_name: String,
    name: &'a str,
    url: String,
    class: Option<&'a str>,
    color: Option<&'a str>,
}

#[derive(Serialize)]
struct BuildLine<'a> {
    job: &'a str,
    number: u64,
    result: Option<&'a str>,
    building: bool,
    timestamp_ms: Option<i64>,
    duration_ms: Option<i64>,
    url: String,
}

#[derive(Serialize)]
struct StageLine<'a> {
    stage_id: Option<&'a str>,
    name: Option<&'a str>,
    status: Option<&'a str>,
    start_ms: Option<i64>,
    duration_ms: Option<i64>,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct InputLine<'a> {
    job: &'a str,
    build_number: u64,
    input_id: Option<&'a str>,
    message: Option<&'a str>,
    action: &'a str,
}

#[derive(Serialize)]
struct ArtifactLine<'a> {
    job: &'a str,
    build_number: u64,
    file_name: Option<&'a str>,
    relative_path: &'a str,
    url: String,
}

fn connect(args: &JenkinsArgs) -> Result<Jenkins, CliError> {
    let Some(url) = args.url.clone() else {
        return Err(CliError::Usage(
            "no Jenkins URL: set JENKINS_URL or pass --url https://host/jenkins/".into(),
        ));
    };
    let token = std::env::var("JENKINS_API_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let builder = Jenkins::builder(url)
        .page_size(args.page_size)
        .request_timeout(args.net.timeout()?)
        .retry(args.net.retry())
        .max_response_bytes(args.net.max_response_bytes())
        .user_agent(concat!("ci-sync/", env!("CARGO_PKG_VERSION")));
    let builder = match args.net.ca_bundle()? {
        Some(pem) => builder.extra_root_certificates_pem(pem),
        None => builder,
    };
    let builder = match (&args.user, token) {
        (Some(user), Some(token)) => builder.basic_auth(user.clone(), token),
        (Some(_), None) => {
            return Err(CliError::Usage(
                "JENKINS_USER is set but JENKINS_API_TOKEN is not: export the user's API token"
                    .into(),
            ));
        }
        (None, Some(_)) => {
            return Err(CliError::Usage(
                "JENKINS_API_TOKEN is set but no user: set JENKINS_USER or --user".into(),
            ));
        }
        (None, None) => builder,
    };
    builder
        .build()
        .map_err(|e| CliError::Usage(format!("{e}; check JENKINS_URL (or --url)")))
}

/// Reads a typed job: a full name, or a pasted job or build URL (which may carry the number).
fn parse_job(jenkins: &Jenkins, typed: &str) -> Result<(JobPath, Option<u64>), CliError> {
    if typed.starts_with("http://") || typed.starts_with("https://") {
        return JobPath::from_build_url(typed, jenkins.base())
            .map_err(|e| CliError::Usage(format!("{e}; paste a job or build URL of this server")));
    }
    JobPath::from_full_name(typed)
        .map(|path| (path, None))
        .map_err(|e| CliError::Usage(format!("{e}: give the job's full name, like `team/app`")))
}

/// An error inside a command: an API error still to be explained, or a finished CLI error.
enum Failure {
    Api(cidata_core::Error),
    Cli(CliError),
}

impl From<cidata_core::Error> for Failure {
    fn from(e: cidata_core::Error) -> Failure {
        Failure::Api(e)
    }
}

impl From<CliError> for Failure {
    fn from(e: CliError) -> Failure {
        Failure::Cli(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Cli(CliError::Io(e))
    }
}

/// What a 404 on a typed job meant, found out by [`Jenkins::lookup_job`].
enum Resolution {
    /// The typed name is another path on the server (a branch typed with `/`): try that one.
    Retry(JobPath),
    /// Nothing to retry: this is the error to print.
    Fail(CliError),
}

async fn explain_not_found(
    jenkins: &Jenkins,
    typed: &str,
    tried: &JobPath,
    number: Option<u64>,
    error: cidata_core::Error,
) -> Resolution {
    let settings = Settings::env();
    let full_name = tried.full_name();
    // A pasted URL names the job exactly; a typed name may be a branch with `/` in its name.
    let looked_up = if typed.contains("://") {
        jenkins
            .job(
                tried,
                Some(&Tree::fields(["name"]).nested("lastBuild", Tree::fields(["number"]))),
            )
            .await
            .map(|job| JobLookup::Found {
                path: tried.clone(),
                job: Box::new(job),
            })
    } else {
        jenkins.lookup_job(typed).await
    };
    let fail = |message: String| Resolution::Fail(CliError::Usage(message));
    match looked_up {
        Ok(JobLookup::Found { path, .. }) if &path != tried => Resolution::Retry(path),
        Ok(JobLookup::Found { job, .. }) => match number {
            Some(number) => {
                let newest = job.last_build.and_then(|b| b.number);
                let subject = Subject::Build(full_name, number, newest);
                Resolution::Fail(CliError::api(error, &settings, Some(subject)))
            }
            None => Resolution::Fail(CliError::api(
                error,
                &settings,
                Some(Subject::Job(full_name)),
            )),
        },
        Ok(JobLookup::Missing {
            folder,
            name,
            children,
        }) => {
            let place = if folder.is_root() {
                "the server".to_owned()
            } else {
                format!("folder `{folder}`")
            };
            fail(format!(
                "no job `{name}` in {place}; it holds: {}",
                list(&children)
            ))
        }
        Ok(JobLookup::Ambiguous(paths)) => {
            let names: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
            fail(format!(
                "`{typed}` fits several jobs: {}; paste the job's URL instead",
                names.join(", ")
            ))
        }
        Ok(_) => Resolution::Fail(CliError::api(
            error,
            &settings,
            Some(Subject::Job(full_name)),
        )),
        // The lookup failed too (the root itself is missing, or the user may not list it).
        Err(lookup) => {
            let subject = if lookup.is_not_found() {
                Subject::Server
            } else {
                Subject::Job(full_name)
            };
            Resolution::Fail(CliError::api(error, &settings, Some(subject)))
        }
    }
}

/// A short list of names for a message: the first 20, then how many more.
fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "nothing".to_owned();
    }
    let shown: Vec<&str> = names.iter().take(20).map(String::as_str).collect();
    match names.len().saturating_sub(20) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// Runs one `ci-sync jenkins` subcommand.
pub async fn run(args: JenkinsArgs) -> Result<(), CliError> {
    let jenkins = connect(&args)?;
    let mut out = JsonLines::stdout();
    let target = match args.command.target() {
        Some((typed, number)) => {
            let (path, from_url) = parse_job(&jenkins, typed)?;
            Some((typed, path, number.or(from_url)))
        }
        None => None,
    };
    let mut job = target.as_ref().map(|(_, path, _)| path.clone());
    let mut retried = false;
    let result = loop {
        let attempt = execute(
            &jenkins,
            &args.command,
            job.as_ref(),
            target.as_ref().and_then(|t| t.2),
            &mut out,
        )
        .await;
        match (attempt, &target) {
            (Err(Failure::Api(e)), Some((typed, _, number))) if e.is_not_found() && !retried => {
                retried = true;
                let tried = job.clone().unwrap_or_else(JobPath::root);
                match explain_not_found(&jenkins, typed, &tried, *number, e).await {
                    Resolution::Retry(path) => {
                        tracing::debug!("`{typed}` is `{path}` on the server");
                        job = Some(path);
                    }
                    Resolution::Fail(e) => break Err(e),
                }
            }
            (Err(Failure::Api(e)), _) => {
                break Err(CliError::api(e, &Settings::env(), Some(Subject::Server)));
            }
            (Err(Failure::Cli(e)), _) => break Err(e),
            (Ok(()), _) => break Ok(()),
        }
    };
    // Whatever was written before a failure still reaches the reader.
    let flushed = out.flush();
    result?;
    flushed?;
    let stats = jenkins.stats().snapshot();
    tracing::info!(
        requests = stats.requests,
        retries = stats.retries,
        bytes = stats.bytes_received,
        "done"
    );
    Ok(())
}

async fn execute(
    jenkins: &Jenkins,
    command: &JenkinsCommand,
    job: Option<&JobPath>,
    number: Option<u64>,
    out: &mut JsonLines,
) -> Result<(), Failure> {
    let job = || job.ok_or_else(|| Failure::Cli(CliError::Usage("no job given".into())));
    let number = || {
        number.ok_or_else(|| {
            Failure::Cli(CliError::Usage(
                "no build number: give it after the job, or paste the build's URL".into(),
            ))
        })
    };
    match command {
        JenkinsCommand::Jobs => jobs(jenkins, out).await,
        JenkinsCommand::Builds { .. } => builds(jenkins, job()?, out).await,
        JenkinsCommand::Artifacts { .. } => artifacts(jenkins, job()?, number()?, out).await,
        JenkinsCommand::Log { follow, .. } => log(jenkins, job()?, number()?, *follow).await,
        JenkinsCommand::Stages { .. } => stages(jenkins, job()?, number()?, out).await,
        JenkinsCommand::Input {
            proceed,
            id,
            params,
            ..
        } => {
            let answer = InputAnswer {
                proceed: *proceed,
                id: id.as_deref(),
                params,
            };
            input(jenkins, job()?, number()?, answer, out).await
        }
    }
}

async fn jobs(jenkins: &Jenkins, out: &mut JsonLines) -> Result<(), Failure> {
    let mut jobs = std::pin::pin!(jenkins.jobs());
    while let Some(entry) = jobs.try_next().await? {
        let url = jenkins.job_url(&entry.path)?.to_string();
        out.write(&JobLine {
            full_name: entry.path.full_name(),
            name: entry.path.name(),
            url,
            class: entry.job.class.as_deref(),
            color: entry.job.color.as_deref(),
        })?;
    }
    Ok(())
}

async fn builds(jenkins: &Jenkins, job: &JobPath, out: &mut JsonLines) -> Result<(), Failure> {
    let fields = Tree::fields([
        "number",
        "result",
        "building",
        "inProgress",
        "timestamp",
        "duration",
    ]);
    let full_name = job.full_name();
    let mut builds = std::pin::pin!(jenkins.builds_with(job, fields));
    let mut listed = 0u64;
    loop {
        let build = match builds.try_next().await {
            Ok(Some(build)) => build,
            Ok(None) => break,
            // A folder answers without `allBuilds`: name what it holds rather than the decode error.
            Err(e) if listed == 0 => {
                folder_check(jenkins, job, &full_name).await?;
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        let Some(number) = build.number else { continue };
        listed += 1;
        out.write(&BuildLine {
            job: &full_name,
            number,
            result: build.result.as_ref().map(|r| r.as_str()),
            building: !build.is_final(),
            timestamp_ms: build.timestamp,
            // 0 on Jenkins while running: null until final, as in the synced tables.
            duration_ms: build.duration.filter(|_| build.is_final()),
            url: jenkins.build_url(job, number)?.to_string(),
        })?;
    }
    if listed == 0 {
        folder_check(jenkins, job, &full_name).await?;
        tracing::info!("`{full_name}` has no builds");
    }
    Ok(())
}

/// A folder has no builds: say so, naming what it holds, rather than print nothing (one more
/// request, only when a listing brought nothing).
async fn folder_check(jenkins: &Jenkins, job: &JobPath, full_name: &str) -> Result<(), Failure> {
    let what = jenkins
        .job(
            job,
            Some(&Tree::fields(["name"]).nested("jobs", Tree::fields(["name"]))),
        )
        .await?;
    if what.is_container() {
        let children: Vec<String> = what
            .jobs
            .unwrap_or_default()
            .into_iter()
            .filter_map(|j| j.name)
            .collect();
        return Err(Failure::Cli(CliError::Usage(format!(
            "`{full_name}` is a folder, not a job; it holds: {}",
            list(&children)
        ))));
    }
    Ok(())
}

async fn artifacts(
    jenkins: &Jenkins,
    job: &JobPath,
    number: u64,
    out: &mut JsonLines,
) -> Result<(), Failure> {
    let full_name = job.full_name();
    for artifact in jenkins.artifacts(job, number).await? {
        let Some(relative_path) = artifact.relative_path.as_deref() else {
            continue;
        };
        out.write(&ArtifactLine {
            job: &full_name,
            build_number: number,
            file_name: artifact.file_name.as_deref(),
            relative_path,
            url: jenkins
                .artifact_url(job, number, relative_path)?
                .to_string(),
        })?;
    }
    Ok(())
}

async fn log(jenkins: &Jenkins, job: &JobPath, number: u64, follow: bool) -> Result<(), Failure> {
    let options = if follow {
        ConsoleOptions::follow()
    } else {
        ConsoleOptions::snapshot()
    };
    let mut chunks = std::pin::pin!(jenkins.console(job, number, options));
    let mut stdout = std::io::stdout().lock();
    let terminal = std::io::IsTerminal::is_terminal(&stdout);
    while let Some(chunk) = chunks.try_next().await? {
        if !chunk.bytes.is_empty() {
            if terminal {
                stdout.write_all(&crate::terminal::log_for_terminal(&chunk.bytes))?;
            } else {
                stdout.write_all(&chunk.bytes)?;
            }
            stdout.flush()?;
        }
    }
    Ok(())
}

async fn stages(
    jenkins: &Jenkins,
    job: &JobPath,
    number: u64,
    out: &mut JsonLines,
) -> Result<(), Failure> {
    let wfapi = Wfapi::new(jenkins.clone());
    let run = wfapi.run(job, number).await?;
    for stage in &run.stages {
        out.write(&StageLine {
            stage_id: stage.id.as_deref(),
            name: stage.name.as_deref(),
            status: stage.status.as_ref().map(|s| s.as_str()),
            start_ms: stage.start_time_millis,
            duration_ms: stage
                .duration_millis
                .filter(|_| stage.status.as_ref().is_some_and(|s| s.is_final())),
            error: stage.error.as_ref().and_then(|e| e.message.as_deref()),
        })?;
    }
    Ok(())
}

/// What to answer an `input` step.
struct InputAnswer<'a> {
    proceed: bool,
    id: Option<&'a str>,
    params: &'a [String],
}

async fn input(
    jenkins: &Jenkins,
    job: &JobPath,
    number: u64,
    answer: InputAnswer<'_>,
    out: &mut JsonLines,
) -> Result<(), Failure> {
    let wfapi = Wfapi::new(jenkins.clone());
    let pending = wfapi.pending_input_actions(job, number).await?;
    let ids = || -> String {
        let ids: Vec<&str> = pending.iter().filter_map(|a| a.id.as_deref()).collect();
        ids.join(", ")
    };
    let chosen = match (answer.id, pending.as_slice()) {
        (_, []) => {
            eprintln!(
                "{} #{number} waits for no input: nothing to do",
                crate::terminal::safe(&job.to_string())
            );
            return Ok(());
        }
        (Some(id), all) => all
            .iter()
            .find(|a| a.id.as_deref() == Some(id))
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "{job} #{number} has no pending input `{id}`; pending: {}",
                    ids()
                ))
            })?,
        (None, [one]) => one,
        (None, all) => {
            return Err(Failure::Cli(CliError::Usage(format!(
                "{job} #{number} waits for {} inputs ({}): choose one with --id",
                all.len(),
                ids()
            ))));
        }
    };
    let action = if answer.proceed {
        let given = answer
            .params
            .iter()
            .map(|p| {
                p.split_once('=')
                    .ok_or_else(|| CliError::Usage(format!("`--param {p}` must be NAME=VALUE")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Typed after the input's parameters (checkboxes take true/false); defaults fill the rest.
        let values = chosen
            .values_from_text(&given)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let values: Vec<(&str, serde_json::Value)> = values
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        wfapi.proceed_input(chosen, &values).await?;
        "proceed"
    } else {
        wfapi.abort_input(chosen).await?;
        "abort"
    };
    out.write(&InputLine {
        job: &job.full_name(),
        build_number: number,
        input_id: chosen.id.as_deref(),
        message: chosen.message.as_deref(),
        action,
    })?;
    Ok(())
}
