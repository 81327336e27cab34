//! `ci-sync run --dest postgres://...` against the simulator: the same rows as SQLite, a second
//! process for the same source refused (or waiting), and killed runs that resume to the
//! uninterrupted run's database. Skipped, saying so, without `$CIDATA_TEST_POSTGRES` (see
//! `.ci/postgres.sh`); `.ci/run` sets it.

use std::path::Path;

use cidata_sync::rusqlite::Connection;
use test_support::postgres_database;

use crate::every_source::{
    EVERY_SOURCE, assert_same, config_of, kill_points, run, run_cmd, without_clock,
};
use crate::sync::{Setup, ok, sqlite_url};

/// Runs `f` on a thread of its own: the blocking client must not run on the test's runtime.
fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

/// A column and how to read it alike from both databases.
pub(crate) struct Col {
    name: String,
    pg_type: String,
}

/// Every table of `url` (but the volatile sync times) as sorted lines, values normalised so that
/// SQLite's and PostgreSQL's types compare: timestamps as milliseconds, booleans as 0/1, JSON
/// re-serialised with sorted keys; what the clock decides (when a deletion or a full check was
/// seen) is left out.
pub(crate) fn pg_dump(url: &str) -> (Vec<String>, Vec<(String, Vec<Col>)>) {
    let url = url.to_owned();
    blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut tables: Vec<(String, Vec<Col>)> = Vec::new();
        for row in client
            .query(
                "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name <> '_ci_sync_meta' \
                 AND column_name NOT IN ('synced_at', 'updated_at') ORDER BY table_name, ordinal_position",
                &[],
            )
            .unwrap()
        {
            let (table, name, pg_type): (String, String, String) = (row.get(0), row.get(1), row.get(2));
            match tables.last_mut() {
                Some((t, cols)) if *t == table => cols.push(Col { name, pg_type }),
                _ => tables.push((table, vec![Col { name, pg_type }])),
            }
        }
        let mut lines = Vec::new();
        for (table, cols) in &tables {
            let select: Vec<String> = cols
                .iter()
                .map(|c| match c.pg_type.as_str() {
                    "timestamp with time zone" => {
                        format!("(extract(epoch from \"{}\") * 1000)::bigint::text", c.name)
                    }
                    "boolean" => format!("\"{}\"::int::text", c.name),
                    _ => format!("\"{}\"::text", c.name),
                })
                .collect();
            for row in client
                .query(&format!("SELECT {} FROM {table}", select.join(", ")), &[])
                .unwrap()
            {
                let values: Vec<Option<String>> = (0..cols.len()).map(|i| row.get(i)).collect();
                lines.push(line(table, cols, values));
            }
        }
        lines.sort();
        (lines, tables)
    })
}

/// The same dump of an SQLite database, for the columns PostgreSQL has.
pub(crate) fn sqlite_dump(db: &Path, tables: &[(String, Vec<Col>)]) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut lines = Vec::new();
    for (table, cols) in tables {
        let select: Vec<String> = cols
            .iter()
            .map(|c| match c.pg_type.as_str() {
                "timestamp with time zone" => format!(
                    "CAST(CAST(round((julianday(\"{}\") - 2440587.5) * 86400000) AS INTEGER) AS TEXT)",
                    c.name
                ),
                _ => format!("CAST(\"{}\" AS TEXT)", c.name),
            })
            .collect();
        let mut stmt = conn
            .prepare(&format!("SELECT {} FROM {table}", select.join(", ")))
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                (0..cols.len())
                    .map(|i| r.get::<_, Option<String>>(i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        for values in rows {
            lines.push(line(table, cols, values.unwrap()));
        }
    }
    lines.sort();
    lines
}

fn line(table: &str, cols: &[Col], values: Vec<Option<String>>) -> String {
    let shown: Vec<String> = cols
        .iter()
        .zip(values)
        .map(|(c, v)| match v {
            None => "NULL".to_owned(),
            // When a deletion was seen is the clock's: that it was seen is the data.
            Some(_) if c.name == "deleted_at" => "deleted".to_owned(),
            Some(v) if c.pg_type == "jsonb" => {
                let parsed: serde_json::Value =
                    serde_json::from_str(&v).unwrap_or_else(|e| panic!("{table}.{}: {e}", c.name));
                without_clock(parsed).to_string()
            }
            Some(v) if c.pg_type == "double precision" => v.parse::<f64>().unwrap().to_string(),
            Some(v) => v,
        })
        .collect();
    format!("{table}: {}", shown.join("|"))
}

#[tokio::test]
async fn a_sync_into_postgres_holds_what_the_same_sync_into_sqlite_holds() {
    let Some(pg) = postgres_database("a_sync_into_postgres_holds_what_sqlite_holds") else {
        return;
    };
    let s = Setup::new().await;
    let config = config_of(&s, &EVERY_SOURCE);
    let db = s.db("reference.db");
    for pass in ["full", "incremental"] {
        if pass == "incremental" {
            s.sim.advance();
        }
        ok(&run(&config, &pg).await);
        ok(&run(&config, &sqlite_url(&db)).await);
        let (pg_lines, tables) = pg_dump(&pg);
        let names: Vec<&str> = tables.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names.len(), 17, "14 tables and 3 views: {names:?}");
        assert!(pg_lines.len() > 1500, "{pass}: {} rows", pg_lines.len());
        assert_same(
            &pg_lines,
            &sqlite_dump(&db, &tables),
            &format!("after the {pass} sync"),
        );
    }
    // Nothing new: nothing written.
    let out = run(&config, &pg).await;
    ok(&out);
    let report =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let written: Vec<&str> = report
        .lines()
        .filter(|l| l.contains("rows written") && !l.contains(" 0 rows written"))
        .collect();
    assert!(written.is_empty(), "{report}");
    assert!(!report.contains(&password_of(&pg)), "{report}");

    // The dashboard drawn from PostgreSQL's views is the one drawn from SQLite's.
    let page = |db: String, out: &'static str| {
        let dir = s.dir.path().to_owned();
        async move {
            let done = tokio::process::Command::new(env!("CARGO_BIN_EXE_ci-sync"))
                .args(["dashboard", "--db", &db, "--out", out])
                .current_dir(&dir)
                .output()
                .await
                .unwrap();
            ok(&done);
            let html = std::fs::read_to_string(dir.join(out)).unwrap();
            let data = html
                .split("<script id=\"dashboard-data\" type=\"application/json\">")
                .nth(1)
                .unwrap();
            data[..data.find("</script>").unwrap()].to_owned()
        }
    };
    let from_pg = page(pg.clone(), "pg.html").await;
    let from_sqlite = page(sqlite_url(&db), "sqlite.html").await;
    assert!(from_pg.len() > 1000, "{from_pg}");
    assert_eq!(from_pg, from_sqlite);
}

