//! The Jenkins sync source (feature `sync`): jobs, builds, artifacts and Pipeline stages, kept
//! complete and fresh incrementally.
//!
//! - One request lists every job with its last build number; only jobs that changed, or hold
//!   builds that were still running, are read further. A sync with nothing new costs one request.
//! - A job's builds are read newest first with `allBuilds{M,N}` pages down to the oldest build
//!   not yet final in the database, so every build is synced (not only the newest 100).
//! - A running build is re-read on every run until it is final, with its artifacts and stages.
//! - Stages: a full read asks `/N/wfapi/describe` per Pipeline run; an incremental one with
//!   several runs to read asks `/wfapi/runs?since=#N` once per job (up to 11 runs in one answer;
//!   the older ones of a longer gap are read one by one).
//! - A job's state is its own checkpoint, committed with its rows; jobs that disappear get
//!   `deleted_at`.

pub mod tables;

use std::collections::{BTreeSet, HashMap};

use self::tables::{
    artifacts_table, build_id, build_records, builds_table, job_record, jobs_table, scoped_id,
};
use cidata_jenkins::models::JobKind;
use cidata_jenkins::{Jenkins, JobFilter, JobPath, Tree, default_build_fields};
use cidata_sync::{
    ColumnDef, ColumnType, Discovery, Error, Migration, Operation, Record, RequestCounts, Result,
    Source, State, TableDef, TableSchema, Value, now_ms,
};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use cidata_wfapi::{FlowNode, Run, RunsQuery, Status, Wfapi};

/// A `jenkins_stages` row.
pub struct StageRow {
    /// The server's name (see `tables::DEFAULT_SERVER`).
    pub server: String,
    /// The build row's id.
    pub build_id: String,
    /// The job's full name.
    pub job_name: String,
    /// The build's number.
    pub build_number: u64,
    /// The stage's flow node id.
    pub stage_id: String,
    /// The stage.
    pub stage: FlowNode,
    /// Its JSON.
    pub raw: String,
}

/// `jenkins_stages`: the stages of Pipeline runs, from wfapi.
pub static STAGES: TableDef<StageRow> = TableDef {
    name: "jenkins_stages",
    key: &["id"],
    columns: &[
        ColumnDef::new("id", ColumnType::Text, |r| {
            stage_id_of(&r.build_id, &r.stage_id).into()
        }),
        ColumnDef::new("build_id", ColumnType::Text, |r| r.build_id.clone().into()),
        ColumnDef::new("job_name", ColumnType::Text, |r| r.job_name.clone().into()),
        ColumnDef::new("build_number", ColumnType::Integer, |r| {
            r.build_number.into()
        }),
        ColumnDef::new("stage_id", ColumnType::Text, |r| r.stage_id.clone().into()),
        ColumnDef::new("name", ColumnType::Text, |r| r.stage.name.clone().into()),
        ColumnDef::new("status", ColumnType::Text, |r| {
            r.stage
                .status
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .into()
        }),
        ColumnDef::new("start_ms", ColumnType::Integer, |r| {
            r.stage.start_time_millis.into()
        }),
        // A running stage reports the time so far (or 0): NULL until final.
        ColumnDef::new("duration_ms", ColumnType::Integer, |r| {
            let stage = &r.stage;
            let is_final = stage.status.as_ref().is_some_and(Status::is_final);
            stage.duration_millis.filter(|_| is_final).into()
        }),
        ColumnDef::new("error_message", ColumnType::Text, |r| {
            r.stage
                .error
                .as_ref()
                .and_then(|e| e.message.clone())
                .into()
        }),
        ColumnDef::new("raw", ColumnType::Json, |r| Value::Json(r.raw.clone())),
        ColumnDef::new("start", ColumnType::Timestamp, |r| {
            Value::timestamp(r.stage.start_time_millis)
        }),
        // Set when its build is gone from the server, or the stage when a re-read lacks it.
        ColumnDef::new("deleted_at", ColumnType::Timestamp, |_| Value::Null),
        ColumnDef::new("server", ColumnType::Text, |r| r.server.clone().into()),
    ],
    soft_delete: Some("deleted_at"),
};

/// The schema of `jenkins_stages`.
pub fn stages_table() -> TableSchema {
    STAGES.schema()
}

