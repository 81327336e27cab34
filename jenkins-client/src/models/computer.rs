//! Nodes: the controller and the agents, with their executors and monitors.

use serde::{Deserialize, Serialize};

use super::raw::{raw_model, vec_or_null};

/// A label reference `{name}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LabelRef {
    /// The label.
    pub name: Option<String>,
}

raw_model! {
    /// A node (`/computer/NAME/api/json`, an entry of `/computer/api/json`).
    pub struct Computer {
        /// `hudson.model.Hudson$MasterComputer`, `hudson.slaves.SlaveComputer`, a cloud's class, ...
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// The node's name (`master` or `Built-In Node` for the controller).
        pub display_name: Option<String>,
        /// Its description.
        pub description: Option<String>,
        /// Whether it is offline.
        pub offline: Option<bool>,
        /// Whether someone took it offline on purpose.
        pub temporarily_offline: Option<bool>,
        /// Why, in the words of whoever did.
        pub offline_cause_reason: Option<String>,
        /// The structured cause (any shape).
        pub offline_cause: Option<serde_json::Value>,
        /// Whether all its executors are idle.
        pub idle: Option<bool>,
        /// How many executors it has.
        pub num_executors: Option<u32>,
        /// Whether it connects by JNLP / inbound agent.
        pub jnlp_agent: Option<bool>,
        /// Whether it can be launched from the controller.
        pub launch_supported: Option<bool>,
        /// Whether a user may launch it.
        pub manual_launch_allowed: Option<bool>,
        /// Its labels.
        #[serde(deserialize_with = "vec_or_null")]
        pub assigned_labels: Vec<LabelRef>,
        /// Node monitor readings by monitor class (values are `null` when not measured).
        pub monitor_data: Option<serde_json::Map<String, serde_json::Value>>,
    }
}

/// All nodes (`/computer/api/json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ComputerSet {
    /// The Java class.
    #[serde(rename = "_class")]
    pub class: Option<String>,
    /// Executors busy now.
    pub busy_executors: Option<u32>,
    /// Executors in all.
    pub total_executors: Option<u32>,
    /// The nodes.
    #[serde(deserialize_with = "vec_or_null")]
    pub computer: Vec<Computer>,
}

raw_model! {
    /// A label (`/label/NAME/api/json`).
    pub struct Label {
        /// The Java class.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// The label.
        pub name: Option<String>,
        /// Its description.
        pub description: Option<String>,
        /// Executors busy now.
        pub busy_executors: Option<u32>,
        /// Executors idle now.
        pub idle_executors: Option<u32>,
        /// Executors in all.
        pub total_executors: Option<u32>,
        /// Whether all its nodes are offline.
        pub offline: Option<bool>,
        /// Nodes carrying the label (`{nodeName}` objects).
        #[serde(deserialize_with = "vec_or_null")]
        pub nodes: Vec<serde_json::Value>,
        /// Jobs tied to the label.
        #[serde(deserialize_with = "vec_or_null")]
        pub tied_jobs: Vec<serde_json::Value>,
    }
}

/// `/overallLoad/api/json`: load statistics; each is `{}` unless a `tree` asks for its series
/// (`busyExecutors[min[latest]]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct OverallLoad {
    /// Available executors.
    pub available_executors: Option<serde_json::Value>,
    /// Busy executors.
    pub busy_executors: Option<serde_json::Value>,
    /// Connecting executors.
    pub connecting_executors: Option<serde_json::Value>,
    /// Defined executors.
    pub defined_executors: Option<serde_json::Value>,
    /// Idle executors.
    pub idle_executors: Option<serde_json::Value>,
    /// Online executors.
    pub online_executors: Option<serde_json::Value>,
    /// Queue length.
    pub queue_length: Option<serde_json::Value>,
    /// All executors.
    pub total_executors: Option<serde_json::Value>,
    /// Queue length, including items that cannot run.
    pub total_queue_length: Option<serde_json::Value>,
}
