//! Table records of jobs, builds and artifacts, for `cidata-sync` (feature `sync`). The seed
//! connector's columns come first, ours after.

use cidata_sync::{ColumnType, Record, Result, TableSchema, Value};

use crate::models::{Build, Job};
use crate::{Jenkins, JobPath};

/// `jenkins_jobs`: every job and folder; jobs that disappear get `deleted_at`.
pub fn jobs_table() -> TableSchema {
    TableSchema::new("jenkins_jobs")
        .column("id", ColumnType::Text)
        .column("name", ColumnType::Text)
        .column("url", ColumnType::Text)
        .column("color", ColumnType::Text)
        .column("raw", ColumnType::Json)
        .column("full_name", ColumnType::Text)
        .column("class", ColumnType::Text)
        .column("parent", ColumnType::Text)
        .column("last_build_number", ColumnType::Integer)
        .column("deleted_at", ColumnType::Timestamp)
        .volatile_column("synced_at", ColumnType::Timestamp)
        .primary_key(["id"])
        .soft_delete("deleted_at")
}

/// `jenkins_builds`: every build; running ones are re-read until final.
pub fn builds_table() -> TableSchema {
    TableSchema::new("jenkins_builds")
        .column("id", ColumnType::Text)
        .column("job_name", ColumnType::Text)
        .column("number", ColumnType::Integer)
        .column("result", ColumnType::Text)
        .column("timestamp", ColumnType::Timestamp)
        .column("timestamp_ms", ColumnType::Integer)
        .column("url", ColumnType::Text)
        .column("raw", ColumnType::Json)
        .column("duration_ms", ColumnType::Integer)
        .column("building", ColumnType::Boolean)
        .column("is_final", ColumnType::Boolean)
        .volatile_column("synced_at", ColumnType::Timestamp)
        .primary_key(["id"])
}

/// `jenkins_artifacts`: keyed by job, build and relative path, so that two artifacts with one file
/// name in different folders do not collide.
pub fn artifacts_table() -> TableSchema {
    TableSchema::new("jenkins_artifacts")
        .column("id", ColumnType::Text)
        .column("build_id", ColumnType::Text)
        .column("job_name", ColumnType::Text)
        .column("build_number", ColumnType::Integer)
        .column("file_name", ColumnType::Text)
        .column("relative_path", ColumnType::Text)
        .column("timestamp_ms", ColumnType::Integer)
        .column("url", ColumnType::Text)
        .column("raw", ColumnType::Json)
        .primary_key(["id"])
}

/// The id of a build row: `<full_name>_<number>`.
pub fn build_id(job: &JobPath, number: u64) -> String {
    format!("{}_{number}", job.full_name())
}

/// The `jenkins_jobs` row of a listed job. Its `raw` leaves out the children (they have rows of
/// their own).
pub fn job_record(
    table: &TableSchema,
    jenkins: &Jenkins,
    path: &JobPath,
    job: &Job,
    synced_at_ms: i64,
) -> Result<Record> {
    let raw = match job.raw.parse::<serde_json::Value>() {
        Ok(serde_json::Value::Object(mut map)) => {
            map.remove("jobs");
            serde_json::Value::Object(map).to_string()
        }
        _ => job.raw.get().to_owned(),
    };
    let url = jenkins.job_url(path).map(|u| u.to_string()).ok();
    table
        .record()
        .set("id", path.full_name())
        .set("name", path.name())
        .set("url", url)
        .set("color", job.color.clone())
        .set("raw", Value::Json(raw))
        .set("full_name", path.full_name())
        .set("class", job.class.clone())
        .set("parent", path.parent().map(|p| p.full_name()))
        .set("last_build_number", job.last_build_number())
        .set("deleted_at", Value::Null)
        .set("synced_at", Value::Timestamp(synced_at_ms))
        .build()
}

/// The `jenkins_builds` row of a build, and the `jenkins_artifacts` rows of its artifacts.
pub fn build_records(
    tables: (&TableSchema, &TableSchema),
    jenkins: &Jenkins,
    path: &JobPath,
    build: &Build,
    synced_at_ms: i64,
) -> Result<Vec<Record>> {
    let (builds, artifacts) = tables;
    let number = build
        .number
        .ok_or_else(|| cidata_sync::Error::Record(format!("a build of `{path}` has no number")))?;
    let id = build_id(path, number);
    let mut out = Vec::with_capacity(1 + build.artifacts.len());
    out.push(
        builds
            .record()
            .set("id", id.as_str())
            .set("job_name", path.full_name())
            .set("number", number)
            .set(
                "result",
                build.result.as_ref().map(|r| r.as_str().to_owned()),
            )
            .set("timestamp", Value::timestamp(build.timestamp))
            .set("timestamp_ms", build.timestamp)
            .set(
                "url",
                jenkins.build_url(path, number).map(|u| u.to_string()).ok(),
            )
            .set("raw", Value::Json(build.raw.get().to_owned()))
            .set("duration_ms", build.duration)
            .set(
                "building",
                build.building.unwrap_or(false) || build.in_progress == Some(true),
            )
            .set("is_final", build.is_final())
            .set("synced_at", Value::Timestamp(synced_at_ms))
            .build()?,
    );
    for artifact in &build.artifacts {
        let Some(relative_path) = artifact.relative_path.as_deref() else {
            continue;
        };
        out.push(
            artifacts
                .record()
                .set("id", format!("{id}_{relative_path}"))
                .set("build_id", id.as_str())
                .set("job_name", path.full_name())
                .set("build_number", number)
                .set("file_name", artifact.file_name.clone())
                .set("relative_path", relative_path)
                .set("timestamp_ms", build.timestamp)
                .set(
                    "url",
                    jenkins
                        .artifact_url(path, number, relative_path)
                        .map(|u| u.to_string())
                        .ok(),
                )
                .set("raw", Value::Json(artifact.raw.get().to_owned()))
                .build()?,
        );
    }
    Ok(out)
}
