//! The Bitbucket tables (`bitbucket_workspaces`, `bitbucket_projects`,
//! `bitbucket_repositories`, `bitbucket_pipelines`, `bitbucket_steps`,
//! `bitbucket_pull_requests`) and their parts of the views.

use cidata_bitbucket::models::{
    Pipeline, PipelineStep, Project, PullRequest, Repository, Workspace,
};
use cidata_bitbucket::parse_time;
use cidata_sync::{ColumnDef, ColumnType, TableDef, Value};

pub(super) fn text(value: &Option<String>) -> Value {
    value.clone().into()
}

pub(super) fn time(value: &Option<String>) -> Value {
    Value::timestamp(value.as_deref().and_then(parse_time))
}

/// A pipeline's or step's state (`COMPLETED`, `IN_PROGRESS`, ...).
pub(super) fn state_name(state: Option<&cidata_bitbucket::models::PipelineState>) -> Value {
    state
        .and_then(|s| s.name.as_ref())
        .map(|n| n.as_str().to_owned())
        .into()
}

/// A completed pipeline's or step's result (`SUCCESSFUL`, `FAILED`, ...).
pub(super) fn result_name(state: Option<&cidata_bitbucket::models::PipelineState>) -> Value {
    state.and_then(|s| s.result.as_ref()?.name.clone()).into()
}

pub(super) fn raw(value: &cidata_core::raw::RawJson) -> Value {
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
        // When its pipeline, held as not final, answered 404: gone, not forgotten.
        ColumnDef::new("deleted_at", ColumnType::Timestamp, |_| Value::Null),
    ],
    soft_delete: Some("deleted_at"),
};

/// A step is final when completed, or when it will never run (`NOT_RUN`).
pub(super) fn step_is_final(step: &PipelineStep) -> bool {
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
