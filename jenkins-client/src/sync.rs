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
        .column("display_name", ColumnType::Text)
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
        .column("display_name", ColumnType::Text)
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
        .column("timestamp", ColumnType::Timestamp)
        .primary_key(["id"])
}

/// The id of a build row: `<full_name>#<number>`. Jenkins refuses `#` in job names (and a
/// multibranch branch's `#` is encoded as `%23`), so the id cannot be another build's.
pub fn build_id(job: &JobPath, number: u64) -> String {
    format!("{}#{number}", job.full_name())
}

/// The id of an artifact row: `<build id>/<relative path>` (`team/app#42/dist/app.tar.gz`):
/// the job name ends at the first `#`, the number at the next `/`.
pub fn artifact_id(job: &JobPath, number: u64, relative_path: &str) -> String {
    format!("{}/{relative_path}", build_id(job, number))
}

/// The rewrite of rows written before ids used `#` (`<job>_<n>`, `<job>_<n>_<path>`, which
/// collided: job `x_1` build 2 and job `x` build 12 both made `x_1_2`). Collided artifact rows
/// come back when their jobs are read again, which the Jenkins source does once after it.
pub const ID_MIGRATION_NAME: &str = "jenkins-hash-ids";

/// The SQL of [`ID_MIGRATION_NAME`] for the builds and artifacts tables: ids rebuilt from the
/// columns they were made of, through a marked step so that no new id meets an old one
/// half-way.
pub fn id_migration_statements() -> Vec<String> {
    let mark = "'~migrating~'";
    let len = "~migrating~".len() + 1;
    vec![
        format!(
            "UPDATE jenkins_builds SET id = {mark} || job_name || '#' || number WHERE job_name IS NOT NULL AND number IS NOT NULL"
        ),
        format!("UPDATE jenkins_builds SET id = substr(id, {len}) WHERE id LIKE '~migrating~%'"),
        format!(
            "UPDATE jenkins_artifacts SET id = {mark} || job_name || '#' || build_number || '/' || relative_path, build_id = job_name || '#' || build_number WHERE job_name IS NOT NULL AND build_number IS NOT NULL AND relative_path IS NOT NULL"
        ),
        format!("UPDATE jenkins_artifacts SET id = substr(id, {len}) WHERE id LIKE '~migrating~%'"),
    ]
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
        .set("display_name", job.display_name.clone())
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
            // A running build's duration is 0 on Jenkins: NULL until final keeps averages right.
            .set("duration_ms", build.duration.filter(|_| build.is_final()))
            .set(
                "building",
                build.building.unwrap_or(false) || build.in_progress == Some(true),
            )
            .set("is_final", build.is_final())
            .set("synced_at", Value::Timestamp(synced_at_ms))
            .set("display_name", build.display_name.clone())
            .build()?,
    );
    for artifact in &build.artifacts {
        let Some(relative_path) = artifact.relative_path.as_deref() else {
            continue;
        };
        out.push(
            artifacts
                .record()
                .set("id", artifact_id(path, number, relative_path))
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
                .set("timestamp", Value::timestamp(build.timestamp))
                .build()?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Job names as Jenkins allows them: no `#` or `/` (it refuses both), `_` and digits welcome.
    fn name() -> impl Strategy<Value = String> {
        "[a-z0-9_ .%-]{1,6}".prop_filter("not . or ..", |s| s != "." && s != "..")
    }

    fn job() -> impl Strategy<Value = JobPath> {
        prop::collection::vec(name(), 1..3).prop_map(|s| JobPath::from_segments(s).unwrap())
    }

    proptest! {
        /// Two different (job, build, artifact) never share an id: the collision of `x_1` #2 `a`
        /// with `x` #1 `2_a` that `_` ids had cannot happen.
        #[test]
        fn artifact_and_build_ids_are_injective(
            a in (job(), 1u64..200, "[a-z0-9_/#.]{1,6}"),
            b in (job(), 1u64..200, "[a-z0-9_/#.]{1,6}"),
        ) {
            let id = |(j, n, p): &(JobPath, u64, String)| (build_id(j, *n), artifact_id(j, *n, p));
            let (build_a, artifact_a) = id(&a);
            let (build_b, artifact_b) = id(&b);
            prop_assert_eq!(artifact_a == artifact_b, a == b);
            prop_assert_eq!(build_a == build_b, (&a.0, a.1) == (&b.0, b.1));
        }
    }

    #[test]
    fn the_ids_that_collided_with_underscores_differ() {
        let x1 = JobPath::from_full_name("x_1").unwrap();
        let x = JobPath::from_full_name("x").unwrap();
        assert_ne!(artifact_id(&x1, 2, "a"), artifact_id(&x, 1, "2_a"));
        assert_ne!(build_id(&x1, 2), build_id(&x, 12));
    }
}
