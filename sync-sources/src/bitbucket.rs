//! The Bitbucket source of `cidata-sync` (feature `sync`): workspaces, projects and repositories
//! (the seed connector's tables and columns first), then pipelines and pull requests of the
//! repositories that moved.
//!
//! Discovery, per workspace (its checkpoint committed with its rows):
//! - repositories changed since the last run (`q=updated_on >= cursor - lookback`, sorted by
//!   `updated_on`: ties at the cursor are read again, never lost): usually one request;
//! - every `full_check_hours` (and on the first run): the workspace, its projects and every
//!   repository, so that deleted repositories get `deleted_at`;
//! - a partition for each repository whose `updated_on` moved since its own checkpoint (a push
//!   moves it), that holds pipelines not final, or that was last read a full check ago (for
//!   pipelines a push did not start: by hand, by a schedule).
//!
//! A repository partition (its own checkpoint) reads pipelines newest first down to the first
//! one it holds as final, reads again the ones it holds as not final, and reads pull requests
//! changed since its cursor (every state). `initial_sync_days` bounds how far back the first run
//! of a repository goes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use cidata_sync::{
    Checkpoint, ColumnDef, ColumnType, Discovery, Error, Listed, MarkRule, NewestFirst,
    NumberRange, Operation, RequestCounts, Result, Source, State, TableDef, TableSchema, Value,
    now_ms,
};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use cidata_bitbucket::models::{
    Pipeline, PipelineStep, Project, PullRequest, PullRequestState, Repository, Workspace,
};
use cidata_bitbucket::{Bitbucket, ErrorKind, Filter, FilterValue, Query, parse_time};

fn text(value: &Option<String>) -> Value {
    value.clone().into()
}

fn time(value: &Option<String>) -> Value {
    Value::timestamp(value.as_deref().and_then(parse_time))
}

/// A pipeline's or step's state (`COMPLETED`, `IN_PROGRESS`, ...).
fn state_name(state: Option<&cidata_bitbucket::models::PipelineState>) -> Value {
    state
        .and_then(|s| s.name.as_ref())
        .map(|n| n.as_str().to_owned())
        .into()
}

/// A completed pipeline's or step's result (`SUCCESSFUL`, `FAILED`, ...).
fn result_name(state: Option<&cidata_bitbucket::models::PipelineState>) -> Value {
    state.and_then(|s| s.result.as_ref()?.name.clone()).into()
}

fn raw(value: &cidata_core::raw::RawJson) -> Value {
    Value::Json(value.get().to_owned())
}

/// A row with when it was read.
pub struct Row<T> {
    /// The model.
    pub item: T,
    /// When it was read.
    pub synced_at: i64,
}

/// A pull request with its repository.
pub struct PullRequestRow {
    /// The pull request.
    pub item: PullRequest,
    /// The repository's UUID.
    pub repository_uuid: String,
    /// When it was read.
    pub synced_at: i64,
}

/// A pipeline with its repository.
pub struct PipelineRow {
    /// The pipeline.
    pub item: Pipeline,
    /// The repository's UUID.
    pub repository_uuid: String,
    /// When it was read.
    pub synced_at: i64,
}

/// A step with its pipeline.
pub struct StepRow {
    /// The step.
    pub item: PipelineStep,
    /// The pipeline's UUID.
    pub pipeline_uuid: String,
    /// The pipeline's build number.
    pub pipeline_number: Option<i64>,
    /// The repository's UUID.
    pub repository_uuid: String,
    /// When it was read.
    pub synced_at: i64,
}

/// A project with its workspace.
pub struct ProjectRow {
    /// The project.
    pub item: Project,
    /// The workspace's UUID.
    pub workspace_uuid: Option<String>,
    /// When it was read.
    pub synced_at: i64,
}

/// `bitbucket_workspaces`: the seed connector's columns, then `raw`.
pub static WORKSPACES: TableDef<Row<Workspace>> = TableDef {
    name: "bitbucket_workspaces",
    key: &["uuid"],
    columns: &[
        ColumnDef::new("uuid", ColumnType::Text, |r| text(&r.item.uuid)),
        ColumnDef::new("name", ColumnType::Text, |r| text(&r.item.name)),
        ColumnDef::new("slug", ColumnType::Text, |r| text(&r.item.slug)),
        ColumnDef::new("type", ColumnType::Text, |r| text(&r.item.kind)),
        ColumnDef::new("is_private", ColumnType::Boolean, |r| {
            r.item.is_private.into()
        }),
        ColumnDef::new("created_on", ColumnType::Timestamp, |r| {
            time(&r.item.created_on)
        }),
        ColumnDef::new("updated_on", ColumnType::Timestamp, |r| {
            time(&r.item.updated_on)
        }),
        ColumnDef::new("website", ColumnType::Text, |r| text(&r.item.website)),
        ColumnDef::new("location", ColumnType::Text, |r| text(&r.item.location)),
        ColumnDef::new("has_publicly_visible_repos", ColumnType::Boolean, |r| {
            r.item.has_publicly_visible_repos.into()
        }),
        ColumnDef::volatile("synced_at", ColumnType::Timestamp, |r| {
            Value::Timestamp(r.synced_at)
        }),
        ColumnDef::new("raw", ColumnType::Json, |r| raw(&r.item.raw)),
        // Which configured account wrote the row (several may share the tables).
        ColumnDef::source_name("server"),
    ],
    soft_delete: None,
};

