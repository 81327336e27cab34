//! A project's saved state and the decisions of a pass over it, without I/O: when a pipeline is
//! final, what one pipeline's read found, and what the pass saves, interim or final.

use std::collections::{BTreeMap, BTreeSet};

use cidata_circleci::models::{Pipeline, PipelineState, Workflow, parse_time};
use cidata_sync::{MarkRule, NewestFirst, NumberRange, Operation, Value, now_ms};
use serde::{Deserialize, Serialize};

use super::tables::{JOBS, PIPELINES, WORKFLOWS};

/// How long a pipeline may show no workflow before "none" is taken as final (every workflow
/// filtered out by branch filters): CircleCI adds a pipeline's workflows within seconds.
pub(super) const NO_WORKFLOWS_SETTLE_MS: i64 = 3_600_000;

/// A pipeline is final when its own state says so (errored), or when its setup ended and every
/// workflow is final. With no workflow (yet), only once it is older than
/// [`NO_WORKFLOWS_SETTLE_MS`]: an empty list read a moment after creation is no end.
pub(super) fn pipeline_is_final(pipeline: &Pipeline, workflows: &[Workflow], now_ms: i64) -> bool {
    match pipeline.state {
        Some(PipelineState::Errored) => true,
        Some(PipelineState::Created) if workflows.is_empty() => {
            let created = pipeline.created_at.as_deref().and_then(parse_time);
            created.is_some_and(|c| now_ms.saturating_sub(c) >= NO_WORKFLOWS_SETTLE_MS)
        }
        Some(PipelineState::Created) => workflows.iter().all(Workflow::is_final),
        _ => false,
    }
}

/// The version of [`ProjectState`]; an older state makes the project read in full once.
pub(super) const STATE_VERSION: u32 = 1;

/// Workflows of one pipeline whose jobs are read at the same time.
pub(super) const WORKFLOWS_AT_ONCE: usize = 4;

/// A pipeline held as not final, and the workflows of it already read as final.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct PendingPipeline {
    pub(super) id: String,
    pub(super) number: Option<i64>,
    #[serde(default)]
    pub(super) final_workflows: Vec<String>,
}

/// A workflow seen within the rerun lookback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct RecentWorkflow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) created_ms: i64,
}

/// What a project's checkpoint remembers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ProjectState {
    #[serde(default)]
    pub(super) version: u32,
    /// The newest pipeline number read.
    pub(super) newest: Option<i64>,
    /// Pipelines not final: read again every run.
    #[serde(default)]
    pub(super) pending: Vec<PendingPipeline>,
    /// Workflows not final: their jobs are read again.
    #[serde(default)]
    pub(super) pending_workflows: Vec<String>,
    /// Workflows of the rerun lookback window, to tell a rerun from a known run.
    #[serde(default)]
    pub(super) recent: Vec<RecentWorkflow>,
    /// While a pass is under way (a run stopped half-way): the pipeline numbers it stored, which
    /// the next pass skips (see `cidata_sync::NewestFirst`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) stored: Vec<NumberRange>,
}

/// What reading one pipeline found.
pub(super) struct PipelineRead {
    pub(super) ops: Vec<Operation>,
    pub(super) number: Option<i64>,
    /// Came from the listing (read, or stored by an earlier pass), for the pass's progress.
    pub(super) listed: bool,
    pub(super) pending: Option<PendingPipeline>,
    pub(super) pending_workflows: Vec<String>,
    pub(super) recent: Vec<RecentWorkflow>,
}

