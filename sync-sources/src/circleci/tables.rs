//! The CircleCI tables (`circleci_pipelines`, `circleci_workflows`, `circleci_jobs`,
//! `circleci_tests`) and their parts of the views.

use cidata_circleci::models::{Job, JobDetails, Pipeline, TestMetadata, Workflow, parse_time};
use cidata_sync::{ColumnDef, ColumnType, TableDef, Value};
use serde::Serialize;

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

pub(super) fn text(value: &Option<String>) -> Value {
    value.clone().into()
}

pub(super) fn time(value: &Option<String>) -> Value {
    Value::timestamp(value.as_deref().and_then(parse_time))
}

pub(super) fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_string(value).map_or(Value::Null, Value::Json)
}

/// Milliseconds between two API times, when both are there.
pub(super) fn between(start: &Option<String>, stop: &Option<String>) -> Option<i64> {
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
        // When its pipeline, held as not final, answered 404: gone, not forgotten.
        ColumnDef::new("deleted_at", ColumnType::Timestamp, |_| Value::Null),
    ],
    soft_delete: Some("deleted_at"),
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
        // When its pipeline, held as not final, answered 404: gone, not forgotten.
        ColumnDef::new("deleted_at", ColumnType::Timestamp, |_| Value::Null),
    ],
    soft_delete: Some("deleted_at"),
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
pub(super) fn job_is_final(row: &JobRow) -> bool {
    row.workflow_final || row.job.status.as_ref().is_some_and(|s| s.is_final())
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
