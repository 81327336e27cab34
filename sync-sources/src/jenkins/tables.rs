//! Table records of jobs, builds and artifacts, for `cidata-sync` (feature `sync`). The seed
//! connector's columns come first, ours after.

use cidata_sync::{ColumnDef, ColumnType, Record, Result, TableDef, TableSchema, Value};

use cidata_jenkins::models::{Build, Job};
use cidata_jenkins::{Jenkins, JobPath};

/// A `jenkins_jobs` row.
pub struct JobRow {
    /// The server's name (see [`DEFAULT_SERVER`]).
    pub server: String,
    /// The job's path.
    pub path: JobPath,
    /// The job as listed.
    pub job: Job,
    /// Its URL on the configured base.
    pub url: Option<String>,
    /// Its JSON, without the children (they have rows of their own).
    pub raw: String,
    /// When it was read.
    pub synced_at: i64,
}

/// `jenkins_jobs`: every job and folder; jobs that disappear get `deleted_at`. The seed
/// connector's columns first, ours after; a new column goes at the end.
pub static JOBS: TableDef<JobRow> = TableDef {
    name: "jenkins_jobs",
    key: &["id"],
    columns: &[
        ColumnDef::new("id", ColumnType::Text, |r| {
            scoped_id(&r.server, r.path.full_name()).into()
        }),
        ColumnDef::new("name", ColumnType::Text, |r| r.path.name().into()),
        ColumnDef::new("url", ColumnType::Text, |r| r.url.clone().into()),
        ColumnDef::new("color", ColumnType::Text, |r| r.job.color.clone().into()),
        ColumnDef::new("raw", ColumnType::Json, |r| Value::Json(r.raw.clone())),
        ColumnDef::new("full_name", ColumnType::Text, |r| r.path.full_name().into()),
        ColumnDef::new("class", ColumnType::Text, |r| r.job.class.clone().into()),
        ColumnDef::new("parent", ColumnType::Text, |r| {
            r.path.parent().map(|p| p.full_name()).into()
        }),
        ColumnDef::new("last_build_number", ColumnType::Integer, |r| {
            r.job.last_build_number().into()
        }),
        ColumnDef::new("deleted_at", ColumnType::Timestamp, |_| Value::Null),
        ColumnDef::volatile("synced_at", ColumnType::Timestamp, |r| {
            Value::Timestamp(r.synced_at)
        }),
        ColumnDef::new("display_name", ColumnType::Text, |r| {
            r.job.display_name.clone().into()
        }),
        ColumnDef::new("server", ColumnType::Text, |r| r.server.clone().into()),
    ],
    soft_delete: Some("deleted_at"),
};

/// A `jenkins_builds` row.
pub struct BuildRow {
    /// The server's name (see [`DEFAULT_SERVER`]).
    pub server: String,
    /// The job's full name.
    pub job_name: String,
    /// The build's number.
    pub number: u64,
    /// Its URL on the configured base.
    pub url: Option<String>,
    /// The build.
    pub build: Build,
    /// When it was read.
    pub synced_at: i64,
}

