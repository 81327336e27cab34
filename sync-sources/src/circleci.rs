//! The CircleCI source of `cidata-sync` (feature `sync`): pipelines, workflows and jobs of each
//! project, incrementally, with running workflows re-read until final and reruns of recent
//! pipelines caught through insights.
//!
//! A run, per project (one partition, one checkpoint):
//! 1. pages pipelines newest first until the first one it already holds as final;
//! 2. reads again the pipelines it holds as not final (a workflow runs, waits for an approval);
//! 3. asks insights for the recent runs of each workflow name it saw within `rerun_lookback`
//!    (one request per name): a run it does not know is a rerun, and its pipeline is read again;
//! 4. for each pipeline read: its workflows (one request), and the jobs of every workflow that is
//!    new or was not final (one request each).
//!
//! With nothing new that is one request per project, plus one per workflow name for reruns,
//! plus one per pipeline and one per workflow that is not final (two for a pipeline the listing
//! did not reach). The options `job_details` and `job_tests` add one request per finished job,
//! once, when its workflow is final.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use cidata_sync::{
    Checkpoint, ColumnDef, ColumnType, Discovery, Error, Listed, MarkRule, NewestFirst,
    NumberRange, Operation, RequestCounts, Result, Source, State, TableDef, TableSchema, Value,
    now_ms,
};
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use cidata_circleci::models::{
    Job, JobDetails, JobType, Pipeline, PipelineState, TestMetadata, Workflow, parse_time,
};
use cidata_circleci::{CircleCi, ErrorKind, InsightsQuery, ProjectSlug};

/// A pipeline and what the sync knows of it.
pub struct PipelineRow {
    /// The pipeline.
    pub pipeline: Pipeline,
    /// Whether it and all its workflows are final.
    pub is_final: bool,
    /// When it was read.
    pub synced_at: i64,
}

/// A workflow as synced.
pub struct WorkflowRow {
    /// The workflow.
    pub workflow: Workflow,
    /// When it was read.
    pub synced_at: i64,
}

/// A job as synced, with its workflow's ids.
pub struct JobRow {
    /// The job.
    pub job: Job,
    /// Its details, when the sync reads them (`job_details`).
    pub details: Option<JobDetails>,
    /// Its workflow's id.
    pub workflow_id: String,
    /// Its pipeline's id.
    pub pipeline_id: Option<String>,
    /// Whether its workflow is final (a `not_run` job of a final workflow never runs).
    pub workflow_final: bool,
    /// When it was read.
    pub synced_at: i64,
}

fn text(value: &Option<String>) -> Value {
    value.clone().into()
}

fn time(value: &Option<String>) -> Value {
    Value::timestamp(value.as_deref().and_then(parse_time))
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_string(value).map_or(Value::Null, Value::Json)
}

/// Milliseconds between two API times, when both are there.
fn between(start: &Option<String>, stop: &Option<String>) -> Option<i64> {
    let start = parse_time(start.as_deref()?)?;
    let stop = parse_time(stop.as_deref()?)?;
    (stop >= start).then_some(stop - start)
}

