//! End-to-end runs of `ci-sync run` against the simulated Jenkins: the database ends with exactly
//! what the server holds, a run with nothing new writes nothing, running builds become final, and
//! a run killed at any point resumes to the database an uninterrupted run gives.

use std::path::{Path, PathBuf};
use std::process::Output;

use cidata_cli::simulator::{Simulator, Truth, World};
use cidata_sync::rusqlite::Connection;
use tokio::process::Command;

const TABLES: [&str; 4] = [
    "jenkins_jobs",
    "jenkins_builds",
    "jenkins_artifacts",
    "jenkins_stages",
];

pub(crate) struct Setup {
    pub(crate) sim: Simulator,
    pub(crate) dir: tempfile::TempDir,
}

impl Setup {
    pub(crate) async fn new() -> Setup {
        Setup::with_world(World::demo()).await
    }

    pub(crate) async fn with_world(world: World) -> Setup {
        let sim = Simulator::start(world, Some(("demo".into(), "demo-token".into())))
            .await
            .unwrap();
        Setup {
            sim,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn config(&self, extra: &str) -> PathBuf {
        let path = self.dir.path().join("ci-sync.toml");
        let text = format!(
            "[jenkins]\nbase_url = \"{}\"\nusername = \"demo\"\n{extra}\n",
            self.sim.base_url()
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    pub(crate) fn db(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) async fn run(&self, db: &Path, abort_after: Option<u64>) -> Output {
        self.run_with(db, abort_after, "").await
    }

    pub(crate) async fn run_with(
        &self,
        db: &Path,
        abort_after: Option<u64>,
        extra: &str,
    ) -> Output {
        let config = self.config(extra);
        let mut cmd = ci_sync_run(&config, &sqlite_url(db));
        cmd.env("JENKINS_API_TOKEN", "demo-token")
            .current_dir(self.dir.path());
        if let Some(n) = abort_after {
            cmd.env("CI_SYNC_ABORT_AFTER_STATEMENTS", n.to_string());
        }
        cmd.output().await.unwrap()
    }
}

/// `ci-sync run --config CONFIG --dest DEST`, without inherited log settings or token.
pub(crate) fn ci_sync_run(config: &Path, dest: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ci-sync"));
    cmd.args(["run", "--config", config.to_str().unwrap(), "--dest", dest])
        .env_remove("RUST_LOG")
        .env_remove("JENKINS_API_TOKEN")
        .env_remove("CI_SYNC_ABORT_AFTER_STATEMENTS");
    cmd
}

pub(crate) fn sqlite_url(db: &Path) -> String {
    format!("sqlite://{}", db.display())
}

pub(crate) fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "ci-sync failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn count(conn: &Connection, sql: &str) -> u64 {
    conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

pub(crate) fn assert_truth(db: &Path, truth: Truth) {
    let conn = Connection::open(db).unwrap();
    let got: Vec<u64> = TABLES
        .iter()
        .map(|t| count(&conn, &format!("SELECT count(*) FROM {t}")))
        .collect();
    assert_eq!(
        got,
        vec![truth.jobs, truth.builds, truth.artifacts, truth.stages],
        "rows per table vs the server"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE NOT is_final"
        ),
        truth.running
    );
}

/// Every row of every table (and the saved state), as text, ordered; `synced_at` left out unless asked.
pub(crate) fn dump(db: &Path, with_synced_at: bool) -> Vec<String> {
    dump_tables(db, &TABLES, with_synced_at)
}

/// [`dump`] of `tables` (and the saved state).
pub(crate) fn dump_tables(db: &Path, tables: &[&str], with_synced_at: bool) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut out = Vec::new();
    for table in tables.iter().copied().chain(["_ci_sync_state"]) {
        let cols: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .filter(|c| with_synced_at || (c != "synced_at" && c != "updated_at"))
            .collect();
        let select = cols
            .iter()
            .map(|c| format!("quote({c})"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        // The key: `partition` for the state, the first column (`id`, `uuid`) for tables.
        let order = if table == "_ci_sync_state" {
            "partition".to_owned()
        } else {
            cols[0].clone()
        };
        let mut stmt = conn
            .prepare(&format!("SELECT {select} FROM {table} ORDER BY {order}"))
            .unwrap();
        out.extend(
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(|r| format!("{table}: {}", r.unwrap())),
        );
    }
    out
}

#[tokio::test]
async fn a_full_sync_holds_exactly_what_the_server_holds() {
    let s = Setup::new().await;
    let db = s.db("full.db");
    let out = s.run(&db, None).await;
    ok(&out);
    assert_truth(&db, s.sim.truth());
    let conn = Connection::open(&db).unwrap();
    // Every build of the job with 250 builds, not only the newest 100.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE job_name = 'nightly-big'"
        ),
        250
    );
    // URLs are rebased onto the address in use, not the server's stale root URL.
    let url: String = conn
        .query_row(
            "SELECT url FROM jenkins_builds WHERE id = 'déploiement prod#3'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        url,
        format!("{}job/d%C3%A9ploiement%20prod/3/", s.sim.base_url())
    );
    // Artifacts in subfolders with one file name do not collide.
    assert!(
        count(
            &conn,
            "SELECT count(DISTINCT relative_path) FROM jenkins_artifacts WHERE job_name = 'platform/services/worker'"
        ) >= 3
    );
    // Dashboards average durations without a filter: running builds and stages have none yet.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE NOT is_final AND duration_ms IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_stages WHERE status IN ('IN_PROGRESS', 'PAUSED_PENDING_INPUT') AND duration_ms IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE is_final AND duration_ms > 0"
        ),
        s.sim.truth().builds - s.sim.truth().running
    );
    // Readable timestamps and display names beside the raw numbers.
    for (sql, want) in [
        (
            "SELECT count(*) FROM jenkins_stages WHERE start IS NULL OR start NOT LIKE '20%Z'",
            0,
        ),
        (
            "SELECT count(*) FROM jenkins_artifacts WHERE timestamp IS NULL",
            0,
        ),
        (
            "SELECT count(*) FROM jenkins_builds WHERE display_name IS NULL",
            0,
        ),
        (
            "SELECT count(*) FROM jenkins_jobs WHERE display_name IS NULL",
            0,
        ),
    ] {
        assert_eq!(count(&conn, sql), want, "{sql}");
    }
    // Ids: `job#number`, `job#number/path`, `job#number/stage`.
    let id: String = conn
        .query_row(
            "SELECT id FROM jenkins_artifacts WHERE job_name = 'platform/services/worker' AND build_number = 20 AND relative_path LIKE 'dist/%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(id, "platform/services/worker#20/dist/worker-20.tar.gz");
    // A failed stage carries its error.
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_stages WHERE status = 'FAILED' AND error_message IS NOT NULL"
        ) > 0
    );
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains("jenkins_builds") && summary.contains("requests"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_run_with_nothing_new_writes_nothing_and_costs_one_request() {
    let s = Setup::new().await;
    let db = s.db("idle.db");
    ok(&s.run(&db, None).await);
    // Running builds are read again every run until final: finish them first (without new ones).
    let before = dump(&db, false);
    let requests = s.sim.requests();
    let out = s.run(&db, None).await;
    ok(&out);
    // Jobs holding running builds are read again (the demo has 4 running builds in 4 jobs).
    let second = s.sim.requests() - requests;
    assert!(second <= 1 + 4 * 2 + 4, "{second} requests");
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE NOT is_final"
        ),
        s.sim.truth().running
    );
    assert_eq!(
        dump(&db, false),
        before,
        "re-reading running builds changed nothing"
    );

    // A server with no running build: the second run is one request and writes nothing at all.
    let quiet = Simulator::start(World::bench(12, 30, 1), None)
        .await
        .unwrap();
    let qdb = s.db("quiet.db");
    let config = s.dir.path().join("quiet.toml");
    std::fs::write(
        &config,
        format!("[jenkins]\nbase_url = \"{}\"\n", quiet.base_url()),
    )
    .unwrap();
    let run = |db: PathBuf| {
        let mut cmd = ci_sync_run(&config, &sqlite_url(&db));
        async move { cmd.output().await.unwrap() }
    };
    ok(&run(qdb.clone()).await);
    assert_truth(&qdb, quiet.truth());
    // A full sync: one listing, one page per job (30 builds each), one wfapi request per Pipeline run.
    assert_eq!(quiet.requests(), 1 + 12 + 6 * 30);
    let before = dump(&qdb, true);
    let requests = quiet.requests();
    let out = run(qdb.clone()).await;
    ok(&out);
    assert_eq!(
        quiet.requests() - requests,
        1,
        "one request lists every job with its last build number"
    );
    assert_eq!(
        dump(&qdb, true),
        before,
        "not a row changed, not even synced_at"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let builds_line = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("jenkins_builds"))
        .unwrap();
    assert!(
        builds_line.trim_end().ends_with(" 0 rows written"),
        "{stderr}"
    );
}