/// `jenkins_builds`: every build; running ones are re-read until final.
pub static BUILDS: TableDef<BuildRow> = TableDef {
    name: "jenkins_builds",
    key: &["id"],
    columns: &[
        ColumnDef::new("id", ColumnType::Text, |r| {
            scoped_id(&r.server, format!("{}#{}", r.job_name, r.number)).into()
        }),
        ColumnDef::new("job_name", ColumnType::Text, |r| r.job_name.clone().into()),
        ColumnDef::new("number", ColumnType::Integer, |r| r.number.into()),
        ColumnDef::new("result", ColumnType::Text, |r| {
            r.build
                .result
                .as_ref()
                .map(|x| x.as_str().to_owned())
                .into()
        }),
        ColumnDef::new("timestamp", ColumnType::Timestamp, |r| {
            Value::timestamp(r.build.timestamp)
        }),
        ColumnDef::new("timestamp_ms", ColumnType::Integer, |r| {
            r.build.timestamp.into()
        }),
        ColumnDef::new("url", ColumnType::Text, |r| r.url.clone().into()),
        ColumnDef::new("raw", ColumnType::Json, |r| {
            Value::Json(r.build.raw.get().to_owned())
        }),
        // A running build's duration is 0 on Jenkins: NULL until final keeps averages right.
        ColumnDef::new("duration_ms", ColumnType::Integer, |r| {
            r.build.duration.filter(|_| r.build.is_final()).into()
        }),
        ColumnDef::new("building", ColumnType::Boolean, |r| {
            (r.build.building.unwrap_or(false) || r.build.in_progress == Some(true)).into()
        }),
        ColumnDef::new("is_final", ColumnType::Boolean, |r| {
            r.build.is_final().into()
        }),
        ColumnDef::volatile("synced_at", ColumnType::Timestamp, |r| {
            Value::Timestamp(r.synced_at)
        }),
        ColumnDef::new("display_name", ColumnType::Text, |r| {
            r.build.display_name.clone().into()
        }),
        // Set when the build is gone from the server (discarded, or its job deleted).
        ColumnDef::new("deleted_at", ColumnType::Timestamp, |_| Value::Null),
        ColumnDef::new("server", ColumnType::Text, |r| r.server.clone().into()),
        // What the git plugin recorded (NULL without it, and for builds synced before 0.2).
        ColumnDef::new("revision", ColumnType::Text, |r| {
            r.build.scm_revision().and_then(|g| g.sha1.clone()).into()
        }),
        ColumnDef::new("git_branch", ColumnType::Text, |r| {
            git_branch(&r.build).into()
        }),
    ],
    soft_delete: Some("deleted_at"),
};

/// The branch the git plugin built, without its remote: it names branches `origin/main` (or
/// `refs/remotes/origin/main`), `refs/heads/main` for local ones.
fn git_branch(build: &Build) -> Option<String> {
    let name = build.scm_revision()?.branch.first()?.name.as_deref()?;
    let short = if let Some(local) = name.strip_prefix("refs/heads/") {
        local
    } else {
        let remote = name.strip_prefix("refs/remotes/").unwrap_or(name);
        remote.split_once('/').map_or(remote, |(_, branch)| branch)
    };
    Some(short.to_owned())
}

/// A `jenkins_artifacts` row.
pub struct ArtifactRow {
    /// The server's name (see [`DEFAULT_SERVER`]).
    pub server: String,
    /// The build row's id.
    pub build_id: String,
    /// The job's full name.
    pub job_name: String,
    /// The build's number.
    pub build_number: u64,
    /// Its path in the build's archive.
    pub relative_path: String,
    /// Its file name.
    pub file_name: Option<String>,
    /// The build's start, ms.
    pub timestamp: Option<i64>,
    /// Its URL on the configured base.
    pub url: Option<String>,
    /// Its JSON.
    pub raw: String,
}

/// `jenkins_artifacts`: keyed by build and relative path, so that two artifacts with one file
/// name in different folders do not collide.
pub static ARTIFACTS: TableDef<ArtifactRow> = TableDef {
    name: "jenkins_artifacts",
    key: &["id"],
    columns: &[
        ColumnDef::new("id", ColumnType::Text, |r| {
            format!("{}/{}", r.build_id, r.relative_path).into()
        }),
        ColumnDef::new("build_id", ColumnType::Text, |r| r.build_id.clone().into()),
        ColumnDef::new("job_name", ColumnType::Text, |r| r.job_name.clone().into()),
        ColumnDef::new("build_number", ColumnType::Integer, |r| {
            r.build_number.into()
        }),
        ColumnDef::new("file_name", ColumnType::Text, |r| {
            r.file_name.clone().into()
        }),
        ColumnDef::new("relative_path", ColumnType::Text, |r| {
            r.relative_path.clone().into()
        }),
        ColumnDef::new("timestamp_ms", ColumnType::Integer, |r| r.timestamp.into()),
        ColumnDef::new("url", ColumnType::Text, |r| r.url.clone().into()),
        ColumnDef::new("raw", ColumnType::Json, |r| Value::Json(r.raw.clone())),
        ColumnDef::new("timestamp", ColumnType::Timestamp, |r| {
            Value::timestamp(r.timestamp)
        }),
        // Set when its build is gone from the server.
        ColumnDef::new("deleted_at", ColumnType::Timestamp, |_| Value::Null),
        ColumnDef::new("server", ColumnType::Text, |r| r.server.clone().into()),
    ],
    soft_delete: Some("deleted_at"),
};

