//! Actions attached to builds and jobs, dispatched on `_class` (or, on servers that predate `_class`,
//! on their shape). An action no model fits is kept whole.

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

use super::job::ParameterDefinition;
use super::raw::{RawJson, parse_raw, raw_model, vec_or_null};

/// One entry of `actions` (or of a job's `property`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Action {
    /// `hudson.model.CauseAction`: why the build started.
    Causes(Vec<Cause>),
    /// `hudson.model.ParametersAction`: the parameter values of a build.
    Parameters(Vec<ParameterValue>),
    /// `hudson.model.ParametersDefinitionProperty`: the parameters a job takes.
    ParameterDefinitions(Vec<ParameterDefinition>),
    /// `hudson.plugins.git.util.BuildData`: the git revision a build checked out.
    GitBuildData(GitBuildData),
    /// `hudson.tasks.junit.TestResultAction` and aggregated kinds: the test counts of a build.
    TestResults(TestResultSummary),
    /// `jenkins.metrics.impl.TimeInQueueAction`: how long the build waited and ran.
    TimeInQueue(TimeInQueue),
    /// Anything else, kept as sent.
    Other {
        /// The Java class, if the server sent one.
        class: Option<String>,
        /// The action's JSON.
        raw: RawJson,
    },
}

impl Action {
    /// The `_class` of the action, for every variant that carries one.
    pub fn class(&self) -> Option<&str> {
        match self {
            Action::GitBuildData(d) => d.class.as_deref(),
            Action::TestResults(t) => t.class.as_deref(),
            Action::TimeInQueue(t) => t.class.as_deref(),
            Action::Other { class, .. } => class.as_deref(),
            Action::Causes(_) => Some("hudson.model.CauseAction"),
            Action::Parameters(_) => Some("hudson.model.ParametersAction"),
            Action::ParameterDefinitions(_) => Some("hudson.model.ParametersDefinitionProperty"),
        }
    }
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let class = self.class();
        match self {
            Action::Causes(c) => serde_json::json!({ "_class": class, "causes": c }).serialize(s),
            Action::Parameters(p) => {
                serde_json::json!({ "_class": class, "parameters": p }).serialize(s)
            }
            Action::ParameterDefinitions(d) => {
                serde_json::json!({ "_class": class, "parameterDefinitions": d }).serialize(s)
            }
            Action::GitBuildData(d) => d.raw.serialize(s),
            Action::TestResults(t) => t.raw.serialize(s),
            Action::TimeInQueue(t) => t.raw.serialize(s),
            Action::Other { raw, .. } => raw.serialize(s),
        }
    }
}

/// Which keys an action has, read without decoding their values.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Probe {
    #[serde(rename = "_class")]
    class: Option<String>,
    causes: Option<IgnoredAny>,
    parameters: Option<IgnoredAny>,
    parameter_definitions: Option<IgnoredAny>,
    last_built_revision: Option<IgnoredAny>,
    remote_urls: Option<IgnoredAny>,
    fail_count: Option<IgnoredAny>,
    queuing_duration_millis: Option<IgnoredAny>,
}

#[derive(Clone, Copy)]
enum Shape {
    Causes,
    Parameters,
    ParameterDefinitions,
    GitBuildData,
    TestResults,
    TimeInQueue,
    Other,
}

fn shape_of(probe: &Probe) -> Shape {
    match probe.class.as_deref() {
        Some("hudson.model.CauseAction") => return Shape::Causes,
        Some("hudson.model.ParametersAction") => return Shape::Parameters,
        Some("hudson.model.ParametersDefinitionProperty") => return Shape::ParameterDefinitions,
        Some("hudson.plugins.git.util.BuildData") => return Shape::GitBuildData,
        Some(
            "hudson.tasks.junit.TestResultAction"
            | "hudson.tasks.test.AggregatedTestResultAction"
            | "hudson.maven.reporters.SurefireAggregatedReport"
            | "hudson.maven.reporters.SurefireReport"
            | "hudson.tasks.test.MatrixTestResult",
        ) => return Shape::TestResults,
        Some("jenkins.metrics.impl.TimeInQueueAction") => return Shape::TimeInQueue,
        _ => {}
    }
    // No class, or one we do not know (a subclass, a plugin's): go by shape.
    if probe.causes.is_some() {
        Shape::Causes
    } else if probe.parameters.is_some() {
        Shape::Parameters
    } else if probe.parameter_definitions.is_some() {
        Shape::ParameterDefinitions
    } else if probe.last_built_revision.is_some() || probe.remote_urls.is_some() {
        Shape::GitBuildData
    } else if probe.fail_count.is_some() {
        Shape::TestResults
    } else if probe.queuing_duration_millis.is_some() {
        Shape::TimeInQueue
    } else {
        Shape::Other
    }
}

#[derive(Deserialize)]
struct CauseList {
    #[serde(default, deserialize_with = "vec_or_null")]
    causes: Vec<Cause>,
}