/// The `jenkins_stages` rows of a run of `server`, in wfapi's order.
pub fn stage_records(server: &str, job: &JobPath, number: u64, run: &Run) -> Result<Vec<Record>> {
    let build = build_id(server, job, number);
    let job_name = job.full_name();
    run.stages
        .iter()
        .filter_map(|stage| stage.id.clone().map(|id| (id, stage)))
        .map(|(stage_id, stage)| {
            let raw = serde_json::to_string(stage).map_err(|e| Error::Record(e.to_string()))?;
            STAGES.record(&StageRow {
                server: server.to_owned(),
                build_id: build.clone(),
                job_name: job_name.clone(),
                build_number: number,
                stage_id,
                stage: stage.clone(),
                raw,
            })
        })
        .collect()
}

/// The id of a stage row: `<build id>/<stage id>` (`team/app#42/6`).
pub fn stage_id_of(build_id: &str, stage_id: &str) -> String {
    format!("{build_id}/{stage_id}")
}

/// The stages' part of the id migration (see `tables::id_migration_statements`).
fn stage_id_migration_statements() -> Vec<String> {
    let len = "~migrating~".len() + 1;
    vec![
        "UPDATE jenkins_stages SET id = '~migrating~' || job_name || '#' || build_number || '/' || stage_id, build_id = job_name || '#' || build_number WHERE job_name IS NOT NULL AND build_number IS NOT NULL AND stage_id IS NOT NULL".to_owned(),
        format!("UPDATE jenkins_stages SET id = substr(id, {len}) WHERE id LIKE '~migrating~%'"),
    ]
}

/// The partition that holds the list of known jobs (to see which disappear).
const JOBS_PARTITION: &str = "jobs";

fn job_key(path: &JobPath) -> String {
    format!("job:{}", path.full_name())
}

/// The version of [`JobState`]: a job whose saved state is older is read again in full, once,
/// so that rows get the columns and ids of this version (2: `#` ids, display names, timestamps).
const JOB_STATE_VERSION: u32 = 2;

/// What a job's checkpoint remembers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct JobState {
    /// [`JOB_STATE_VERSION`] when written; absent (0) before it existed.
    #[serde(default)]
    version: u32,
    /// Every build up to this number has been read; those not in `pending` were final.
    synced_through: Option<u64>,
    /// Builds read while not final: read again until they are.
    #[serde(default)]
    pending: Vec<u64>,
    /// The job disappeared.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
    /// The oldest build the server kept when last read: builds below it were discarded (log
    /// rotation) and get `deleted_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_build: Option<u64>,
    /// The stage ids of each pending build as last read: a stage a re-read does not find was
    /// removed (a restarted or edited run) and gets `deleted_at`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    stages: std::collections::BTreeMap<u64, Vec<String>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KnownJobs {
    known: Vec<String>,
}

/// A job to read in this run.
#[derive(Debug)]
pub struct JobPartition {
    path: JobPath,
    last_build: Option<u64>,
    /// The oldest build the server keeps.
    first_build: Option<u64>,
    pipeline: bool,
    previous: JobState,
    /// Builds that were running when the saved state (now dropped) was written: marked deleted
    /// unless this read finds them.
    recheck: Vec<u64>,
}

/// The Jenkins source.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use cidata_jenkins::Jenkins;
/// use cidata_wfapi::Wfapi;
/// use cidata_sources::jenkins::JenkinsSource;
/// let jenkins = Jenkins::builder("https://ci.example.com/").basic_auth("alice", "token").build()?;
/// let source = JenkinsSource::new(Wfapi::new(jenkins));
/// let destination = cidata_sync::DestinationUrl::parse("sqlite://ci-sync.db")?.open()?;
/// let stats = cidata_sync::Engine::new().run(std::sync::Arc::new(source), destination).await?;
/// println!("{} rows, {} requests, {} running builds carried over", stats.rows_upserted(), stats.requests, stats.non_final);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct JenkinsSource {
    wfapi: Wfapi,
    filter: JobFilter,
    name: String,
    allow_mass_delete: bool,
}

impl JenkinsSource {
    /// A source reading every job of the server.
    pub fn new(wfapi: Wfapi) -> JenkinsSource {
        JenkinsSource {
            wfapi,
            filter: JobFilter::default(),
            name: "jenkins".to_owned(),
            allow_mass_delete: false,
        }
    }

    /// Lets a listing mark every known job (or most of a sizeable set) deleted at once. Off by
    /// default: a server that answers an empty listing by mistake must not wipe the tables, so
    /// such a run stops with [`Error::Refused`] before it deletes anything.
    pub fn allow_mass_delete(mut self, allow: bool) -> JenkinsSource {
        self.allow_mass_delete = allow;
        self
    }

