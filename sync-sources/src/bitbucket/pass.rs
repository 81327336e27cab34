//! The saved states of workspaces and repositories, and the decisions of a pass over a
//! repository's pipelines, without I/O.

use std::collections::{BTreeMap, BTreeSet};

use cidata_bitbucket::models::Pipeline;
use cidata_bitbucket::parse_time;
use cidata_sync::{Listed, MarkRule, NewestFirst, NumberRange};
use serde::{Deserialize, Serialize};

/// The version of the saved states; an older one makes a full read once.
pub(super) const STATE_VERSION: u32 = 1;

/// What a workspace's checkpoint remembers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct WorkspaceState {
    #[serde(default)]
    pub(super) version: u32,
    /// The newest `updated_on` of a repository read, ms.
    pub(super) cursor_ms: Option<i64>,
    /// When every repository was last read, ms.
    pub(super) full_check_ms: Option<i64>,
    /// Each repository's `updated_on` when last read, by UUID (also: which repositories exist).
    #[serde(default)]
    pub(super) repositories: BTreeMap<String, Option<i64>>,
}

/// What a repository's checkpoint remembers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct RepositoryState {
    #[serde(default)]
    pub(super) version: u32,
    /// The repository's `updated_on` when its pipelines and pull requests were read, ms.
    pub(super) updated_ms: Option<i64>,
    /// When they were read, ms (a repository is read again at least every full check).
    pub(super) checked_ms: Option<i64>,
    /// The newest pipeline build number read.
    pub(super) newest_pipeline: Option<i64>,
    /// Pipelines read while not final: read again until they are.
    #[serde(default)]
    pub(super) pending_pipelines: Vec<String>,
    /// The newest `updated_on` of a pull request read, ms.
    pub(super) pull_request_cursor_ms: Option<i64>,
    /// While a pass over the pipelines is under way (a run stopped half-way): the pipeline
    /// numbers it stored, which the next pass skips (see `cidata_sync::NewestFirst`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) stored: Vec<NumberRange>,
}

/// Listed pipelines between two checkpoints of a pass: a repository of thousands of pipelines
/// commits its rows and where it stands every page, so that a run stopped half-way resumes there.
pub(super) const CHECKPOINT_EVERY: usize = 50;

/// A repository's pass over its pipelines: what to read, what it read, the state to save, interim
/// or final. No I/O: the driver asks it about each listed pipeline and tells it each one stored.
pub(super) struct RepositoryPass {
    pub(super) previous: RepositoryState,
    pub(super) progress: NewestFirst,
    /// Pipelines held as not final before this pass.
    pub(super) pending: BTreeSet<String>,
    /// Listed in this pass (read or skipped).
    pub(super) seen: BTreeSet<String>,
    pub(super) still_pending: Vec<String>,
    pub(super) numbers: Vec<i64>,
    pub(super) last_listed: Option<i64>,
    pub(super) listed_since_checkpoint: usize,
    /// A first run reads back to here (`initial_sync_days`).
    pub(super) first_run_since_ms: Option<i64>,
}

impl RepositoryPass {
    pub(super) fn new(previous: RepositoryState, since_ms: i64) -> RepositoryPass {
        let first_run =
            previous.newest_pipeline.is_none() && previous.pull_request_cursor_ms.is_none();
        RepositoryPass {
            progress: NewestFirst {
                floor: previous.newest_pipeline,
                stored: previous.stored.clone(),
            },
            pending: previous.pending_pipelines.iter().cloned().collect(),
            previous,
            seen: BTreeSet::new(),
            still_pending: Vec::new(),
            numbers: Vec::new(),
            last_listed: None,
            listed_since_checkpoint: 0,
            first_run_since_ms: first_run.then_some(since_ms),
        }
    }

    /// What to do with a listed pipeline.
    pub(super) fn decide(&self, pipeline: &Pipeline) -> Listed {
        let uuid = pipeline.uuid.as_deref().unwrap_or_default();
        let created = pipeline.created_on.as_deref().and_then(parse_time);
        if self
            .first_run_since_ms
            .is_some_and(|since| created.is_some_and(|t| t < since))
        {
            return Listed::Stop;
        }
        self.progress
            .decide(pipeline.build_number, self.pending.contains(uuid))
    }

    /// A pipeline is stored (read, or skipped as stored by an earlier pass when `is_final` is
    /// `None`); `listed`: it came from the listing. Returns whether an interim checkpoint is due.
    pub(super) fn stored(
        &mut self,
        uuid: &str,
        number: Option<i64>,
        is_final: Option<bool>,
        listed: bool,
    ) -> bool {
        if is_final == Some(false) {
            self.still_pending.push(uuid.to_owned());
        }
        if is_final.is_some() {
            self.numbers.extend(number);
        }
        if !listed {
            return false;
        }
        self.seen.insert(uuid.to_owned());
        let Some(number) = number else { return false };
        self.progress.mark(self.last_listed, number);
        self.last_listed = Some(number);
        self.listed_since_checkpoint += 1;
        let due = self.listed_since_checkpoint >= CHECKPOINT_EVERY;
        if due {
            self.listed_since_checkpoint = 0;
        }
        due
    }

    /// Pipelines held as not final that the listing did not reach: read one by one.
    pub(super) fn unlisted_pending(&self) -> Vec<String> {
        self.pending
            .iter()
            .filter(|u| !self.seen.contains(*u))
            .cloned()
            .collect()
    }

    /// The state while the pass goes on: the repository as it was before (so that it is read
    /// again), what this pass stored, every pipeline held as not final by either.
    pub(super) fn interim(&self) -> RepositoryState {
        let pending: BTreeSet<String> = self
            .pending
            .iter()
            .chain(&self.still_pending)
            .cloned()
            .collect();
        RepositoryState {
            version: STATE_VERSION,
            pending_pipelines: pending.into_iter().collect(),
            stored: self.progress.stored.clone(),
            ..self.previous.clone()
        }
    }

    /// Completes `state` with the pass: pipelines still not final, and the newest number moved
    /// only by numbers that make sense; returns the numbers rejected.
    pub(super) fn finish(self, state: &mut RepositoryState) -> Vec<i64> {
        let numbers = self.numbers.into_iter().chain(self.progress.stored_top());
        let moved =
            cidata_sync::advance_mark(self.previous.newest_pipeline, numbers, MarkRule::SEQUENCE);
        state.newest_pipeline = moved.mark;
        state.pending_pipelines = self.still_pending;
        state.stored = Vec::new();
        moved.rejected
    }
}