/// `bitbucket_repositories`: the seed connector's columns, then `deleted_at` and `raw`.
pub static REPOSITORIES: TableDef<Row<Repository>> = TableDef {
    name: "bitbucket_repositories",
    key: &["uuid"],
    columns: &[
        ColumnDef::new("uuid", ColumnType::Text, |r| text(&r.item.uuid)),
        ColumnDef::new("name", ColumnType::Text, |r| text(&r.item.name)),
        ColumnDef::new("full_name", ColumnType::Text, |r| text(&r.item.full_name)),
        ColumnDef::new("slug", ColumnType::Text, |r| text(&r.item.slug)),
        ColumnDef::new("workspace_uuid", ColumnType::Text, |r| {
            r.item
                .workspace
                .as_ref()
                .and_then(|w| w.uuid.clone())
                .into()
        }),
        ColumnDef::new("is_private", ColumnType::Boolean, |r| {
            r.item.is_private.into()
        }),
        ColumnDef::new("description", ColumnType::Text, |r| {
            text(&r.item.description)
        }),
        ColumnDef::new("scm", ColumnType::Text, |r| text(&r.item.scm)),
        ColumnDef::new("website", ColumnType::Text, |r| text(&r.item.website)),
        ColumnDef::new("language", ColumnType::Text, |r| text(&r.item.language)),
        ColumnDef::new("has_issues", ColumnType::Boolean, |r| {
            r.item.has_issues.into()
        }),
        ColumnDef::new("has_wiki", ColumnType::Boolean, |r| r.item.has_wiki.into()),
        ColumnDef::new("size", ColumnType::Integer, |r| r.item.size.into()),
        ColumnDef::new("created_on", ColumnType::Timestamp, |r| {
            time(&r.item.created_on)
        }),
        ColumnDef::new("updated_on", ColumnType::Timestamp, |r| {
            time(&r.item.updated_on)
        }),
        ColumnDef::new("pushed_on", ColumnType::Timestamp, |r| {
            // Not in the API any more; kept for the seed's schema when a server sends it.
            let value: Option<String> = r
                .item
                .raw
                .parse::<serde_json::Value>()
                .ok()
                .and_then(|v| v.get("pushed_on")?.as_str().map(str::to_owned));
            time(&value)
        }),
        ColumnDef::new("fork_policy", ColumnType::Text, |r| {
            text(&r.item.fork_policy)
        }),
        ColumnDef::new("mainbranch_name", ColumnType::Text, |r| {
            r.item
                .mainbranch
                .as_ref()
                .and_then(|b| b.name.clone())
                .into()
        }),
        ColumnDef::new("project_uuid", ColumnType::Text, |r| {
            r.item.project.as_ref().and_then(|p| p.uuid.clone()).into()
        }),
        ColumnDef::new("project_name", ColumnType::Text, |r| {
            r.item.project.as_ref().and_then(|p| p.name.clone()).into()
        }),
        ColumnDef::volatile("synced_at", ColumnType::Timestamp, |r| {
            Value::Timestamp(r.synced_at)
        }),
        ColumnDef::new("deleted_at", ColumnType::Timestamp, |_| Value::Null),
        ColumnDef::new("raw", ColumnType::Json, |r| raw(&r.item.raw)),
        // Which configured account wrote the row (several may share the tables).
        ColumnDef::source_name("server"),
    ],
    soft_delete: Some("deleted_at"),
};

/// `bitbucket_projects`: the seed connector's columns, then `raw`.
pub static PROJECTS: TableDef<ProjectRow> = TableDef {
    name: "bitbucket_projects",
    key: &["uuid"],
    columns: &[
        ColumnDef::new("uuid", ColumnType::Text, |r| text(&r.item.uuid)),
        ColumnDef::new("key", ColumnType::Text, |r| text(&r.item.key)),
        ColumnDef::new("name", ColumnType::Text, |r| text(&r.item.name)),
        ColumnDef::new("workspace_uuid", ColumnType::Text, |r| {
            text(&r.workspace_uuid)
        }),
        ColumnDef::new("description", ColumnType::Text, |r| {
            text(&r.item.description)
        }),
        ColumnDef::new("is_private", ColumnType::Boolean, |r| {
            r.item.is_private.into()
        }),
        ColumnDef::new("created_on", ColumnType::Timestamp, |r| {
            time(&r.item.created_on)
        }),
        ColumnDef::new("updated_on", ColumnType::Timestamp, |r| {
            time(&r.item.updated_on)
        }),
        ColumnDef::volatile("synced_at", ColumnType::Timestamp, |r| {
            Value::Timestamp(r.synced_at)
        }),
        ColumnDef::new("raw", ColumnType::Json, |r| raw(&r.item.raw)),
        // Which configured account wrote the row (several may share the tables).
        ColumnDef::source_name("server"),
    ],
    soft_delete: None,
};

