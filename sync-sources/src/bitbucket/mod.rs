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

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use cidata_sync::{
    Discovery, Error, Listed, Operation, RequestCounts, Result, Source, State, TableSchema, Value,
    now_ms,
};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use cidata_bitbucket::models::{Pipeline, PipelineStep, PullRequestState};
use cidata_bitbucket::{Bitbucket, ErrorKind, Filter, FilterValue, Query, parse_time};

mod pass;
pub mod tables;

use self::pass::*;
pub use self::tables::*;

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

/// What a part of a repository's read gives: an operation, or at its end what the state takes
/// from it.
enum Step<T> {
    Op(Operation),
    Done(T),
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

fn workspace_key(slug: &str) -> String {
    format!("workspace:{slug}")
}

fn repository_key(uuid: &str) -> String {
    format!("repository:{uuid}")
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
        let slugs: Vec<String> = access
            .into_iter()
            .filter_map(|a| a.workspace.and_then(|w| w.slug))
            .collect();
        if slugs.is_empty() {
            // Nothing to sync is a mistake in the settings or the credentials' scopes, not a
            // success with no rows.
            return Err(Error::Config(
                "[bitbucket] workspaces is empty and the credentials see no workspace: list the workspaces to sync, or give the token the `read:workspace` scope".into(),
            ));
        }
        Ok(slugs)
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

    /// The pipelines part of a repository's read: its operations, then the pass that holds
    /// what the state takes from it.
    fn pipeline_steps(
        &self,
        p: Arc<RepositoryPartition>,
        previous: RepositoryState,
        since_ms: i64,
        synced_at: i64,
    ) -> impl futures::Stream<Item = Result<Step<RepositoryPass>>> + Send + 'static {
        let source = self.clone();
        let options = self.options.clone();
        async_stream::try_stream! {
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
                            yield Step::Op(op);
                        }
                        Some(is_final)
                    }
                };
                if pass.stored(&uuid, number, is_final, true) {
                    yield Step::Op(Operation::checkpoint(&partition, &pass.interim(), 0)?);
                }
            }
            for uuid in pass.unlisted_pending() {
                match source.client.pipeline(&p.workspace, &p.slug, &uuid).await {
                    Ok(pipeline) => {
                        let (number, is_final) = (pipeline.build_number, pipeline.is_final());
                        for op in source.pipeline_rows(&p, pipeline, synced_at).await? {
                            yield Step::Op(op);
                        }
                        pass.stored(&uuid, number, Some(is_final), false);
                    }
                    // Gone: it cannot change any more. Marked and reported, not forgotten.
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        yield Step::Op(Operation::SoftDelete { table: PIPELINES.name.into(), key: vec![Value::Text(uuid.clone())], at_ms: now_ms() });
                        if options.pipeline_steps {
                            yield Step::Op(Operation::SoftDeleteWhere { table: STEPS.name.into(), matching: vec![("pipeline_uuid".into(), Value::Text(uuid.clone()))], at_ms: now_ms() });
                        }
                        yield Step::Op(report(&partition, format!("pipeline {uuid} of {}/{}", p.workspace, p.slug), format!("not final when last read, now gone ({e}): marked deleted")));
                    }
                    Err(e) => Err(api(e))?,
                }
            }
            yield Step::Done(pass);
        }
    }

    /// The pull requests part of a repository's read, from `listed` (asked for early): its
    /// operations, then the new cursor.
    fn pull_request_steps(
        p: Arc<RepositoryPartition>,
        listed: impl futures::Stream<Item = cidata_core::Result<cidata_bitbucket::models::PullRequest>>
        + Send
        + 'static,
        mut cursor: Option<i64>,
        from: i64,
        synced_at: i64,
    ) -> impl futures::Stream<Item = Result<Step<Option<i64>>>> + Send + 'static {
        async_stream::try_stream! {
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
                let moved = cidata_sync::advance_mark(cursor, updated, cidata_sync::MarkRule::time(synced_at));
                cursor = moved.mark;
                if !moved.rejected.is_empty() {
                    let id = pr.id.map_or_else(|| "?".to_owned(), |id| id.to_string());
                    yield Step::Op(report(&repository_key(&p.uuid), format!("pull request {id} of {}/{}", p.workspace, p.slug), REJECTED_TIME.into()));
                }
                yield Step::Op(Operation::Upsert(PULL_REQUESTS.record(&PullRequestRow { item: pr, repository_uuid: p.uuid.clone(), synced_at })?));
            }
            yield Step::Done(cursor.or(Some(from)));
        }
    }

    fn read_repository(&self, p: RepositoryPartition) -> BoxStream<'static, Result<Operation>> {
        let source = self.clone();
        let p = Arc::new(p);
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
            let partition = repository_key(&p.uuid);
            if options.pipelines {
                let steps = source.pipeline_steps(p.clone(), previous.clone(), since_ms, synced_at);
                let mut steps = std::pin::pin!(steps);
                while let Some(step) = steps.try_next().await? {
                    match step {
                        Step::Op(op) => yield op,
                        Step::Done(pass) => for number in pass.finish(&mut state) {
                            yield report(&partition, format!("pipeline number {number} of {}/{}", p.workspace, p.slug), REJECTED_NUMBER.into());
                        },
                    }
                }
            }
            if let Some(listed) = pull_requests {
                let steps = Self::pull_request_steps(p.clone(), listed, state.pull_request_cursor_ms, from, synced_at);
                let mut steps = std::pin::pin!(steps);
                while let Some(step) = steps.try_next().await? {
                    match step {
                        Step::Op(op) => yield op,
                        Step::Done(cursor) => state.pull_request_cursor_ms = cursor,
                    }
                }
            }
            let non_final = state.pending_pipelines.len() as u64;
            yield Operation::checkpoint(partition, &state, non_final)?;
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
                let previous: WorkspaceState = cidata_sync::saved_state(&state, &workspace_key(&slug));
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
                    let own: RepositoryState = cidata_sync::saved_state(&state, &repository_key(&uuid));
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
                    let own: RepositoryState = cidata_sync::saved_state(&state, &repository_key(uuid));
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
                yield Discovery::Operation(Operation::checkpoint(workspace_key(&slug), &next, 0)?);
                if options.pipelines || options.pull_requests {
                    for (uuid, repo_slug, updated_ms, pull_requests) in to_read {
                        let previous = cidata_sync::saved_state(&state, &repository_key(&uuid));
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
