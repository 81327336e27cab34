//! Actions attached to builds and jobs, dispatched on `_class` (or, on servers that predate `_class`,
//! on their shape). An action no model fits is kept whole.

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::job::ParameterDefinition;
use super::raw::{RawJson, vec_or_null};

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
            Action::GitBuildData(d) => d.serialize(s),
            Action::TestResults(t) => t.serialize(s),
            Action::TimeInQueue(t) => t.serialize(s),
            Action::Other { raw, .. } => raw.serialize(s),
        }
    }
}

/// What an action's keys say it is, when its class does not.
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

fn shape_of_class(class: &str) -> Shape {
    match class {
        "hudson.model.CauseAction" => Shape::Causes,
        "hudson.model.ParametersAction" => Shape::Parameters,
        "hudson.model.ParametersDefinitionProperty" => Shape::ParameterDefinitions,
        "hudson.plugins.git.util.BuildData" => Shape::GitBuildData,
        "hudson.tasks.junit.TestResultAction"
        | "hudson.tasks.test.AggregatedTestResultAction"
        | "hudson.maven.reporters.SurefireAggregatedReport"
        | "hudson.maven.reporters.SurefireReport"
        | "hudson.tasks.test.MatrixTestResult" => Shape::TestResults,
        "jenkins.metrics.impl.TimeInQueueAction" => Shape::TimeInQueue,
        _ => Shape::Other,
    }
}

/// For actions without a known class (servers before Jenkins 2, subclasses, plugins): the keys.
fn shape_of_keys(map: &serde_json::Map<String, serde_json::Value>) -> Shape {
    if map.contains_key("causes") {
        Shape::Causes
    } else if map.contains_key("parameters") {
        Shape::Parameters
    } else if map.contains_key("parameterDefinitions") {
        Shape::ParameterDefinitions
    } else if map.contains_key("lastBuiltRevision") || map.contains_key("remoteUrls") {
        Shape::GitBuildData
    } else if map.contains_key("failCount") {
        Shape::TestResults
    } else if map.contains_key("queuingDurationMillis") {
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

/// Decodes the rest of an action of a known shape from `de`.
fn typed<'de, D: Deserializer<'de>>(
    shape: Shape,
    class: Option<String>,
    de: D,
) -> Result<Action, D::Error> {
    Ok(match shape {
        Shape::Causes => Action::Causes(CauseList::deserialize(de)?.causes),
        Shape::Parameters => Action::Parameters(ParameterList::deserialize(de)?.parameters),
        Shape::ParameterDefinitions => {
            Action::ParameterDefinitions(DefinitionList::deserialize(de)?.parameter_definitions)
        }
        Shape::GitBuildData => Action::GitBuildData(GitBuildData {
            class,
            ..GitBuildData::deserialize(de)?
        }),
        Shape::TestResults => Action::TestResults(TestResultSummary {
            class,
            ..TestResultSummary::deserialize(de)?
        }),
        Shape::TimeInQueue => Action::TimeInQueue(TimeInQueue {
            class,
            ..TimeInQueue::deserialize(de)?
        }),
        Shape::Other => {
            let rest = serde_json::Map::deserialize(de)?;
            other(class, rest)
        }
    })
}

fn other(class: Option<String>, mut rest: serde_json::Map<String, serde_json::Value>) -> Action {
    if let Some(c) = &class {
        rest.insert("_class".to_owned(), serde_json::Value::String(c.clone()));
    }
    let raw = serde_json::to_string(&rest)
        .ok()
        .and_then(|text| RawJson::from_string(text).ok())
        .unwrap_or_default();
    Action::Other { class, raw }
}

/// One pass over an action: Jenkins writes `_class` first, so the class picks the model before the
/// rest is read. Without a leading `_class` (old servers) the action is buffered and its keys decide.
struct ActionVisitor;

impl<'de> Visitor<'de> for ActionVisitor {
    type Value = Option<Action>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an action object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(first) = map.next_key::<std::borrow::Cow<'de, str>>()? else {
            return Ok(None);
        };
        if first == "_class" {
            let class: Option<String> = map.next_value()?;
            let shape = class.as_deref().map_or(Shape::Other, shape_of_class);
            if !matches!(shape, Shape::Other) {
                return typed(shape, class, MapAccessDeserializer::new(map)).map(Some);
            }
            // An unknown class may still be a subclass of a known shape: look at its keys.
            let rest = serde_json::Map::deserialize(MapAccessDeserializer::new(map))?;
            return Ok(Some(by_keys(class, rest)));
        }
        let mut rest = serde_json::Map::new();
        let value: serde_json::Value = map.next_value()?;
        rest.insert(first.into_owned(), value);
        while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
            rest.insert(k, v);
        }
        let class = rest
            .remove("_class")
            .and_then(|c| c.as_str().map(str::to_owned));
        Ok(Some(by_keys(class, rest)))
    }
}

/// Decodes a buffered action by its keys; a known shape that does not fit is kept as `Other`.
fn by_keys(class: Option<String>, rest: serde_json::Map<String, serde_json::Value>) -> Action {
    let shape = shape_of_keys(&rest);
    if matches!(shape, Shape::Other) {
        return other(class, rest);
    }
    let value = serde_json::Value::Object(rest);
    match typed(shape, class.clone(), &value) {
        Ok(action) => action,
        Err(_) => match value {
            serde_json::Value::Object(rest) => other(class, rest),
            _ => other(class, serde_json::Map::new()),
        },
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(ActionVisitor)? {
            Some(action) => Ok(action),
            None => Ok(other(None, serde_json::Map::new())),
        }
    }
}

/// A list of actions without its `{}` and `null` entries (Jenkins puts both in `actions`).
pub(crate) fn actions_skip_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Action>, D::Error> {
    struct Entry(Option<Action>);
    impl<'de> Deserialize<'de> for Entry {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(ActionVisitor).map(Entry)
        }
    }
    let entries: Option<Vec<Entry>> = Option::deserialize(d)?;
    Ok(entries
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e.0)
        .collect())
}

/// Why a build started: a user, an upstream build, an SCM change, a timer, a replay, ...
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
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

/// A parameter value of a build. `value` is whatever JSON the parameter type gives (text, boolean,
/// number, an object for run or file parameters); password values are never returned by Jenkins.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ParameterValue {
    /// The Java class, e.g. `hudson.model.StringParameterValue`.
    #[serde(rename = "_class")]
    pub class: Option<String>,
    /// The parameter's name.
    pub name: Option<String>,
    /// The value.
    pub value: Option<serde_json::Value>,
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

/// The git plugin's record of what a build checked out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
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

/// The test counts of a build (the full report is at `testReport/api/json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
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

/// The metrics plugin's timings of a build, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
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