/// `bitbucket_pipelines`.
pub static PIPELINES: TableDef<PipelineRow> = TableDef {
    name: "bitbucket_pipelines",
    key: &["uuid"],
    columns: &[
        ColumnDef::new("uuid", ColumnType::Text, |r| text(&r.item.uuid)),
        ColumnDef::new("repository_uuid", ColumnType::Text, |r| {
            r.repository_uuid.clone().into()
        }),
        ColumnDef::new("build_number", ColumnType::Integer, |r| {
            r.item.build_number.into()
        }),
        ColumnDef::new("state", ColumnType::Text, |r| {
            state_name(r.item.state.as_ref())
        }),
        ColumnDef::new("result", ColumnType::Text, |r| {
            result_name(r.item.state.as_ref())
        }),
        ColumnDef::new("trigger_type", ColumnType::Text, |r| {
            let trigger = r.item.trigger.as_ref();
            trigger
                .and_then(|t| t.name.clone().or_else(|| t.kind.clone()))
                .into()
        }),
        ColumnDef::new("ref_name", ColumnType::Text, |r| {
            r.item
                .target
                .as_ref()
                .and_then(|t| t.ref_name.clone())
                .into()
        }),
        ColumnDef::new("commit_hash", ColumnType::Text, |r| {
            let target = r.item.target.as_ref();
            target.and_then(|t| t.commit.as_ref()?.hash.clone()).into()
        }),
        ColumnDef::new("creator", ColumnType::Text, |r| {
            r.item
                .creator
                .as_ref()
                .and_then(|c| c.display_name.clone())
                .into()
        }),
        ColumnDef::new("created_on", ColumnType::Timestamp, |r| {
            time(&r.item.created_on)
        }),
        ColumnDef::new("completed_on", ColumnType::Timestamp, |r| {
            time(&r.item.completed_on)
        }),
        ColumnDef::new("duration_s", ColumnType::Integer, |r| {
            // Running pipelines report the time so far: NULL until final.
            r.item
                .duration_in_seconds
                .filter(|_| r.item.is_final())
                .into()
        }),
        ColumnDef::new("build_seconds_used", ColumnType::Integer, |r| {
            r.item.build_seconds_used.into()
        }),
        ColumnDef::new("is_final", ColumnType::Boolean, |r| {
            r.item.is_final().into()
        }),
        ColumnDef::new("raw", ColumnType::Json, |r| raw(&r.item.raw)),
        ColumnDef::volatile("synced_at", ColumnType::Timestamp, |r| {
            Value::Timestamp(r.synced_at)
        }),
        // Which configured account wrote the row (several may share the tables).
        ColumnDef::source_name("server"),
        // When a pipeline held as not final answered 404: gone, not forgotten.
        ColumnDef::new("deleted_at", ColumnType::Timestamp, |_| Value::Null),
    ],
    soft_delete: Some("deleted_at"),
};

/// `bitbucket_steps` (with the `pipeline_steps` option: one request per pipeline read).
pub static STEPS: TableDef<StepRow> = TableDef {
    name: "bitbucket_steps",
    key: &["uuid"],
    columns: &[
        ColumnDef::new("uuid", ColumnType::Text, |r| text(&r.item.uuid)),
        ColumnDef::new("pipeline_uuid", ColumnType::Text, |r| {
            r.pipeline_uuid.clone().into()
        }),
        ColumnDef::new("pipeline_number", ColumnType::Integer, |r| {
            r.pipeline_number.into()
        }),
        ColumnDef::new("repository_uuid", ColumnType::Text, |r| {
            r.repository_uuid.clone().into()
        }),
        ColumnDef::new("name", ColumnType::Text, |r| text(&r.item.name)),
        ColumnDef::new("state", ColumnType::Text, |r| {
            state_name(r.item.state.as_ref())
        }),
        ColumnDef::new("result", ColumnType::Text, |r| {
            result_name(r.item.state.as_ref())
        }),
        ColumnDef::new("started_on", ColumnType::Timestamp, |r| {
            time(&r.item.started_on)
        }),
        ColumnDef::new("completed_on", ColumnType::Timestamp, |r| {
            time(&r.item.completed_on)
        }),
        ColumnDef::new("duration_s", ColumnType::Integer, |r| {
            r.item
                .duration_in_seconds
                .filter(|_| step_is_final(&r.item))
                .into()
        }),
        ColumnDef::new("build_seconds_used", ColumnType::Integer, |r| {
            r.item.build_seconds_used.into()
        }),
        ColumnDef::new("is_final", ColumnType::Boolean, |r| {
            step_is_final(&r.item).into()
        }),
        ColumnDef::new("raw", ColumnType::Json, |r| raw(&r.item.raw)),
        ColumnDef::volatile("synced_at", ColumnType::Timestamp, |r| {
            Value::Timestamp(r.synced_at)
        }),
        // Which configured account wrote the row (several may share the tables).
        ColumnDef::source_name("server"),
    ],
    soft_delete: None,
};

/// A step is final when completed, or when it will never run (`NOT_RUN`).
fn step_is_final(step: &PipelineStep) -> bool {
    step.state.as_ref().is_some_and(|s| {
        s.is_final() || s.name == Some(cidata_bitbucket::models::PipelineStateName::NotRun)
    })
}

/// `bitbucket_pull_requests`, keyed by repository and number (`{uuid}#12`).
pub static PULL_REQUESTS: TableDef<PullRequestRow> = TableDef {
    name: "bitbucket_pull_requests",
    key: &["id"],
    columns: &[
        ColumnDef::new("id", ColumnType::Text, |r| {
            r.item
                .id
                .map(|n| format!("{}#{n}", r.repository_uuid))
                .into()
        }),
        ColumnDef::new("repository_uuid", ColumnType::Text, |r| {
            r.repository_uuid.clone().into()
        }),
        ColumnDef::new("number", ColumnType::Integer, |r| r.item.id.into()),
        ColumnDef::new("title", ColumnType::Text, |r| text(&r.item.title)),
        ColumnDef::new("state", ColumnType::Text, |r| {
            r.item.state.as_ref().map(|s| s.as_str().to_owned()).into()
        }),
        ColumnDef::new("author", ColumnType::Text, |r| {
            r.item
                .author
                .as_ref()
                .and_then(|a| a.display_name.clone())
                .into()
        }),
        ColumnDef::new("source_branch", ColumnType::Text, |r| {
            let source = r.item.source.as_ref();
            source.and_then(|e| e.branch.as_ref()?.name.clone()).into()
        }),
        ColumnDef::new("destination_branch", ColumnType::Text, |r| {
            let destination = r.item.destination.as_ref();
            destination
                .and_then(|e| e.branch.as_ref()?.name.clone())
                .into()
        }),
        ColumnDef::new("created_on", ColumnType::Timestamp, |r| {
            time(&r.item.created_on)
        }),
        ColumnDef::new("updated_on", ColumnType::Timestamp, |r| {
            time(&r.item.updated_on)
        }),
        ColumnDef::new("merge_commit", ColumnType::Text, |r| {
            r.item
                .merge_commit
                .as_ref()
                .and_then(|c| c.hash.clone())
                .into()
        }),
        ColumnDef::new("comment_count", ColumnType::Integer, |r| {
            r.item.comment_count.into()
        }),
        ColumnDef::new("task_count", ColumnType::Integer, |r| {
            r.item.task_count.into()
        }),
        ColumnDef::new("raw", ColumnType::Json, |r| raw(&r.item.raw)),
        ColumnDef::volatile("synced_at", ColumnType::Timestamp, |r| {
            Value::Timestamp(r.synced_at)
        }),
        // Which configured account wrote the row (several may share the tables).
        ColumnDef::source_name("server"),
    ],
    soft_delete: None,
};

