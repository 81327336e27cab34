//! A typed, async, streaming client for Bitbucket Cloud's API 2.0.
//!
//! - the three ways people authenticate: API token (e-mail + token), app password (being
//!   retired), access token (bearer);
//! - every list as a `Stream` over `next` links (never to another origin; a repeated link ends
//!   it), with `pagelen` and the `q` / `sort` / `fields` language as a typed [`Query`]; pipeline
//!   and step lists, which often carry no `next`, paged by number;
//! - workspaces (through `/user/workspaces`: `/workspaces` answers 410 since 2026), repositories,
//!   projects, branches, tags, commits, commit statuses, pull requests, pipelines, steps and their
//!   logs, deployments, environments;
//! - models after the spec and the real service: every field optional, links kept as strings,
//!   `{uuid}`s with their braces, each model's JSON in `raw`, [`parse_time`] for every date form
//!   Bitbucket writes;
//! - Bitbucket's error body as the error's message; retries with backoff when a 429 has no
//!   `Retry-After`; a rate limit counted per hour.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use cidata_bitbucket::{Bitbucket, Query};
//!
//! # async fn demo() -> cidata_bitbucket::Result<()> {
//! let bitbucket = Bitbucket::builder()
//!     .api_token("alice@example.com", std::env::var("BITBUCKET_API_TOKEN").unwrap_or_default())
//!     .build()?;
//! let mut workspaces = std::pin::pin!(bitbucket.user_workspaces());
//! while let Some(access) = workspaces.try_next().await? {
//!     let slug = access.workspace.and_then(|w| w.slug).unwrap_or_default();
//!     let repos: Vec<_> = bitbucket.repositories(&slug, &Query::new()).try_collect().await?;
//!     println!("{slug}: {} repositories", repos.len());
//! }
//! # Ok(()) }
//! ```

mod client;
mod endpoints;
pub mod models;
mod query;

pub use cidata_core::{Auth, Error, ErrorKind, Result, RetryPolicy, SecretString};
pub use client::{Bitbucket, BitbucketBuilder, DEFAULT_BASE_URL};
pub use models::{
    Commit, Pipeline, PipelineStep, Project, PullRequest, PullRequestState, Repository, Workspace,
    WorkspaceAccess, parse_time,
};
pub use query::{Filter, FilterValue, Query};

// The README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
