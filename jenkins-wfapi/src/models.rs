//! Models of the Pipeline REST API. Every field is optional (links appear only when they apply,
//! old servers lack newer fields), statuses have an unknown fallback, and fields no model knows are
//! kept in `extra`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::link::{Link, OtherLinks};

/// A list that may be `null`.
fn vec_or_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Fields of a response that no model here knows, kept as sent.
pub type Extra = serde_json::Map<String, serde_json::Value>;

cidata_core::string_enum! {
    /// The status of a run, stage or flow node.
    pub enum Status {
        /// Finished and succeeded.
        Success = "SUCCESS",
        /// Finished and failed.
        Failed = "FAILED",
        /// Stopped by someone or something.
        Aborted = "ABORTED",
        /// Finished, marked unstable.
        Unstable = "UNSTABLE",
        /// Running.
        InProgress = "IN_PROGRESS",
        /// Waiting for someone to answer an `input` step.
        PausedPendingInput = "PAUSED_PENDING_INPUT",
        /// Skipped (a stage after a failure, a stage before a restart point).
        NotExecuted = "NOT_EXECUTED",
        /// Waiting in the queue.
        Queued = "QUEUED",
    }
}

impl Status {
    /// Whether nothing about the item will change any more.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Status::Success
                | Status::Failed
                | Status::Aborted
                | Status::Unstable
                | Status::NotExecuted
        )
    }
}

/// A run id: the build number as text on modern servers, a start timestamp
/// (`2014-10-16_13-07-52`) on servers before Jenkins 1.597.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RunId {
    /// A build number.
    Number(u64),
    /// A legacy timestamp id.
    Legacy(String),
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunId::Number(n) => write!(f, "{n}"),
            RunId::Legacy(s) => f.write_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for RunId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Number(n) => RunId::Number(n),
            Raw::Text(t) => match t.parse() {
                Ok(n) => RunId::Number(n),
                Err(_) => RunId::Legacy(t),
            },
        })
    }
}

impl Serialize for RunId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// `_links` of a job description.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct JobLinks {
    /// The description itself.
    #[serde(rename = "self")]
    pub self_link: Option<Link<JobDescription>>,
    /// The newest runs (at most 10: see [`crate::Wfapi::all_runs`] for all of them).
    pub runs: Option<Link<Vec<Run>>>,
    /// Relations this crate does not know.
    #[serde(flatten)]
    pub other: OtherLinks,
}

/// `/job/X/wfapi/describe`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct JobDescription {
    /// Links.
    #[serde(rename = "_links")]
    pub links: JobLinks,
    /// The job's name.
    pub name: Option<String>,
    /// How many runs the job has.
    pub run_count: Option<u64>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `_links` of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct RunLinks {
    /// The run's description.
    #[serde(rename = "self")]
    pub self_link: Option<Link<Run>>,
    /// Its artifacts (present only if it archived any).
    pub artifacts: Option<Link<Vec<Artifact>>>,
    /// Its pending inputs (present only while it waits for one).
    pub pending_input_actions: Option<Link<Vec<PendingInputAction>>>,
    /// The next pending input.
    pub next_pending_input_action: Option<Link<PendingInputAction>>,
    /// Its change sets.
    pub changesets: Option<Link<Vec<ChangeSet>>>,
    /// Relations this crate does not know.
    #[serde(flatten)]
    pub other: OtherLinks,
}

/// A run (build) of a Pipeline: `/job/X/N/wfapi/describe`, or an entry of `/job/X/wfapi/runs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Run {
    /// Links.
    #[serde(rename = "_links")]
    pub links: RunLinks,
    /// The build number, or a timestamp on old servers (see [`Run::number`]).
    pub id: Option<RunId>,
    /// `#16`.
    pub name: Option<String>,
    /// The status.
    pub status: Option<Status>,
    /// Start, in milliseconds since the epoch.
    pub start_time_millis: Option<i64>,
    /// End, in milliseconds since the epoch (the time of the response while running).
    pub end_time_millis: Option<i64>,
    /// Duration in milliseconds.
    pub duration_millis: Option<i64>,
    /// Time in the queue, in milliseconds.
    pub queue_duration_millis: Option<i64>,
    /// Time paused for input, in milliseconds.
    pub pause_duration_millis: Option<i64>,
    /// The stages, in order; stages after a failure are absent; parallel branches are not stages.
    #[serde(deserialize_with = "vec_or_null")]
    pub stages: Vec<Stage>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Run {
    /// The build number: the id on modern servers; on old ones read from the `self` link
    /// (`.../16/wfapi/describe`) or the name (`#16`).
    pub fn number(&self) -> Option<u64> {
        if let Some(RunId::Number(n)) = &self.id {
            return Some(*n);
        }
        let from_link = self.links.self_link.as_ref().and_then(|l| {
            let path = l.href().split('?').next()?;
            let mut parts = path.trim_end_matches('/').rsplit('/');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("describe"), Some("wfapi"), Some(n)) => n.parse().ok(),
                _ => None,
            }
        });
        from_link.or_else(|| self.name.as_deref()?.strip_prefix('#')?.trim().parse().ok())
    }

    /// Whether the run is over.
    pub fn is_final(&self) -> bool {
        self.status.as_ref().is_some_and(Status::is_final)
    }
}