#[tokio::test]
async fn builds_that_finish_between_runs_become_final_and_deleted_jobs_are_marked() {
    let s = Setup::new().await;
    let db = s.db("moving.db");
    ok(&s.run(&db, None).await);
    assert!(s.sim.truth().running > 0);
    s.sim.advance();
    assert!(s.sim.remove_job("platform/services/legacy/cron"));
    ok(&s.run(&db, None).await);
    let truth = s.sim.truth();
    let conn = Connection::open(&db).unwrap();
    // The removed job's row stays, marked deleted: one more job row than the server has.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_jobs WHERE deleted_at IS NOT NULL"
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_jobs WHERE deleted_at IS NULL"
        ),
        truth.jobs
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE NOT is_final"
        ),
        truth.running
    );
    // Builds that were running in the first run are final now, with a result and their artifacts.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE is_final AND result IS NULL"
        ),
        0
    );
    let builds_of_live_jobs = count(
        &conn,
        "SELECT count(*) FROM jenkins_builds WHERE job_name != 'platform/services/legacy/cron'",
    );
    assert_eq!(builds_of_live_jobs, truth.builds);
    // A third run after advancing again keeps matching.
    s.sim.advance();
    ok(&s.run(&db, None).await);
    let truth = s.sim.truth();
    assert_eq!(
        count(&conn, "SELECT count(*) FROM jenkins_stages"),
        truth.stages
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_artifacts WHERE job_name != 'platform/services/legacy/cron'"
        ),
        truth.artifacts
    );
}

