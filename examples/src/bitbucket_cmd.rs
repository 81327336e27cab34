//! `ci-sync bitbucket ...`: workspaces, repositories, projects, pipelines, pull requests and
//! commits of Bitbucket Cloud, as JSON lines (times as the API gave them).

use cidata_bitbucket::models::{Commit, Pipeline, Project, PullRequest, Repository};
use cidata_bitbucket::{Bitbucket, DEFAULT_BASE_URL, PullRequestState, Query};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::cli_error::{CliError, Settings};
use crate::output::{JsonLines, write_each};

/// Connection settings (global: before or after the subcommand) and the subcommand.
#[derive(Debug, Args)]
pub struct BitbucketArgs {
    /// The API's URL.
    #[arg(long, env = "BITBUCKET_URL", hide_env_values = true, global = true, default_value = DEFAULT_BASE_URL)]
    url: String,
    /// The username, for an app password (`BITBUCKET_APP_PASSWORD`).
    #[arg(
        long,
        env = "BITBUCKET_USERNAME",
        hide_env_values = true,
        global = true
    )]
    username: Option<String>,
    /// The account's e-mail, for an API token (`BITBUCKET_API_TOKEN`).
    #[arg(long, env = "BITBUCKET_EMAIL", hide_env_values = true, global = true)]
    email: Option<String>,
    /// Items per request when listing, 10 to 100.
    #[arg(long, default_value_t = 100, global = true, value_parser = clap::value_parser!(u32).range(10..=100))]
    page_size: u32,
    #[command(flatten)]
    net: crate::net_args::NetArgs,
    #[command(subcommand)]
    command: BitbucketCommand,
}

const REPO_HELP: &str = "The repository: `WORKSPACE/REPO` (slugs or `{uuid}`s)";

#[derive(Debug, Subcommand)]
enum BitbucketCommand {
    /// The workspaces the user can see: uuid, slug, name, is_private.
    Workspaces,
    /// The repositories of a workspace: uuid, full_name, name, is_private, language, updated_on,
    /// mainbranch.
    Repos {
        /// The workspace's slug.
        workspace: String,
    },
    /// The projects of a workspace: uuid, key, name, is_private.
    Projects {
        /// The workspace's slug.
        workspace: String,
    },
    /// The pipelines of a repository, newest first: uuid, build_number, state, result,
    /// created_on, completed_on, duration_s.
    Pipelines {
        #[arg(help = REPO_HELP)]
        repo: String,
    },
    /// The pull requests of a repository: id, title, state, author, source_branch,
    /// destination_branch, updated_on.
    #[command(name = "pullrequests")]
    PullRequests {
        #[arg(help = REPO_HELP)]
        repo: String,
        /// Only this state (`OPEN`, `MERGED`, `DECLINED`, `SUPERSEDED`; repeatable). Default: all.
        #[arg(long)]
        state: Vec<String>,
    },
    /// The commits of a repository, newest first: hash, date, author, message (first line).
    Commits {
        #[arg(help = REPO_HELP)]
        repo: String,
        /// Only those reachable from this branch.
        #[arg(long)]
        branch: Option<String>,
    },
}

#[derive(Serialize)]
struct WorkspaceLine {
    uuid: Option<String>,
    slug: Option<String>,
    name: Option<String>,
    is_private: Option<bool>,
}

#[derive(Serialize)]
struct RepoLine<'a> {
    uuid: Option<&'a str>,
    full_name: Option<&'a str>,
    name: Option<&'a str>,
    is_private: Option<bool>,
    language: Option<&'a str>,
    updated_on: Option<&'a str>,
    mainbranch: Option<&'a str>,
}

#[derive(Serialize)]
struct ProjectLine<'a> {
    uuid: Option<&'a str>,
    key: Option<&'a str>,
    name: Option<&'a str>,
    is_private: Option<bool>,
}

#[derive(Serialize)]
struct PipelineLine<'a> {
    uuid: Option<&'a str>,
    build_number: Option<i64>,
    state: Option<&'a str>,
    result: Option<&'a str>,
    created_on: Option<&'a str>,
    completed_on: Option<&'a str>,
    duration_s: Option<i64>,
}

#[derive(Serialize)]
struct PullRequestLine<'a> {
    id: Option<i64>,
    title: Option<&'a str>,
    state: Option<&'a str>,
    author: Option<&'a str>,
    source_branch: Option<&'a str>,
    destination_branch: Option<&'a str>,
    updated_on: Option<&'a str>,
}

#[derive(Serialize)]
struct CommitLine<'a> {
    hash: Option<&'a str>,
    date: Option<&'a str>,
    author: Option<&'a str>,
    message: Option<&'a str>,
}

fn repo_line(r: &Repository) -> RepoLine<'_> {
    RepoLine {
        uuid: r.uuid.as_deref(),
        full_name: r.full_name.as_deref(),
        name: r.name.as_deref(),
        is_private: r.is_private,
        language: r.language.as_deref(),
        updated_on: r.updated_on.as_deref(),
        mainbranch: r.mainbranch.as_ref().and_then(|b| b.name.as_deref()),
    }
}

fn project_line(p: &Project) -> ProjectLine<'_> {
    ProjectLine {
        uuid: p.uuid.as_deref(),
        key: p.key.as_deref(),
        name: p.name.as_deref(),
        is_private: p.is_private,
    }
}

fn pipeline_line(p: &Pipeline) -> PipelineLine<'_> {
    let state = p.state.as_ref();
    PipelineLine {
        uuid: p.uuid.as_deref(),
        build_number: p.build_number,
        state: state.and_then(|s| s.name.as_ref()).map(|n| n.as_str()),
        result: state.and_then(|s| s.result.as_ref()?.name.as_deref()),
        created_on: p.created_on.as_deref(),
        completed_on: p.completed_on.as_deref(),
        duration_s: p.duration_in_seconds.filter(|_| p.is_final()),
    }
}