/// The schema of `jenkins_jobs`.
pub fn jobs_table() -> TableSchema {
    JOBS.schema()
}

/// The schema of `jenkins_builds`.
pub fn builds_table() -> TableSchema {
    BUILDS.schema()
}

/// The schema of `jenkins_artifacts`.
pub fn artifacts_table() -> TableSchema {
    ARTIFACTS.schema()
}

/// The name of a Jenkins server when only one is configured. Its rows' ids are the bare ones
/// (`team/app#42`); another server's carry its name (`eu:team/app#42`), so that servers with jobs
/// of the same name share the tables. Jenkins refuses `:` in job names, so the prefix cannot be
/// part of one.
pub const DEFAULT_SERVER: &str = "jenkins";

/// `id` scoped to `server`: itself for [`DEFAULT_SERVER`], else `<server>:<id>`.
pub fn scoped_id(server: &str, id: String) -> String {
    if server == DEFAULT_SERVER {
        id
    } else {
        format!("{server}:{id}")
    }
}

/// The id of a build row: `<full_name>#<number>`, scoped to its server (see [`scoped_id`]).
/// Jenkins refuses `#` in job names (and a multibranch branch's `#` is encoded as `%23`), so the
/// id cannot be another build's.
pub fn build_id(server: &str, job: &JobPath, number: u64) -> String {
    scoped_id(server, format!("{}#{number}", job.full_name()))
}

/// The id of an artifact row: `<build id>/<relative path>` (`team/app#42/dist/app.tar.gz`):
/// the job name ends at the first `#`, the number at the next `/`.
pub fn artifact_id(server: &str, job: &JobPath, number: u64, relative_path: &str) -> String {
    format!("{}/{relative_path}", build_id(server, job, number))
}

/// Rows written before the `server` column existed came from the one server of the time.
pub const SERVER_MIGRATION_NAME: &str = "jenkins-server-column";