/// `circleci_pipelines`.
pub static PIPELINES: TableDef<PipelineRow> = TableDef {
    name: "circleci_pipelines",
    key: &["id"],
    columns: &[
        ColumnDef::new("id", ColumnType::Text, |r| text(&r.pipeline.id)),
        ColumnDef::new("project_slug", ColumnType::Text, |r| {
            text(&r.pipeline.project_slug)
        }),
        ColumnDef::new("number", ColumnType::Integer, |r| r.pipeline.number.into()),
        ColumnDef::new("state", ColumnType::Text, |r| {
            r.pipeline
                .state
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .into()
        }),
        ColumnDef::new("created_at", ColumnType::Timestamp, |r| {
            time(&r.pipeline.created_at)
        }),
        ColumnDef::new("updated_at", ColumnType::Timestamp, |r| {
            time(&r.pipeline.updated_at)
        }),
        ColumnDef::new("trigger_type", ColumnType::Text, |r| {
            let kind = r.pipeline.trigger.as_ref().and_then(|t| t.kind.as_ref());
            kind.map(|k| k.as_str().to_owned()).into()
        }),
        ColumnDef::new("trigger_actor", ColumnType::Text, |r| {
            let actor = r.pipeline.trigger.as_ref().and_then(|t| t.actor.as_ref());
            actor.and_then(|a| a.login.clone()).into()
        }),
        ColumnDef::new("branch", ColumnType::Text, |r| {
            r.pipeline
                .vcs
                .as_ref()
                .and_then(|v| v.branch.clone())
                .into()
        }),
        ColumnDef::new("tag", ColumnType::Text, |r| {
            r.pipeline.vcs.as_ref().and_then(|v| v.tag.clone()).into()
        }),
        ColumnDef::new("revision", ColumnType::Text, |r| {
            r.pipeline
                .vcs
                .as_ref()
                .and_then(|v| v.revision.clone())
                .into()
        }),
        ColumnDef::new("commit_subject", ColumnType::Text, |r| {
            let commit = r.pipeline.vcs.as_ref().and_then(|v| v.commit.as_ref());
            commit.and_then(|c| c.subject.clone()).into()
        }),
        ColumnDef::new("errors", ColumnType::Json, |r| json(&r.pipeline.errors)),
        ColumnDef::new("raw", ColumnType::Json, |r| {
            Value::Json(r.pipeline.raw.get().to_owned())
        }),
        ColumnDef::new("is_final", ColumnType::Boolean, |r| r.is_final.into()),
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

/// `circleci_workflows`.
pub static WORKFLOWS: TableDef<WorkflowRow> = TableDef {
    name: "circleci_workflows",
    key: &["id"],
    columns: &[
        ColumnDef::new("id", ColumnType::Text, |r| text(&r.workflow.id)),
        ColumnDef::new("pipeline_id", ColumnType::Text, |r| {
            text(&r.workflow.pipeline_id)
        }),
        ColumnDef::new("pipeline_number", ColumnType::Integer, |r| {
            r.workflow.pipeline_number.into()
        }),
        ColumnDef::new("project_slug", ColumnType::Text, |r| {
            text(&r.workflow.project_slug)
        }),
        ColumnDef::new("name", ColumnType::Text, |r| text(&r.workflow.name)),
        ColumnDef::new("status", ColumnType::Text, |r| {
            r.workflow
                .status
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .into()
        }),
        ColumnDef::new("created_at", ColumnType::Timestamp, |r| {
            time(&r.workflow.created_at)
        }),
        ColumnDef::new("stopped_at", ColumnType::Timestamp, |r| {
            time(&r.workflow.stopped_at)
        }),
        ColumnDef::new("duration_ms", ColumnType::Integer, |r| {
            let w = &r.workflow;
            w.is_final()
                .then(|| between(&w.created_at, &w.stopped_at))
                .flatten()
                .into()
        }),
        ColumnDef::new("started_by", ColumnType::Text, |r| {
            text(&r.workflow.started_by)
        }),
        ColumnDef::new("tag", ColumnType::Text, |r| text(&r.workflow.tag)),
        ColumnDef::new("raw", ColumnType::Json, |r| {
            Value::Json(r.workflow.raw.get().to_owned())
        }),
        ColumnDef::new("is_final", ColumnType::Boolean, |r| {
            r.workflow.is_final().into()
        }),
        ColumnDef::volatile("synced_at", ColumnType::Timestamp, |r| {
            Value::Timestamp(r.synced_at)
        }),
        // Which configured account wrote the row (several may share the tables).
        ColumnDef::source_name("server"),
    ],
    soft_delete: None,
};

/// `circleci_jobs`.
pub static JOBS: TableDef<JobRow> = TableDef {
    name: "circleci_jobs",
    key: &["id"],
    columns: &[
        ColumnDef::new("id", ColumnType::Text, |r| text(&r.job.id)),
        ColumnDef::new("workflow_id", ColumnType::Text, |r| {
            r.workflow_id.clone().into()
        }),
        ColumnDef::new("pipeline_id", ColumnType::Text, |r| text(&r.pipeline_id)),
        ColumnDef::new("project_slug", ColumnType::Text, |r| {
            text(&r.job.project_slug)
        }),
        ColumnDef::new("name", ColumnType::Text, |r| text(&r.job.name)),
        ColumnDef::new("job_number", ColumnType::Integer, |r| {
            r.job.job_number.into()
        }),
        ColumnDef::new("type", ColumnType::Text, |r| {
            r.job.kind.as_ref().map(|k| k.as_str().to_owned()).into()
        }),
        ColumnDef::new("status", ColumnType::Text, |r| {
            r.job.status.as_ref().map(|s| s.as_str().to_owned()).into()
        }),
        ColumnDef::new("started_at", ColumnType::Timestamp, |r| {
            time(&r.job.started_at)
        }),
        ColumnDef::new("stopped_at", ColumnType::Timestamp, |r| {
            time(&r.job.stopped_at)
        }),
        ColumnDef::new("duration_ms", ColumnType::Integer, |r| {
            job_is_final(r)
                .then(|| between(&r.job.started_at, &r.job.stopped_at))
                .flatten()
                .into()
        }),
        ColumnDef::new("dependencies", ColumnType::Json, |r| {
            json(&r.job.dependencies)
        }),
        ColumnDef::new("approved_by", ColumnType::Text, |r| {
            text(&r.job.approved_by)
        }),
        ColumnDef::new("raw", ColumnType::Json, |r| {
            Value::Json(r.job.raw.get().to_owned())
        }),
        ColumnDef::new("is_final", ColumnType::Boolean, |r| job_is_final(r).into()),
        ColumnDef::volatile("synced_at", ColumnType::Timestamp, |r| {
            Value::Timestamp(r.synced_at)
        }),
        // Filled with the `job_details` option (one request per job), NULL otherwise.
        ColumnDef::new("executor_type", ColumnType::Text, |r| {
            let executor = r.details.as_ref().and_then(|d| d.executor.as_ref());
            executor.and_then(|e| e.kind.clone()).into()
        }),
        ColumnDef::new("resource_class", ColumnType::Text, |r| {
            let executor = r.details.as_ref().and_then(|d| d.executor.as_ref());
            executor.and_then(|e| e.resource_class.clone()).into()
        }),
        ColumnDef::new("parallelism", ColumnType::Integer, |r| {
            r.details.as_ref().and_then(|d| d.parallelism).into()
        }),
        ColumnDef::new("queued_at", ColumnType::Timestamp, |r| {
            r.details
                .as_ref()
                .map_or(Value::Null, |d| time(&d.queued_at))
        }),
        // Which configured account wrote the row (several may share the tables).
        ColumnDef::source_name("server"),
    ],
    soft_delete: None,
};

/// A test result of a job.
pub struct TestRow {
    /// The result.
    pub test: TestMetadata,
    /// Its place in the job's list (results have no id of their own).
    pub index: usize,
    /// The job's id.
    pub job_id: String,
    /// The job's number.
    pub job_number: Option<i64>,
    /// The workflow's id.
    pub workflow_id: String,
    /// The project.
    pub project_slug: Option<String>,
    /// When it was read.
    pub synced_at: i64,
}

/// `circleci_tests` (with the `job_tests` option: one request per job).
pub static TESTS: TableDef<TestRow> = TableDef {
    name: "circleci_tests",
    key: &["id"],
    columns: &[
        ColumnDef::new("id", ColumnType::Text, |r| {
            format!("{}/{}", r.job_id, r.index).into()
        }),
        ColumnDef::new("job_id", ColumnType::Text, |r| r.job_id.clone().into()),
        ColumnDef::new("job_number", ColumnType::Integer, |r| r.job_number.into()),
        ColumnDef::new("workflow_id", ColumnType::Text, |r| {
            r.workflow_id.clone().into()
        }),
        ColumnDef::new("project_slug", ColumnType::Text, |r| text(&r.project_slug)),
        ColumnDef::new("name", ColumnType::Text, |r| text(&r.test.name)),
        ColumnDef::new("classname", ColumnType::Text, |r| text(&r.test.classname)),
        ColumnDef::new("file", ColumnType::Text, |r| text(&r.test.file)),
        ColumnDef::new("result", ColumnType::Text, |r| text(&r.test.result)),
        ColumnDef::new("run_time_ms", ColumnType::Integer, |r| {
            r.test
                .run_time
                .filter(|t| t.is_finite() && *t >= 0.0)
                .map(|t| (t * 1000.0).round() as i64)
                .into()
        }),
        ColumnDef::new("message", ColumnType::Text, |r| text(&r.test.message)),
        ColumnDef::new("source", ColumnType::Text, |r| text(&r.test.source)),
        ColumnDef::new("raw", ColumnType::Json, |r| {
            Value::Json(r.test.raw.get().to_owned())
        }),
        ColumnDef::volatile("synced_at", ColumnType::Timestamp, |r| {
            Value::Timestamp(r.synced_at)
        }),
        // Which configured account wrote the row (several may share the tables).
        ColumnDef::source_name("server"),
    ],
    soft_delete: None,
};

/// A job is final when its status is, or when its workflow is (a job that never ran).
fn job_is_final(row: &JobRow) -> bool {
    row.workflow_final || row.job.status.as_ref().is_some_and(|s| s.is_final())
}

/// How long a pipeline may show no workflow before "none" is taken as final (every workflow
/// filtered out by branch filters): CircleCI adds a pipeline's workflows within seconds.
const NO_WORKFLOWS_SETTLE_MS: i64 = 3_600_000;

/// A pipeline is final when its own state says so (errored), or when its setup ended and every
/// workflow is final. With no workflow (yet), only once it is older than
/// [`NO_WORKFLOWS_SETTLE_MS`]: an empty list read a moment after creation is no end.
fn pipeline_is_final(pipeline: &Pipeline, workflows: &[Workflow], now_ms: i64) -> bool {
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
const STATE_VERSION: u32 = 1;

/// Workflows of one pipeline whose jobs are read at the same time.
const WORKFLOWS_AT_ONCE: usize = 4;

/// A pipeline held as not final, and the workflows of it already read as final.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct PendingPipeline {
    id: String,
    number: Option<i64>,
    #[serde(default)]
    final_workflows: Vec<String>,
}

/// A workflow seen within the rerun lookback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct RecentWorkflow {
    id: String,
    name: String,
    created_ms: i64,
}

/// What a project's checkpoint remembers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ProjectState {
    #[serde(default)]
    version: u32,
    /// The newest pipeline number read.
    newest: Option<i64>,
    /// Pipelines not final: read again every run.
    #[serde(default)]
    pending: Vec<PendingPipeline>,
    /// Workflows not final: their jobs are read again.
    #[serde(default)]
    pending_workflows: Vec<String>,
    /// Workflows of the rerun lookback window, to tell a rerun from a known run.
    #[serde(default)]
    recent: Vec<RecentWorkflow>,
    /// While a pass is under way (a run stopped half-way): the pipeline numbers it stored, which
    /// the next pass skips (see `cidata_sync::NewestFirst`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    stored: Vec<NumberRange>,
}