    /// Reads only the jobs the filter selects.
    pub fn filter(mut self, filter: JobFilter) -> JenkinsSource {
        self.filter = filter;
        self
    }

    /// The name state is saved under (default `jenkins`): two servers in one database need two names.
    pub fn named(mut self, name: impl Into<String>) -> JenkinsSource {
        self.name = name.into();
        self
    }

    /// The client this source reads through.
    pub fn jenkins(&self) -> &Jenkins {
        self.wfapi.jenkins()
    }
}

impl Source for JenkinsSource {
    type Partition = JobPartition;

    fn name(&self) -> &str {
        &self.name
    }

    fn migrations(&self) -> Vec<Migration> {
        let mut statements = tables::id_migration_statements();
        statements.extend(stage_id_migration_statements());
        let tables = [
            "jenkins_jobs",
            "jenkins_builds",
            "jenkins_artifacts",
            "jenkins_stages",
        ];
        vec![
            Migration::new(
                tables::ID_MIGRATION_NAME,
                ["jenkins_builds", "jenkins_artifacts", "jenkins_stages"],
                statements,
            ),
            Migration::new(
                tables::SERVER_MIGRATION_NAME,
                tables,
                tables::server_migration_statements(&tables),
            ),
        ]
    }

    fn tables(&self) -> Vec<TableSchema> {
        vec![
            jobs_table(),
            builds_table(),
            artifacts_table(),
            stages_table(),
        ]
    }

