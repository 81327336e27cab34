//! A typed, async, streaming client for the CircleCI API v2.
//!
//! - every list as a `Stream` over `page-token` pages: pipelines of a project or an organization,
//!   workflows of a pipeline, jobs of a workflow, artifacts, tests, insights runs and summaries;
//!   a repeated token ends a stream instead of looping;
//! - single reads: pipeline (by id, by number), pipeline config, workflow, job details, project,
//!   the user and their collaborations;
//! - actions people script: trigger a pipeline, rerun, cancel, approve; never retried;
//! - [`ProjectSlug`]s checked and sent as one encoded path segment (`gh%2Forg%2Frepo`);
//! - models that survive the real API: every field optional, enums that keep unknown values,
//!   each model's JSON kept in `raw`;
//! - retries with backoff and `Retry-After`, a rate limit, an origin guard, and one short typed
//!   error naming the request and CircleCI's message (from `cidata-core`).
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use cidata_circleci::{CircleCi, ProjectSlug};
//!
//! # async fn demo() -> cidata_circleci::Result<()> {
//! let circleci = CircleCi::builder()
//!     .token(std::env::var("CIRCLECI_TOKEN").unwrap_or_default())
//!     .build()?;
//! let slug: ProjectSlug = "gh/acme/web".parse()?;
//! let pipelines: Vec<_> = circleci.pipelines(&slug, None).try_collect().await?;
//! for pipeline in pipelines.iter().take(5) {
//!     let workflows: Vec<_> = circleci.workflows(pipeline.id.as_deref().unwrap_or_default()).try_collect().await?;
//!     for workflow in workflows {
//!         println!("#{:?} {:?} {:?}", pipeline.number, workflow.name, workflow.status);
//!     }
//! }
//! # Ok(()) }
//! ```

mod client;
mod endpoints;
pub mod models;
mod slug;

pub use cidata_core::{Auth, Error, ErrorKind, Result, RetryPolicy, SecretString};
pub use client::{CircleCi, CircleCiBuilder, DEFAULT_BASE_URL};
pub use endpoints::{InsightsQuery, RerunOptions, TriggerOptions};
pub use models::{
    Artifact, Collaboration, Job, JobDetails, JobStatus, JobType, Pipeline, PipelineState, Project,
    TestMetadata, TriggerType, Workflow, WorkflowRun, WorkflowStatus, parse_time,
};
pub use slug::ProjectSlug;

// The README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
