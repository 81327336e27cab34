//! Typed CircleCI v2 models after the specification and the recorded responses.
//!
//! Every field is optional: the real API sends `null` where the spec says required (an approval
//! job's `started_at`, `next_page_token`), leaves keys out (an approval job has no `job_number`),
//! and old responses lack fields newer specs add. Enums keep values this version does not know.
//! Each top-level model keeps the server's JSON object in `raw`. Times are the API's RFC 3339
//! text (`2020-11-03T11:35:07.224Z` or whole seconds); [`parse_time`] turns one into milliseconds.
//! Integers are `i64`, as the spec's `int64` says: a model does not refuse a negative number
//! (generated data has them) where an unsigned type would fail the whole page.

use cidata_core::raw::vec_or_null;
use cidata_core::raw_model;
use serde::{Deserialize, Serialize};

/// An object whose fields nothing here models (trigger parameters, a job's `requires`).
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

cidata_core::string_enum! {
    /// The state of a pipeline (its setup, not its workflows' outcome).
    pub enum PipelineState {
        /// Created; workflows are being set up.
        Created = "created",
        /// The configuration could not be processed (see the pipeline's `errors`).
        Errored = "errored",
        /// A setup workflow is pending.
        SetupPending = "setup-pending",
        /// A setup workflow runs.
        Setup = "setup",
        /// Accepted, not processed yet.
        Pending = "pending",
    }
}

cidata_core::string_enum! {
    /// Why a pipeline errored.
    pub enum PipelineErrorType {
        /// The configuration is invalid.
        Config = "config",
        /// The configuration could not be fetched.
        ConfigFetch = "config-fetch",
        /// Processing timed out.
        Timeout = "timeout",
        /// A permission is missing.
        Permission = "permission",
        /// Something else.
        Other = "other",
        /// A trigger rule refused it.
        TriggerRule = "trigger-rule",
        /// The plan does not allow it.
        Plan = "plan",
    }
}

cidata_core::string_enum! {
    /// What started a pipeline. Real data also has `schedule` (legacy scheduled workflows) and
    /// `Decoupled Ingestion System`.
    pub enum TriggerType {
        /// A scheduled pipeline.
        ScheduledPipeline = "scheduled_pipeline",
        /// Started by hand in the UI.
        Explicit = "explicit",
        /// Started through the API.
        Api = "api",
        /// A push or pull request webhook.
        Webhook = "webhook",
        /// A legacy scheduled workflow (not in the spec; seen in real data).
        Schedule = "schedule",
    }
}

cidata_core::string_enum! {
    /// The status of a workflow.
    pub enum WorkflowStatus {
        /// Every job succeeded.
        Success = "success",
        /// Jobs run.
        Running = "running",
        /// It did not run.
        NotRun = "not_run",
        /// A job failed.
        Failed = "failed",
        /// It could not run (configuration, infrastructure).
        Error = "error",
        /// A job failed, others still run.
        Failing = "failing",
        /// Waiting for an approval.
        OnHold = "on_hold",
        /// Cancelled.
        Canceled = "canceled",
        /// Not allowed to run (a restricted context).
        Unauthorized = "unauthorized",
    }
}

impl WorkflowStatus {
    /// Whether the workflow will not change any more (short of a rerun, which makes a new
    /// workflow). Running, failing, on hold and unknown statuses are not final.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            WorkflowStatus::Success
                | WorkflowStatus::NotRun
                | WorkflowStatus::Failed
                | WorkflowStatus::Error
                | WorkflowStatus::Canceled
                | WorkflowStatus::Unauthorized
        )
    }
}

cidata_core::string_enum! {
    /// The status of a job.
    pub enum JobStatus {
        /// Succeeded.
        Success = "success",
        /// Runs.
        Running = "running",
        /// Has not run (yet, or ever: behind a failed job or a pending approval).
        NotRun = "not_run",
        /// Failed.
        Failed = "failed",
        /// Rerun.
        Retried = "retried",
        /// Queued.
        Queued = "queued",
        /// Not running yet.
        NotRunning = "not_running",
        /// The infrastructure failed.
        InfrastructureFail = "infrastructure_fail",
        /// Timed out.
        Timedout = "timedout",
        /// An approval job waiting for someone.
        OnHold = "on_hold",
        /// Ended, how is not known.
        TerminatedUnknown = "terminated-unknown",
        /// Blocked by a job it requires.
        Blocked = "blocked",
        /// Cancelled.
        Canceled = "canceled",
        /// Not allowed to run.
        Unauthorized = "unauthorized",
    }
}

