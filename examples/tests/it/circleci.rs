//! End-to-end runs of `ci-sync run` with `[circleci]` against the simulated CircleCI: the
//! database holds what the server holds, a run with nothing new writes nothing, running
//! workflows become final, reruns of old pipelines are caught, a killed run resumes; and the
//! `ci-sync circleci` commands print what the server has.

use std::path::{Path, PathBuf};
use std::process::Output;

use cidata_cli::simulator::{CciWorld, Simulator, World};
use cidata_sync::rusqlite::Connection;
use serde_json::Value;
use tokio::process::Command;

use crate::every_source::killed_runs_until_one_completes;
use crate::sync::{count, dump_tables, ok, sqlite_url};

const TABLES: [&str; 3] = ["circleci_pipelines", "circleci_workflows", "circleci_jobs"];

struct Setup {
    sim: Simulator,
    dir: tempfile::TempDir,
}

impl Setup {
    async fn new() -> Setup {
        Setup::with(CciWorld::demo()).await
    }

    async fn with(circleci: CciWorld) -> Setup {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let sim = Simulator::serve(
            addr,
            World::demo(),
            circleci,
            Some(("demo".into(), "demo-token".into())),
        )
        .await
        .unwrap();
        Setup {
            sim,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A config with only `[circleci]` (and `extra` lines in it).
    fn config(&self, extra: &str) -> PathBuf {
        let projects: Vec<String> = self
            .sim
            .circleci_projects()
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect();
        let path = self.dir.path().join("circleci.toml");
        let text = format!(
            "[circleci]\nbase_url = \"{}\"\nproject_slugs = [{}]\n{extra}\n",
            self.sim.circleci_url(),
            projects.join(", ")
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    async fn run(&self, db: &Path, abort_after: Option<u64>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ci-sync"));
        cmd.args(["run", "--config", self.config("").to_str().unwrap()])
            .args(["--dest", &sqlite_url(db)])
            .env("CIRCLECI_TOKEN", "demo-token")
            .env_remove("RUST_LOG")
            .env_remove("CI_SYNC_ABORT_AFTER_STATEMENTS");
        if let Some(n) = abort_after {
            cmd.env("CI_SYNC_ABORT_AFTER_STATEMENTS", n.to_string());
        }
        cmd.output().await.unwrap()
    }
}

fn assert_truth(db: &Path, sim: &Simulator) {
    let truth = sim.circleci_truth();
    let conn = Connection::open(db).unwrap();
    let got: Vec<u64> = TABLES
        .iter()
        .map(|t| count(&conn, &format!("SELECT count(*) FROM {t}")))
        .collect();
    assert_eq!(got, vec![truth.pipelines, truth.workflows, truth.jobs]);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM circleci_workflows WHERE NOT is_final"
        ),
        truth.running
    );
}

#[tokio::test]
async fn a_full_sync_holds_what_the_server_holds_and_a_second_writes_nothing() {
    let s = Setup::new().await;
    let db = s.dir.path().join("cci.db");
    ok(&s.run(&db, None).await);
    assert_truth(&db, &s.sim);
    let conn = Connection::open(&db).unwrap();
    // The approval on hold: no job number, not final; jobs behind it blocked.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM circleci_jobs WHERE type = 'approval' AND status = 'on_hold' AND job_number IS NULL AND NOT is_final"
        ),
        2
    );
    // Durations only for what ended; times as timestamps.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM circleci_workflows WHERE NOT is_final AND duration_ms IS NOT NULL"
        ),
        0
    );
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM circleci_workflows WHERE is_final AND duration_ms > 0"
        ) > 0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM circleci_pipelines WHERE created_at NOT LIKE '20%Z' OR branch IS NULL OR revision IS NULL"
        ),
        0
    );

    let before = dump_tables(&db, &TABLES, true);
    let requests = s.sim.requests();
    ok(&s.run(&db, None).await);
    assert_eq!(
        dump_tables(&db, &TABLES, true),
        before,
        "nothing new: not a byte changed"
    );
    // Per project: the first page of pipelines, one insights request per workflow name, and
    // the newest pipeline (not final): its workflows and the jobs of its two running workflows.
    let spent = s.sim.requests() - requests;
    assert_eq!(spent, 2 * (1 + 2 + 1 + 2), "requests of a no-change sync");
}

#[tokio::test]
async fn running_workflows_become_final_and_reruns_are_caught() {
    let s = Setup::new().await;
    let db = s.dir.path().join("cci.db");
    ok(&s.run(&db, None).await);
    let conn = Connection::open(&db).unwrap();
    let running_before: Vec<String> = conn
        .prepare("SELECT id FROM circleci_workflows WHERE NOT is_final")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    s.sim.advance();
    ok(&s.run(&db, None).await);
    assert_truth(&db, &s.sim);
    for id in &running_before {
        let status: String = conn
            .query_row(
                "SELECT status FROM circleci_workflows WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(status, "success", "workflow {id} finished on the server");
    }
    // The rerun: a second workflow of one name in an old pipeline.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM (SELECT pipeline_id, name FROM circleci_workflows GROUP BY pipeline_id, name HAVING count(*) > 1)"
        ),
        2
    );
}