/// Options of the Bitbucket source, with the seed connector's defaults.
#[derive(Debug, Clone)]
pub struct BitbucketSyncOptions {
    /// The workspaces to sync (slugs); empty: every workspace the user can see.
    pub workspaces: Vec<String>,
    /// Sync repositories.
    pub repositories: bool,
    /// Sync projects.
    pub projects: bool,
    /// Sync pipelines of repositories.
    pub pipelines: bool,
    /// Sync pull requests of repositories.
    pub pull_requests: bool,
    /// Sync the steps of pipelines (`bitbucket_steps`): one more request per pipeline read, so
    /// off by default (Bitbucket's hourly rate limit).
    pub pipeline_steps: bool,
    /// How far back pipelines and pull requests go on a repository's first run.
    pub initial_sync_days: u32,
    /// Every repository, project and workspace is read in full this often (deleted repositories
    /// are seen then), and every repository's pipelines checked for runs a push did not start.
    pub full_check: Duration,
    /// Read again what changed this long before the cursor (clock skew, late commits).
    pub lookback: Duration,
    /// Read everything on every run (the seed's `enable_incremental_sync = false`).
    pub incremental: bool,
    /// Let a full check mark every known repository of a workspace (or most of a sizeable set)
    /// deleted at once; off by default, such a run stops with
    /// [`Error::Refused`] before deleting anything.
    pub allow_mass_delete: bool,
}

impl Default for BitbucketSyncOptions {
    fn default() -> Self {
        BitbucketSyncOptions {
            workspaces: Vec::new(),
            repositories: true,
            projects: true,
            pipelines: true,
            pull_requests: true,
            pipeline_steps: false,
            initial_sync_days: 30,
            full_check: Duration::from_secs(24 * 3600),
            lookback: Duration::from_secs(300),
            incremental: true,
            allow_mass_delete: false,
        }
    }
}

/// The version of the saved states; an older one makes a full read once.
const STATE_VERSION: u32 = 1;

/// What a workspace's checkpoint remembers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct WorkspaceState {
    #[serde(default)]
    version: u32,
    /// The newest `updated_on` of a repository read, ms.
    cursor_ms: Option<i64>,
    /// When every repository was last read, ms.
    full_check_ms: Option<i64>,
    /// Each repository's `updated_on` when last read, by UUID (also: which repositories exist).
    #[serde(default)]
    repositories: BTreeMap<String, Option<i64>>,
}

/// What a repository's checkpoint remembers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RepositoryState {
    #[serde(default)]
    version: u32,
    /// The repository's `updated_on` when its pipelines and pull requests were read, ms.
    updated_ms: Option<i64>,
    /// When they were read, ms (a repository is read again at least every full check).
    checked_ms: Option<i64>,
    /// The newest pipeline build number read.
    newest_pipeline: Option<i64>,
    /// Pipelines read while not final: read again until they are.
    #[serde(default)]
    pending_pipelines: Vec<String>,
    /// The newest `updated_on` of a pull request read, ms.
    pull_request_cursor_ms: Option<i64>,
    /// While a pass over the pipelines is under way (a run stopped half-way): the pipeline
    /// numbers it stored, which the next pass skips (see `cidata_sync::NewestFirst`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    stored: Vec<NumberRange>,
}

/// Listed pipelines between two checkpoints of a pass: a repository of thousands of pipelines
/// commits its rows and where it stands every page, so that a run stopped half-way resumes there.
const CHECKPOINT_EVERY: usize = 50;

/// A repository's pass over its pipelines: what to read, what it read, the state to save, interim
/// or final. No I/O: the driver asks it about each listed pipeline and tells it each one stored.
struct RepositoryPass {
    previous: RepositoryState,
    progress: NewestFirst,
    /// Pipelines held as not final before this pass.
    pending: BTreeSet<String>,
    /// Listed in this pass (read or skipped).
    seen: BTreeSet<String>,
    still_pending: Vec<String>,
    numbers: Vec<i64>,
    last_listed: Option<i64>,
    listed_since_checkpoint: usize,
    /// A first run reads back to here (`initial_sync_days`).
    first_run_since_ms: Option<i64>,
}

