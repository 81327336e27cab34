//! End-to-end runs of `ci-sync run` with `[bitbucket]` against the simulated Bitbucket: the
//! database holds what the server holds, a run with nothing new costs one request per workspace
//! plus one per repository with running pipelines, a renamed and a deleted repository are right
//! after the next pass, a killed run resumes; and the seed connector's `configuration.json`.

use std::path::{Path, PathBuf};
use std::process::Output;

use cidata_cli::simulator::{BbWorld, CciWorld, Simulator, World};
use cidata_sync::rusqlite::Connection;
use tokio::process::Command;

use crate::every_source::killed_runs_until_one_completes;
use crate::sync::{count, dump_tables, ok, sqlite_url};

const TABLES: [&str; 5] = [
    "bitbucket_workspaces",
    "bitbucket_repositories",
    "bitbucket_projects",
    "bitbucket_pipelines",
    "bitbucket_pull_requests",
];

struct Setup {
    sim: Simulator,
    dir: tempfile::TempDir,
}

impl Setup {
    async fn new() -> Setup {
        Setup::with(None).await
    }

    /// With `world` as the simulated Bitbucket (the demo's when `None`).
    async fn with(world: Option<BbWorld>) -> Setup {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let sim = Simulator::serve(
            addr,
            World::demo(),
            CciWorld::demo(),
            Some(("demo".into(), "demo-token".into())),
        )
        .await
        .unwrap();
        if let Some(world) = world {
            sim.set_bitbucket(world);
        }
        Setup {
            sim,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn config(&self, extra: &str) -> PathBuf {
        let path = self.dir.path().join("bitbucket.toml");
        let text = format!(
            "[bitbucket]\nbase_url = \"{}\"\nemail = \"demo@example.com\"\n{extra}\n",
            self.sim.bitbucket_url()
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    async fn run_config(&self, config: &Path, db: &Path, abort_after: Option<u64>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ci-sync"));
        cmd.args([
            "run",
            "--config",
            config.to_str().unwrap(),
            "--dest",
            &sqlite_url(db),
        ])
        .env("BITBUCKET_API_TOKEN", "demo-token")
        .env_remove("RUST_LOG")
        .env_remove("CI_SYNC_ABORT_AFTER_STATEMENTS");
        if let Some(n) = abort_after {
            cmd.env("CI_SYNC_ABORT_AFTER_STATEMENTS", n.to_string());
        }
        cmd.output().await.unwrap()
    }

    async fn run(&self, db: &Path, abort_after: Option<u64>) -> Output {
        self.run_config(&self.config(""), db, abort_after).await
    }
}

/// The rows of every table (not the saved state, which holds when the full check ran).
fn rows(db: &Path) -> Vec<String> {
    dump_tables(db, &TABLES, false)
        .into_iter()
        .filter(|line| !line.starts_with("_ci_sync_state"))
        .collect()
}

fn assert_truth(db: &Path, sim: &Simulator) {
    let t = sim.bitbucket_truth();
    let conn = Connection::open(db).unwrap();
    let live = "SELECT count(*) FROM bitbucket_repositories WHERE deleted_at IS NULL";
    assert_eq!(count(&conn, live), t.repositories);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM bitbucket_projects"),
        t.projects
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM bitbucket_workspaces"), 1);
    let of_live = |table: &str| {
        count(
            &conn,
            &format!(
                "SELECT count(*) FROM {table} t JOIN bitbucket_repositories r ON r.uuid = t.repository_uuid WHERE r.deleted_at IS NULL"
            ),
        )
    };
    assert_eq!(of_live("bitbucket_pipelines"), t.pipelines);
    assert_eq!(of_live("bitbucket_pull_requests"), t.pull_requests);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM bitbucket_pipelines p JOIN bitbucket_repositories r ON r.uuid = p.repository_uuid WHERE r.deleted_at IS NULL AND NOT p.is_final"
        ),
        t.running
    );
}

#[tokio::test]
async fn a_full_sync_holds_what_the_server_holds_and_a_second_costs_a_handful() {
    let s = Setup::new().await;
    let db = s.dir.path().join("bb.db");
    ok(&s.run(&db, None).await);
    assert_truth(&db, &s.sim);
    let conn = Connection::open(&db).unwrap();
    // The seed's columns, filled.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM bitbucket_repositories WHERE project_name IS NULL OR mainbranch_name IS NULL OR workspace_uuid IS NULL OR updated_on NOT LIKE '20%Z'"
        ),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM bitbucket_pipelines WHERE NOT is_final AND duration_s IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM bitbucket_pull_requests WHERE id NOT LIKE '{%}#%'"
        ),
        0
    );
    let before = dump_tables(&db, &TABLES, true);
    let requests = s.sim.requests();
    ok(&s.run(&db, None).await);
    // One workspace listing, one request for changed repositories, and the pipelines page of
    // each of the three repositories with a running pipeline.
    assert_eq!(s.sim.requests() - requests, 1 + 1 + 3);
    let after = dump_tables(&db, &TABLES, true);
    assert_eq!(after.len(), before.len());
}