/// The SQL of [`SERVER_MIGRATION_NAME`] for `tables`.
pub fn server_migration_statements(tables: &[&str]) -> Vec<String> {
    tables
        .iter()
        .map(|t| format!("UPDATE {t} SET server = '{DEFAULT_SERVER}' WHERE server IS NULL"))
        .collect()
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

/// The `jenkins_jobs` row of a listed job of `server` (see [`DEFAULT_SERVER`]). Its `raw` is the
/// server's JSON as sent, but for the children (they have rows of their own).
pub fn job_record(
    jenkins: &Jenkins,
    server: &str,
    path: &JobPath,
    job: &Job,
    synced_at_ms: i64,
) -> Result<Record> {
    let raw = job.raw.without_member("jobs");
    JOBS.record(&JobRow {
        server: server.to_owned(),
        path: path.clone(),
        job: job.clone(),
        url: jenkins.job_url(path).map(|u| u.to_string()).ok(),
        raw,
        synced_at: synced_at_ms,
    })
}

/// The `jenkins_builds` row of a build of `server`, and the `jenkins_artifacts` rows of its
/// artifacts.
pub fn build_records(
    jenkins: &Jenkins,
    server: &str,
    path: &JobPath,
    build: Build,
    synced_at_ms: i64,
) -> Result<Vec<Record>> {
    let number = build
        .number
        .ok_or_else(|| cidata_sync::Error::Record(format!("a build of `{path}` has no number")))?;
    let id = build_id(server, path, number);
    let job_name = path.full_name();
    let mut out = Vec::with_capacity(1 + build.artifacts.len());
    for artifact in &build.artifacts {
        let Some(relative_path) = artifact.relative_path.clone() else {
            continue;
        };
        let url = jenkins
            .artifact_url(path, number, &relative_path)
            .map(|u| u.to_string())
            .ok();
        out.push(ARTIFACTS.record(&ArtifactRow {
            server: server.to_owned(),
            build_id: id.clone(),
            job_name: job_name.clone(),
            build_number: number,
            relative_path,
            file_name: artifact.file_name.clone(),
            timestamp: build.timestamp,
            url,
            raw: artifact.raw.get().to_owned(),
        })?);
    }
    let url = jenkins.build_url(path, number).map(|u| u.to_string()).ok();
    out.insert(
        0,
        BUILDS.record(&BuildRow {
            server: server.to_owned(),
            job_name,
            number,
            url,
            build,
            synced_at: synced_at_ms,
        })?,
    );
    Ok(out)
}

/// The Jenkins builds' part of the `ci_runs` view (see `cidata_sync::views`): one row per build,
/// `project` the job's full name, `branch` the branch of a multibranch Pipeline's job, `status`
/// from `result` (`UNSTABLE` counts as a failure, `NOT_BUILT` as skipped), `running` while
/// building.
pub static RUNS_VIEW: cidata_sync::views::ViewPart = cidata_sync::views::ViewPart {
    view: "ci_runs",
    source: "jenkins",
    tables: &["jenkins_builds", "jenkins_jobs"],
    select: runs_view_select,
};

fn runs_view_select(dialect: cidata_sync::views::Dialect) -> String {
    let source_status = "COALESCE(b.result, CASE WHEN b.building THEN 'BUILDING' END)";
    let status = cidata_sync::views::normalise_status(
        source_status,
        &[
            ("success", &["SUCCESS"]),
            ("failure", &["FAILURE", "UNSTABLE"]),
            ("cancelled", &["ABORTED"]),
            ("skipped", &["NOT_BUILT"]),
            ("running", &["BUILDING"]),
        ],
    );
    let finished = dialect.time_from_ms("b.timestamp_ms + b.duration_ms");
    // The branch of a multibranch Pipeline's job is the job's name, with the `/` Jenkins
    // encodes as `%2F` in it.
    format!(
        "SELECT 'jenkins', b.server, b.job_name, b.id, b.number, \
         CASE WHEN p.class LIKE '%MultiBranchProject' THEN replace(j.name, '%2F', '/') ELSE b.git_branch END, b.revision, \
         {status}, {source_status}, b.\"timestamp\", \
         CASE WHEN b.duration_ms IS NULL THEN NULL ELSE {finished} END, b.duration_ms, b.url, b.is_final, b.job_name \
         FROM jenkins_builds b \
         LEFT JOIN jenkins_jobs j ON j.full_name = b.job_name AND j.server = b.server \
         LEFT JOIN jenkins_jobs p ON p.full_name = j.parent AND p.server = j.server"
    )
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
            let id = |(j, n, p): &(JobPath, u64, String)| (build_id(DEFAULT_SERVER, j, *n), artifact_id(DEFAULT_SERVER, j, *n, p));
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
        assert_ne!(
            artifact_id(DEFAULT_SERVER, &x1, 2, "a"),
            artifact_id(DEFAULT_SERVER, &x, 1, "2_a")
        );
        assert_ne!(
            build_id(DEFAULT_SERVER, &x1, 2),
            build_id(DEFAULT_SERVER, &x, 12)
        );
        assert_eq!(build_id("eu", &x, 12), "eu:x#12");
    }
}
