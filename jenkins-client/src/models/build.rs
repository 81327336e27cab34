//! Builds (runs) of any job kind.

use serde::{Deserialize, Serialize};

use super::action::{
    Action, Cause, GitRevision, ParameterValue, TestResultSummary, actions_skip_empty,
};
use super::artifact::Artifact;
use super::raw::{raw_model, vec_or_null};
use super::refs::{BuildRef, UserRef};

cidata_core::string_enum! {
    /// The result of a finished build. A running build has none (`result: null`).
    pub enum BuildResult {
        /// All went well.
        Success = "SUCCESS",
        /// Built, but tests failed or a step marked it unstable.
        Unstable = "UNSTABLE",
        /// The build failed.
        Failure = "FAILURE",
        /// The build was not built (a matrix cell skipped, a module not rebuilt).
        NotBuilt = "NOT_BUILT",
        /// Someone or something stopped it.
        Aborted = "ABORTED",
    }
}

impl BuildResult {
    /// Whether the build counts as successful.
    pub fn is_success(&self) -> bool {
        matches!(self, BuildResult::Success)
    }
}

cidata_core::string_enum! {
    /// What kind of build, read from its `_class`.
    pub enum BuildKind {
        /// `hudson.model.FreeStyleBuild`.
        Freestyle = "hudson.model.FreeStyleBuild",
        /// `org.jenkinsci.plugins.workflow.job.WorkflowRun` (a Pipeline run).
        Pipeline = "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        /// `hudson.matrix.MatrixBuild`.
        Matrix = "hudson.matrix.MatrixBuild",
        /// `hudson.matrix.MatrixRun`, one cell of a matrix build.
        MatrixRun = "hudson.matrix.MatrixRun",
        /// `hudson.maven.MavenModuleSetBuild`.
        Maven = "hudson.maven.MavenModuleSetBuild",
        /// `hudson.maven.MavenBuild`, one module's build.
        MavenModule = "hudson.maven.MavenBuild",
        /// No `_class`: a server older than Jenkins 2.
        Unclassified = "",
    }
}

raw_model! {
    /// A build as `/job/X/N/api/json` or an `allBuilds[...]` listing describes it.
    pub struct Build {
        /// The Java class; absent on old servers.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// The build number.
        pub number: Option<u64>,
        /// The build id: the number as text on modern servers, a date (`2014-07-25_05-15-17`) before
        /// Jenkins 1.597.
        pub id: Option<String>,
        /// `#52` or a custom name.
        pub display_name: Option<String>,
        /// `team » app #52`.
        pub full_display_name: Option<String>,
        /// The build's description (HTML).
        pub description: Option<String>,
        /// The build's URL as the server built it (may be stale: rebase before use).
        pub url: Option<String>,
        /// The result; `None` while the build runs (and for builds that never ran).
        pub result: Option<BuildResult>,
        /// Whether it is running.
        pub building: Option<bool>,
        /// Pipeline runs: whether the run is still in progress (also true while paused for input).
        pub in_progress: Option<bool>,
        /// The start time, in milliseconds since the epoch (the time it was scheduled for queued
        /// matrix cells). A cursor on it alone misses results that arrive later.
        pub timestamp: Option<i64>,
        /// How long it took, in milliseconds; 0 while running.
        pub duration: Option<i64>,
        /// How long Jenkins expects it to take, in milliseconds; -1 when unknown.
        pub estimated_duration: Option<i64>,
        /// The queue item it came from.
        pub queue_id: Option<i64>,
        /// The agent it ran on (`""` for the controller).
        pub built_on: Option<String>,
        /// Whether the build is kept forever.
        pub keep_log: Option<bool>,
        /// Archived artifacts.
        #[serde(deserialize_with = "vec_or_null")]
        pub artifacts: Vec<Artifact>,
        /// Actions, `{}` and `null` entries dropped; unknown ones kept raw.
        #[serde(deserialize_with = "actions_skip_empty")]
        pub actions: Vec<Action>,
        /// The change set of a freestyle build (one SCM).
        pub change_set: Option<ChangeSet>,
        /// The change sets of a Pipeline run (one per SCM checkout).
        #[serde(deserialize_with = "vec_or_null")]
        pub change_sets: Vec<ChangeSet>,
        /// Users whose changes may have broken the build.
        #[serde(deserialize_with = "vec_or_null")]
        pub culprits: Vec<UserRef>,
        /// The cells of a matrix build.
        #[serde(deserialize_with = "vec_or_null")]
        pub runs: Vec<BuildRef>,
        /// The build before this one.
        pub previous_build: Option<BuildRef>,
        /// The build after this one.
        pub next_build: Option<BuildRef>,
    }
}