fn pull_request_line(p: &PullRequest) -> PullRequestLine<'_> {
    PullRequestLine {
        id: p.id,
        title: p.title.as_deref(),
        state: p.state.as_ref().map(|s| s.as_str()),
        author: p.author.as_ref().and_then(|a| a.display_name.as_deref()),
        source_branch: p
            .source
            .as_ref()
            .and_then(|e| e.branch.as_ref()?.name.as_deref()),
        destination_branch: p
            .destination
            .as_ref()
            .and_then(|e| e.branch.as_ref()?.name.as_deref()),
        updated_on: p.updated_on.as_deref(),
    }
}

fn commit_line(c: &Commit) -> CommitLine<'_> {
    let author = c.author.as_ref();
    CommitLine {
        hash: c.hash.as_deref(),
        date: c.date.as_deref(),
        author: author.and_then(|a| {
            a.user
                .as_ref()
                .and_then(|u| u.display_name.as_deref())
                .or(a.raw.as_deref())
        }),
        message: c.subject(),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn connect(args: &BitbucketArgs) -> Result<Bitbucket, CliError> {
    let builder = Bitbucket::builder()
        .base_url(args.url.clone())
        .pagelen(args.page_size)
        .request_timeout(args.net.timeout()?)
        .retry(args.net.retry())
        .max_response_bytes(args.net.max_response_bytes())
        .user_agent(concat!("ci-sync/", env!("CARGO_PKG_VERSION")));
    let builder = match args.net.ca_bundle()? {
        Some(pem) => builder.extra_root_certificates_pem(pem),
        None => builder,
    };
    let builder = if let Some(token) = env("BITBUCKET_ACCESS_TOKEN") {
        builder.access_token(token)
    } else if let Some(token) = env("BITBUCKET_API_TOKEN") {
        let email = args.email.clone().ok_or_else(|| {
            CliError::Usage(
                "BITBUCKET_API_TOKEN needs the account's e-mail: set BITBUCKET_EMAIL or --email"
                    .into(),
            )
        })?;
        builder.api_token(email, token)
    } else if let Some(password) = env("BITBUCKET_APP_PASSWORD") {
        let user = args.username.clone().ok_or_else(|| {
            CliError::Usage("BITBUCKET_APP_PASSWORD needs BITBUCKET_USERNAME or --username".into())
        })?;
        builder.app_password(user, password)
    } else {
        builder
    };
    builder
        .build()
        .map_err(|e| CliError::Usage(format!("{e}; check BITBUCKET_URL (or --url)")))
}

/// `WORKSPACE/REPO` into its two parts.
fn split_repo(text: &str) -> Result<(&str, &str), CliError> {
    match text.split_once('/') {
        Some((w, r)) if !w.is_empty() && !r.is_empty() && !r.contains('/') => Ok((w, r)),
        _ => Err(CliError::Usage(format!(
            "`{text}` is not a repository: give it as WORKSPACE/REPO"
        ))),
    }
}

fn api(e: cidata_core::Error) -> CliError {
    CliError::api(e, &Settings::bitbucket_env(), None)
}

/// Runs one `ci-sync bitbucket` subcommand.
pub async fn run(args: BitbucketArgs) -> Result<(), CliError> {
    let bitbucket = connect(&args)?;
    let mut out = JsonLines::stdout();
    let all = Query::new();
    let result = match &args.command {
        BitbucketCommand::Workspaces => {
            write_each(bitbucket.user_workspaces(), &mut out, api, |o, a| {
                let w = a.workspace.clone().unwrap_or_default();
                o.write(&WorkspaceLine {
                    uuid: w.uuid,
                    slug: w.slug,
                    name: w.name,
                    is_private: None,
                })
            })
            .await
        }
        BitbucketCommand::Repos { workspace } => {
            let items = bitbucket.repositories(workspace, &all);
            write_each(items, &mut out, api, |o, r| o.write(&repo_line(r))).await
        }
        BitbucketCommand::Projects { workspace } => {
            let items = bitbucket.projects(workspace, &all);
            write_each(items, &mut out, api, |o, p| o.write(&project_line(p))).await
        }
        BitbucketCommand::Pipelines { repo } => {
            let (w, r) = split_repo(repo)?;
            let items = bitbucket.pipelines(w, r, &Query::new().sort_desc("created_on"));
            write_each(items, &mut out, api, |o, p| o.write(&pipeline_line(p))).await
        }
        BitbucketCommand::PullRequests { repo, state } => {
            let (w, r) = split_repo(repo)?;
            let states: Vec<PullRequestState> = if state.is_empty() {
                vec![
                    PullRequestState::Open,
                    PullRequestState::Merged,
                    PullRequestState::Declined,
                    PullRequestState::Superseded,
                ]
            } else {
                state
                    .iter()
                    .map(|s| PullRequestState::from_server(&s.to_uppercase()))
                    .collect()
            };
            let items = bitbucket.pull_requests(w, r, &states, &all);
            write_each(items, &mut out, api, |o, p| o.write(&pull_request_line(p))).await
        }
        BitbucketCommand::Commits { repo, branch } => {
            let (w, r) = split_repo(repo)?;
            let items = bitbucket.commits(w, r, branch.as_deref());
            write_each(items, &mut out, api, |o, c| o.write(&commit_line(c))).await
        }
    };
    let flushed = out.flush();
    result?;
    flushed?;
    let stats = bitbucket.stats().snapshot();
    tracing::info!(requests = stats.requests, retries = stats.retries, "done");
    Ok(())
}