#[tokio::test]
async fn renamed_deleted_and_finished_are_right_after_the_next_pass() {
    let s = Setup::new().await;
    let db = s.dir.path().join("bb.db");
    // A full check every run: deletions are seen at full checks.
    let config = s.config("full_check_hours = 0");
    ok(&s.run_config(&config, &db, None).await);
    s.sim.advance();
    ok(&s.run_config(&config, &db, None).await);
    assert_truth(&db, &s.sim);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM bitbucket_repositories WHERE slug LIKE '%-renamed' AND full_name LIKE 'acme/%-renamed'"
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM bitbucket_repositories WHERE deleted_at IS NOT NULL"
        ),
        1
    );
}

#[tokio::test]
async fn pushed_repositories_are_read_again_without_a_full_check() {
    let s = Setup::new().await;
    let db = s.dir.path().join("bb.db");
    ok(&s.run(&db, None).await);
    s.sim.advance();
    ok(&s.run(&db, None).await);
    let t = s.sim.bitbucket_truth();
    let conn = Connection::open(&db).unwrap();
    // The deleted repository is only seen at the next full check; the rest is right.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM bitbucket_pipelines p JOIN bitbucket_repositories r ON r.uuid = p.repository_uuid WHERE r.slug != 'repo-0008' AND NOT p.is_final"
        ),
        t.running
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM bitbucket_pipelines p JOIN bitbucket_repositories r ON r.uuid = p.repository_uuid WHERE r.slug != 'repo-0008'"
        ),
        t.pipelines
    );
}

/// Repositories too long for one run between two kills: each run commits its rows and where it
/// stands every 50 pipelines, so a chain of kills converges instead of starting over each time.
#[tokio::test]
async fn a_chain_of_kills_converges_on_long_repositories() {
    let s = Setup::with(Some(BbWorld::new(2, 300))).await;
    let reference = s.dir.path().join("reference.db");
    ok(&s.run(&reference, None).await);
    let want = rows(&reference);
    let db = s.dir.path().join("killed.db");
    // A full run writes about 620 rows; each run here is killed after 150 statements.
    let killed = killed_runs_until_one_completes(15, || s.run(&db, Some(150))).await;
    assert_eq!(rows(&db), want, "after {killed} kills");
}

#[tokio::test]
async fn a_killed_run_resumes_to_the_database_an_uninterrupted_run_gives() {
    let s = Setup::new().await;
    let reference = s.dir.path().join("reference.db");
    ok(&s.run(&reference, None).await);
    let want = rows(&reference);
    for n in [0u64, 5, 40, 90] {
        let db = s.dir.path().join(format!("killed-{n}.db"));
        let out = s.run(&db, Some(n)).await;
        assert!(
            !out.status.success(),
            "meant to be killed after {n} statements"
        );
        ok(&s.run(&db, None).await);
        let got = rows(&db);
        let missing: Vec<&String> = want.iter().filter(|r| !got.contains(r)).collect();
        let extra: Vec<&String> = got.iter().filter(|r| !want.contains(r)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "after a kill at {n}: missing {} rows, e.g. {:.300}; extra {}, e.g. {:.300}",
            missing.len(),
            missing.first().map_or("", |s| s.as_str()),
            extra.len(),
            extra.first().map_or("", |s| s.as_str())
        );
    }
}

