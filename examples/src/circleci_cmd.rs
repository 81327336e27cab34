//! `ci-sync circleci ...`: pipelines, workflows, jobs, job details, artifacts and tests of
//! CircleCI projects, as JSON lines (times as the API gave them).

use cidata_circleci::models::{Artifact, Job, Pipeline, TestMetadata, Workflow};
use cidata_circleci::{CircleCi, DEFAULT_BASE_URL, ProjectSlug};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::cli_error::{CliError, Settings};
use crate::output::{JsonLines, write_each};

/// Connection settings (global: before or after the subcommand) and the subcommand.
#[derive(Debug, Args)]
pub struct CircleCiArgs {
    /// The API's URL (CircleCI server installations have their own).
    #[arg(long, env = "CIRCLECI_URL", hide_env_values = true, global = true, default_value = DEFAULT_BASE_URL)]
    url: String,
    #[command(flatten)]
    net: crate::net_args::NetArgs,
    #[command(subcommand)]
    command: CircleCiCommand,
}

const SLUG_HELP: &str =
    "The project slug: `gh/org/repo`, `bb/org/repo` or `circleci/<org id>/<project id>`";

#[derive(Debug, Subcommand)]
enum CircleCiCommand {
    /// The pipelines of a project, newest first: id, number, state, created_at, trigger_type,
    /// branch, revision.
    Pipelines {
        #[arg(help = SLUG_HELP)]
        slug: String,
        /// Only this branch's pipelines.
        #[arg(long)]
        branch: Option<String>,
    },
    /// The workflows of a pipeline: id, name, status, pipeline_id, pipeline_number, created_at,
    /// stopped_at.
    Workflows {
        /// The pipeline's id.
        pipeline_id: String,
    },
    /// The jobs of a workflow: id, name, job_number, status, type, started_at, stopped_at.
    Jobs {
        /// The workflow's id.
        workflow_id: String,
    },
    /// One job's details, as one JSON object.
    Job {
        #[arg(help = SLUG_HELP)]
        slug: String,
        /// The job number.
        number: u64,
    },
    /// The artifacts of a job: path, url, node_index.
    Artifacts {
        #[arg(help = SLUG_HELP)]
        slug: String,
        /// The job number.
        number: u64,
    },
    /// The test results of a job: name, classname, result, run_time.
    Tests {
        #[arg(help = SLUG_HELP)]
        slug: String,
        /// The job number.
        number: u64,
    },
}

#[derive(Serialize)]
struct PipelineLine<'a> {
    id: Option<&'a str>,
    number: Option<i64>,
    state: Option<&'a str>,
    created_at: Option<&'a str>,
    trigger_type: Option<&'a str>,
    branch: Option<&'a str>,
    revision: Option<&'a str>,
}

#[derive(Serialize)]
struct WorkflowLine<'a> {
    id: Option<&'a str>,
    name: Option<&'a str>,
    status: Option<&'a str>,
    pipeline_id: Option<&'a str>,
    pipeline_number: Option<i64>,
    created_at: Option<&'a str>,
    stopped_at: Option<&'a str>,
}

#[derive(Serialize)]
struct JobLine<'a> {
    id: Option<&'a str>,
    name: Option<&'a str>,
    job_number: Option<i64>,
    status: Option<&'a str>,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    started_at: Option<&'a str>,
    stopped_at: Option<&'a str>,
}

#[derive(Serialize)]
struct ArtifactLine<'a> {
    path: Option<&'a str>,
    url: Option<&'a str>,
    node_index: Option<i64>,
}

#[derive(Serialize)]
struct TestLine<'a> {
    name: Option<&'a str>,
    classname: Option<&'a str>,
    result: Option<&'a str>,
    run_time: Option<f64>,
}

fn pipeline_line(p: &Pipeline) -> PipelineLine<'_> {
    let vcs = p.vcs.as_ref();
    PipelineLine {
        id: p.id.as_deref(),
        number: p.number,
        state: p.state.as_ref().map(|s| s.as_str()),
        created_at: p.created_at.as_deref(),
        trigger_type: p
            .trigger
            .as_ref()
            .and_then(|t| t.kind.as_ref())
            .map(|k| k.as_str()),
        branch: vcs.and_then(|v| v.branch.as_deref()),
        revision: vcs.and_then(|v| v.revision.as_deref()),
    }
}

