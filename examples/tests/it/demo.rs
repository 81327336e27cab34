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
    assert_eq!(queries.len(), 6, "{stdout}");
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
    // A second demo replaces its own database.
    ok(&demo(&dir, &["--dest", "sqlite://ci sync.db"]).await);
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
}

#[tokio::test]
async fn the_json_lines_demo_says_its_second_pass_is_a_full_resync() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path(), &["--dest", "jsonl://demo.jsonl"]).await;
    ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("full re-sync"), "{stdout}");
}
