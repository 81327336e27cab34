//! A typed client for the Jenkins Pipeline REST API (`wfapi`, the data behind the stage view):
//! which stage failed, how long each stage takes over time, which run waits for input, and the logs
//! of one step.
//!
//! Resources link to each other with HAL `_links`; here a [`Link<T>`] knows what it points to, so
//! navigation needs no URL but the job's:
//!
//! ```no_run
//! # async fn demo() -> cidata_wfapi::Result<()> {
//! use cidata_jenkins::{Jenkins, JobPath};
//! use cidata_wfapi::Wfapi;
//! let wfapi = Wfapi::new(Jenkins::builder("https://ci.example.com/jenkins/").basic_auth("alice", "token").build()?);
//! let job = wfapi.describe_job(&JobPath::from_full_name("team/app")?).await?;
//! let runs = job.links.runs.as_ref().unwrap().follow(&wfapi).await?;
//! for stage in &runs[0].stages {
//!     let node = stage.links.self_link.as_ref().unwrap().follow(&wfapi).await?;
//!     for step in &node.stage_flow_nodes {
//!         if let Some(log) = &step.links.log {
//!             println!("{:?}: {:?}", step.name, log.follow(&wfapi).await?.text);
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```

mod client;
mod link;
mod models;

pub use cidata_jenkins::{Auth, Error, ErrorKind, Result, RetryPolicy, SecretString};
pub use client::{RunsQuery, Wfapi};
pub use link::{Link, OtherLinks};
pub use models::{
    Artifact, ChangeSet, Commit, Extra, FlowError, FlowNode, InputParameter, JobDescription,
    JobLinks, NodeDescription, NodeLinks, NodeLog, PendingInputAction, Run, RunId, RunLinks, Stage,
    Status,
};

// The README's examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
