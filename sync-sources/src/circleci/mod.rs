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

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use cidata_sync::{
    Discovery, Error, Listed, NewestFirst, Operation, RequestCounts, Result, Source, State,
    TableSchema, now_ms,
};
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};

use cidata_circleci::models::{
    Job, JobDetails, JobType, Pipeline, TestMetadata, Workflow, parse_time,
};
use cidata_circleci::{CircleCi, ErrorKind, InsightsQuery, ProjectSlug};

mod pass;
pub mod tables;

use self::pass::*;
pub use self::tables::*;

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

    /// What to read, found as the listing goes so that reading starts with its first page:
    /// 1. new pipelines, newest first, down to the first one held as final (and what a stopped
    ///    pass stored, as `Covered`, so that the pass's progress sees it);
    /// 2. pipelines held as not final that the listing did not reach;
    /// 3. pipelines where insights shows a rerun.
    fn to_read(
        &self,
        slug: &ProjectSlug,
        previous: &ProjectState,
        cutoff_ms: i64,
    ) -> impl futures::Stream<Item = Result<ToRead>> + Send + 'static {
        let source = self.clone();
        let slug = slug.clone();
        let progress = NewestFirst {
            floor: previous.newest,
            stored: previous.stored.clone(),
        };
        let lookback_ms =
            i64::try_from(source.options.rerun_lookback.as_millis()).unwrap_or(i64::MAX);
        let reruns_wanted = lookback_ms > 0 && previous.newest.is_some();
        let recent = previous.recent.clone();
        let pending_ids: BTreeSet<String> = previous.pending.iter().map(|p| p.id.clone()).collect();
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
            if reruns_wanted {
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
    }

    /// Reads what one item of [`CircleCiSource::to_read`] asks for.
    async fn read_one(
        &self,
        item: ToRead,
        known_final: &BTreeSet<String>,
        cutoff_ms: i64,
        partition: &str,
    ) -> Result<PipelineRead> {
        let pipeline = match item {
            ToRead::Listed(pipeline) => *pipeline,
            ToRead::Covered(number) => return Ok(PipelineRead::covered(number)),
            ToRead::Pending(id) | ToRead::Rerun(id) => match self.client.pipeline(&id).await {
                Ok(pipeline) => pipeline,
                // Gone: it cannot change any more. Marked and reported, not forgotten.
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    return Ok(PipelineRead::vanished(&id, partition, &e));
                }
                Err(e) => return Err(api(e)),
            },
        };
        self.read_pipeline(pipeline, known_final, cutoff_ms).await
    }

    fn read_project(&self, p: ProjectPartition) -> BoxStream<'static, Result<Operation>> {
        let source = self.clone();
        let stream = async_stream::try_stream! {
            let slug = p.slug;
            let previous = if p.previous.version == STATE_VERSION { p.previous } else { ProjectState::default() };
            let lookback = i64::try_from(source.options.rerun_lookback.as_millis()).unwrap_or(i64::MAX);
            let cutoff_ms = now_ms().saturating_sub(lookback);
            let known_final = Arc::new(known_final(&previous));
            let partition = project_key(&slug);
            // The listing runs ahead in a task of its own, so that the next page is fetched
            // while pipelines are read, not when a reader is free and waits for it.
            let to_read = cidata_core::read_ahead(source.to_read(&slug, &previous, cutoff_ms), 4 * source.client.concurrency());
            // Each pipeline's workflows and jobs, `concurrency` pipelines at a time, in order.
            let reads = to_read.map_ok(|item: ToRead| {
                let (source, known_final, partition) = (source.clone(), known_final.clone(), partition.clone());
                async move { source.read_one(item, &known_final, cutoff_ms, &partition).await }
            }).try_buffered(source.client.concurrency());
            let mut reads = std::pin::pin!(reads);
            let mut pass = ProjectPass::new(previous, cutoff_ms);
            while let Some(read) = reads.try_next().await? {
                let (ops, checkpoint_due) = pass.take(read);
                for op in ops {
                    yield op;
                }
                if checkpoint_due {
                    yield Operation::checkpoint(&partition, &pass.interim(), 0)?;
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
            yield Operation::checkpoint(&partition, &state, non_final)?;
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
                let previous = cidata_sync::saved_state(&state, &project_key(slug));
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