#[tokio::test]
async fn a_killed_run_resumes_to_the_database_an_uninterrupted_run_gives() {
    let s = Setup::new().await;
    let reference = s.dir.path().join("reference.db");
    ok(&s.run(&reference, None).await);
    let want = dump_tables(&reference, &TABLES, false);
    for n in [0u64, 3, 60, 200] {
        let db = s.dir.path().join(format!("killed-{n}.db"));
        let out = s.run(&db, Some(n)).await;
        assert!(
            !out.status.success(),
            "meant to be killed after {n} statements"
        );
        ok(&s.run(&db, None).await);
        assert_eq!(
            dump_tables(&db, &TABLES, false),
            want,
            "after a kill at {n}"
        );
    }
}

/// A project too long for one run between two kills: each run commits its rows and where it
/// stands every page, so a chain of kills converges instead of starting over each time.
#[tokio::test]
async fn a_chain_of_kills_converges_on_a_long_project() {
    let s = Setup::with(CciWorld::new(&["gh/acme/big"], 200, 2, 3)).await;
    let reference = s.dir.path().join("reference.db");
    ok(&s.run(&reference, None).await);
    let want = dump_tables(&reference, &TABLES, false);
    let db = s.dir.path().join("killed.db");
    // A full run writes about 1,800 rows; each run here is killed after 400 statements.
    let killed = killed_runs_until_one_completes(12, || s.run(&db, Some(400))).await;
    assert_eq!(
        dump_tables(&db, &TABLES, false),
        want,
        "after {killed} kills"
    );
    // The progress is gone once a pass completed: the next run reads nothing new.
    let before = s.sim.requests();
    ok(&s.run(&db, None).await);
    let after_kills = s.sim.requests() - before;
    let before = s.sim.requests();
    ok(&s.run(&reference, None).await);
    assert_eq!(
        after_kills,
        s.sim.requests() - before,
        "same cost as after a clean sync"
    );
}

#[tokio::test]
async fn one_config_syncs_jenkins_and_circleci_into_one_database() {
    let s = Setup::new().await;
    let config = s.dir.path().join("both.toml");
    std::fs::write(
        &config,
        format!(
            "[jenkins]\nbase_url = \"{}\"\nusername = \"demo\"\n\n[circleci]\nbase_url = \"{}\"\nproject_slugs = [\"gh/acme/web\"]\n",
            s.sim.base_url(),
            s.sim.circleci_url()
        ),
    )
    .unwrap();
    let db = s.dir.path().join("both.db");
    let out = Command::new(env!("CARGO_BIN_EXE_ci-sync"))
        .args([
            "run",
            "--config",
            config.to_str().unwrap(),
            "--dest",
            &sqlite_url(&db),
        ])
        .env("JENKINS_API_TOKEN", "demo-token")
        .env("CIRCLECI_TOKEN", "demo-token")
        .env_remove("RUST_LOG")
        .output()
        .await
        .unwrap();
    ok(&out);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(&conn, "SELECT count(*) FROM jenkins_builds"),
        s.sim.truth().builds
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(DISTINCT project_slug) FROM circleci_pipelines"
        ),
        1
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("jenkins_builds") && stderr.contains("circleci_workflows"),
        "{stderr}"
    );
}

async fn circleci(sim: &Simulator, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ci-sync"))
        .arg("circleci")
        .args(args)
        .env("CIRCLECI_URL", sim.circleci_url())
        .env("CIRCLECI_TOKEN", "demo-token")
        .env_remove("RUST_LOG")
        .output()
        .await
        .unwrap()
}

fn lines(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect()
}