impl JobStatus {
    /// Whether the job ended. `not_run` is not: a job behind an approval is `not_run` until the
    /// approval comes; a job that will never run is final with its workflow.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            JobStatus::Success
                | JobStatus::Failed
                | JobStatus::Retried
                | JobStatus::InfrastructureFail
                | JobStatus::Timedout
                | JobStatus::TerminatedUnknown
                | JobStatus::Canceled
                | JobStatus::Unauthorized
        )
    }
}

cidata_core::string_enum! {
    /// The kind of a job of a workflow.
    pub enum JobType {
        /// A job that runs steps.
        Build = "build",
        /// A manual approval.
        Approval = "approval",
    }
}

/// Why a pipeline errored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PipelineError {
    /// The kind of error.
    #[serde(rename = "type")]
    pub kind: Option<PipelineErrorType>,
    /// What went wrong.
    pub message: Option<String>,
}

/// Who or what triggered a pipeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TriggerActor {
    /// The user's login (`Scheduled` for legacy schedules, empty for some systems).
    pub login: Option<String>,
    /// The avatar's URL (null for schedules).
    pub avatar_url: Option<String>,
}

/// What started a pipeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Trigger {
    /// The kind of trigger.
    #[serde(rename = "type")]
    pub kind: Option<TriggerType>,
    /// When CircleCI received it (`1970-01-01T00:00:00.000Z` means unknown).
    pub received_at: Option<String>,
    /// Who triggered it.
    pub actor: Option<TriggerActor>,
}

/// The commit a pipeline built.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Commit {
    /// The first line of the message.
    pub subject: Option<String>,
    /// The rest of the message.
    pub body: Option<String>,
}

/// The version control data of a pipeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Vcs {
    /// `GitHub`, `Bitbucket`, ...
    pub provider_name: Option<String>,
    /// The repository the pipeline belongs to.
    pub target_repository_url: Option<String>,
    /// The repository the code came from (a fork for pull requests from forks).
    pub origin_repository_url: Option<String>,
    /// The branch, for branch pipelines.
    pub branch: Option<String>,
    /// The tag, for tag pipelines.
    pub tag: Option<String>,
    /// The commit's SHA.
    pub revision: Option<String>,
    /// The pull request's number, when built for one.
    pub review_id: Option<String>,
    /// The pull request's URL.
    pub review_url: Option<String>,
    /// The commit's message (absent for schedules).
    pub commit: Option<Commit>,
}