/// A project to read in this run.
#[derive(Debug)]
pub struct ProjectPartition {
    slug: ProjectSlug,
    previous: ProjectState,
}

/// Options of the CircleCI source.
#[derive(Debug, Clone)]
pub struct CircleCiSyncOptions {
    /// Only pipelines of this branch.
    pub branch: Option<String>,
    /// How old a pipeline may be and still have its reruns caught (default 24 h; zero: none).
    pub rerun_lookback: Duration,
    /// Read each finished job's details (executor, parallelism, queued time): one request per
    /// job, once, when its workflow is final.
    pub job_details: bool,
    /// Read each finished job's test results into `circleci_tests`: one request (or more for
    /// long lists) per job, once, when its workflow is final.
    pub job_tests: bool,
}

impl Default for CircleCiSyncOptions {
    fn default() -> Self {
        CircleCiSyncOptions {
            branch: None,
            rerun_lookback: Duration::from_secs(24 * 3600),
            job_details: false,
            job_tests: false,
        }
    }
}

/// The CircleCI source: one partition per project.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use cidata_circleci::CircleCi;
/// use cidata_sources::circleci::CircleCiSource;
/// let circleci = CircleCi::builder().token("...").build()?;
/// let source = CircleCiSource::new(circleci, vec!["gh/acme/web".parse()?]);
/// let destination = cidata_sync::SqliteDestination::open("ci-sync.db")?;
/// let stats = cidata_sync::Engine::new().run(std::sync::Arc::new(source), Box::new(destination)).await?;
/// println!("{} rows, {} requests", stats.rows_upserted(), stats.requests);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CircleCiSource {
    client: CircleCi,
    projects: Arc<Vec<ProjectSlug>>,
    options: CircleCiSyncOptions,
    name: String,
}