#[derive(Deserialize)]
struct ParameterList {
    #[serde(default, deserialize_with = "vec_or_null")]
    parameters: Vec<ParameterValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DefinitionList {
    #[serde(default, deserialize_with = "vec_or_null")]
    parameter_definitions: Vec<ParameterDefinition>,
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawJson::deserialize(d)?;
        // Not an object (a plugin could put anything here): keep it.
        let probe: Probe = match raw.parse() {
            Ok(p) => p,
            Err(_) => return Ok(Action::Other { class: None, raw }),
        };
        // A known shape that does not decode is kept raw rather than failing the whole build.
        let typed: Result<Action, serde_json::Error> = match shape_of(&probe) {
            Shape::Causes => parse_raw::<CauseList, _>(&raw).map(|l| Action::Causes(l.causes)),
            Shape::Parameters => {
                parse_raw::<ParameterList, _>(&raw).map(|l| Action::Parameters(l.parameters))
            }
            Shape::ParameterDefinitions => parse_raw::<DefinitionList, _>(&raw)
                .map(|l| Action::ParameterDefinitions(l.parameter_definitions)),
            Shape::GitBuildData => parse_raw(&raw).map(Action::GitBuildData),
            Shape::TestResults => parse_raw(&raw).map(Action::TestResults),
            Shape::TimeInQueue => parse_raw(&raw).map(Action::TimeInQueue),
            Shape::Other => {
                return Ok(Action::Other {
                    class: probe.class,
                    raw,
                });
            }
        };
        Ok(typed.unwrap_or(Action::Other {
            class: probe.class,
            raw,
        }))
    }
}

raw_model! {
    /// Why a build started: a user, an upstream build, an SCM change, a timer, a replay, ...
    pub struct Cause {
        /// The Java class, e.g. `hudson.model.Cause$UserIdCause`.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// `Started by user admin`.
        pub short_description: Option<String>,
        /// The user's id (user causes).
        pub user_id: Option<String>,
        /// The user's name (user causes).
        pub user_name: Option<String>,
        /// The upstream job's full name (upstream causes).
        pub upstream_project: Option<String>,
        /// The upstream build's number (upstream causes).
        pub upstream_build: Option<u64>,
        /// The upstream build's URL relative to the root (upstream causes).
        pub upstream_url: Option<String>,
    }
}

raw_model! {
    /// A parameter value of a build. `value` is whatever JSON the parameter type gives (text, boolean,
    /// number, an object for run or file parameters); password values are never returned by Jenkins.
    pub struct ParameterValue {
        /// The Java class, e.g. `hudson.model.StringParameterValue`.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// The parameter's name.
        pub name: Option<String>,
        /// The value.
        pub value: Option<serde_json::Value>,
    }
}

/// A git revision: its SHA-1 and the branches that point to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GitRevision {
    /// The commit id.
    #[serde(rename = "SHA1")]
    pub sha1: Option<String>,
    /// The branches at this commit.
    #[serde(deserialize_with = "vec_or_null")]
    pub branch: Vec<GitBranch>,
}

/// A branch at a git revision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GitBranch {
    /// The commit id.
    #[serde(rename = "SHA1")]
    pub sha1: Option<String>,
    /// The branch name, e.g. `refs/remotes/origin/main`.
    pub name: Option<String>,
}

raw_model! {
    /// The git plugin's record of what a build checked out.
    pub struct GitBuildData {
        /// The Java class.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// The revision this build built.
        pub last_built_revision: Option<GitRevision>,
        /// The repositories.
        #[serde(deserialize_with = "vec_or_null")]
        pub remote_urls: Vec<String>,
        /// The SCM's name, often empty.
        pub scm_name: Option<String>,
    }
}

raw_model! {
    /// The test counts of a build (the full report is at `testReport/api/json`).
    pub struct TestResultSummary {
        /// The Java class.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// Failed tests.
        pub fail_count: Option<u64>,
        /// Skipped tests.
        pub skip_count: Option<u64>,
        /// All tests.
        pub total_count: Option<u64>,
        /// Where the report lives relative to the build (`testReport`).
        pub url_name: Option<String>,
    }
}

raw_model! {
    /// The metrics plugin's timings of a build, in milliseconds.
    pub struct TimeInQueue {
        /// The Java class.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// Time from entering the queue to starting.
        pub queuing_duration_millis: Option<i64>,
        /// Time blocked in the queue.
        pub blocked_duration_millis: Option<i64>,
        /// Time buildable but waiting for an executor.
        pub buildable_duration_millis: Option<i64>,
        /// Time in the quiet period.
        pub waiting_duration_millis: Option<i64>,
        /// Time executing.
        pub executing_time_millis: Option<i64>,
        /// Queue plus execution.
        pub total_duration_millis: Option<i64>,
    }
}
