//! The build queue and its items in every state.

use serde::{Deserialize, Serialize};

use super::action::{Action, Cause, actions_skip_empty};
use super::raw::{raw_model, vec_or_null};
use super::refs::BuildRef;

/// The task a queue item is for: usually a job; a Pipeline `node {}` placeholder has a class only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct QueueTask {
    /// The Java class.
    #[serde(rename = "_class")]
    pub class: Option<String>,
    /// The job's name (a full name with `/job/` on some versions).
    pub name: Option<String>,
    /// The job's URL.
    pub url: Option<String>,
    /// The job's colour.
    pub color: Option<String>,
}

raw_model! {
    /// An item of the queue (`/queue/api/json`, `/queue/item/N/api/json`).
    pub struct QueueItem {
        /// The Java class: `hudson.model.Queue$WaitingItem`, `$BlockedItem`, `$BuildableItem`,
        /// `$LeftItem`; absent on old servers.
        #[serde(rename = "_class")]
        pub class: Option<String>,
        /// The item's id (what `Location` of a trigger points to).
        pub id: Option<u64>,
        /// Relative to the server root: `queue/item/130/`.
        pub url: Option<String>,
        /// Why it waits, in words.
        pub why: Option<String>,
        /// Whether it is blocked (by a running build of the same job, a lock, ...).
        pub blocked: Option<bool>,
        /// Whether it waits only for an executor.
        pub buildable: Option<bool>,
        /// Whether it has waited for an executor too long.
        pub stuck: Option<bool>,
        /// Whether it is about to start.
        pub pending: Option<bool>,
        /// Left items: whether it was cancelled rather than started.
        pub cancelled: Option<bool>,
        /// When it entered the queue, in milliseconds since the epoch.
        pub in_queue_since: Option<i64>,
        /// When it became buildable, in milliseconds since the epoch.
        pub buildable_start_milliseconds: Option<i64>,
        /// Waiting items: when the quiet period ends, in milliseconds since the epoch.
        pub timestamp: Option<i64>,
        /// The parameters as text (`\nname=value` lines).
        pub params: Option<String>,
        /// The task to run.
        pub task: Option<QueueTask>,
        /// Left items that started: the build.
        pub executable: Option<BuildRef>,
        /// Actions (causes, parameters).
        #[serde(deserialize_with = "actions_skip_empty")]
        pub actions: Vec<Action>,
    }
}

/// Where a queue item stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueueState {
    /// In its quiet period.
    Waiting,
    /// Blocked by something (a running build of the same job, a lock, a throttle).
    Blocked,
    /// Waiting for an executor.
    Buildable,
    /// It left the queue and a build started.
    Started(BuildRef),
    /// It left the queue without starting: cancelled.
    Cancelled,
    /// It left the queue, the build is not known yet.
    Left,
    /// A class this version does not know.
    Unknown(String),
}

impl QueueItem {
    /// The item's state, from `_class`, or from its fields on servers without `_class`.
    pub fn state(&self) -> QueueState {
        if let Some(build) = &self.executable
            && build.number.is_some()
        {
            return QueueState::Started(build.clone());
        }
        if self.cancelled == Some(true) {
            return QueueState::Cancelled;
        }
        match self.class.as_deref() {
            Some("hudson.model.Queue$WaitingItem") => QueueState::Waiting,
            Some("hudson.model.Queue$BlockedItem") => QueueState::Blocked,
            Some("hudson.model.Queue$BuildableItem") => QueueState::Buildable,
            Some("hudson.model.Queue$LeftItem") => QueueState::Left,
            Some(other) => QueueState::Unknown(other.to_owned()),
            None if self.blocked == Some(true) => QueueState::Blocked,
            None if self.buildable == Some(true) => QueueState::Buildable,
            None => QueueState::Waiting,
        }
    }

    /// Why it was queued.
    pub fn causes(&self) -> impl Iterator<Item = &Cause> {
        self.actions.iter().flat_map(|a| match a {
            Action::Causes(c) => c.as_slice(),
            _ => &[],
        })
    }
}

/// The queue (`/queue/api/json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Queue {
    /// The Java class, `hudson.model.Queue`.
    #[serde(rename = "_class")]
    pub class: Option<String>,
    /// The items, oldest first.
    #[serde(deserialize_with = "vec_or_null")]
    pub items: Vec<QueueItem>,
}