#[tokio::test]
async fn the_read_commands_print_what_the_server_has() {
    let s = Setup::new().await;
    let pipelines = lines(&circleci(&s.sim, &["pipelines", "gh/acme/web"]).await);
    assert_eq!(pipelines.len(), 25, "every page");
    assert_eq!(pipelines[0]["number"], 25);
    let main = lines(&circleci(&s.sim, &["pipelines", "gh/acme/web", "--branch", "main"]).await);
    assert!(main.iter().all(|p| p["branch"] == "main") && main.len() < 25);
    let id = pipelines[0]["id"].as_str().unwrap();
    let workflows = lines(&circleci(&s.sim, &["workflows", id]).await);
    assert_eq!(workflows.len(), 2);
    let held = workflows.iter().find(|w| w["status"] == "on_hold").unwrap();
    let jobs = lines(&circleci(&s.sim, &["jobs", held["id"].as_str().unwrap()]).await);
    assert_eq!(jobs[0]["type"], "approval");
    assert_eq!(jobs[0]["job_number"], Value::Null);
    let number = jobs[1]["job_number"].as_i64().unwrap().to_string();
    let job = lines(&circleci(&s.sim, &["job", "gh/acme/web", &number]).await);
    assert_eq!(job.len(), 1);
    assert_eq!(job[0]["number"].as_i64().unwrap().to_string(), number);
    assert_eq!(
        lines(&circleci(&s.sim, &["artifacts", "gh/acme/web", &number]).await).len(),
        1
    );
    let tests = lines(&circleci(&s.sim, &["tests", "gh/acme/web", &number]).await);
    assert_eq!(tests[1]["result"], "failure");

    let out = circleci(&s.sim, &["pipelines", "gh/acme/nope"]).await;
    assert_eq!(out.status.code(), Some(1));
    let line = String::from_utf8_lossy(&out.stderr);
    assert!(
        line.contains("Not Found") && line.contains("project slug"),
        "{line}"
    );
    let out = circleci(&s.sim, &["pipelines", "acme/web"]).await;
    assert_eq!(out.status.code(), Some(2));
}

/// The read commands against the recorded service (`shared/tools/replay-server`).
#[tokio::test]
async fn the_read_commands_print_the_recorded_values() {
    let server = test_support::ReplayServer::start("circleci");
    let run = |args: &'static [&'static str]| {
        let url = server.url("/api/v2/");
        async move {
            Command::new(env!("CARGO_BIN_EXE_ci-sync"))
                .arg("circleci")
                .args(args)
                .env("CIRCLECI_URL", url)
                .env("CIRCLECI_TOKEN", "recorded")
                .env_remove("RUST_LOG")
                .output()
                .await
                .unwrap()
        }
    };
    let pipelines = lines(&run(&["pipelines", "gh/ropensci/circle"]).await);
    assert_eq!(pipelines.len(), 20);
    assert_eq!(
        pipelines[0]["created_at"].as_str().map(|t| t.len()),
        Some(24),
        "as the API gave it"
    );
    let scheduled = pipelines
        .iter()
        .filter(|p| p["trigger_type"] == "schedule")
        .count();
    assert_eq!(scheduled, 10);
    let workflows = lines(&run(&["workflows", "1ae27c25-b610-4e43-bcb7-578ca0a680d6"]).await);
    assert_eq!(workflows.len(), 2);
    assert_eq!(workflows[0]["status"], "running");
    assert_eq!(workflows[0]["stopped_at"], Value::Null);
    let jobs = lines(&run(&["jobs", "716a0d67-e379-420a-b84c-7cd3a2787c7e"]).await);
    let approval = jobs.iter().find(|j| j["type"] == "approval").unwrap();
    assert_eq!(approval["job_number"], Value::Null);
    let job = lines(&run(&["job", "github/LF-Engineering/da-ds", "155"]).await);
    assert_eq!(job[0]["number"], 155);
    assert!(lines(&run(&["artifacts", "gh/ropensci/circle", "699"]).await).is_empty());
    let tests = lines(&run(&["tests", "gh/jmleroux/my_project", "155"]).await);
    assert_eq!(tests.len(), 1);
}

#[tokio::test]
async fn job_details_and_tests_once_per_finished_job_when_asked() {
    let s = Setup::new().await;
    let config = s.config("job_details = true\njob_tests = true");
    let db = s.dir.path().join("extras.db");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_ci-sync"))
            .args([
                "run",
                "--config",
                config.to_str().unwrap(),
                "--dest",
                &sqlite_url(&db),
            ])
            .env("CIRCLECI_TOKEN", "demo-token")
            .env_remove("RUST_LOG")
            .output()
    };
    ok(&run().await.unwrap());
    let conn = Connection::open(&db).unwrap();
    let finished_build_jobs = count(
        &conn,
        "SELECT count(*) FROM circleci_jobs j JOIN circleci_workflows w ON w.id = j.workflow_id WHERE w.is_final AND j.type = 'build'",
    );
    assert!(finished_build_jobs > 100);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM circleci_jobs WHERE executor_type = 'docker' AND parallelism = 1 AND queued_at IS NOT NULL"
        ),
        finished_build_jobs
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM circleci_tests"),
        2 * finished_build_jobs
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM circleci_tests WHERE result = 'failure' AND run_time_ms = 1500"
        ),
        finished_build_jobs
    );
    // Read once: a run with nothing new asks for no details or tests again.
    let before = s.sim.requests();
    ok(&run().await.unwrap());
    assert_eq!(s.sim.requests() - before, 2 * (1 + 2 + 1 + 2));
}