#[tokio::test]
async fn the_seed_connectors_configuration_json_runs_as_it_is() {
    let s = Setup::new().await;
    let config = s.dir.path().join("configuration.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"username": "demo", "app_password": "demo-token", "sync_frequency_hours": "6",
                "initial_sync_days": "90", "max_records_per_page": "50", "request_timeout_seconds": "30",
                "retry_attempts": "3", "enable_incremental_sync": "true", "enable_repositories": "true",
                "enable_projects": "true", "enable_debug_logging": "false", "base_url": "{}"}}"#,
            s.sim.bitbucket_url()
        ),
    )
    .unwrap();
    let db = s.dir.path().join("seed.db");
    let out = Command::new(env!("CARGO_BIN_EXE_ci-sync"))
        .args([
            "run",
            "--config",
            config.to_str().unwrap(),
            "--dest",
            &sqlite_url(&db),
        ])
        .env_remove("BITBUCKET_API_TOKEN")
        .env_remove("RUST_LOG")
        .output()
        .await
        .unwrap();
    ok(&out);
    assert_truth(&db, &s.sim);
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
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

async fn bitbucket(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ci-sync"))
        .arg("bitbucket")
        .args(args)
        .env("BITBUCKET_URL", url)
        .env("BITBUCKET_USERNAME", "demo")
        .env("BITBUCKET_APP_PASSWORD", "demo-token")
        .env_remove("BITBUCKET_API_TOKEN")
        .env_remove("BITBUCKET_ACCESS_TOKEN")
        .env_remove("RUST_LOG")
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_read_commands_print_what_the_simulator_has() {
    let s = Setup::new().await;
    let url = s.sim.bitbucket_url();
    let workspaces = lines(&bitbucket(&url, &["workspaces"]).await);
    assert_eq!(workspaces[0]["slug"], "acme");
    let repos = lines(&bitbucket(&url, &["repos", "acme"]).await);
    assert_eq!(repos.len(), 9);
    assert_eq!(repos[0]["mainbranch"], "main");
    assert_eq!(
        lines(&bitbucket(&url, &["projects", "acme"]).await).len(),
        3
    );
    let pipelines = lines(&bitbucket(&url, &["pipelines", "acme/repo-0000"]).await);
    assert_eq!(pipelines.len(), 6);
    assert_eq!(pipelines[0]["build_number"], 6, "newest first");
    assert_eq!(
        pipelines[0]["duration_s"],
        serde_json::Value::Null,
        "running"
    );
    let open =
        lines(&bitbucket(&url, &["pullrequests", "acme/repo-0000", "--state", "open"]).await);
    assert_eq!(open.len(), 1);
    assert_eq!(
        lines(&bitbucket(&url, &["pullrequests", "acme/repo-0000"]).await).len(),
        3
    );
    let commits = lines(&bitbucket(&url, &["commits", "acme/repo-0000"]).await);
    assert_eq!(commits[0]["message"], "Change 6", "the first line");
    let out = bitbucket(&url, &["pipelines", "acme"]).await;
    assert_eq!(out.status.code(), Some(2));
    let out = bitbucket(&url, &["repos", "nobody"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Resource not found"));
}

#[tokio::test]
async fn the_read_commands_print_the_recorded_values() {
    let server = test_support::ReplayServer::start("bitbucket");
    let url = server.url("/2.0/");
    let repos = lines(&bitbucket(&url, &["repos", "sourcegraph-testing"]).await);
    assert_eq!(repos.len(), 2, "both recorded pages");
    assert!(repos.iter().all(|r| {
        r["full_name"]
            .as_str()
            .unwrap()
            .starts_with("sourcegraph-testing/")
    }));
    let prs = lines(
        &bitbucket(
            &url,
            &[
                "pullrequests",
                "ThiagoCodecov/example-python",
                "--state",
                "OPEN",
            ],
        )
        .await,
    );
    assert!(!prs.is_empty() && prs.iter().all(|p| p["state"] == "OPEN"));
    let pipelines = lines(&bitbucket(&url, &["pipelines", "TestWorkspace1/testrepository1"]).await);
    assert!(!pipelines.is_empty());
    let commits = lines(
        &bitbucket(
            &url,
            &[
                "commits",
                "atlassian/stash-example-plugin",
                "--branch",
                "master",
            ],
        )
        .await,
    );
    assert!(!commits.is_empty() && commits[0]["hash"].is_string());
    let out = bitbucket(&url, &["repos", "nobody-here"]).await;
    assert_eq!(out.status.code(), Some(1));
}