#[tokio::test]
async fn a_killed_run_resumes_to_the_database_an_uninterrupted_run_gives() {
    let s = Setup::new().await;
    let reference = s.db("reference.db");
    ok(&s.run(&reference, None).await);
    let want = dump(&reference, false);
    // Kill points inside the first transactions, in the middle, and near the end of the run.
    for n in [0u64, 1, 13, 120, 480, 900, 1190] {
        let db = s.db(&format!("killed-{n}.db"));
        let out = s.run(&db, Some(n)).await;
        assert!(
            !out.status.success(),
            "the run was meant to be killed after {n} statements"
        );
        ok(&s.run(&db, None).await);
        assert_eq!(dump(&db, false), want, "after a kill at statement {n}");
    }
}

#[tokio::test]
async fn a_killed_incremental_run_resumes_too() {
    let s = Setup::new().await;
    let (reference, killed) = (s.db("ref.db"), s.db("killed.db"));
    ok(&s.run(&reference, None).await);
    ok(&s.run(&killed, None).await);
    s.sim.advance();
    ok(&s.run(&reference, None).await);
    for n in [2u64, 25] {
        let out = s.run(&killed, Some(n)).await;
        assert!(!out.status.success());
    }
    ok(&s.run(&killed, None).await);
    assert_eq!(dump(&killed, false), dump(&reference, false));
}