fn workflow_line(w: &Workflow) -> WorkflowLine<'_> {
    WorkflowLine {
        id: w.id.as_deref(),
        name: w.name.as_deref(),
        status: w.status.as_ref().map(|s| s.as_str()),
        pipeline_id: w.pipeline_id.as_deref(),
        pipeline_number: w.pipeline_number,
        created_at: w.created_at.as_deref(),
        stopped_at: w.stopped_at.as_deref(),
    }
}

fn job_line(j: &Job) -> JobLine<'_> {
    JobLine {
        id: j.id.as_deref(),
        name: j.name.as_deref(),
        job_number: j.job_number,
        status: j.status.as_ref().map(|s| s.as_str()),
        kind: j.kind.as_ref().map(|k| k.as_str()),
        started_at: j.started_at.as_deref(),
        stopped_at: j.stopped_at.as_deref(),
    }
}

fn artifact_line(a: &Artifact) -> ArtifactLine<'_> {
    ArtifactLine {
        path: a.path.as_deref(),
        url: a.url.as_deref(),
        node_index: a.node_index,
    }
}

fn test_line(t: &TestMetadata) -> TestLine<'_> {
    TestLine {
        name: t.name.as_deref(),
        classname: t.classname.as_deref(),
        result: t.result.as_deref(),
        run_time: t.run_time,
    }
}

fn connect(args: &CircleCiArgs) -> Result<CircleCi, CliError> {
    let mut builder = CircleCi::builder()
        .base_url(args.url.clone())
        .request_timeout(args.net.timeout()?)
        .retry(args.net.retry())
        .max_response_bytes(args.net.max_response_bytes())
        .user_agent(concat!("ci-sync/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = args.net.ca_bundle()? {
        builder = builder.extra_root_certificates_pem(pem);
    }
    if let Some(token) = std::env::var("CIRCLECI_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        builder = builder.token(token);
    }
    builder
        .build()
        .map_err(|e| CliError::Usage(format!("{e}; check CIRCLECI_URL (or --url)")))
}

fn slug(text: &str) -> Result<ProjectSlug, CliError> {
    ProjectSlug::parse(text).map_err(|e| CliError::Usage(e.to_string()))
}

fn api(e: cidata_core::Error) -> CliError {
    CliError::api(e, &Settings::circleci_env(), None)
}

/// Runs one `ci-sync circleci` subcommand.
pub async fn run(args: CircleCiArgs) -> Result<(), CliError> {
    let circleci = connect(&args)?;
    let mut out = JsonLines::stdout();
    let result = match &args.command {
        CircleCiCommand::Pipelines { slug: s, branch } => {
            let items = circleci.pipelines(&slug(s)?, branch.as_deref());
            write_each(items, &mut out, api, |o, x| o.write(&pipeline_line(x))).await
        }
        CircleCiCommand::Workflows { pipeline_id } => {
            write_each(circleci.workflows(pipeline_id), &mut out, api, |o, x| {
                o.write(&workflow_line(x))
            })
            .await
        }
        CircleCiCommand::Jobs { workflow_id } => {
            write_each(
                circleci.workflow_jobs(workflow_id),
                &mut out,
                api,
                |o, x| o.write(&job_line(x)),
            )
            .await
        }
        CircleCiCommand::Job { slug: s, number } => {
            let details = circleci
                .job_details(&slug(s)?, *number)
                .await
                .map_err(api)?;
            // The server's object as it sent it, on one line.
            let value = details.raw.to_value();
            out.write(&value).map_err(CliError::Io)
        }
        CircleCiCommand::Artifacts { slug: s, number } => {
            let items = circleci.artifacts(&slug(s)?, *number);
            write_each(items, &mut out, api, |o, x| o.write(&artifact_line(x))).await
        }
        CircleCiCommand::Tests { slug: s, number } => {
            let items = circleci.tests(&slug(s)?, *number);
            write_each(items, &mut out, api, |o, x| o.write(&test_line(x))).await
        }
    };
    // Whatever was written before a failure still reaches the reader.
    let flushed = out.flush();
    result?;
    flushed?;
    let stats = circleci.stats().snapshot();
    tracing::info!(requests = stats.requests, retries = stats.retries, "done");
    Ok(())
}