    fn discover(&self, state: State) -> BoxStream<'static, Result<Discovery<JobPartition>>> {
        let source = self.clone();
        let stream = async_stream::try_stream! {
            let jenkins = source.jenkins().clone();
            let server = source.name.clone();
            let previous: KnownJobs = cidata_sync::saved_state(&state, JOBS_PARTITION);
            let fields = Tree::fields(["name", "url", "color", "fullName", "displayName", "buildable"]).nested("lastBuild", Tree::fields(["number"])).nested("firstBuild", Tree::fields(["number"]));
            let mut listed = BTreeSet::new();
            let mut known = BTreeSet::new();
            let synced_at = now_ms();
            // The whole walk first: a listing that fails half-way (a folder that contains
            // itself, a folder answering 404) writes no row of it.
            let entries: Vec<_> = jenkins.jobs_with(fields).try_collect().await.map_err(Error::source)?;
            for entry in entries {
                let key = entry.path.full_name();
                listed.insert(key.clone());
                if !source.filter.selects(&entry.path) {
                    continue;
                }
                // A name no URL can address (`..`, `.`): its builds' URL would be another
                // object's. It fails alone, named with its URL, and is not stored.
                if let Err(e) = JobPath::from_segments(entry.path.segments().iter().cloned()) {
                    let url = entry.job.url.clone().unwrap_or_else(|| "(no url)".to_owned());
                    yield Discovery::Failed { partition: job_key(&entry.path), error: format!("job `{}` at {url}: {e}", entry.path) };
                    continue;
                }
                known.insert(key);
                // A job whose listing entry does not fit the tables fails alone, by name.
                let record = match job_record(&jenkins, &server, &entry.path, &entry.job, synced_at) {
                    Ok(record) => record,
                    Err(e) => {
                        yield Discovery::Failed { partition: job_key(&entry.path), error: format!("job `{}`: {e}", entry.path) };
                        continue;
                    }
                };
                yield Discovery::Operation(Operation::Upsert(record));
                if entry.job.is_container() {
                    continue;
                }
                let last_build = entry.job.last_build_number();
                // A job whose builds were wiped (or that was recreated) starts over.
                let saved: Option<JobState> = state
                    .get(&job_key(&entry.path))
                    .and_then(|v| serde_json::from_value::<JobState>(v.clone()).ok())
                    .filter(|s| !s.deleted && s.version >= JOB_STATE_VERSION);
                let (previous, recheck) = match saved {
                    Some(s) if s.synced_through <= last_build => (s, Vec::new()),
                    // The newest builds are gone (deleted, or the job recreated): read it again
                    // from the start, and settle the builds that were running.
                    Some(s) => (JobState::default(), s.pending),
                    None => (JobState::default(), Vec::new()),
                };
                let first_build = entry.job.first_build.as_ref().and_then(|b| b.number);
                // Builds discarded since the last read: the oldest kept moved up.
                let discarded = match (previous.first_build, first_build) {
                    (Some(before), Some(now)) => now > before,
                    (Some(_), None) => last_build.is_none(),
                    (None, _) => false,
                };
                let changed = last_build != previous.synced_through
                    || !previous.pending.is_empty()
                    || !recheck.is_empty()
                    || discarded
                    || (previous.first_build.is_none() && first_build.is_some());
                if changed {
                    yield Discovery::Partition(JobPartition {
                        path: entry.path.clone(),
                        last_build,
                        first_build,
                        pipeline: entry.job.kind() == JobKind::Pipeline,
                        previous,
                        recheck,
                    });
                }
            }
            // A filter that selects none of the server's jobs is a mistake in the settings, not
            // an empty server: say which setting, rather than sync nothing with exit 0.
            if known.is_empty() && !listed.is_empty() && !source.filter.include.is_empty() {
                let include: Vec<String> = source.filter.include.iter().map(|p| format!("\"{p}\"")).collect();
                Err(Error::Config(format!(
                    "[jenkins.jobs] include = [{}] selects none of the {} jobs the server lists",
                    include.join(", "),
                    listed.len()
                )))?;
            }
            // Only after a complete listing: jobs known before and listed no more are gone.
            let at_ms = now_ms();
            let gone: Vec<&String> = previous.known.iter().filter(|k| !listed.contains(*k)).collect();
            cidata_sync::check_mass_delete("jobs", previous.known.len(), gone.len(), source.allow_mass_delete)?;
            for gone in gone {
                yield Discovery::Operation(Operation::SoftDelete { table: "jenkins_jobs".into(), key: vec![Value::Text(scoped_id(&server, gone.clone()))], at_ms });
                for table in ["jenkins_builds", "jenkins_artifacts", "jenkins_stages"] {
                    let matching = vec![("server".into(), Value::Text(server.clone())), ("job_name".into(), Value::Text(gone.clone()))];
                    yield Discovery::Operation(Operation::SoftDeleteWhere { table: table.into(), matching, at_ms });
                }
                let key = format!("job:{gone}");
                if state.contains_key(&key) {
                    let deleted = JobState { deleted: true, ..JobState::default() };
                    yield Discovery::Operation(Operation::checkpoint(key, &deleted, 0)?);
                }
            }
            let known = KnownJobs { known: known.into_iter().collect() };
            yield Discovery::Operation(Operation::checkpoint(JOBS_PARTITION, &known, 0)?);
        };
        stream.boxed()
    }

    fn partition_key(&self, partition: &JobPartition) -> String {
        job_key(&partition.path)
    }

    fn read(&self, p: JobPartition) -> BoxStream<'static, Result<Operation>> {
        let source = self.clone();
        let stream = async_stream::try_stream! {
            let jenkins = source.jenkins().clone();
            let server = source.name.clone();
            let prev = &p.previous;
            // The oldest build to look at: the oldest not final, else the first one not read yet.
            let next_unread = prev.synced_through.map_or(1, |n| n + 1);
            let floor = prev.pending.iter().copied().min().map_or(next_unread, |m| m.min(next_unread));
            let mut listing = jenkins.build_listing(&p.path).fields(default_build_fields());
            if let (Some(last), Some(_)) = (p.last_build, prev.synced_through) {
                // Incremental: a first page just large enough for the builds from `floor` on.
                listing = listing.first_page_size(last.saturating_sub(floor) + 1);
            }
            // Newest first, down to `floor`: no build below it is needed, and once `floor` itself
            // is seen there is none to wait for, so no further page is asked for.
            let all = listing.stream();
            // Builds listed without a number cannot be stored: reported once the job is read.
            let unnumbered = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
            let down_to_floor = {
                let unnumbered = unnumbered.clone();
                async_stream::try_stream! {
                let mut all = std::pin::pin!(all);
                while let Some(build) = all.try_next().await? {
                    if build.number.is_none() {
                        let url = build.url.clone().unwrap_or_else(|| "(no url)".to_owned());
                        unnumbered.lock().unwrap_or_else(|e| e.into_inner()).push(url);
                        continue;
                    }
                    let number = build.number;
                    if number.is_some_and(|n| n < floor) {
                        break;
                    }
                    yield build;
                    if number == Some(floor) {
                        break;
                    }
                }
                }
            };
            let needs_read = {
                let prev = prev.clone();
                move |n: u64| n > prev.synced_through.unwrap_or(0) || prev.pending.contains(&n)
            };
            // An incremental read of a Pipeline job with several runs to read asks for their
            // stages in one `runs?since=` request; the runs it leaves out are read one by one.
            let wanted = p.last_build.map_or(0, |last| last.saturating_sub(next_unread - 1))
                + prev.pending.len() as u64;
            let recent = if p.pipeline && prev.synced_through.is_some() && wanted >= 2 {
                recent_runs(&source.wfapi, &p.path, floor).await?
            } else {
                HashMap::new()
            };
            let recent = std::sync::Arc::new(recent);
            let wfapi = source.wfapi.clone();
            let path = p.path.clone();
            let pipeline = p.pipeline;
            let builds = down_to_floor
                .map_err(|e: cidata_core::Error| Error::source(e))
                .try_filter(move |b| futures::future::ready(b.number.is_some_and(&needs_read)))
                .map_ok(move |build| {
                    let wfapi = wfapi.clone();
                    let path = path.clone();
                    // A run listed while running whose build is final by now is read again.
                    let listed = build
                        .number
                        .and_then(|n| recent.get(&n))
                        .filter(|run| run.is_final() || !build.is_final())
                        .cloned();
                    async move {
                        let run = match (pipeline, build.number, listed) {
                            (true, Some(_), Some(run)) => Some(run),
                            (true, Some(n), None) => stages_of(&wfapi, &path, n).await?,
                            _ => None,
                        };
                        Ok::<_, Error>((build, run))
                    }
                })
                .try_buffered(jenkins.concurrency());
            let mut builds = std::pin::pin!(builds);
            let mut highest = prev.synced_through;
            let mut pending = Vec::new();
            let mut stages = std::collections::BTreeMap::new();
            let mut seen = BTreeSet::new();
            let synced_at = now_ms();
            while let Some((build, run)) = builds.try_next().await? {
                let Some(number) = build.number else { continue };
                seen.insert(number);
                highest = highest.max(Some(number));
                if !build.is_final() {
                    pending.push(number);
                }
                for record in build_records(&jenkins, &server, &p.path, build, synced_at)? {
                    yield Operation::Upsert(record);
                }
                if let Some(run) = &run {
                    for record in stage_records(&server, &p.path, number, run)? {
                        yield Operation::Upsert(record);
                    }
                    let now: Vec<String> = run.stages.iter().filter_map(|s| s.id.clone()).collect();
                    let build = build_id(&server, &p.path, number);
                    for removed in prev.stages.get(&number).into_iter().flatten().filter(|id| !now.contains(id)) {
                        yield Operation::SoftDelete { table: "jenkins_stages".into(), key: vec![Value::Text(stage_id_of(&build, removed))], at_ms: synced_at };
                    }
                    if pending.last() == Some(&number) {
                        stages.insert(number, now);
                    }
                }
            }
            // Builds the server discarded (log rotation): from the oldest it kept last time up to
            // the oldest it keeps now (every build read, when it keeps none). The first read
            // after an upgrade only records the oldest kept.
            if let (Some(before), Some(through)) = (prev.first_build, highest) {
                let below = match (p.first_build, p.last_build) {
                    (Some(first), _) => first,
                    (None, None) => through + 1,
                    (None, Some(_)) => before,
                };
                let at_ms = now_ms();
                for number in before..below.min(through + 1) {
                    if seen.contains(&number) {
                        continue;
                    }
                    let id = build_id(&server, &p.path, number);
                    yield Operation::SoftDelete { table: "jenkins_builds".into(), key: vec![Value::Text(id.clone())], at_ms };
                    for table in ["jenkins_artifacts", "jenkins_stages"] {
                        yield Operation::SoftDeleteWhere { table: table.into(), matching: vec![("build_id".into(), Value::Text(id.clone()))], at_ms };
                    }
                }
            }
            // A build read while running and listed no more was deleted on the server: mark it,
            // with its artifacts and stages, instead of leaving it running forever.
            let at_ms = now_ms();
            for gone in prev.pending.iter().chain(&p.recheck).filter(|n| !seen.contains(n)) {
                let id = build_id(&server, &p.path, *gone);
                yield Operation::SoftDelete { table: "jenkins_builds".into(), key: vec![Value::Text(id.clone())], at_ms };
                for table in ["jenkins_artifacts", "jenkins_stages"] {
                    yield Operation::SoftDeleteWhere { table: table.into(), matching: vec![("build_id".into(), Value::Text(id.clone()))], at_ms };
                }
            }
            pending.sort_unstable();
            let non_final = pending.len() as u64;
            let state = JobState { version: JOB_STATE_VERSION, synced_through: highest, pending, deleted: false, first_build: p.first_build, stages };
            let unnumbered = std::mem::take(&mut *unnumbered.lock().unwrap_or_else(|e| e.into_inner()));
            for url in unnumbered {
                yield Operation::Report(cidata_sync::ItemReport {
                    partition: job_key(&p.path),
                    item: format!("a build of `{}` at {url}", p.path),
                    problem: "listed without a number, so it cannot be stored".into(),
                });
            }
            yield Operation::checkpoint(job_key(&p.path), &state, non_final)?;
        };
        stream.boxed()
    }

    fn request_counts(&self) -> RequestCounts {
        let s = self.jenkins().stats().snapshot();
        RequestCounts {
            requests: s.requests,
            retries: s.retries,
        }
    }
}