#[tokio::test]
async fn job_patterns_and_json_lines() {
    let s = Setup::new().await;
    let db = s.db("filtered.db");
    ok(&s
        .run_with(
            &db,
            None,
            "[jenkins.jobs]\ninclude = [\"platform/**\"]\nexclude = [\"**/legacy/**\"]",
        )
        .await);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE job_name NOT LIKE 'platform/%'"
        ),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE job_name LIKE '%legacy%'"
        ),
        0
    );
    assert!(count(&conn, "SELECT count(*) FROM jenkins_builds") > 0);

    let config = s.config("");
    let out = ci_sync_run(&config, "jsonl://-")
        .arg("--quiet")
        .env("JENKINS_API_TOKEN", "demo-token")
        .output()
        .await
        .unwrap();
    ok(&out);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records = |stream: &str| {
        lines
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["stream"] == stream)
            .count() as u64
    };
    assert_eq!(lines.iter().filter(|m| m["type"] == "SCHEMA").count(), 4);
    assert_eq!(records("jenkins_builds"), s.sim.truth().builds);
    assert!(lines.last().unwrap()["type"] == "STATE");
    assert!(
        out.stderr.is_empty(),
        "--quiet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn configuration_errors_and_the_secret_warning() {
    let s = Setup::new().await;
    let db = s.db("x.db");
    // Wrong token: one line naming 401, the URL and the setting.
    let config = s.config("");
    let out = ci_sync_run(&config, &sqlite_url(&db))
        .env("JENKINS_API_TOKEN", "wrong-token")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("401")
            && stderr.contains("JENKINS_API_TOKEN or [jenkins] api_token in")
            && !stderr.contains("wrong-token"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("configuration:"), "{stderr}");

    // A token in a file others can read: a warning, and the sync still runs.
    let path = s.config("api_token = \"demo-token\"");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let out = ci_sync_run(&path, &sqlite_url(&db)).output().await.unwrap();
    ok(&out);
    #[cfg(unix)]
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));

    // Logs carry no colour escapes when stderr is not a terminal (cron, files).
    assert!(
        !out.stderr.contains(&0x1b),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // No config file: exit 2, pointing to the example config.
    let out = Command::new(env!("CARGO_BIN_EXE_ci-sync"))
        .args(["run", "--config", "/nonexistent.toml"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent.toml") && stderr.contains("examples/ci-sync.example.toml"),
        "{stderr}"
    );
}

/// Turns a database of this version back into what the version before `#` ids wrote: `_` ids,
/// no display names, new timestamp columns, `server`, or `deleted_at` on builds, artifacts and stages, no git revision or branch of builds, durations of running builds 0, states unversioned, no views.
fn downgrade_to_underscore_ids(db: &Path) {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(
        "DROP VIEW ci_daily; DROP VIEW ci_steps; DROP VIEW ci_runs;
         UPDATE jenkins_builds SET id = job_name || '_' || number;
         UPDATE jenkins_builds SET duration_ms = 0 WHERE NOT is_final;
         UPDATE jenkins_artifacts SET id = job_name || '_' || build_number || '_' || relative_path,
                                      build_id = job_name || '_' || build_number;
         UPDATE jenkins_stages SET id = job_name || '_' || build_number || '_' || stage_id,
                                   build_id = job_name || '_' || build_number;
         ALTER TABLE jenkins_jobs DROP COLUMN display_name;
         ALTER TABLE jenkins_builds DROP COLUMN display_name;
         ALTER TABLE jenkins_artifacts DROP COLUMN timestamp;
         ALTER TABLE jenkins_stages DROP COLUMN start;
         ALTER TABLE jenkins_builds DROP COLUMN deleted_at;
         ALTER TABLE jenkins_artifacts DROP COLUMN deleted_at;
         ALTER TABLE jenkins_stages DROP COLUMN deleted_at;
         ALTER TABLE jenkins_jobs DROP COLUMN server;
         ALTER TABLE jenkins_builds DROP COLUMN server;
         ALTER TABLE jenkins_artifacts DROP COLUMN server;
         ALTER TABLE jenkins_stages DROP COLUMN server;
         ALTER TABLE jenkins_builds DROP COLUMN revision;
         ALTER TABLE jenkins_builds DROP COLUMN git_branch;
         UPDATE _ci_sync_state SET state = json_remove(state, '$.version');
         DELETE FROM _ci_sync_meta WHERE key LIKE 'migration:%';",
    )
    .unwrap();
}

#[tokio::test]
async fn a_database_of_the_previous_version_migrates_to_what_a_fresh_sync_writes() {
    let s = Setup::new().await;
    let old = s.db("old.db");
    ok(&s.run(&old, None).await);
    downgrade_to_underscore_ids(&old);
    // An artifact the old ids made collide: its row was overwritten by another, so it is missing.
    Connection::open(&old)
        .unwrap()
        .execute(
            "DELETE FROM jenkins_artifacts WHERE relative_path LIKE 'logs/%' AND job_name = 'platform/services/worker' AND build_number = 3",
            [],
        )
        .unwrap();

    s.sim.advance();
    ok(&s.run(&old, None).await);
    let fresh = s.db("fresh.db");
    ok(&s.run(&fresh, None).await);
    assert_eq!(dump(&old, false), dump(&fresh, false));
    // The migration ran once and is recorded; a further run does not run it again.
    let conn = Connection::open(&old).unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM _ci_sync_meta WHERE key = 'migration:jenkins-hash-ids'"
        ),
        1
    );
    ok(&s.run(&old, None).await);
    assert_eq!(dump(&old, false), dump(&fresh, false));
}