fn password_of(url: &str) -> String {
    url.split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, password)| password.to_owned())
        .expect("the test URL holds a password")
}

/// Whether some session holds ci-sync's lock of a source.
fn source_locked(url: &str) -> bool {
    let url = url.to_owned();
    blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
                 AND classid = 202705941 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[],
            )
            .unwrap()
            .get::<_, i64>(0)
            > 0
    })
}

#[tokio::test]
async fn a_second_process_for_the_same_source_stops_at_once_or_waits() {
    let Some(pg) = postgres_database("a_second_process_for_the_same_source") else {
        return;
    };
    let s = Setup::new().await;
    let config = s.config("");
    // Slow answers keep the first run (and its lock) going.
    s.sim.set_latency(std::time::Duration::from_millis(30));
    let first = run_cmd(&config, &pg)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let locked = async {
        while !source_locked(&pg) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), locked)
        .await
        .expect("the first run takes the lock");
    let started = std::time::Instant::now();
    let second = run(&config, &pg).await;
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another ci-sync process is syncing source `jenkins`")
            && stderr.contains("--wait-for-lock"),
        "{stderr}"
    );
    assert!(!stderr.contains(&password_of(&pg)), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // With --wait-for-lock it waits its turn and then finds nothing left to do.
    let waiting = run_cmd(&config, &pg).arg("--wait-for-lock").output();
    let (first, waiting) = tokio::join!(first.wait_with_output(), waiting);
    ok(&first.unwrap());
    ok(&waiting.unwrap());
    s.sim.set_latency(std::time::Duration::ZERO);
    let db = s.db("reference.db");
    ok(&run(&config, &sqlite_url(&db)).await);
    let (pg_lines, tables) = pg_dump(&pg);
    assert_same(
        &pg_lines,
        &sqlite_dump(&db, &tables),
        "after the waiting run",
    );
}

#[tokio::test]
async fn a_killed_run_resumes_to_the_database_an_uninterrupted_run_gives() {
    let Some(reference) = postgres_database("a_killed_run_resumes_reference") else {
        return;
    };
    let s = Setup::new().await;
    let config = config_of(&s, &EVERY_SOURCE);
    ok(&run(&config, &reference).await);
    let (want, _) = pg_dump(&reference);
    // 20 seeded kill points over each source's write statements (upserts grouped per table and
    // transaction: a full run takes 26 of them for Jenkins, 8 for CircleCI, 24 for Bitbucket):
    // the killed run syncs that source alone, the next one every source.
    let points = kill_points(20, [25, 7, 22]);
    let mut killed = 0;
    for (source, n) in points {
        let pg = postgres_database("a_killed_run_resumes").unwrap();
        let out = run_cmd(&config_of(&s, &[source]), &pg)
            .env("CI_SYNC_ABORT_AFTER_STATEMENTS", n.to_string())
            .output()
            .await
            .unwrap();
        if !out.status.success() {
            killed += 1;
        }
        ok(&run(&config, &pg).await);
        let (got, _) = pg_dump(&pg);
        assert_same(
            &got,
            &want,
            &format!("after a kill of {source} at operation {n}"),
        );
    }
    assert_eq!(killed, 20, "every run was meant to be killed");
}