/// The runs from `#floor` up by number, in one request. wfapi answers at most 11 runs, newest
/// first down to the `since` run included (when it is among them): the rest are read one by one.
/// A job wfapi knows nothing of gives none.
async fn recent_runs(wfapi: &Wfapi, path: &JobPath, floor: u64) -> Result<HashMap<u64, Run>> {
    let query = RunsQuery::default().since(format!("#{floor}"));
    match wfapi.runs(path, &query).await {
        Ok(runs) => Ok(runs
            .into_iter()
            .filter_map(|run| Some((run.number()?, run)))
            .filter(|(number, _)| *number >= floor)
            .collect()),
        Err(e)
            if matches!(
                e.kind(),
                cidata_core::ErrorKind::NotFound | cidata_core::ErrorKind::NotSupported
            ) =>
        {
            tracing::debug!(job = %path, error = %e, "no runs listing");
            Ok(HashMap::new())
        }
        Err(e) => Err(Error::source(e)),
    }
}

/// The stages of a run; a run wfapi knows nothing of (not a Pipeline, gone) has none.
async fn stages_of(wfapi: &Wfapi, path: &JobPath, number: u64) -> Result<Option<Run>> {
    match wfapi.run(path, number).await {
        Ok(run) => Ok(Some(run)),
        Err(e)
            if matches!(
                e.kind(),
                cidata_core::ErrorKind::NotFound | cidata_core::ErrorKind::NotSupported
            ) =>
        {
            tracing::debug!(job = %path, number, error = %e, "no stages");
            Ok(None)
        }
        Err(e) => Err(Error::source(e)),
    }
}

