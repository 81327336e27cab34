//! `ci-sync demo`: runs with no configuration, every query it prints works, and it never touches
//! a database it did not write.

use std::path::Path;

use cidata_sync::rusqlite::Connection;
use tokio::process::Command;

use crate::sync::ok;

async fn demo(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ci-sync"))
        .arg("demo")
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .await
        .unwrap()
}

/// The `sqlite3 ... DB "SQL"` lines of the demo's output: (database as printed, SQL).
fn printed_queries(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|line| line.trim().strip_prefix("sqlite3 -header -column "))
        .map(|rest| {
            let (db, sql) = rest.split_once(" \"").expect("a quoted query");
            (db.to_owned(), sql.trim_end_matches('"').to_owned())
        })
        .collect()
}

#[tokio::test]
async fn the_demo_runs_with_no_configuration_and_every_printed_query_works() {
    // A folder with a space: the printed path must be quoted for the shell.
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("my demo");
    std::fs::create_dir(&dir).unwrap();
    let out = demo(&dir, &["--dest", "sqlite://ci sync.db"]).await;
    ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1. Full sync") && stdout.contains("Incremental sync"),
        "{stdout}"
    );
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
    assert!(stdout.contains("apt install sqlite3"), "{stdout}");
    assert!(
        stdout.contains("cp examples/ci-sync.example.toml ci-sync.toml")
            && stdout.contains("ci-sync run"),
        "the demo ends with the next step: {stdout}"
    );
    let queries = printed_queries(&stdout);
    assert_eq!(queries.len(), 8, "{stdout}");
    assert!(
        stdout.contains("database vs CircleCI: pipelines 35/35, workflows 72/72, jobs 216/216"),
        "the demo syncs CircleCI too, reruns included: {stdout}"
    );
    assert!(
        stdout.contains("database vs Bitbucket: repositories 8/8, projects 3/3, pipelines 52/52, pull requests 24/24")
            && stdout.contains("1 marked deleted"),
        "and Bitbucket, a deleted repository marked: {stdout}"
    );
    let conn = Connection::open(dir.join("ci sync.db")).unwrap();
    for (db, sql) in queries {
        assert_eq!(db, "'ci sync.db'", "the path is quoted for the shell");
        let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let rows = stmt
            .query_map([], |_| Ok(()))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .count();
        assert!(rows > 0, "the demo's query returns rows: {sql}");
    }
    // A second demo replaces its own database, and its own dashboard.
    ok(&demo(&dir, &["--dest", "sqlite://ci sync.db"]).await);
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn the_views_hold_every_run_and_step_of_every_source_and_the_demo_writes_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path(), &[]).await;
    ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let conn = Connection::open(dir.path().join("ci-sync.db")).unwrap();
    // One row per run of anything, one per part of a run.
    for (source, table) in [
        ("jenkins", "jenkins_builds"),
        ("circleci", "circleci_workflows"),
        ("bitbucket", "bitbucket_pipelines"),
    ] {
        let runs = count(
            &conn,
            &format!("SELECT count(*) FROM ci_runs WHERE source = '{source}'"),
        );
        assert_eq!(
            runs,
            count(&conn, &format!("SELECT count(*) FROM {table}")),
            "{source}"
        );
        assert!(runs > 0, "{source}");
    }
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ci_steps WHERE source = 'jenkins'"
        ),
        count(
            &conn,
            "SELECT count(*) FROM jenkins_stages WHERE deleted_at IS NULL"
        )
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ci_steps WHERE source = 'circleci'"
        ),
        count(&conn, "SELECT count(*) FROM circleci_jobs")
    );
    // Statuses are the normalised ones; each source's own is kept beside.
    let statuses = cidata_sync::views::STATUSES
        .map(|s| format!("'{s}'"))
        .join(", ");
    for view in ["ci_runs", "ci_steps"] {
        assert_eq!(
            count(
                &conn,
                &format!("SELECT count(*) FROM {view} WHERE status NOT IN ({statuses})")
            ),
            0,
            "{view}"
        );
    }
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ci_runs WHERE source = 'jenkins' AND status = 'failure'"
        ),
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE result IN ('FAILURE', 'UNSTABLE')"
        )
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ci_runs WHERE is_final = 0 AND finished_at IS NOT NULL AND source = 'jenkins'"
        ),
        0,
        "a running build has no end yet"
    );
    // A multibranch Pipeline's builds carry their branch, decoded.
    let branches: Vec<String> = conn
        .prepare("SELECT DISTINCT branch FROM ci_runs WHERE source = 'jenkins' AND branch IS NOT NULL ORDER BY branch")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(branches, ["feature/login", "main"]);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ci_runs WHERE source = 'jenkins' AND branch = 'feature/login' AND project <> 'platform/web/feature%2Flogin'"
        ),
        0
    );
    // Elsewhere the git plugin's branch (`refs/remotes/origin/main`) and revision.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ci_runs r JOIN jenkins_builds b ON b.id = r.run_id WHERE r.revision IS NULL OR r.revision <> b.revision OR length(r.revision) <> 40"
        ),
        0
    );
    // Finished Jenkins builds end at start + duration.
    let off = count(
        &conn,
        "SELECT count(*) FROM ci_runs r JOIN jenkins_builds b ON b.id = r.run_id \
         WHERE b.duration_ms IS NOT NULL AND \
         abs((julianday(r.finished_at) - julianday(r.started_at)) * 86400000.0 - b.duration_ms) > 1",
    );
    assert_eq!(off, 0);
    // ci_daily adds up to ci_runs.
    assert_eq!(
        count(&conn, "SELECT sum(runs) FROM ci_daily"),
        count(
            &conn,
            "SELECT count(*) FROM ci_runs WHERE started_at IS NOT NULL"
        )
    );
    assert_eq!(
        count(
            &conn,
            "SELECT sum(failures) FROM ci_daily WHERE source = 'circleci'"
        ),
        count(
            &conn,
            "SELECT count(*) FROM ci_runs WHERE source = 'circleci' AND status = 'failure'"
        )
    );
    // The README's example queries run on the demo's database.
    let readme = include_str!("../../../README.md");
    let blocks: Vec<&str> = readme
        .split("```sql\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(!blocks.is_empty());
    let statements: Vec<&str> = blocks
        .iter()
        .flat_map(|b| b.split(';'))
        .filter(|s| {
            s.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
        })
        .collect();
    assert_eq!(statements.len(), 3, "{statements:?}");
    for sql in statements {
        let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let rows = stmt.query_map([], |_| Ok(())).unwrap().count();
        assert!(rows > 0, "{sql}");
    }
    // The dashboard, beside the database.
    let page = std::fs::read_to_string(dir.path().join("dashboard.html")).unwrap();
    assert!(
        page.contains("<canvas id=\"success-rate\""),
        "a chart is drawn"
    );
    assert!(
        stdout.contains("Dashboard (") && stdout.contains("dashboard.html"),
        "{stdout}"
    );
    assert!(stdout.contains("ci-sync serve --db"), "{stdout}");
}