impl PipelineRead {
    /// A pipeline held as not final (or with a rerun) that now answers 404: marked deleted
    /// (`deleted_at`) and reported; it is no longer pending.
    pub(super) fn vanished(id: &str, partition: &str, error: &cidata_core::Error) -> PipelineRead {
        PipelineRead {
            ops: vec![
                Operation::SoftDelete {
                    table: PIPELINES.name.into(),
                    key: vec![Value::Text(id.to_owned())],
                    at_ms: now_ms(),
                },
                Operation::SoftDeleteWhere {
                    table: WORKFLOWS.name.into(),
                    matching: vec![("pipeline_id".into(), Value::Text(id.to_owned()))],
                    at_ms: now_ms(),
                },
                Operation::SoftDeleteWhere {
                    table: JOBS.name.into(),
                    matching: vec![("pipeline_id".into(), Value::Text(id.to_owned()))],
                    at_ms: now_ms(),
                },
                Operation::Report(cidata_sync::ItemReport {
                    partition: partition.to_owned(),
                    item: format!("pipeline {id}"),
                    problem: format!(
                        "not final when last read, now gone ({error}): marked deleted"
                    ),
                }),
            ],
            number: None,
            listed: false,
            pending: None,
            pending_workflows: Vec::new(),
            recent: Vec::new(),
        }
    }

    /// A listed pipeline an earlier pass stored already: nothing read, but part of the pass.
    pub(super) fn covered(number: Option<i64>) -> PipelineRead {
        PipelineRead {
            ops: Vec::new(),
            number,
            listed: true,
            pending: None,
            pending_workflows: Vec::new(),
            recent: Vec::new(),
        }
    }
}

/// Workflows read as final before (in the lookback window, or of pipelines still pending):
/// their jobs need no new read.
pub(super) fn known_final(previous: &ProjectState) -> BTreeSet<String> {
    let pending: BTreeSet<&String> = previous.pending_workflows.iter().collect();
    let mut known: BTreeSet<String> = previous
        .recent
        .iter()
        .map(|r| r.id.clone())
        .filter(|id| !pending.contains(id))
        .collect();
    known.extend(
        previous
            .pending
            .iter()
            .flat_map(|p| p.final_workflows.iter().cloned()),
    );
    known
}

/// Listed pipelines between two checkpoints of a pass: a project of 10,000 pipelines commits
/// its rows and where it stands every page, so that a run stopped half-way resumes there.
pub(super) const CHECKPOINT_EVERY: usize = 20;

/// A project's pass: what it has read so far, and the state to save, interim or final. No I/O:
/// the driver hands it each read, in listing order.
pub(super) struct ProjectPass {
    pub(super) previous: ProjectState,
    pub(super) progress: NewestFirst,
    pub(super) last_listed: Option<i64>,
    pub(super) listed_since_checkpoint: usize,
    pub(super) numbers: Vec<i64>,
    pub(super) pending: Vec<PendingPipeline>,
    pub(super) pending_workflows: Vec<String>,
    pub(super) recent: BTreeMap<String, RecentWorkflow>,
}

impl ProjectPass {
    pub(super) fn new(previous: ProjectState, cutoff_ms: i64) -> ProjectPass {
        let recent = previous
            .recent
            .iter()
            .filter(|r| r.created_ms >= cutoff_ms)
            .map(|r| (r.id.clone(), r.clone()))
            .collect();
        ProjectPass {
            progress: NewestFirst {
                floor: previous.newest,
                stored: previous.stored.clone(),
            },
            previous,
            last_listed: None,
            listed_since_checkpoint: 0,
            numbers: Vec::new(),
            pending: Vec::new(),
            pending_workflows: Vec::new(),
            recent,
        }
    }

    /// Takes a read (its rows are stored once the returned operations are): returns them, and
    /// whether an interim checkpoint is due after them.
    pub(super) fn take(&mut self, read: PipelineRead) -> (Vec<Operation>, bool) {
        self.numbers.extend(read.number);
        self.pending.extend(read.pending);
        self.pending_workflows.extend(read.pending_workflows);
        for r in read.recent {
            self.recent.insert(r.id.clone(), r);
        }
        let mut due = false;
        if read.listed
            && let Some(number) = read.number
        {
            self.progress.mark(self.last_listed, number);
            self.last_listed = Some(number);
            self.listed_since_checkpoint += 1;
            due = self.listed_since_checkpoint >= CHECKPOINT_EVERY;
            if due {
                self.listed_since_checkpoint = 0;
            }
        }
        (read.ops, due)
    }