/// `_links` of a stage or a flow node.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct NodeLinks {
    /// The node's description (with its flow nodes, for a stage).
    #[serde(rename = "self")]
    pub self_link: Option<Link<NodeDescription>>,
    /// The node's log (step nodes).
    pub log: Option<Link<NodeLog>>,
    /// Relations this crate does not know.
    #[serde(flatten)]
    pub other: OtherLinks,
}

/// An error of a failed stage or flow node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FlowError {
    /// The message, e.g. `script returned exit code 1`.
    pub message: Option<String>,
    /// The Java exception class, e.g. `hudson.AbortException`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A flow node: a stage of a run (with its steps in `stage_flow_nodes` when asked for), or a step
/// (with `parent_nodes` and a `log` link). Jenkins' own model has the stage extend the node.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct FlowNode {
    /// Links (`self`; `log` for steps).
    #[serde(rename = "_links")]
    pub links: NodeLinks,
    /// The node id.
    pub id: Option<String>,
    /// The stage's or step's name (`Build`, `Shell Script`).
    pub name: Option<String>,
    /// The agent it ran on.
    pub exec_node: Option<String>,
    /// The status.
    pub status: Option<Status>,
    /// What failed.
    pub error: Option<FlowError>,
    /// Steps: the arguments in short, e.g. the shell command.
    pub parameter_description: Option<String>,
    /// Start, in milliseconds since the epoch (0 for nodes not executed).
    pub start_time_millis: Option<i64>,
    /// Duration in milliseconds.
    pub duration_millis: Option<i64>,
    /// Time paused for input, in milliseconds.
    pub pause_duration_millis: Option<i64>,
    /// Stages: their steps, with `fullStages=true` or from a node description (at most 100).
    #[serde(deserialize_with = "vec_or_null")]
    pub stage_flow_nodes: Vec<FlowNode>,
    /// Steps: ids of the nodes before them.
    #[serde(deserialize_with = "vec_or_null")]
    pub parent_nodes: Vec<String>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A stage of a run.
pub type Stage = FlowNode;

/// `/job/X/N/execution/node/ID/wfapi/describe`: a stage with its flow nodes, or a step.
pub type NodeDescription = FlowNode;

/// `/job/X/N/execution/node/ID/wfapi/log`: the start of a step's log (about 10 KiB).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct NodeLog {
    /// The node id.
    pub node_id: Option<String>,
    /// The node's status.
    pub node_status: Option<Status>,
    /// The length of the whole log, in bytes.
    pub length: Option<u64>,
    /// Whether `text` is cut short (the full log is at `console_url`).
    pub has_more: Option<bool>,
    /// The log text (HTML-escaped by the server).
    pub text: Option<String>,
    /// The step's log page, relative to the server root with the context path.
    pub console_url: Option<String>,
}

/// An archived artifact of a run (`/job/X/N/wfapi/artifacts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Artifact {
    /// The artifact's id in the run.
    pub id: Option<String>,
    /// The file name.
    pub name: Option<String>,
    /// The path below the run's `artifact/`.
    pub path: Option<String>,
    /// The download URL, relative to the server root with the context path.
    pub url: Option<String>,
    /// The size in bytes.
    pub size: Option<u64>,
}

/// A parameter an `input` step asks for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct InputParameter {
    /// `BooleanParameterDefinition`, `StringParameterDefinition`, `ChoiceParameterDefinition`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The parameter's name.
    pub name: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// The definition: `defaultVal`, `choices`, ...
    pub definition: Option<serde_json::Value>,
}

impl InputParameter {
    /// Whether the parameter is a checkbox (`BooleanParameterDefinition`).
    pub fn is_boolean(&self) -> bool {
        self.kind.as_deref().is_some_and(|k| k.contains("Boolean"))
    }

    /// What Jenkins' own form submits when nobody changes the field: the definition's
    /// `defaultVal`, else the first of its `choices`, else `false` for a checkbox and `""` for text.
    pub fn default_value(&self) -> serde_json::Value {
        let definition = self.definition.as_ref();
        if let Some(value) = definition
            .and_then(|d| d.get("defaultVal"))
            .filter(|v| !v.is_null())
        {
            return value.clone();
        }
        if let Some(first) = definition
            .and_then(|d| d.get("choices"))
            .and_then(|c| c.as_array())
            .and_then(|c| c.first())
        {
            return first.clone();
        }
        if self.is_boolean() {
            serde_json::Value::Bool(false)
        } else {
            serde_json::Value::String(String::new())
        }
    }