#[tokio::test]
async fn the_demo_refuses_a_database_it_did_not_write_without_touching_it() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("foreign.db");
    {
        let conn = Connection::open(&foreign).unwrap();
        conn.execute_batch("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts VALUES (1, 'x');")
            .unwrap();
    }
    let before = std::fs::read(&foreign).unwrap();
    let out = demo(dir.path(), &["--dest", "sqlite://foreign.db"]).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("was not written by `ci-sync demo`"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&foreign).unwrap(),
        before,
        "not a byte changed"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["foreign.db"], "no -wal or -shm file either");

    // Nor a page it did not write where its dashboard goes: refused before any sync.
    let page = dir.path().join("report.html");
    std::fs::write(&page, "<html>the team's own page</html>").unwrap();
    let out = demo(
        dir.path(),
        &["--dest", "sqlite://new.db", "--dashboard", "report.html"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("report.html exists and was not written by ci-sync")
    );
    assert_eq!(
        std::fs::read_to_string(&page).unwrap(),
        "<html>the team's own page</html>"
    );
    assert!(!dir.path().join("new.db").exists(), "nothing synced");
}

#[tokio::test]
async fn the_json_lines_demo_says_its_second_pass_is_a_full_resync() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path(), &["--dest", "jsonl://demo.jsonl"]).await;
    ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("full re-sync"), "{stdout}");
}
