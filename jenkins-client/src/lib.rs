//! A typed, async, streaming client for the Jenkins remote API.
//!
//! - every job, recursively through folders and multibranch projects, in one request for most
//!   servers ([`Jenkins::jobs`]);
//! - every build of a job, paged with `allBuilds{M,N}` ([`Jenkins::builds`]), never only the 100
//!   newest;
//! - artifacts as byte streams, console output that follows a running build ([`Jenkins::console`]);
//! - triggering with CSRF crumbs done right, waiting for the queue, stopping;
//! - models that survive unknown plugin classes and old servers, keeping their raw JSON;
//! - retries with backoff, `Retry-After`, an origin guard that never sends credentials elsewhere,
//!   and typed errors naming URL, status and JSON path (from `cidata-core`).
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use cidata_jenkins::{Jenkins, JobPath};
//!
//! # async fn demo() -> cidata_jenkins::Result<()> {
//! let jenkins = Jenkins::builder("https://ci.example.com/jenkins/")
//!     .basic_auth("alice", std::env::var("JENKINS_API_TOKEN").unwrap_or_default())
//!     .build()?;
//! let job = JobPath::from_full_name("team/app/main")?;
//! let failed = jenkins
//!     .builds(&job)
//!     .try_filter(|b| futures::future::ready(b.result.as_ref().is_some_and(|r| !r.is_success())))
//!     .try_collect::<Vec<_>>()
//!     .await?;
//! println!("{} failed builds", failed.len());
//! # Ok(()) }
//! ```

mod artifacts;
mod client;
mod console;
mod crumb;
mod job_path;
mod job_pattern;
mod listing;
mod lookup;
pub mod models;
mod tree;
mod trigger;

pub use cidata_core::{Auth, Error, ErrorKind, Result, RetryPolicy, SecretString};
pub use client::{Jenkins, JenkinsBuilder};
pub use console::{ConsoleChunk, ConsoleOptions, ConsoleText};
pub use job_path::{JobPath, encode_segment};
pub use job_pattern::{JobFilter, JobPattern};
pub use listing::{BuildListing, JobEntry, default_build_fields, default_job_fields};
pub use lookup::JobLookup;
pub use tree::{Field, Range, Tree};
pub use trigger::{QueuedBuild, WaitOptions};

// The README's examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