    /// The state while the pass goes on: the last complete pass's newest number, what this pass
    /// stored, and every pipeline held as not final by either (read again next run).
    pub(super) fn interim(&self) -> ProjectState {
        let mut pending: BTreeMap<String, PendingPipeline> = self
            .previous
            .pending
            .iter()
            .map(|p| (p.id.clone(), p.clone()))
            .collect();
        pending.extend(self.pending.iter().map(|p| (p.id.clone(), p.clone())));
        let mut pending: Vec<PendingPipeline> = pending.into_values().collect();
        pending.sort_by_key(|p| std::cmp::Reverse(p.number));
        let workflows: BTreeSet<String> = self
            .previous
            .pending_workflows
            .iter()
            .chain(&self.pending_workflows)
            .cloned()
            .collect();
        ProjectState {
            version: STATE_VERSION,
            newest: self.previous.newest,
            pending,
            pending_workflows: workflows.into_iter().collect(),
            recent: self.recent.values().cloned().collect(),
            stored: self.progress.stored.clone(),
        }
    }

    /// The state once the pass completed, and the numbers rejected: the newest number moves only
    /// by numbers that make sense (one 2^63-1 would make every later pipeline look held).
    pub(super) fn finish(self) -> (ProjectState, Vec<i64>) {
        let numbers = self.numbers.into_iter().chain(self.progress.stored_top());
        let moved = cidata_sync::advance_mark(self.previous.newest, numbers, MarkRule::SEQUENCE);
        let mut pending = self.pending;
        pending.sort_by_key(|p| std::cmp::Reverse(p.number));
        let state = ProjectState {
            version: STATE_VERSION,
            newest: moved.mark,
            pending,
            pending_workflows: self.pending_workflows,
            recent: self.recent.into_values().collect(),
            stored: Vec::new(),
        };
        (state, moved.rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline(state: &str, created_ms: i64) -> Pipeline {
        let created = cidata_sync::format_timestamp(created_ms);
        serde_json::from_str(&format!(
            r#"{{"id":"p","number":1,"state":"{state}","created_at":"{created}"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn a_pipeline_without_workflows_is_final_only_once_settled_or_errored() {
        let now = 1_800_000_000_000;
        let fresh = pipeline("created", now - 60_000);
        assert!(
            !pipeline_is_final(&fresh, &[], now),
            "read a minute after creation"
        );
        let settled = pipeline("created", now - NO_WORKFLOWS_SETTLE_MS);
        assert!(
            pipeline_is_final(&settled, &[], now),
            "every workflow filtered out"
        );
        assert!(pipeline_is_final(&pipeline("errored", now), &[], now));
        assert!(!pipeline_is_final(
            &pipeline("setup", now - 86_400_000),
            &[],
            now
        ));
        let running: Workflow = serde_json::from_str(r#"{"id":"w","status":"running"}"#).unwrap();
        let done: Workflow = serde_json::from_str(r#"{"id":"w","status":"success"}"#).unwrap();
        assert!(!pipeline_is_final(&settled, &[running, done.clone()], now));
        assert!(pipeline_is_final(&fresh, &[done], now));
    }

    #[test]
    fn an_interim_state_keeps_what_the_last_complete_pass_held_pending() {
        let previous = ProjectState {
            version: STATE_VERSION,
            newest: Some(10),
            pending: vec![PendingPipeline {
                id: "old".into(),
                number: Some(7),
                final_workflows: vec![],
            }],
            ..ProjectState::default()
        };
        let mut pass = ProjectPass::new(previous, 0);
        let read = PipelineRead {
            ops: vec![],
            number: Some(12),
            listed: true,
            pending: Some(PendingPipeline {
                id: "new".into(),
                number: Some(12),
                final_workflows: vec![],
            }),
            pending_workflows: vec!["w".into()],
            recent: vec![],
        };
        pass.take(read);
        let interim = pass.interim();
        assert_eq!(
            interim.newest,
            Some(10),
            "the floor moves only when the pass completes"
        );
        let ids: Vec<&str> = interim.pending.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["new", "old"]);
        assert_eq!(interim.stored, [NumberRange { low: 12, top: 12 }]);
        let (done, rejected) = pass.finish();
        assert_eq!((done.newest, rejected.len()), (Some(12), 0));
        assert!(done.stored.is_empty());
    }
}