/// The Pipeline stages' part of the `ci_steps` view (see `cidata_sync::views`): one row per
/// stage of a Jenkins build, `run_id` the build's id in `ci_runs`.
pub static STEPS_VIEW: cidata_sync::views::ViewPart = cidata_sync::views::ViewPart {
    view: "ci_steps",
    source: "jenkins",
    tables: &["jenkins_stages"],
    select: steps_view_select,
};

fn steps_view_select(dialect: cidata_sync::views::Dialect) -> String {
    let status = cidata_sync::views::normalise_status(
        "status",
        &[
            ("success", &["SUCCESS"]),
            ("failure", &["FAILED", "UNSTABLE"]),
            ("cancelled", &["ABORTED"]),
            ("skipped", &["NOT_EXECUTED"]),
            ("running", &["IN_PROGRESS", "PAUSED_PENDING_INPUT"]),
            ("queued", &["QUEUED"]),
        ],
    );
    let finished = dialect.time_from_ms("start_ms + duration_ms");
    format!(
        "SELECT 'jenkins', server, job_name, build_id, id, name, {status}, status, start, \
         CASE WHEN duration_ms IS NULL THEN NULL ELSE {finished} END, duration_ms, \
         status IN ('SUCCESS', 'FAILED', 'ABORTED', 'UNSTABLE', 'NOT_EXECUTED'), build_number \
         FROM jenkins_stages WHERE deleted_at IS NULL"
    )
}

/// The Jenkins parts of the views: builds in `ci_runs`, stages in `ci_steps`.
pub fn view_parts() -> Vec<cidata_sync::views::ViewPart> {
    vec![tables::RUNS_VIEW, STEPS_VIEW]
}