raw_model! {
    rename_all = "snake_case";
    /// A pipeline: one trigger of a project's configuration, with its workflows.
    pub struct Pipeline {
        /// Its id (a UUID).
        pub id: Option<String>,
        /// The project (`gh/org/repo`).
        pub project_slug: Option<String>,
        /// Its number in the project.
        pub number: Option<i64>,
        /// The setup state.
        pub state: Option<PipelineState>,
        /// When it was created.
        pub created_at: Option<String>,
        /// When it last changed (workflow outcomes do not change it).
        pub updated_at: Option<String>,
        /// Configuration errors.
        #[serde(deserialize_with = "vec_or_null")]
        pub errors: Vec<PipelineError>,
        /// What started it.
        pub trigger: Option<Trigger>,
        /// The parameters it was triggered with.
        pub trigger_parameters: Option<JsonObject>,
        /// Branch, tag, revision and commit.
        pub vcs: Option<Vcs>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A workflow of a pipeline. A rerun makes a new workflow of the same name in the same pipeline.
    pub struct Workflow {
        /// Its id.
        pub id: Option<String>,
        /// Its name in the configuration.
        pub name: Option<String>,
        /// Its status.
        pub status: Option<WorkflowStatus>,
        /// The pipeline's id.
        pub pipeline_id: Option<String>,
        /// The pipeline's number.
        pub pipeline_number: Option<i64>,
        /// The project.
        pub project_slug: Option<String>,
        /// The user who started it.
        pub started_by: Option<String>,
        /// The user who cancelled it.
        pub canceled_by: Option<String>,
        /// Who or what errored it.
        pub errored_by: Option<String>,
        /// `setup` for a setup workflow.
        pub tag: Option<String>,
        /// When it was created.
        pub created_at: Option<String>,
        /// When it stopped (null while it runs).
        pub stopped_at: Option<String>,
    }
}

impl Workflow {
    /// Whether it will not change any more; a workflow without a status is not.
    pub fn is_final(&self) -> bool {
        self.status.as_ref().is_some_and(WorkflowStatus::is_final)
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A job of a workflow, as the workflow's job list gives it.
    pub struct Job {
        /// Its id.
        pub id: Option<String>,
        /// Its name in the workflow.
        pub name: Option<String>,
        /// Its number in the project (absent for approval jobs).
        pub job_number: Option<i64>,
        /// `build` or `approval`.
        #[serde(rename = "type")]
        pub kind: Option<JobType>,
        /// Its status.
        pub status: Option<JobStatus>,
        /// The ids of the jobs it waits for.
        #[serde(deserialize_with = "vec_or_null")]
        pub dependencies: Vec<String>,
        /// The project.
        pub project_slug: Option<String>,
        /// When it started (null for approvals and jobs that have not started).
        pub started_at: Option<String>,
        /// When it stopped.
        pub stopped_at: Option<String>,
        /// When it was created (recent responses).
        pub created_at: Option<String>,
        /// Who approved an approval job.
        pub approved_by: Option<String>,
        /// The id to approve an approval job with (equal to its `id`).
        pub approval_request_id: Option<String>,
        /// Who cancelled it.
        pub canceled_by: Option<String>,
        /// What it requires, by job id and status.
        pub requires: Option<JsonObject>,
    }
}

/// The executor a job ran on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Executor {
    /// `docker`, `machine`, `macos`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `medium`, `large`, ...
    pub resource_class: Option<String>,
}

/// One of a job's parallel runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ParallelRun {
    /// The node index.
    pub index: Option<i64>,
    /// Its status.
    pub status: Option<String>,
}

/// A message of a job (a warning, why it failed to start).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct JobMessage {
    /// The kind of message.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The text.
    pub message: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

/// A name, as several references give it (a context, an organization).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Named {
    /// The name.
    pub name: Option<String>,
}

/// A reference by id (and name, where given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Reference {
    /// The id.
    pub id: Option<String>,
    /// The name.
    pub name: Option<String>,
}

/// The project a job belongs to, as job details give it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct JobProject {
    /// Its id (absent in old responses).
    pub id: Option<String>,
    /// Its slug.
    pub slug: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// The repository's URL.
    pub external_url: Option<String>,
}