impl Build {
    /// The kind of build, from `_class`.
    pub fn kind(&self) -> BuildKind {
        BuildKind::from_server(self.class.as_deref().unwrap_or(""))
    }

    /// Whether the build is over: not building and not in progress. A final build never changes
    /// again (but for its description and keep-log flag).
    pub fn is_final(&self) -> bool {
        self.building == Some(false) && self.in_progress != Some(true)
    }

    /// Why the build started.
    pub fn causes(&self) -> impl Iterator<Item = &Cause> {
        self.actions.iter().flat_map(|a| match a {
            Action::Causes(c) => c.as_slice(),
            _ => &[],
        })
    }

    /// The parameter values.
    pub fn parameters(&self) -> impl Iterator<Item = &ParameterValue> {
        self.actions.iter().flat_map(|a| match a {
            Action::Parameters(p) => p.as_slice(),
            _ => &[],
        })
    }

    /// The test counts, if the build recorded tests.
    pub fn test_summary(&self) -> Option<&TestResultSummary> {
        self.actions.iter().find_map(|a| match a {
            Action::TestResults(t) => Some(t),
            _ => None,
        })
    }

    /// The git revision built, if the git plugin recorded one (the first of several checkouts).
    pub fn scm_revision(&self) -> Option<&GitRevision> {
        self.actions.iter().find_map(|a| match a {
            Action::GitBuildData(d) => d.last_built_revision.as_ref(),
            _ => None,
        })
    }

    /// Every change set, whichever of `changeSet` and `changeSets` the server used.
    pub fn all_change_sets(&self) -> impl Iterator<Item = &ChangeSet> {
        self.change_set.iter().chain(&self.change_sets)
    }
}

/// The changes of one SCM in a build.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ChangeSet {
    /// The Java class, e.g. `hudson.plugins.git.GitChangeSetList`.
    #[serde(rename = "_class")]
    pub class: Option<String>,
    /// `git`, `svn`, ... (`null` when there were no changes on old servers).
    pub kind: Option<String>,
    /// The commits.
    #[serde(deserialize_with = "vec_or_null")]
    pub items: Vec<ChangeSetItem>,
}

/// One commit of a change set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ChangeSetItem {
    /// The Java class, e.g. `hudson.plugins.git.GitChangeSet`.
    #[serde(rename = "_class")]
    pub class: Option<String>,
    /// The commit id.
    pub commit_id: Option<String>,
    /// The commit time, in milliseconds since the epoch.
    pub timestamp: Option<i64>,
    /// The first line of the message.
    pub msg: Option<String>,
    /// The whole message.
    pub comment: Option<String>,
    /// The author.
    pub author: Option<UserRef>,
    /// The author's e-mail.
    pub author_email: Option<String>,
    /// The commit date as text.
    pub date: Option<String>,
    /// The paths the commit touched.
    #[serde(deserialize_with = "vec_or_null")]
    pub affected_paths: Vec<String>,
    /// The paths with the kind of edit.
    #[serde(deserialize_with = "vec_or_null")]
    pub paths: Vec<ChangedPath>,
}

/// A path a commit touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ChangedPath {
    /// `add`, `edit` or `delete`.
    pub edit_type: Option<String>,
    /// The path.
    pub file: Option<String>,
}