    /// The value to send for `text` a person typed: `true` or `false` for a checkbox, the text as
    /// it is for any other parameter (a string parameter keeps `"true"` as text).
    pub fn value_from_text(&self, text: &str) -> cidata_core::Result<serde_json::Value> {
        if !self.is_boolean() {
            return Ok(serde_json::Value::String(text.to_owned()));
        }
        match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(serde_json::Value::Bool(true)),
            "false" | "no" | "off" | "0" => Ok(serde_json::Value::Bool(false)),
            _ => Err(cidata_core::Error::new(
                cidata_core::ErrorKind::InvalidInput,
                format!(
                    "`{}` is a checkbox: give true or false, not `{text}`",
                    self.name.as_deref().unwrap_or("")
                ),
            )),
        }
    }
}

/// An `input` step waiting for an answer (`/job/X/N/wfapi/pendingInputActions`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct PendingInputAction {
    /// The input's id.
    pub id: Option<String>,
    /// The question.
    pub message: Option<String>,
    /// The label of the proceed button.
    pub proceed_text: Option<String>,
    /// Where to POST to proceed, relative to the server root with the context path.
    pub proceed_url: Option<String>,
    /// Where to POST to abort.
    pub abort_url: Option<String>,
    /// The input's page.
    pub redirect_approval_url: Option<String>,
    /// The parameters asked for.
    #[serde(deserialize_with = "vec_or_null")]
    pub inputs: Vec<InputParameter>,
}

impl PendingInputAction {
    /// The parameter values to proceed with: those in `given` (by name, as typed by a person and
    /// converted with [`InputParameter::value_from_text`]), and every other parameter's default, as
    /// Jenkins' own form sends them. A name the input does not ask for is an error naming those it does.
    pub fn values_from_text(
        &self,
        given: &[(&str, &str)],
    ) -> cidata_core::Result<Vec<(String, serde_json::Value)>> {
        let typed: Vec<(&str, serde_json::Value)> = given
            .iter()
            .map(|(name, text)| {
                let parameter = self.parameter(name)?;
                Ok((*name, parameter.value_from_text(text)?))
            })
            .collect::<cidata_core::Result<_>>()?;
        self.complete_values(&typed)
    }

    /// `given` values (checked against the parameters asked for) and the defaults of all others,
    /// in the order of the input's parameters.
    pub fn complete_values(
        &self,
        given: &[(&str, serde_json::Value)],
    ) -> cidata_core::Result<Vec<(String, serde_json::Value)>> {
        for (name, _) in given {
            self.parameter(name)?;
        }
        Ok(self
            .inputs
            .iter()
            .filter_map(|p| {
                let name = p.name.as_deref()?;
                let value = given
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or_else(|| p.default_value(), |(_, v)| v.clone());
                Some((name.to_owned(), value))
            })
            .collect())
    }

    fn parameter(&self, name: &str) -> cidata_core::Result<&InputParameter> {
        self.inputs
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
            .ok_or_else(|| {
                let asked: Vec<&str> = self
                    .inputs
                    .iter()
                    .filter_map(|p| p.name.as_deref())
                    .collect();
                cidata_core::Error::new(
                    cidata_core::ErrorKind::InvalidInput,
                    if asked.is_empty() {
                        format!(
                            "the input `{}` asks for no parameter, not `{name}`",
                            self.id.as_deref().unwrap_or("")
                        )
                    } else {
                        format!(
                            "the input `{}` asks for no `{name}`; it asks for: {}",
                            self.id.as_deref().unwrap_or(""),
                            asked.join(", ")
                        )
                    },
                )
            })
    }
}

/// A commit of a change set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Commit {
    /// The commit id.
    pub commit_id: Option<String>,
    /// A link to the commit in the repository's web UI, when known.
    pub commit_url: Option<String>,
    /// The Jenkins user id of the author.
    pub author_jenkins_id: Option<String>,
    /// The whole message.
    pub message: Option<String>,
    /// The commit time, as the server sends it.
    pub timestamp: Option<i64>,
    /// The change's page in Jenkins.
    pub console_url: Option<String>,
}

/// The changes of one SCM in a run (`/job/X/N/wfapi/changesets`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ChangeSet {
    /// `git`, `svn`, ...
    pub kind: Option<String>,
    /// How many commits.
    pub commit_count: Option<u64>,
    /// The commits.
    #[serde(deserialize_with = "vec_or_null")]
    pub commits: Vec<Commit>,
    /// The changes page in Jenkins.
    pub console_url: Option<String>,
}