#[tokio::test]
async fn json_lines_with_a_state_file_are_incremental() {
    let s = Setup::new().await;
    let config = s.config("");
    let state = s.db("state.json");
    let records = |out: &Output| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("\"type\":\"RECORD\""))
            .count()
    };
    let run = |extra: Vec<String>| {
        let mut cmd = ci_sync_run(&config, "jsonl://-");
        cmd.env("JENKINS_API_TOKEN", "demo-token").args(extra);
        async move { cmd.output().await.unwrap() }
    };
    let with_state = || vec!["--state".to_owned(), state.display().to_string()];
    let first = run(with_state()).await;
    ok(&first);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert!(
        saved["jenkins"]["job:nightly-big"]["synced_through"] == 250,
        "{saved}"
    );
    // Nothing new: only what is still running is sent again.
    let second = run(with_state()).await;
    ok(&second);
    assert!(records(&first) > 1000, "{}", records(&first));
    assert!(
        records(&second) * 20 < records(&first),
        "{}",
        records(&second)
    );
    // Without the file, every run is a full one.
    let full = run(Vec::new()).await;
    assert_eq!(records(&full), records(&first));
    // A state file that is not a state: a clear error, nothing sent.
    std::fs::write(&state, "[1, 2]").unwrap();
    let broken = run(with_state()).await;
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(!broken.status.success());
    assert!(stderr.contains("not a JSON object of sources"), "{stderr}");
    assert_eq!(records(&broken), 0);
    // And a database keeps its own.
    let out = ci_sync_run(&config, &sqlite_url(&s.db("x.db")))
        .args(["--state", "s.json"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--state is for jsonl://"), "{stderr}");
}

#[tokio::test]
async fn new_pipeline_runs_are_read_with_one_runs_request_per_job() {
    // 4 jobs of 30 builds: two Pipelines, two freestyle.
    let setup = Setup::with_world(World::bench(4, 30, 1)).await;
    let db = setup.db("ci.db");
    ok(&setup.run(&db, None).await);
    for (added, per_pipeline_job) in [
        // Up to 11 runs come in one `wfapi/runs?since=#N` answer.
        (5, 1),
        // wfapi answers at most 11 runs: the 4 older ones are read one by one.
        (15, 1 + 4),
    ] {
        setup.sim.add_builds(added);
        let before = setup.sim.requests();
        ok(&setup.run(&db, None).await);
        let requests = setup.sim.requests() - before;
        // The job listing, one build listing per job, then the Pipelines' runs.
        assert_eq!(
            requests,
            1 + 4 + 2 * per_pipeline_job,
            "after {added} new builds per job"
        );
        assert_truth(&db, setup.sim.truth());
        // The same rows a full sync of the server as it is now writes.
        let fresh = setup.db(&format!("fresh-{added}.db"));
        ok(&setup.run(&fresh, None).await);
        assert_eq!(
            dump(&db, false),
            dump(&fresh, false),
            "after {added} new builds per job"
        );
    }
}

#[tokio::test]
async fn run_report_gives_requests_rows_and_peak_memory_as_json() {
    let setup = Setup::new().await;
    let db = setup.db("ci.db");
    let report = setup.dir.path().join("report.json");
    let config = setup.config("");
    let before = setup.sim.requests();
    let out = ci_sync_run(&config, &sqlite_url(&db))
        .arg("--report")
        .arg(&report)
        .env("JENKINS_API_TOKEN", "demo-token")
        .output()
        .await
        .unwrap();
    ok(&out);
    let requests = setup.sim.requests() - before;
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let source = &report["sources"][0];
    assert_eq!(source["kind"], "jenkins", "{report:#}");
    assert_eq!(source["ok"], true);
    assert_eq!(source["requests"].as_u64(), Some(requests));
    let truth = setup.sim.truth();
    assert_eq!(
        source["tables"]["jenkins_builds"]["upserted"].as_u64(),
        Some(truth.builds)
    );
    assert!(
        report["peak_rss_bytes"].as_u64().unwrap() > 1 << 20,
        "{report:#}"
    );

    // A source that fails is in the report too, with its error.
    let bad = setup.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[jenkins]\nbase_url = \"http://127.0.0.1:9/jenkins/\"\nretry_attempts = 1\n",
    )
    .unwrap();
    let failed = setup.dir.path().join("failed.json");
    let out = ci_sync_run(&bad, &sqlite_url(&db))
        .arg("--report")
        .arg(&failed)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let failed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&failed).unwrap()).unwrap();
    assert_eq!(failed["sources"][0]["ok"], false, "{failed:#}");
    assert!(
        failed["sources"][0]["error"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:9"),
        "{failed:#}"
    );
}
