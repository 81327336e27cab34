//! `ci-sync jenkins ...`: jobs, builds, artifacts and console logs of a Jenkins server.

use std::io::Write;

use cidata_jenkins::{ConsoleOptions, Jenkins, JobPath, Tree};
use cidata_wfapi::Wfapi;
use clap::{Args, Subcommand};
use futures::TryStreamExt;
use serde::Serialize;

use crate::cli_error::CliError;
use crate::output::JsonLines;

/// Connection settings and the subcommand.
#[derive(Debug, Args)]
pub struct JenkinsArgs {
    /// The server's URL, with its context path if any (`https://host/jenkins/`).
    #[arg(long, env = "JENKINS_URL")]
    url: String,
    /// The user to authenticate as; the API token is read from `JENKINS_API_TOKEN` (never from the
    /// command line). Without a user, requests are anonymous.
    #[arg(long, env = "JENKINS_USER")]
    user: Option<String>,
    /// Builds per request when listing builds.
    #[arg(long, default_value_t = 100)]
    page_size: u32,
    #[command(subcommand)]
    command: JenkinsCommand,
}

#[derive(Debug, Subcommand)]
enum JenkinsCommand {
    /// Every job, recursively through folders: full_name, name, url, class, color.
    Jobs,
    /// Every build of a job (all of them, not only the newest 100).
    Builds {
        /// The job's full name, folders joined by `/` (`team/app/main`).
        job: String,
    },
    /// The artifacts of a build.
    Artifacts {
        /// The job's full name.
        job: String,
        /// The build number.
        number: u64,
    },
    /// The stages of a Pipeline run, in order: stage_id, name, status, start_ms, duration_ms, error.
    Stages {
        /// The job's full name.
        job: String,
        /// The build number.
        number: u64,
    },
    /// Answers the `input` step a Pipeline run waits for.
    Input {
        /// The job's full name.
        job: String,
        /// The build number.
        number: u64,
        /// Proceed.
        #[arg(long, conflicts_with = "abort", required_unless_present = "abort")]
        proceed: bool,
        /// Abort (the run stops).
        #[arg(long)]
        abort: bool,
        /// Which input, when the run waits for several.
        #[arg(long)]
        id: Option<String>,
        /// A parameter value for proceeding, `NAME=VALUE` (repeatable); `true`/`false` are booleans.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
    /// The console log of a build, written to stdout as it grows.
    Log {
        /// The job's full name.
        job: String,
        /// The build number.
        number: u64,
        /// Keep reading until the build ends.
        #[arg(long, short)]
        follow: bool,
    },
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
    let token = std::env::var("JENKINS_API_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let builder = Jenkins::builder(args.url.clone())
        .page_size(args.page_size)
        .user_agent(concat!("ci-sync/", env!("CARGO_PKG_VERSION")));
    let builder = match (&args.user, token) {
        (Some(user), Some(token)) => builder.basic_auth(user.clone(), token),
        (Some(_), None) => {
            return Err(CliError::Config(
                "JENKINS_USER is set but JENKINS_API_TOKEN is not: export the user's API token"
                    .into(),
            ));
        }
        (None, Some(_)) => {
            return Err(CliError::Config(
                "JENKINS_API_TOKEN is set but no user: set JENKINS_USER or --user".into(),
            ));
        }
        (None, None) => builder,
    };
    builder
        .build()
        .map_err(|e| CliError::Config(format!("{e} (check JENKINS_URL or --url)")))
}

fn job_path(name: &str) -> Result<JobPath, CliError> {
    JobPath::from_full_name(name)
        .map_err(|e| CliError::Config(format!("{e}: give the job's full name, like `team/app`")))
}

/// Runs one `ci-sync jenkins` subcommand.
pub async fn run(args: JenkinsArgs) -> Result<(), CliError> {
    let jenkins = connect(&args)?;
    let mut out = JsonLines::stdout();
    let result = match &args.command {
        JenkinsCommand::Jobs => jobs(&jenkins, &mut out).await,
        JenkinsCommand::Builds { job } => builds(&jenkins, &job_path(job)?, &mut out).await,
        JenkinsCommand::Artifacts { job, number } => {
            artifacts(&jenkins, &job_path(job)?, *number, &mut out).await
        }
        JenkinsCommand::Log {
            job,
            number,
            follow,
        } => log(&jenkins, &job_path(job)?, *number, *follow).await,
        JenkinsCommand::Stages { job, number } => {
            stages(&jenkins, &job_path(job)?, *number, &mut out).await
        }
        JenkinsCommand::Input {
            job,
            number,
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
            input(&jenkins, &job_path(job)?, *number, answer, &mut out).await
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

async fn jobs(jenkins: &Jenkins, out: &mut JsonLines) -> Result<(), CliError> {
    let mut jobs = std::pin::pin!(jenkins.jobs());
    while let Some(entry) = jobs.try_next().await.map_err(CliError::jenkins)? {
        let url = jenkins
            .job_url(&entry.path)
            .map_err(CliError::jenkins)?
            .to_string();
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

async fn builds(jenkins: &Jenkins, job: &JobPath, out: &mut JsonLines) -> Result<(), CliError> {
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
    while let Some(build) = builds.try_next().await.map_err(CliError::jenkins)? {
        let Some(number) = build.number else { continue };
        out.write(&BuildLine {
            job: &full_name,
            number,
            result: build.result.as_ref().map(|r| r.as_str()),
            building: !build.is_final(),
            timestamp_ms: build.timestamp,
            duration_ms: build.duration,
            url: jenkins
                .build_url(job, number)
                .map_err(CliError::jenkins)?
                .to_string(),
        })?;
    }
    Ok(())
}

async fn artifacts(
    jenkins: &Jenkins,
    job: &JobPath,
    number: u64,
    out: &mut JsonLines,
) -> Result<(), CliError> {
    let full_name = job.full_name();
    for artifact in jenkins
        .artifacts(job, number)
        .await
        .map_err(CliError::jenkins)?
    {
        let Some(relative_path) = artifact.relative_path.as_deref() else {
            continue;
        };
        out.write(&ArtifactLine {
            job: &full_name,
            build_number: number,
            file_name: artifact.file_name.as_deref(),
            relative_path,
            url: jenkins
                .artifact_url(job, number, relative_path)
                .map_err(CliError::jenkins)?
                .to_string(),
        })?;
    }
    Ok(())
}

async fn log(jenkins: &Jenkins, job: &JobPath, number: u64, follow: bool) -> Result<(), CliError> {
    let options = if follow {
        ConsoleOptions::follow()
    } else {
        ConsoleOptions::snapshot()
    };
    let mut chunks = std::pin::pin!(jenkins.console(job, number, options));
    let mut stdout = std::io::stdout().lock();
    while let Some(chunk) = chunks.try_next().await.map_err(CliError::jenkins)? {
        if !chunk.bytes.is_empty() {
            stdout.write_all(&chunk.bytes)?;
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
) -> Result<(), CliError> {
    let wfapi = Wfapi::new(jenkins.clone());
    let run = wfapi.run(job, number).await.map_err(CliError::jenkins)?;
    for stage in &run.stages {
        out.write(&StageLine {
            stage_id: stage.id.as_deref(),
            name: stage.name.as_deref(),
            status: stage.status.as_ref().map(|s| s.as_str()),
            start_ms: stage.start_time_millis,
            duration_ms: stage.duration_millis,
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

fn parse_params(params: &[String]) -> Result<Vec<(&str, serde_json::Value)>, CliError> {
    params
        .iter()
        .map(|p| {
            let (name, value) = p
                .split_once('=')
                .ok_or_else(|| CliError::Config(format!("`--param {p}` must be NAME=VALUE")))?;
            let value = match value {
                "true" => serde_json::Value::Bool(true),
                "false" => serde_json::Value::Bool(false),
                text => serde_json::Value::String(text.to_owned()),
            };
            Ok((name, value))
        })
        .collect()
}

async fn input(
    jenkins: &Jenkins,
    job: &JobPath,
    number: u64,
    answer: InputAnswer<'_>,
    out: &mut JsonLines,
) -> Result<(), CliError> {
    let values = parse_params(answer.params)?;
    let wfapi = Wfapi::new(jenkins.clone());
    let pending = wfapi
        .pending_input_actions(job, number)
        .await
        .map_err(CliError::jenkins)?;
    let chosen = match (answer.id, pending.as_slice()) {
        (_, []) => {
            eprintln!("{job} #{number} waits for no input: nothing to do");
            return Ok(());
        }
        (Some(id), all) => all
            .iter()
            .find(|a| a.id.as_deref() == Some(id))
            .ok_or_else(|| {
                let ids: Vec<&str> = all.iter().filter_map(|a| a.id.as_deref()).collect();
                CliError::Config(format!(
                    "{job} #{number} has no pending input `{id}`; pending: {}",
                    ids.join(", ")
                ))
            })?,
        (None, [one]) => one,
        (None, all) => {
            let ids: Vec<&str> = all.iter().filter_map(|a| a.id.as_deref()).collect();
            return Err(CliError::Config(format!(
                "{job} #{number} waits for {} inputs ({}): choose one with --id",
                all.len(),
                ids.join(", ")
            )));
        }
    };
    let action = if answer.proceed {
        wfapi
            .proceed_input(chosen, &values)
            .await
            .map_err(CliError::jenkins)?;
        "proceed"
    } else {
        wfapi.abort_input(chosen).await.map_err(CliError::jenkins)?;
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