raw_model! {
    rename_all = "snake_case";
    /// A job's details (`/project/{slug}/job/{number}`).
    pub struct JobDetails {
        /// Its number in the project.
        pub number: Option<i64>,
        /// Its name.
        pub name: Option<String>,
        /// Its status.
        pub status: Option<JobStatus>,
        /// Its page on CircleCI.
        pub web_url: Option<String>,
        /// The project.
        pub project: Option<JobProject>,
        /// The organization.
        pub organization: Option<Named>,
        /// The pipeline.
        pub pipeline: Option<Reference>,
        /// The newest workflow it belongs to.
        pub latest_workflow: Option<Reference>,
        /// Where it ran.
        pub executor: Option<Executor>,
        /// How many nodes it ran on.
        pub parallelism: Option<i64>,
        /// Each node's run.
        #[serde(deserialize_with = "vec_or_null")]
        pub parallel_runs: Vec<ParallelRun>,
        /// The contexts it used.
        #[serde(deserialize_with = "vec_or_null")]
        pub contexts: Vec<Named>,
        /// Messages about it.
        #[serde(deserialize_with = "vec_or_null")]
        pub messages: Vec<JobMessage>,
        /// How long it ran, in milliseconds (insights give seconds).
        pub duration: Option<i64>,
        /// When it was created.
        pub created_at: Option<String>,
        /// When it was queued.
        pub queued_at: Option<String>,
        /// When it started.
        pub started_at: Option<String>,
        /// When it stopped.
        pub stopped_at: Option<String>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A file a job stored.
    pub struct Artifact {
        /// Its path.
        pub path: Option<String>,
        /// The node that stored it.
        pub node_index: Option<i64>,
        /// Where to download it (needs the token).
        pub url: Option<String>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// One test result of a job.
    pub struct TestMetadata {
        /// The test's name.
        pub name: Option<String>,
        /// Its class name.
        pub classname: Option<String>,
        /// `success`, `failure`, `skipped`, ...
        pub result: Option<String>,
        /// Its failure message.
        pub message: Option<String>,
        /// How long it ran, in seconds (some servers send `""`: read as none).
        #[serde(deserialize_with = "lenient_f64")]
        pub run_time: Option<f64>,
        /// Its file.
        pub file: Option<String>,
        /// The reporter that produced it.
        pub source: Option<String>,
    }
}

/// Where a project's code lives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct VcsInfo {
    /// The repository's URL.
    pub vcs_url: Option<String>,
    /// `GitHub`, `Bitbucket`, `CircleCI`.
    pub provider: Option<String>,
    /// Its default branch.
    pub default_branch: Option<String>,
}

raw_model! {
    rename_all = "snake_case";
    /// A project.
    pub struct Project {
        /// Its slug.
        pub slug: Option<String>,
        /// Its name.
        pub name: Option<String>,
        /// Its id.
        pub id: Option<String>,
        /// The organization's name.
        pub organization_name: Option<String>,
        /// The organization's slug.
        pub organization_slug: Option<String>,
        /// The organization's id.
        pub organization_id: Option<String>,
        /// Where its code lives.
        pub vcs_info: Option<VcsInfo>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// An organization the user collaborates in (`/me/collaborations`).
    pub struct Collaboration {
        /// Its id (absent in old responses).
        pub id: Option<String>,
        /// `github`, `bitbucket`, `circleci` (the spec spells the key `vcs-type`).
        #[serde(alias = "vcs-type")]
        pub vcs_type: Option<String>,
        /// Its name.
        pub name: Option<String>,
        /// Its slug (`gh/acme`).
        pub slug: Option<String>,
        /// Its avatar.
        pub avatar_url: Option<String>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// The authenticated user (`/me`) or another (`/user/{id}`).
    pub struct User {
        /// Its id.
        pub id: Option<String>,
        /// Its login.
        pub login: Option<String>,
        /// Its name.
        pub name: Option<String>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A recent run of a workflow, from insights.
    pub struct WorkflowRun {
        /// The workflow's id.
        pub id: Option<String>,
        /// The branch (absent in old responses).
        pub branch: Option<String>,
        /// How long it ran, in seconds.
        pub duration: Option<i64>,
        /// When it was created.
        pub created_at: Option<String>,
        /// When it stopped.
        pub stopped_at: Option<String>,
        /// Credits used.
        pub credits_used: Option<i64>,
        /// Its status.
        pub status: Option<WorkflowStatus>,
        /// Whether it held an approval.
        pub is_approval: Option<bool>,
    }
}

/// Duration statistics of insights, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DurationMetrics {
    /// The shortest.
    pub min: Option<i64>,
    /// The mean.
    pub mean: Option<i64>,
    /// The median.
    pub median: Option<i64>,
    /// The 95th percentile.
    pub p95: Option<i64>,
    /// The longest.
    pub max: Option<i64>,
    /// The standard deviation.
    pub standard_deviation: Option<f64>,
}

/// Aggregated metrics of a workflow or job over a reporting window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Metrics {
    /// Runs in the window.
    pub total_runs: Option<i64>,
    /// Successful runs.
    pub successful_runs: Option<i64>,
    /// Failed runs.
    pub failed_runs: Option<i64>,
    /// Successes over runs.
    pub success_rate: Option<f64>,
    /// Runs per day.
    pub throughput: Option<f64>,
    /// Mean time to recovery, seconds.
    pub mttr: Option<i64>,
    /// Recoveries.
    pub total_recoveries: Option<i64>,
    /// Credits used.
    pub total_credits_used: Option<i64>,
    /// Duration statistics.
    pub duration_metrics: Option<DurationMetrics>,
}

raw_model! {
    rename_all = "snake_case";
    /// The insights summary of a workflow (`/insights/{slug}/workflows`) or of a job of one
    /// (`.../workflows/{name}/jobs`).
    pub struct InsightsSummary {
        /// The workflow's or job's name.
        pub name: Option<String>,
        /// Its metrics over the window.
        pub metrics: Option<Metrics>,
        /// The window's start.
        pub window_start: Option<String>,
        /// The window's end.
        pub window_end: Option<String>,
        /// The project's id (the spec gives it no type).
        pub project_id: Option<serde_json::Value>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A pipeline's configuration as given and as compiled.
    pub struct PipelineConfig {
        /// The configuration as committed.
        pub source: Option<String>,
        /// The configuration after orbs and parameters were expanded.
        pub compiled: Option<String>,
        /// The setup configuration, for dynamic configuration.
        #[serde(rename = "setup-config")]
        pub setup_config: Option<String>,
        /// The compiled setup configuration.
        #[serde(rename = "compiled-setup-config")]
        pub compiled_setup_config: Option<String>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// What triggering a pipeline answers: the new pipeline, `pending` at first.
    pub struct TriggeredPipeline {
        /// Its id.
        pub id: Option<String>,
        /// Its number.
        pub number: Option<i64>,
        /// Its state.
        pub state: Option<PipelineState>,
        /// When it was created.
        pub created_at: Option<String>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// What an action answers: a message, and for a rerun the new workflow's id (recent servers).
    pub struct ActionResponse {
        /// `Accepted.`, ...
        pub message: Option<String>,
        /// The workflow a rerun made.
        pub workflow_id: Option<String>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A recent run of a job of a workflow, from insights.
    pub struct JobRun {
        /// The job's id.
        pub id: Option<String>,
        /// When it started.
        pub started_at: Option<String>,
        /// When it stopped.
        pub stopped_at: Option<String>,
        /// How long it ran, in seconds.
        pub duration: Option<i64>,
        /// Its status.
        pub status: Option<JobStatus>,
        /// Credits used.
        pub credits_used: Option<i64>,
    }
}

/// A test that both passed and failed on the same code. The spec spells the keys with `-` and
/// gives some no type; the service answers `_` and integers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FlakyTest {
    /// The test's name.
    #[serde(alias = "test-name")]
    pub test_name: Option<String>,
    /// Its class name.
    pub classname: Option<String>,
    /// Its file.
    pub file: Option<String>,
    /// The reporter.
    pub source: Option<String>,
    /// The job it ran in.
    #[serde(alias = "job-name")]
    pub job_name: Option<String>,
    /// The newest job number it flaked in.
    #[serde(alias = "job-number", deserialize_with = "lenient")]
    pub job_number: Option<i64>,
    /// The workflow.
    #[serde(alias = "workflow-name")]
    pub workflow_name: Option<String>,
    /// The workflow's id.
    #[serde(alias = "workflow-id", deserialize_with = "lenient")]
    pub workflow_id: Option<String>,
    /// When that workflow was created.
    #[serde(alias = "workflow-created-at")]
    pub workflow_created_at: Option<String>,
    /// The pipeline's number.
    #[serde(alias = "pipeline-number", deserialize_with = "lenient")]
    pub pipeline_number: Option<i64>,
    /// How often it flaked.
    #[serde(alias = "times-flaked", deserialize_with = "lenient")]
    pub times_flaked: Option<i64>,
    /// Time spent on its failures, seconds.
    #[serde(alias = "time-wasted", deserialize_with = "lenient")]
    pub time_wasted: Option<i64>,
}

raw_model! {
    rename_all = "snake_case";
    /// The flaky tests of a project (`/insights/{slug}/flaky-tests`; the API spells the keys with
    /// `_`, the spec with `-`).
    pub struct FlakyTests {
        /// The tests.
        #[serde(alias = "flaky-tests", deserialize_with = "vec_or_null")]
        pub flaky_tests: Vec<FlakyTest>,
        /// How many there are (a `number` in the spec).
        #[serde(alias = "total-flaky-tests", deserialize_with = "lenient")]
        pub total_flaky_tests: Option<f64>,
    }
}

/// A test's figures in test metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TestStats {
    /// The test's name.
    pub test_name: Option<String>,
    /// Its class name.
    pub classname: Option<String>,
    /// The job it ran in.
    pub job_name: Option<String>,
    /// Runs.
    pub total_runs: Option<i64>,
    /// Failed runs.
    pub failed_runs: Option<i64>,
    /// Whether it is flaky.
    pub flaky: Option<bool>,
    /// The 95th percentile of its duration, seconds.
    pub p95_duration: Option<f64>,
}

raw_model! {
    rename_all = "snake_case";
    /// Test metrics of a workflow (`/insights/{slug}/workflows/{name}/test-metrics`).
    pub struct TestMetrics {
        /// Tests per run, on average.
        pub average_test_count: Option<f64>,
        /// The tests that failed most.
        #[serde(deserialize_with = "vec_or_null")]
        pub most_failed_tests: Vec<TestStats>,
        /// How many more failed.
        pub most_failed_tests_extra: Option<i64>,
        /// The slowest tests.
        #[serde(deserialize_with = "vec_or_null")]
        pub slowest_tests: Vec<TestStats>,
        /// How many more are slow.
        pub slowest_tests_extra: Option<i64>,
        /// Runs counted.
        pub total_test_runs: Option<i64>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A project environment variable; the server masks its value (`xxxx9e9f`).
    pub struct EnvVar {
        /// Its name.
        pub name: Option<String>,
        /// Its masked value.
        pub value: Option<String>,
        /// When it was created (recent servers).
        pub created_at: Option<String>,
    }
}

raw_model! {
    rename_all = "snake_case";
    /// A checkout key of a project (the API spells keys with `_`, the spec with `-`).
    pub struct CheckoutKey {
        /// `deploy-key` or `github-user-key`.
        #[serde(rename = "type")]
        pub kind: Option<String>,
        /// Whether it is the one used.
        pub preferred: Option<bool>,
        /// The public key.
        #[serde(alias = "public-key")]
        pub public_key: Option<String>,
        /// Its fingerprint.
        pub fingerprint: Option<String>,
        /// When it was created.
        #[serde(alias = "created-at")]
        pub created_at: Option<String>,
    }
}

/// A value of a field the spec gives no type (or a type the service does not keep to): what does
/// not fit `T` is none here, and stays in the model's `raw`.
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

/// A number that some servers send as a string, `""` meaning none.
fn lenient_f64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(f64),
        Text(String),
    }
    Ok(match Option::<NumberOrText>::deserialize(d)? {
        Some(NumberOrText::Number(n)) => Some(n),
        Some(NumberOrText::Text(t)) => t.trim().parse().ok(),
        None => None,
    })
}

/// A time as the API writes it (`2020-11-03T11:35:07.224Z`, `2020-11-03T11:36:35Z`, offsets
/// allowed), in milliseconds since the epoch; `None` for text that is not such a time.
///
/// ```
/// assert_eq!(cidata_circleci::parse_time("1970-01-01T00:00:01.5Z"), Some(1500));
/// assert_eq!(cidata_circleci::parse_time("2020-11-03T11:36:35Z"), Some(1_604_403_395_000));
/// assert_eq!(cidata_circleci::parse_time("yesterday"), None);
/// ```
pub fn parse_time(text: &str) -> Option<i64> {
    let ts: jiff::Timestamp = text.parse().ok()?;
    Some(ts.as_millisecond())
}
