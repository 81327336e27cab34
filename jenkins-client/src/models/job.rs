//! Jobs: freestyle, pipeline, matrix and maven projects, folders, multibranch projects, organization
//! folders, and whatever a plugin adds.

use serde::{Deserialize, Serialize};

use super::action::{Action, actions_skip_empty};
use super::raw::{raw_model, vec_or_null};
use super::refs::{BuildRef, HealthReport};
use crate::JobPath;

cidata_core::string_enum! {
    /// What kind of job, read from its `_class`.
    pub enum JobKind {
        /// `hudson.model.FreeStyleProject`.
        Freestyle = "hudson.model.FreeStyleProject",
        /// `org.jenkinsci.plugins.workflow.job.WorkflowJob` (a Pipeline).
        Pipeline = "org.jenkinsci.plugins.workflow.job.WorkflowJob",
        /// `com.cloudbees.hudson.plugins.folder.Folder`.
        Folder = "com.cloudbees.hudson.plugins.folder.Folder",
        /// `org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject`.
        MultiBranch = "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject",
        /// `jenkins.branch.OrganizationFolder` (GitHub / Bitbucket organizations).
        OrganizationFolder = "jenkins.branch.OrganizationFolder",
        /// `hudson.matrix.MatrixProject`.
        Matrix = "hudson.matrix.MatrixProject",
        /// `hudson.matrix.MatrixConfiguration`, one cell of a matrix project.
        MatrixConfiguration = "hudson.matrix.MatrixConfiguration",
        /// `hudson.maven.MavenModuleSet`.
        Maven = "hudson.maven.MavenModuleSet",
        /// `hudson.maven.MavenModule`, one module of a maven project.
        MavenModule = "hudson.maven.MavenModule",
        /// `hudson.model.ExternalJob`.
        External = "hudson.model.ExternalJob",
        /// No `_class` at all: a server older than Jenkins 2.
        Unclassified = "",
    }
}

impl JobKind {
    /// Whether jobs of this kind hold other jobs.
    pub fn is_container(&self) -> bool {
        matches!(
            self,
            JobKind::Folder | JobKind::MultiBranch | JobKind::OrganizationFolder
        )
    }

    /// Whether jobs of this kind have builds of their own.
    pub fn is_buildable_kind(&self) -> bool {
        matches!(
            self,
            JobKind::Freestyle
                | JobKind::Pipeline
                | JobKind::Matrix
                | JobKind::MatrixConfiguration
                | JobKind::Maven
                | JobKind::MavenModule
                | JobKind::External
        )
    }
}

raw_model! {
    /// A job (or folder) as `/job/NAME/api/json` or a `jobs[...]` listing describes it.
    ///
    /// Every field is optional: folders lack `color` and `buildable`, a `tree=` may ask for a few
    /// fields only, and plugins add classes no library knows (their data stays in `raw`).
    pub struct Job {
        /// The Java class (`_class`); absent on servers older than Jenkins 2.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// The job's own name, raw (a multibranch branch arrives already encoded: `feature%2Fx`).
        pub name: Option<String>,
        /// Names of the folders and the job joined by `/`, as the server says.
        pub full_name: Option<String>,
        /// The name shown in the UI.
        pub display_name: Option<String>,
        /// `team » app » main`.
        pub full_display_name: Option<String>,
        /// The HTML description.
        pub description: Option<String>,
        /// The job's URL as the server built it (from its configured root URL: may be stale).
        pub url: Option<String>,
        /// The ball colour: `blue`, `red`, `yellow`, `notbuilt`, `disabled`, `aborted`, with `_anime`
        /// while building. Folders have none.
        pub color: Option<String>,
        /// Whether the job can be built now (false when disabled). Folders have none.
        pub buildable: Option<bool>,
        /// Whether a build of it waits in the queue.
        pub in_queue: Option<bool>,
        /// Whether builds may run concurrently.
        pub concurrent_build: Option<bool>,
        /// The number the next build will get.
        pub next_build_number: Option<u64>,
        /// The first build kept.
        pub first_build: Option<BuildRef>,
        /// The newest build, running or not.
        pub last_build: Option<BuildRef>,
        /// The newest finished build.
        pub last_completed_build: Option<BuildRef>,
        /// The newest successful build.
        pub last_successful_build: Option<BuildRef>,
        /// The newest failed build.
        pub last_failed_build: Option<BuildRef>,
        /// The newest stable build.
        pub last_stable_build: Option<BuildRef>,
        /// The newest unstable build.
        pub last_unstable_build: Option<BuildRef>,
        /// The newest build that was not successful.
        pub last_unsuccessful_build: Option<BuildRef>,
        /// The newest builds (Jenkins caps this list at 100: use `Jenkins::builds` for all of them).
        #[serde(deserialize_with = "vec_or_null")]
        pub builds: Vec<BuildRef>,
        /// The child jobs of a folder-like job; `None` when the response had no `jobs` field.
        pub jobs: Option<Vec<Job>>,
        /// Weather reports.
        #[serde(deserialize_with = "vec_or_null")]
        pub health_report: Vec<HealthReport>,
        /// Actions, `{}` and `null` entries dropped; unknown ones kept raw.
        #[serde(deserialize_with = "actions_skip_empty")]
        pub actions: Vec<Action>,
        /// Job properties (parameter definitions live here on modern servers), unknown ones kept raw.
        #[serde(deserialize_with = "actions_skip_empty")]
        pub property: Vec<Action>,
    }
}

impl Job {
    /// The kind of job, from `_class`.
    pub fn kind(&self) -> JobKind {
        JobKind::from_server(self.class.as_deref().unwrap_or(""))
    }

    /// Whether this job holds other jobs: a known folder kind, or any job whose response lists `jobs`.
    pub fn is_container(&self) -> bool {
        self.kind().is_container() || self.jobs.is_some()
    }

    /// Whether a build of this job is running (its colour ends in `_anime`).
    pub fn is_building(&self) -> bool {
        self.color.as_deref().is_some_and(|c| c.ends_with("_anime"))
    }

    /// The number of the newest build, if any.
    pub fn last_build_number(&self) -> Option<u64> {
        self.last_build.as_ref().and_then(|b| b.number)
    }

    /// The parameters the job takes, from its properties or (on old servers) its actions.
    pub fn parameter_definitions(&self) -> impl Iterator<Item = &ParameterDefinition> {
        self.property
            .iter()
            .chain(&self.actions)
            .flat_map(|a| match a {
                Action::ParameterDefinitions(defs) => defs.as_slice(),
                _ => &[],
            })
    }

    /// The path of this job, read from its URL (server URLs are rebased first), or from its full name.
    pub fn path(&self, base: &cidata_core::BaseUrl) -> Option<JobPath> {
        self.url
            .as_deref()
            .and_then(|u| JobPath::from_url(u, base).ok())
            .or_else(|| {
                self.full_name
                    .as_deref()
                    .and_then(|f| JobPath::from_full_name(f).ok())
            })
    }
}

/// A parameter a job takes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ParameterDefinition {
    /// The Java class, e.g. `hudson.model.StringParameterDefinition`.
    #[serde(rename = "_class")]
    pub class: Option<String>,
    /// The parameter's name.
    pub name: Option<String>,
    /// `StringParameterDefinition`, `BooleanParameterDefinition`, `ChoiceParameterDefinition`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// The default value, as `{name, value}`.
    pub default_parameter_value: Option<serde_json::Value>,
    /// The choices of a choice parameter.
    pub choices: Option<Vec<String>>,
}
