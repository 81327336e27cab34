//! Typed models of the Jenkins remote API.
//!
//! Rules that make them survive servers never seen: every field is optional or defaults to empty;
//! `_class` is read to pick a kind, with a fallback that keeps the class name; actions are decoded
//! by class (or by shape on servers without `_class`) and kept raw when unknown; and every
//! top-level model keeps its JSON object verbatim in `raw`.

mod action;
mod artifact;
mod build;
mod computer;
mod job;
mod misc;
mod queue;
pub(crate) mod raw;
mod refs;
mod view;

pub use action::{
    Action, Cause, GitBranch, GitBuildData, GitRevision, ParameterValue, TestResultSummary,
    TimeInQueue,
};
pub use artifact::Artifact;
pub use build::{Build, BuildKind, BuildResult, ChangeSet, ChangeSetItem, ChangedPath};
pub use computer::{Computer, ComputerSet, Label, LabelRef, OverallLoad};
pub use job::{Job, JobKind, ParameterDefinition};
pub use misc::{ApiToken, ApiTokenResponse, Crumb, TestCase, TestReport, TestSuite, User};
pub use queue::{Queue, QueueItem, QueueState, QueueTask};
pub use raw::RawJson;
pub use refs::{BuildRef, HealthReport, UserRef};
pub use view::{Root, View};