impl RepositoryPass {
    fn new(previous: RepositoryState, since_ms: i64) -> RepositoryPass {
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
    fn decide(&self, pipeline: &Pipeline) -> Listed {
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
    fn stored(
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
    fn unlisted_pending(&self) -> Vec<String> {
        self.pending
            .iter()
            .filter(|u| !self.seen.contains(*u))
            .cloned()
            .collect()
    }

    /// The state while the pass goes on: the repository as it was before (so that it is read
    /// again), what this pass stored, every pipeline held as not final by either.
    fn interim(&self) -> RepositoryState {
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
    fn finish(self, state: &mut RepositoryState) -> Vec<i64> {
        let numbers = self.numbers.into_iter().chain(self.progress.stored_top());
        let moved =
            cidata_sync::advance_mark(self.previous.newest_pipeline, numbers, MarkRule::SEQUENCE);
        state.newest_pipeline = moved.mark;
        state.pending_pipelines = self.still_pending;
        state.stored = Vec::new();
        moved.rejected
    }
}

/// A repository to read in this run.
#[derive(Debug)]
pub struct RepositoryPartition {
    workspace: String,
    slug: String,
    uuid: String,
    /// Its `updated_on` as listed (none when it was not listed in this run).
    updated_ms: Option<i64>,
    /// Whether to read its pull requests: it moved or is due; not when it is read only for its
    /// running pipelines.
    pull_requests: bool,
    previous: RepositoryState,
}

/// The Bitbucket source.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use cidata_bitbucket::Bitbucket;
/// use cidata_sources::bitbucket::{BitbucketSource, BitbucketSyncOptions};
/// let bitbucket = Bitbucket::builder().api_token("alice@example.com", "...").build()?;
/// let source = BitbucketSource::new(bitbucket, BitbucketSyncOptions::default());
/// let destination = cidata_sync::SqliteDestination::open("ci-sync.db")?;
/// let stats = cidata_sync::Engine::new().run(std::sync::Arc::new(source), Box::new(destination)).await?;
/// println!("{} rows, {} requests", stats.rows_upserted(), stats.requests);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BitbucketSource {
    client: Bitbucket,
    options: Arc<BitbucketSyncOptions>,
    name: String,
}

fn api(e: cidata_core::Error) -> Error {
    Error::source(e)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What a report of a pipeline number that makes no sense says.
const REJECTED_NUMBER: &str = "the number is far beyond every other pipeline's: the checkpoint does not move to it, and the pipeline is read again next run";

/// What a report of an update time that makes no sense says.
const REJECTED_TIME: &str = "its update time is in the future: the cursor does not move to it, and it is read again next run";

fn report(partition: &str, item: String, problem: String) -> Operation {
    Operation::Report(cidata_sync::ItemReport {
        partition: partition.to_owned(),
        item,
        problem,
    })
}

/// The checkpoint of a repository's state.
fn checkpoint(partition: &str, state: &RepositoryState, non_final: u64) -> Result<Operation> {
    Ok(Operation::Checkpoint(Checkpoint {
        partition: partition.to_owned(),
        state: serde_json::to_value(state).map_err(|e| Error::Record(e.to_string()))?,
        non_final,
    }))
}

fn workspace_key(slug: &str) -> String {
    format!("workspace:{slug}")
}

fn repository_key(uuid: &str) -> String {
    format!("repository:{uuid}")
}

fn state_of<T: serde::de::DeserializeOwned + Default>(state: &State, key: &str) -> T {
    state
        .get(key)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

impl BitbucketSource {
    /// A source reading through `client` with `options`.
    pub fn new(client: Bitbucket, options: BitbucketSyncOptions) -> BitbucketSource {
        BitbucketSource {
            client,
            options: Arc::new(options),
            name: "bitbucket".to_owned(),
        }
    }

    /// The name state is saved under (default `bitbucket`).
    pub fn named(mut self, name: impl Into<String>) -> BitbucketSource {
        self.name = name.into();
        self
    }

    /// The client this source reads through.
    pub fn client(&self) -> &Bitbucket {
        &self.client
    }

    /// The workspaces to sync: configured, or every one the user can see.
    async fn workspace_slugs(&self) -> Result<Vec<String>> {
        if !self.options.workspaces.is_empty() {
            return Ok(self.options.workspaces.clone());
        }
        let access: Vec<_> = self
            .client
            .user_workspaces()
            .try_collect()
            .await
            .map_err(api)?;
        Ok(access
            .into_iter()
            .filter_map(|a| a.workspace.and_then(|w| w.slug))
            .collect())
    }

    /// A pipeline's row, and its steps' when the options ask for them.
    async fn pipeline_rows(
        &self,
        p: &RepositoryPartition,
        pipeline: Pipeline,
        synced_at: i64,
    ) -> Result<Vec<Operation>> {
        let uuid = pipeline.uuid.clone().unwrap_or_default();
        let number = pipeline.build_number;
        let row = PipelineRow {
            item: pipeline,
            repository_uuid: p.uuid.clone(),
            synced_at,
        };
        let mut ops = vec![Operation::Upsert(PIPELINES.record(&row)?)];
        if self.options.pipeline_steps {
            let at = (p.workspace.as_str(), p.slug.as_str(), p.uuid.as_str());
            ops.extend(self.steps(at, &uuid, number, synced_at).await?);
        }
        Ok(ops)
    }

    /// The rows of a pipeline's steps.
    async fn steps(
        &self,
        (workspace, slug, repository_uuid): (&str, &str, &str),
        pipeline: &str,
        pipeline_number: Option<i64>,
        synced_at: i64,
    ) -> Result<Vec<Operation>> {
        // A pipeline just read has steps: a 404 for them is an error (the partition is read
        // again next run), never "no steps".
        let listed = self.client.pipeline_steps(workspace, slug, pipeline);
        let steps: Vec<PipelineStep> = listed.try_collect().await.map_err(api)?;
        steps
            .into_iter()
            .map(|item| {
                let row = StepRow {
                    item,
                    pipeline_uuid: pipeline.to_owned(),
                    pipeline_number,
                    repository_uuid: repository_uuid.to_owned(),
                    synced_at,
                };
                Ok(Operation::Upsert(STEPS.record(&row)?))
            })
            .collect()
    }

    fn read_repository(&self, p: RepositoryPartition) -> BoxStream<'static, Result<Operation>> {
        let source = self.clone();
        let stream = async_stream::try_stream! {
            let options = source.options.clone();
            let previous = if p.previous.version == STATE_VERSION { p.previous.clone() } else { RepositoryState::default() };
            let since_ms = now_ms() - i64::from(options.initial_sync_days) * 86_400_000;
            let mut state = RepositoryState {
                version: STATE_VERSION,
                updated_ms: p.updated_ms.or(previous.updated_ms),
                checked_ms: Some(now_ms()),
                ..previous.clone()
            };
            let synced_at = now_ms();
            // The pull requests' first page is asked for while the pipelines are read: a
            // repository costs one round trip, not two in a row.
            let from = previous.pull_request_cursor_ms.map_or(since_ms, |c| c - millis(options.lookback));
            let query = Query::new()
                .filter(Filter::gte("updated_on", FilterValue::time_ms(from)))
                .sort_asc("updated_on");
            let all_states = [PullRequestState::Open, PullRequestState::Merged, PullRequestState::Declined, PullRequestState::Superseded];
            let pull_requests = if options.pull_requests && p.pull_requests {
                let listed = source.client.pull_requests(&p.workspace, &p.slug, &all_states, &query);
                Some(cidata_core::read_ahead(listed, 100))
            } else {
                None
            };
            if options.pipelines {
                let partition = repository_key(&p.uuid);
                let mut pass = RepositoryPass::new(previous.clone(), since_ms);
                let query = Query::new().sort_desc("created_on");
                let listed = source.client.pipelines(&p.workspace, &p.slug, &query);
                let mut listed = std::pin::pin!(listed);
                loop {
                    let pipeline = match listed.try_next().await {
                        Ok(Some(pipeline)) => pipeline,
                        Ok(None) => break,
                        // A repository without Pipelines enabled has none (a 404 for a later
                        // page is an `IncompleteList` error, not this).
                        Err(e) if e.kind() == ErrorKind::NotFound => break,
                        Err(e) => Err(api(e))?,
                    };
                    let uuid = pipeline.uuid.clone().unwrap_or_default();
                    let number = pipeline.build_number;
                    let is_final = match pass.decide(&pipeline) {
                        Listed::Stop => break,
                        Listed::Skip => None,
                        Listed::Read => {
                            let is_final = pipeline.is_final();
                            for op in source.pipeline_rows(&p, pipeline, synced_at).await? {
                                yield op;
                            }
                            Some(is_final)
                        }
                    };
                    if pass.stored(&uuid, number, is_final, true) {
                        yield checkpoint(&partition, &pass.interim(), 0)?;
                    }
                }
                for uuid in pass.unlisted_pending() {
                    match source.client.pipeline(&p.workspace, &p.slug, &uuid).await {
                        Ok(pipeline) => {
                            let (number, is_final) = (pipeline.build_number, pipeline.is_final());
                            for op in source.pipeline_rows(&p, pipeline, synced_at).await? {
                                yield op;
                            }
                            pass.stored(&uuid, number, Some(is_final), false);
                        }
                        // Gone: it cannot change any more. Marked and reported, not forgotten.
                        Err(e) if e.kind() == ErrorKind::NotFound => {
                            yield Operation::SoftDelete { table: PIPELINES.name.into(), key: vec![Value::Text(uuid.clone())], at_ms: now_ms() };
                            yield report(&partition, format!("pipeline {uuid} of {}/{}", p.workspace, p.slug), format!("not final when last read, now gone ({e}): marked deleted"));
                        }
                        Err(e) => Err(api(e))?,
                    }
                }
                for number in pass.finish(&mut state) {
                    yield report(&partition, format!("pipeline number {number} of {}/{}", p.workspace, p.slug), REJECTED_NUMBER.into());
                }
            }
            if let Some(listed) = pull_requests {
                let mut listed = std::pin::pin!(listed);
                loop {
                    let pr = match listed.try_next().await {
                        Ok(Some(pr)) => pr,
                        Ok(None) => break,
                        // Deleted since it was listed: the next full check marks it.
                        Err(e) if e.kind() == ErrorKind::NotFound => break,
                        Err(e) => Err(api(e))?,
                    };
                    let updated = pr.updated_on.as_deref().and_then(parse_time);
                    let moved = cidata_sync::advance_mark(state.pull_request_cursor_ms, updated, cidata_sync::MarkRule::time(synced_at));
                    state.pull_request_cursor_ms = moved.mark;
                    if !moved.rejected.is_empty() {
                        let id = pr.id.map_or_else(|| "?".to_owned(), |id| id.to_string());
                        yield report(&repository_key(&p.uuid), format!("pull request {id} of {}/{}", p.workspace, p.slug), REJECTED_TIME.into());
                    }
                    yield Operation::Upsert(PULL_REQUESTS.record(&PullRequestRow { item: pr, repository_uuid: p.uuid.clone(), synced_at })?);
                }
                state.pull_request_cursor_ms = state.pull_request_cursor_ms.or(Some(from));
            }
            let non_final = state.pending_pipelines.len() as u64;
            yield checkpoint(&repository_key(&p.uuid), &state, non_final)?;
        };
        stream.boxed()
    }
}

impl Source for BitbucketSource {
    type Partition = RepositoryPartition;

    fn name(&self) -> &str {
        &self.name
    }

    fn tables(&self) -> Vec<TableSchema> {
        let o = &self.options;
        let mut tables = vec![WORKSPACES.schema()];
        if o.repositories || o.pipelines || o.pull_requests {
            tables.push(REPOSITORIES.schema());
        }
        if o.projects {
            tables.push(PROJECTS.schema());
        }
        if o.pipelines {
            tables.push(PIPELINES.schema());
        }
        if o.pull_requests {
            tables.push(PULL_REQUESTS.schema());
        }
        if o.pipelines && o.pipeline_steps {
            tables.push(STEPS.schema());
        }
        tables
    }

    fn discover(&self, state: State) -> BoxStream<'static, Result<Discovery<RepositoryPartition>>> {
        let source = self.clone();
        let stream = async_stream::try_stream! {
            let options = source.options.clone();
            let now = now_ms();
            for slug in source.workspace_slugs().await? {
                let previous: WorkspaceState = state_of(&state, &workspace_key(&slug));
                let previous = if previous.version == STATE_VERSION { previous } else { WorkspaceState::default() };
                let full = !options.incremental
                    || previous.full_check_ms.is_none_or(|t| now - t >= millis(options.full_check));
                let synced_at = now_ms();
                let mut next = WorkspaceState { version: STATE_VERSION, ..previous.clone() };
                if full {
                    let workspace = source.client.workspace(&slug).await.map_err(api)?;
                    if workspace.uuid.is_none() {
                        // Its rows hang off its uuid: an answer without one is not a workspace.
                        let url = source.client.base().join(&format!("workspaces/{}", cidata_core::encode_segment(&slug))).map_err(|e| Error::Record(e.to_string()))?;
                        Err(api(cidata_core::Error::new(cidata_core::ErrorKind::Decode, "the answer has no `uuid`, so it is no workspace").with_request("GET", &url)))?;
                    }
                    let workspace_uuid = workspace.uuid.clone();
                    yield Discovery::Operation(Operation::Upsert(WORKSPACES.record(&Row { item: workspace, synced_at })?));
                    if options.projects {
                        let projects = source.client.projects(&slug, &Query::new());
                        let mut projects = std::pin::pin!(projects);
                        while let Some(project) = projects.try_next().await.map_err(api)? {
                            let row = ProjectRow { item: project, workspace_uuid: workspace_uuid.clone(), synced_at };
                            yield Discovery::Operation(Operation::Upsert(PROJECTS.record(&row)?));
                        }
                    }
                }
                // Repositories: all of them at a full check, else those changed since the cursor.
                let query = match (full, previous.cursor_ms) {
                    (false, Some(cursor)) => Query::new()
                        .filter(Filter::gte("updated_on", FilterValue::time_ms(cursor - millis(options.lookback))))
                        .sort_asc("updated_on"),
                    _ => Query::new().sort_asc("updated_on"),
                };
                let mut listed = BTreeSet::new();
                // (uuid, slug, updated_on, read its pull requests)
                let mut to_read: Vec<(String, String, Option<i64>, bool)> = Vec::new();
                let repositories = source.client.repositories(&slug, &query);
                let mut repositories = std::pin::pin!(repositories);
                while let Some(repo) = repositories.try_next().await.map_err(api)? {
                    let (Some(uuid), Some(repo_slug)) = (repo.uuid.clone(), repo.slug.clone()) else { continue };
                    let updated = repo.updated_on.as_deref().and_then(parse_time);
                    let moved = cidata_sync::advance_mark(next.cursor_ms, updated, cidata_sync::MarkRule::time(synced_at));
                    next.cursor_ms = moved.mark;
                    if !moved.rejected.is_empty() {
                        yield Discovery::Operation(report(&workspace_key(&slug), format!("repository {uuid} ({slug}/{repo_slug})"), REJECTED_TIME.into()));
                    }
                    listed.insert(uuid.clone());
                    // Decided by the repository's own checkpoint, committed with its rows: a run
                    // killed before a repository was read reads it next time.
                    let own: RepositoryState = state_of(&state, &repository_key(&uuid));
                    let own = if own.version == STATE_VERSION { own } else { RepositoryState::default() };
                    let moved = own.updated_ms != updated;
                    let due = own.checked_ms.is_none_or(|t| now - t >= millis(options.full_check));
                    let changed = moved || due || !options.incremental;
                    if changed || !own.pending_pipelines.is_empty() {
                        to_read.push((uuid.clone(), repo_slug, updated, changed));
                    }
                    next.repositories.insert(uuid, updated);
                    if options.repositories || options.pipelines || options.pull_requests {
                        yield Discovery::Operation(Operation::Upsert(REPOSITORIES.record(&Row { item: repo, synced_at })?));
                    }
                }
                // Known repositories this listing did not return: read those whose own checkpoint
                // is behind (a run killed before it read them), that hold running pipelines, or
                // that are due for their full check. Their `{uuid}` addresses them.
                // (At a full check every repository was listed: one not listed is gone.)
                for (uuid, recorded) in previous.repositories.iter().filter(|_| !full) {
                    if listed.contains(uuid) {
                        continue;
                    }
                    let own: RepositoryState = state_of(&state, &repository_key(uuid));
                    let own = if own.version == STATE_VERSION { own } else { RepositoryState::default() };
                    let behind = own.updated_ms != *recorded;
                    let due = own.checked_ms.is_none_or(|t| now - t >= millis(options.full_check));
                    if behind || due || !own.pending_pipelines.is_empty() {
                        to_read.push((uuid.clone(), uuid.clone(), *recorded, behind || due));
                    }
                }
                if full {
                    // Gone since the last full check: marked deleted, never dropped.
                    let gone: Vec<String> = previous.repositories.keys().filter(|u| !listed.contains(*u)).cloned().collect();
                    cidata_sync::check_mass_delete(&format!("repositories of `{slug}`"), previous.repositories.len(), gone.len(), options.allow_mass_delete)?;
                    for uuid in &gone {
                        yield Discovery::Operation(Operation::SoftDelete {
                            table: REPOSITORIES.name.into(),
                            key: vec![Value::Text(uuid.clone())],
                            at_ms: now,
                        });
                        next.repositories.remove(uuid);
                    }
                    next.full_check_ms = Some(now);
                }
                yield Discovery::Operation(Operation::Checkpoint(Checkpoint {
                    partition: workspace_key(&slug),
                    state: serde_json::to_value(&next).map_err(|e| Error::Record(e.to_string()))?,
                    non_final: 0,
                }));
                if options.pipelines || options.pull_requests {
                    for (uuid, repo_slug, updated_ms, pull_requests) in to_read {
                        let previous = state_of(&state, &repository_key(&uuid));
                        yield Discovery::Partition(RepositoryPartition { workspace: slug.clone(), slug: repo_slug, uuid, updated_ms, pull_requests, previous });
                    }
                }
            }
        };
        stream.boxed()
    }

    fn partition_key(&self, partition: &RepositoryPartition) -> String {
        repository_key(&partition.uuid)
    }

    fn read(&self, partition: RepositoryPartition) -> BoxStream<'static, Result<Operation>> {
        self.read_repository(partition)
    }

    fn request_counts(&self) -> RequestCounts {
        let s = self.client.stats().snapshot();
        RequestCounts {
            requests: s.requests,
            retries: s.retries,
        }
    }
}

/// The Bitbucket part of the `ci_runs` view (see `cidata_sync::views`): one row per pipeline,
/// `project` its repository's full name, `branch` the ref it built. A pipeline paused at a
/// manual step counts as queued.
pub static RUNS_VIEW: cidata_sync::views::ViewPart = cidata_sync::views::ViewPart {
    view: "ci_runs",
    source: "bitbucket",
    tables: &["bitbucket_pipelines", "bitbucket_repositories"],
    select: runs_view_select,
};

/// The Bitbucket part of the `ci_steps` view: one row per step (with the `pipeline_steps`
/// option), `run_id` its pipeline's UUID.
pub static STEPS_VIEW: cidata_sync::views::ViewPart = cidata_sync::views::ViewPart {
    view: "ci_steps",
    source: "bitbucket",
    tables: &["bitbucket_steps", "bitbucket_repositories"],
    select: steps_view_select,
};

/// The Bitbucket parts of the views: pipelines in `ci_runs`, steps in `ci_steps`.
pub fn view_parts() -> Vec<cidata_sync::views::ViewPart> {
    vec![RUNS_VIEW, STEPS_VIEW]
}

/// Bitbucket's states and results, normalised (pipelines and steps alike).
const STATUS_MAPPING: &[(&str, &[&str])] = &[
    ("success", &["SUCCESSFUL"]),
    ("failure", &["FAILED", "ERROR"]),
    ("cancelled", &["STOPPED", "EXPIRED"]),
    ("skipped", &["NOT_RUN"]),
    ("running", &["IN_PROGRESS", "RUNNING"]),
    (
        "queued",
        &["PENDING", "READY", "PARSING", "PAUSED", "HALTED"],
    ),
];

fn steps_view_select(_: cidata_sync::views::Dialect) -> String {
    let source_status = "COALESCE(s.result, s.state)";
    let status = cidata_sync::views::normalise_status(source_status, STATUS_MAPPING);
    format!(
        "SELECT 'bitbucket', s.server, r.full_name, s.pipeline_uuid, s.uuid, s.name, {status}, \
         {source_status}, s.started_on, s.completed_on, s.duration_s * 1000, s.is_final, s.pipeline_number \
         FROM bitbucket_steps s LEFT JOIN bitbucket_repositories r ON r.uuid = s.repository_uuid"
    )
}

fn runs_view_select(_: cidata_sync::views::Dialect) -> String {
    let source_status = "COALESCE(p.result, p.state)";
    let status = cidata_sync::views::normalise_status(
        source_status,
        &[
            ("success", &["SUCCESSFUL"]),
            ("failure", &["FAILED", "ERROR"]),
            ("cancelled", &["STOPPED", "EXPIRED"]),
            ("skipped", &["NOT_RUN"]),
            ("running", &["IN_PROGRESS", "RUNNING"]),
            (
                "queued",
                &["PENDING", "READY", "PARSING", "PAUSED", "HALTED"],
            ),
        ],
    );
    format!(
        "SELECT 'bitbucket', p.server, r.full_name, p.uuid, p.build_number, p.ref_name, p.commit_hash, \
         {status}, {source_status}, p.created_on, p.completed_on, p.duration_s * 1000, \
         'https://bitbucket.org/' || r.full_name || '/pipelines/results/' || CAST(p.build_number AS TEXT), \
         p.is_final, CAST(NULL AS TEXT) \
         FROM bitbucket_pipelines p LEFT JOIN bitbucket_repositories r ON r.uuid = p.repository_uuid"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_validate() {
        for schema in [
            WORKSPACES.schema(),
            REPOSITORIES.schema(),
            PROJECTS.schema(),
            PIPELINES.schema(),
            PULL_REQUESTS.schema(),
        ] {
            schema.validate().unwrap();
        }
        let repositories = REPOSITORIES.schema();
        assert_eq!(repositories.columns[0].name, "uuid");
        assert_eq!(
            repositories
                .columns
                .iter()
                .position(|c| c.name == "synced_at"),
            Some(20),
            "the seed's 21 columns first"
        );
    }
}