impl CircleCiSource {
    /// A source of `projects`.
    pub fn new(client: CircleCi, projects: Vec<ProjectSlug>) -> CircleCiSource {
        CircleCiSource {
            client,
            projects: Arc::new(projects),
            options: CircleCiSyncOptions::default(),
            name: "circleci".to_owned(),
        }
    }

    /// Sets the options.
    pub fn options(mut self, options: CircleCiSyncOptions) -> CircleCiSource {
        self.options = options;
        self
    }

    /// The name state is saved under (default `circleci`).
    pub fn named(mut self, name: impl Into<String>) -> CircleCiSource {
        self.name = name.into();
        self
    }

    /// The client this source reads through.
    pub fn client(&self) -> &CircleCi {
        &self.client
    }
}

fn api(e: cidata_core::Error) -> Error {
    Error::source(e)
}

/// What reading one pipeline found.
struct PipelineRead {
    ops: Vec<Operation>,
    number: Option<i64>,
    /// Came from the listing (read, or stored by an earlier pass), for the pass's progress.
    listed: bool,
    pending: Option<PendingPipeline>,
    pending_workflows: Vec<String>,
    recent: Vec<RecentWorkflow>,
}

impl PipelineRead {
    /// A pipeline held as not final (or with a rerun) that now answers 404: marked deleted
    /// (`deleted_at`) and reported; it is no longer pending.
    fn vanished(id: &str, partition: &str, error: &cidata_core::Error) -> PipelineRead {
        PipelineRead {
            ops: vec![
                Operation::SoftDelete {
                    table: PIPELINES.name.into(),
                    key: vec![Value::Text(id.to_owned())],
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
    fn covered(number: Option<i64>) -> PipelineRead {
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

/// Listed pipelines between two checkpoints of a pass: a project of 10,000 pipelines commits
/// its rows and where it stands every page, so that a run stopped half-way resumes there.
const CHECKPOINT_EVERY: usize = 20;

/// A project's pass: what it has read so far, and the state to save, interim or final. No I/O:
/// the driver hands it each read, in listing order.
struct ProjectPass {
    previous: ProjectState,
    progress: NewestFirst,
    last_listed: Option<i64>,
    listed_since_checkpoint: usize,
    numbers: Vec<i64>,
    pending: Vec<PendingPipeline>,
    pending_workflows: Vec<String>,
    recent: BTreeMap<String, RecentWorkflow>,
}

impl ProjectPass {
    fn new(previous: ProjectState, cutoff_ms: i64) -> ProjectPass {
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
    fn take(&mut self, read: PipelineRead) -> (Vec<Operation>, bool) {
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
    fn interim(&self) -> ProjectState {
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
    fn finish(self) -> (ProjectState, Vec<i64>) {
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

/// The checkpoint of a project's state.
fn checkpoint(partition: &str, state: &ProjectState, non_final: u64) -> Result<Operation> {
    Ok(Operation::Checkpoint(Checkpoint {
        partition: partition.to_owned(),
        state: serde_json::to_value(state).map_err(|e| Error::Record(e.to_string()))?,
        non_final,
    }))
}

/// Why a pipeline is read in this run.
enum ToRead {
    /// Listed: new, or held as not final.
    Listed(Box<Pipeline>),
    /// Listed, and stored by an earlier pass that did not complete.
    Covered(Option<i64>),
    /// Held as not final, older than where the listing stopped.
    Pending(String),
    /// A rerun made a new workflow in it.
    Rerun(String),
}

impl CircleCiSource {
    /// A finished job's details and tests, as the options ask.
    async fn job_extras(
        &self,
        slug: &ProjectSlug,
        number: u64,
    ) -> Result<(Option<JobDetails>, Vec<TestMetadata>)> {
        let details = if self.options.job_details {
            match self.client.job_details(slug, number).await {
                Ok(details) => Some(details),
                Err(e) if e.kind() == ErrorKind::NotFound => None,
                Err(e) => return Err(api(e)),
            }
        } else {
            None
        };
        let tests = if self.options.job_tests {
            match self.client.tests(slug, number).try_collect().await {
                Ok(tests) => tests,
                Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(api(e)),
            }
        } else {
            Vec::new()
        };
        Ok((details, tests))
    }

    /// Reads a pipeline's workflows and the jobs of those that are new or not final.
    async fn read_pipeline(
        &self,
        pipeline: Pipeline,
        known_final: &BTreeSet<String>,
        cutoff_ms: i64,
    ) -> Result<PipelineRead> {
        let synced_at = now_ms();
        let id = pipeline.id.clone().unwrap_or_default();
        let slug = pipeline
            .project_slug
            .as_deref()
            .and_then(|s| ProjectSlug::parse(s).ok());
        let slug = slug.as_ref();
        let workflows: Vec<Workflow> = self
            .client
            .workflows(&id)
            .try_collect()
            .await
            .map_err(api)?;
        // The jobs of the workflows that are new or not final, a few workflows at once: a
        // pipeline's reads cost two round trips, not one per workflow after the first.
        let needs_jobs: Vec<String> = workflows
            .iter()
            .filter_map(|w| {
                let id = w.id.clone()?;
                (!(w.is_final() && known_final.contains(&id))).then_some(id)
            })
            .collect();
        let mut jobs_of: HashMap<String, Vec<Job>> = futures::stream::iter(needs_jobs)
            .map(|workflow_id| async move {
                let jobs: Vec<Job> = self
                    .client
                    .workflow_jobs(&workflow_id)
                    .try_collect()
                    .await?;
                Ok::<_, cidata_core::Error>((workflow_id, jobs))
            })
            .buffer_unordered(WORKFLOWS_AT_ONCE)
            .try_collect()
            .await
            .map_err(api)?;
        let mut ops = Vec::new();
        let mut pending_workflows = Vec::new();
        let mut final_workflows = Vec::new();
        let mut recent = Vec::new();
        for workflow in &workflows {
            let Some(workflow_id) = workflow.id.clone() else {
                continue;
            };
            let created_ms = workflow.created_at.as_deref().and_then(parse_time);
            if let (Some(name), Some(created_ms)) = (&workflow.name, created_ms)
                && created_ms >= cutoff_ms
            {
                recent.push(RecentWorkflow {
                    id: workflow_id.clone(),
                    name: name.clone(),
                    created_ms,
                });
            }
            let is_final = workflow.is_final();
            if is_final {
                final_workflows.push(workflow_id.clone());
            } else {
                pending_workflows.push(workflow_id.clone());
            }
            if is_final && known_final.contains(&workflow_id) {
                continue;
            }
            let jobs = jobs_of.remove(&workflow_id).unwrap_or_default();
            for job in jobs {
                // Details and tests once per job: when its workflow is final, it will not be
                // read again.
                let extras = is_final && job.kind != Some(JobType::Approval);
                let (details, tests) = match (extras, job.job_number, slug) {
                    (true, Some(number), Some(slug)) if number >= 0 => {
                        self.job_extras(slug, number as u64).await?
                    }
                    _ => (None, Vec::new()),
                };
                for (index, test) in tests.into_iter().enumerate() {
                    let row = TestRow {
                        test,
                        index,
                        job_id: job.id.clone().unwrap_or_default(),
                        job_number: job.job_number,
                        workflow_id: workflow_id.clone(),
                        project_slug: job.project_slug.clone(),
                        synced_at,
                    };
                    ops.push(Operation::Upsert(TESTS.record(&row)?));
                }
                let row = JobRow {
                    job,
                    details,
                    workflow_id: workflow_id.clone(),
                    pipeline_id: workflow.pipeline_id.clone().or_else(|| Some(id.clone())),
                    workflow_final: is_final,
                    synced_at,
                };
                ops.push(Operation::Upsert(JOBS.record(&row)?));
            }
        }
        let is_final = pipeline_is_final(&pipeline, &workflows, synced_at);
        let number = pipeline.number;
        for workflow in workflows {
            ops.push(Operation::Upsert(WORKFLOWS.record(&WorkflowRow {
                workflow,
                synced_at,
            })?));
        }
        ops.push(Operation::Upsert(PIPELINES.record(&PipelineRow {
            pipeline,
            is_final,
            synced_at,
        })?));
        Ok(PipelineRead {
            ops,
            number,
            listed: true,
            pending: (!is_final).then_some(PendingPipeline {
                id,
                number,
                final_workflows,
            }),
            pending_workflows,
            recent,
        })
    }

    /// Workflow runs insights knows and the state does not: pipelines with a rerun. `None`
    /// when insights is not available (CircleCI server, a token without access).
    async fn reruns(
        &self,
        slug: &ProjectSlug,
        names: &BTreeSet<String>,
        known: &BTreeSet<String>,
        cutoff_ms: i64,
    ) -> Result<Option<Vec<String>>> {
        let query = InsightsQuery {
            branch: self.options.branch.clone(),
            all_branches: self.options.branch.is_none(),
            start_date: Some(cidata_sync::format_timestamp(cutoff_ms)),
            end_date: None,
        };
        let mut pipelines = BTreeSet::new();
        for name in names {
            let runs = self.client.workflow_runs(slug, name, &query);
            let mut runs = std::pin::pin!(runs);
            loop {
                let run = match runs.try_next().await {
                    Ok(Some(run)) => run,
                    Ok(None) => break,
                    Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Auth) => {
                        tracing::warn!(project = %slug, error = %e, "insights is not available: reruns of old pipelines are not looked for");
                        return Ok(None);
                    }
                    Err(e) => return Err(api(e)),
                };
                let created = run.created_at.as_deref().and_then(parse_time);
                if created.is_some_and(|c| c < cutoff_ms) {
                    break;
                }
                let Some(id) = run.id else { continue };
                if known.contains(&id) {
                    continue;
                }
                let workflow = self.client.workflow(&id).await.map_err(api)?;
                if let Some(pipeline_id) = workflow.pipeline_id {
                    pipelines.insert(pipeline_id);
                }
            }
        }
        Ok(Some(pipelines.into_iter().collect()))
    }

    fn read_project(&self, p: ProjectPartition) -> BoxStream<'static, Result<Operation>> {
        let source = self.clone();
        let stream = async_stream::try_stream! {
            let slug = p.slug;
            let previous = if p.previous.version == STATE_VERSION { p.previous } else { ProjectState::default() };
            let now = now_ms();
            let lookback = i64::try_from(source.options.rerun_lookback.as_millis()).unwrap_or(i64::MAX);
            let cutoff_ms = now.saturating_sub(lookback);
            let pending_ids: BTreeMap<String, PendingPipeline> = previous.pending.iter().map(|p| (p.id.clone(), p.clone())).collect();
            let pending_workflows: BTreeSet<String> = previous.pending_workflows.iter().cloned().collect();
            // Workflow ids read as final before: their jobs need no new read.
            let mut known_final: BTreeSet<String> = previous.recent.iter().map(|r| r.id.clone()).filter(|id| !pending_workflows.contains(id)).collect();
            known_final.extend(previous.pending.iter().flat_map(|p| p.final_workflows.iter().cloned()));

            // What to read, found as the listing goes so that reading starts with its first page:
            // 1. new pipelines, newest first, down to the first one held as final;
            // 2. pipelines held as not final that the listing did not reach;
            // 3. pipelines where insights shows a rerun.
            let to_read = {
                let source = source.clone();
                let slug = slug.clone();
                let newest = previous.newest;
                let progress = NewestFirst { floor: previous.newest, stored: previous.stored.clone() };
                let recent = previous.recent.clone();
                let pending_ids: BTreeSet<String> = pending_ids.keys().cloned().collect();
                async_stream::try_stream! {
                    let mut listed = BTreeSet::new();
                    {
                        let pipelines = source.client.pipelines(&slug, source.options.branch.as_deref());
                        let mut pipelines = std::pin::pin!(pipelines);
                        while let Some(pipeline) = pipelines.try_next().await.map_err(api)? {
                            let id = pipeline.id.clone().unwrap_or_default();
                            match progress.decide(pipeline.number, pending_ids.contains(&id)) {
                                Listed::Stop => break,
                                Listed::Skip => yield ToRead::Covered(pipeline.number),
                                Listed::Read => {
                                    listed.insert(id);
                                    yield ToRead::Listed(Box::new(pipeline));
                                }
                            }
                        }
                    }
                    for id in pending_ids.iter().filter(|id| !listed.contains(*id)) {
                        yield ToRead::Pending(id.clone());
                    }
                    if lookback > 0 && newest.is_some() {
                        let names: BTreeSet<String> = recent.iter().filter(|r| r.created_ms >= cutoff_ms).map(|r| r.name.clone()).collect();
                        let known: BTreeSet<String> = recent.iter().map(|r| r.id.clone()).collect();
                        let reruns = if names.is_empty() { None } else { source.reruns(&slug, &names, &known, cutoff_ms).await? };
                        for id in reruns.unwrap_or_default() {
                            if !listed.contains(&id) && !pending_ids.contains(&id) {
                                yield ToRead::Rerun(id);
                            }
                        }
                    }
                }
            };

            // 4. Each pipeline's workflows and jobs, `concurrency` pipelines at a time.
            let known_final = Arc::new(known_final);
            // The listing runs ahead in a task of its own, so that the next page is fetched
            // while pipelines are read, not when a reader is free and waits for it.
            let to_read = cidata_core::read_ahead(to_read, 4 * source.client.concurrency());
            let partition = project_key(&slug);
            let reads = to_read.map_ok(|item: ToRead| {
                let source = source.clone();
                let known_final = known_final.clone();
                let partition = partition.clone();
                async move {
                    let pipeline = match item {
                        ToRead::Listed(pipeline) => *pipeline,
                        ToRead::Covered(number) => return Ok(Some(PipelineRead::covered(number))),
                        ToRead::Pending(id) | ToRead::Rerun(id) => match source.client.pipeline(&id).await {
                            Ok(pipeline) => pipeline,
                            // Gone: it cannot change any more. Marked and reported, not forgotten.
                            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Some(PipelineRead::vanished(&id, &partition, &e))),
                            Err(e) => return Err(api(e)),
                        },
                    };
                    source.read_pipeline(pipeline, &known_final, cutoff_ms).await.map(Some)
                }
            }).try_buffered(source.client.concurrency());
            let mut reads = std::pin::pin!(reads);
            let mut pass = ProjectPass::new(previous, cutoff_ms);
            while let Some(read) = reads.try_next().await? {
                let Some(read) = read else { continue };
                let (ops, checkpoint_due) = pass.take(read);
                for op in ops {
                    yield op;
                }
                if checkpoint_due {
                    yield checkpoint(&partition, &pass.interim(), 0)?;
                }
            }
            let (state, rejected) = pass.finish();
            for number in rejected {
                yield Operation::Report(cidata_sync::ItemReport {
                    partition: partition.clone(),
                    item: format!("pipeline number {number} of {slug}"),
                    problem: "the number is far beyond every other pipeline's: the checkpoint does not move to it, and the pipeline is read again next run".into(),
                });
            }
            let non_final = state.pending_workflows.len() as u64;
            yield checkpoint(&partition, &state, non_final)?;
        };
        stream.boxed()
    }
}

fn project_key(slug: &ProjectSlug) -> String {
    format!("project:{slug}")
}

impl Source for CircleCiSource {
    type Partition = ProjectPartition;

    fn name(&self) -> &str {
        &self.name
    }

    fn tables(&self) -> Vec<TableSchema> {
        let mut tables = vec![PIPELINES.schema(), WORKFLOWS.schema(), JOBS.schema()];
        if self.options.job_tests {
            tables.push(TESTS.schema());
        }
        tables
    }

    fn discover(&self, state: State) -> BoxStream<'static, Result<Discovery<ProjectPartition>>> {
        let partitions: Vec<Result<Discovery<ProjectPartition>>> = self
            .projects
            .iter()
            .map(|slug| {
                let previous = state
                    .get(&project_key(slug))
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
                    .unwrap_or_default();
                Ok(Discovery::Partition(ProjectPartition {
                    slug: slug.clone(),
                    previous,
                }))
            })
            .collect();
        stream::iter(partitions).boxed()
    }

    fn partition_key(&self, partition: &ProjectPartition) -> String {
        project_key(&partition.slug)
    }

    fn read(&self, partition: ProjectPartition) -> BoxStream<'static, Result<Operation>> {
        self.read_project(partition)
    }

    fn request_counts(&self) -> RequestCounts {
        let s = self.client.stats().snapshot();
        RequestCounts {
            requests: s.requests,
            retries: s.retries,
        }
    }
}

/// The CircleCI part of the `ci_runs` view (see `cidata_sync::views`): one row per workflow,
/// `project` the project slug, `name` the workflow's, branch and revision from its pipeline.
/// `failing` (still running, a job failed) counts as running; `on_hold` (waiting for an
/// approval) as queued.
pub static RUNS_VIEW: cidata_sync::views::ViewPart = cidata_sync::views::ViewPart {
    view: "ci_runs",
    source: "circleci",
    tables: &["circleci_workflows", "circleci_pipelines"],
    select: runs_view_select,
};

/// The CircleCI part of the `ci_steps` view: one row per job, `run_id` its workflow's id.
pub static STEPS_VIEW: cidata_sync::views::ViewPart = cidata_sync::views::ViewPart {
    view: "ci_steps",
    source: "circleci",
    tables: &["circleci_jobs"],
    select: steps_view_select,
};

/// The CircleCI parts of the views: workflows in `ci_runs`, jobs in `ci_steps`.
pub fn view_parts() -> Vec<cidata_sync::views::ViewPart> {
    vec![RUNS_VIEW, STEPS_VIEW]
}

fn runs_view_select(_: cidata_sync::views::Dialect) -> String {
    let status = cidata_sync::views::normalise_status(
        "w.status",
        &[
            ("success", &["success"]),
            ("failure", &["failed", "error", "unauthorized"]),
            ("cancelled", &["canceled"]),
            ("skipped", &["not_run"]),
            ("running", &["running", "failing"]),
            ("queued", &["on_hold"]),
        ],
    );
    // The web app's address of a workflow: `gh/` and `bb/` slugs are spelled out there.
    let url = "'https://app.circleci.com/pipelines/' || CASE WHEN w.project_slug LIKE 'gh/%' THEN 'github/' || substr(w.project_slug, 4) \
               WHEN w.project_slug LIKE 'bb/%' THEN 'bitbucket/' || substr(w.project_slug, 4) ELSE w.project_slug END \
               || '/' || CAST(w.pipeline_number AS TEXT) || '/workflows/' || w.id";
    format!(
        "SELECT 'circleci', w.server, w.project_slug, w.id, w.pipeline_number, p.branch, p.revision, \
         {status}, w.status, w.created_at, w.stopped_at, w.duration_ms, {url}, w.is_final, w.name \
         FROM circleci_workflows w LEFT JOIN circleci_pipelines p ON p.id = w.pipeline_id"
    )
}

fn steps_view_select(_: cidata_sync::views::Dialect) -> String {
    let status = cidata_sync::views::normalise_status(
        "status",
        &[
            ("success", &["success"]),
            (
                "failure",
                &["failed", "infrastructure_fail", "timedout", "unauthorized"],
            ),
            ("cancelled", &["canceled"]),
            ("skipped", &["not_run"]),
            ("running", &["running"]),
            ("queued", &["queued", "not_running", "on_hold", "blocked"]),
        ],
    );
    format!(
        "SELECT 'circleci', server, project_slug, workflow_id, id, name, {status}, status, \
         started_at, stopped_at, duration_ms, is_final, job_number FROM circleci_jobs"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_validate_and_records_fit() {
        for schema in [
            PIPELINES.schema(),
            WORKFLOWS.schema(),
            JOBS.schema(),
            TESTS.schema(),
        ] {
            schema.validate().unwrap();
        }
        let workflow: Workflow = serde_json::from_str(
            r#"{"id":"w","name":"build","status":"success","created_at":"2020-11-03T11:36:35Z","stopped_at":"2020-11-03T11:37:00Z"}"#,
        )
        .unwrap();
        let record = WORKFLOWS
            .record(&WorkflowRow {
                workflow,
                synced_at: 0,
            })
            .unwrap();
        let duration = WORKFLOWS.schema().index_of("duration_ms").unwrap();
        assert_eq!(record.values[duration], Value::Integer(25_000));
        let running: Workflow = serde_json::from_str(
            r#"{"id":"w","status":"running","created_at":"2020-11-03T11:36:35Z"}"#,
        )
        .unwrap();
        let record = WORKFLOWS
            .record(&WorkflowRow {
                workflow: running,
                synced_at: 0,
            })
            .unwrap();
        assert_eq!(
            record.values[duration],
            Value::Null,
            "no duration until final"
        );
    }
}
