//! The PostgreSQL destination against a real server: native types, upserts that write only real
//! changes, state atomic with its rows, additive migrations, soft deletes and the per-source
//! lock. Each test has a database of its own; without `$CIDATA_TEST_POSTGRES` they are skipped,
//! saying so (see `.ci/postgres.sh`).
#![cfg(feature = "postgres")]

use cidata_sync::*;
use test_support::postgres_database;

fn schema() -> TableSchema {
    TableSchema::new("items")
        .column("id", ColumnType::Text)
        .column("n", ColumnType::Integer)
        .column("ratio", ColumnType::Real)
        .column("ok", ColumnType::Boolean)
        .column("at", ColumnType::Timestamp)
        .column("raw", ColumnType::Json)
        .column("deleted_at", ColumnType::Timestamp)
        .volatile_column("synced_at", ColumnType::Timestamp)
        .primary_key(["id"])
        .soft_delete("deleted_at")
}

fn item(t: &TableSchema, id: &str, n: i64, synced_at: i64) -> Operation {
    Operation::Upsert(
        t.record()
            .set("id", id)
            .set("n", n)
            .set("ratio", 0.5)
            .set("ok", n % 2 == 0)
            .set("at", Value::Timestamp(1_735_693_200_123 + n))
            .set(
                "raw",
                Value::Json(format!(
                    r#"{{"n":{n},"log":"a\u0000b","nested":{{"x":[1,2]}}}}"#
                )),
            )
            .set("synced_at", Value::Timestamp(synced_at))
            .build()
            .unwrap(),
    )
}

fn checkpoint(partition: &str, len: usize) -> Operation {
    Operation::Checkpoint(Checkpoint {
        partition: partition.into(),
        state: serde_json::json!({ "len": len }),
        non_final: 0,
    })
}

fn password_of(url: &str) -> String {
    url.split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, password)| password.to_owned())
        .expect("the test URL holds a password")
}

/// Runs `f` on a thread of its own: the blocking client must not run on the test's runtime.
fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

fn query(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .query(sql.as_str(), &[])
            .unwrap()
            .iter()
            .map(|row| (0..row.len()).map(|i| row.get(i)).collect())
            .collect()
    })
}

#[test]
fn native_types_and_upserts_that_write_only_real_changes() {
    let Some(url) = postgres_database("native_types_and_upserts") else {
        return;
    };
    let t = schema();
    let mut dest = PostgresDestination::new(&url).unwrap();
    let stats = blocking({
        let t = t.clone();
        move || {
            dest.prepare("test", std::slice::from_ref(&t)).unwrap();
            let first = dest
                .write(
                    "test",
                    &(0..1200)
                        .map(|n| item(&t, &format!("i{n}"), n, 1))
                        .chain([checkpoint("p", 1200)])
                        .collect::<Vec<_>>(),
                )
                .unwrap();
            // The same rows again, only the volatile column different: nothing written.
            let again = dest
                .write(
                    "test",
                    &(0..1200)
                        .map(|n| item(&t, &format!("i{n}"), n, 2))
                        .chain([checkpoint("p", 1200)])
                        .collect::<Vec<_>>(),
                )
                .unwrap();
            // One row changed, one key twice in a batch (the last wins), one deleted.
            let changed = dest
                .write(
                    "test",
                    &[
                        item(&t, "i5", 1005, 3),
                        item(&t, "i6", 7, 3),
                        item(&t, "i6", 1006, 3),
                        Operation::SoftDelete {
                            table: "items".into(),
                            key: vec![Value::Text("i7".into())],
                            at_ms: 1_800_000_000_000,
                        },
                        checkpoint("p", 1199),
                    ],
                )
                .unwrap();
            let state = dest.load_state("test").unwrap();
            (first, again, changed, state)
        }
    });
    let (first, again, changed, state) = stats;
    assert_eq!(first.tables["items"].upserted, 1200);
    assert_eq!(first.checkpoints, 1);
    assert_eq!(again.tables["items"].upserted, 0);
    assert_eq!(again.tables["items"].unchanged, 1200);
    assert_eq!(again.checkpoints, 0, "an unchanged state is not rewritten");
    assert_eq!(changed.tables["items"].upserted, 2);
    assert_eq!(changed.tables["items"].deleted, 1);
    assert_eq!(state["p"], serde_json::json!({ "len": 1199 }));

    let types = query(
        &url,
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_name = 'items' ORDER BY ordinal_position",
    );
    let types: Vec<String> = types
        .iter()
        .map(|r| format!("{} {}", r[0].as_deref().unwrap(), r[1].as_deref().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            "id text",
            "n bigint",
            "ratio double precision",
            "ok boolean",
            "at timestamp with time zone",
            "raw jsonb",
            "deleted_at timestamp with time zone",
            "synced_at timestamp with time zone"
        ]
    );
    let rows = query(
        &url,
        "SELECT id, n::text, ok::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS'), \
         raw->>'log', (raw->'nested'->'x'->>1), (deleted_at IS NOT NULL)::text, \
         (synced_at = to_timestamp(0.001))::text
         FROM items WHERE id IN ('i5', 'i6', 'i7') ORDER BY id",
    );
    let rows: Vec<String> = rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| v.unwrap_or_else(|| "NULL".into()))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    // The NUL of the JSON became U+FFFD; i7 kept its first sync time (its row was not rewritten).
    assert_eq!(
        rows,
        [
            "i5|1005|false|2025-01-01T01:00:01.128|a\u{fffd}b|2|false|false",
            "i6|1006|true|2025-01-01T01:00:01.129|a\u{fffd}b|2|false|false",
            "i7|7|false|2025-01-01T01:00:00.130|a\u{fffd}b|2|true|true",
        ]
    );
}

#[test]
fn a_failing_batch_leaves_neither_rows_nor_state() {
    let Some(url) = postgres_database("a_failing_batch") else {
        return;
    };
    let t = schema();
    let result = blocking(move || {
        let mut dest = PostgresDestination::new(&url).unwrap();
        dest.prepare("test", std::slice::from_ref(&t)).unwrap();
        let failed = dest.write(
            "test",
            &[
                item(&t, "a", 1, 1),
                checkpoint("p", 1),
                Operation::Upsert(Record {
                    table: "items".into(),
                    values: vec![Value::Text("short".into())],
                }),
            ],
        );
        let state = dest.load_state("test").unwrap();
        (failed.map(|_| ()).map_err(|e| e.to_string()), state, url)
    });
    let (failed, state, url) = result;
    assert!(failed.unwrap_err().contains("1 values for 8 columns"));
    assert!(state.is_empty());
    assert_eq!(
        query(&url, "SELECT count(*)::text FROM items")[0][0].as_deref(),
        Some("0")
    );
}

#[test]
fn a_newer_version_adds_columns_and_keeps_the_rows() {
    let Some(url) = postgres_database("a_newer_version_adds_columns") else {
        return;
    };
    let old = TableSchema::new("items")
        .column("id", ColumnType::Text)
        .column("n", ColumnType::Integer)
        .primary_key(["id"]);
    let new = old.clone().column("label", ColumnType::Text);
    let u = url.clone();
    blocking(move || {
        let mut dest = PostgresDestination::new(&u).unwrap();
        dest.prepare("test", std::slice::from_ref(&old)).unwrap();
        let row = old.record().set("id", "a").set("n", 1).build().unwrap();
        dest.write("test", &[Operation::Upsert(row)]).unwrap();
        drop(dest);
        let mut dest = PostgresDestination::new(&u).unwrap();
        dest.prepare("test", std::slice::from_ref(&new)).unwrap();
        let row = new
            .record()
            .set("id", "b")
            .set("n", 2)
            .set("label", "x")
            .build()
            .unwrap();
        dest.write("test", &[Operation::Upsert(row)]).unwrap();
    });
    let rows = query(&url, "SELECT id, n::text, label FROM items ORDER BY id");
    assert_eq!(
        rows,
        [
            vec![Some("a".into()), Some("1".into()), None],
            vec![Some("b".into()), Some("2".into()), Some("x".into())]
        ]
    );
}

#[test]
fn a_second_writer_of_the_same_source_is_refused_or_waits() {
    let Some(url) = postgres_database("a_second_writer") else {
        return;
    };
    let t = schema();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let holder = {
        let (url, t) = (url.clone(), t.clone());
        std::thread::spawn(move || {
            let mut dest = PostgresDestination::new(&url).unwrap();
            dest.prepare("jenkins", std::slice::from_ref(&t)).unwrap();
            ready_tx.send(()).unwrap();
            rx.recv().unwrap();
            drop(dest);
        })
    };
    ready_rx.recv().unwrap();
    let (u, t2) = (url.clone(), t.clone());
    let refused = blocking(move || {
        let mut dest = PostgresDestination::new(&u).unwrap();
        dest.prepare("jenkins", std::slice::from_ref(&t2))
            .unwrap_err()
    });
    assert!(matches!(refused, Error::Refused(_)), "{refused}");
    let message = refused.to_string();
    assert!(
        message.contains("another ci-sync process is syncing source `jenkins`")
            && message.contains("--wait-for-lock")
            && !message.contains(&password_of(&url)),
        "{message}"
    );
    // Another source is not held up.
    let (u, t2) = (url.clone(), t.clone());
    blocking(move || {
        let mut dest = PostgresDestination::new(&u).unwrap();
        dest.prepare("circleci", std::slice::from_ref(&t2)).unwrap();
    });
    // Waiting: the second writer gets the lock once the first one ends.
    let waiter = {
        let (url, t) = (url.clone(), t.clone());
        std::thread::spawn(move || {
            let mut dest = PostgresDestination::new(&url).unwrap().wait_for_lock(true);
            let started = std::time::Instant::now();
            dest.prepare("jenkins", std::slice::from_ref(&t)).unwrap();
            started.elapsed()
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!waiter.is_finished(), "it waits while the lock is held");
    tx.send(()).unwrap();
    holder.join().unwrap();
    let waited = waiter.join().unwrap();
    assert!(
        waited >= std::time::Duration::from_millis(300),
        "{waited:?}"
    );
}

#[test]
fn the_password_never_shows() {
    let Some(url) = postgres_database("the_password_never_shows") else {
        return;
    };
    let password = password_of(&url);
    let wrong = url.replace(&password, "wrong-password");
    let dest = PostgresDestination::new(&url).unwrap();
    assert!(!format!("{dest:?}").contains(&password));
    assert!(!dest.describe().contains(&password));
    let error = blocking(move || {
        let mut dest = PostgresDestination::new(&wrong).unwrap();
        dest.load_state("x").unwrap_err().to_string()
    });
    assert!(error.contains("password authentication failed"), "{error}");
    assert!(!error.contains("wrong-password"), "{error}");
}

#[test]
fn a_time_out_of_range_is_null_in_both_databases() {
    let t = TableSchema::new("times")
        .column("id", ColumnType::Text)
        .column("at", ColumnType::Timestamp)
        .primary_key(["id"]);
    let rows = |t: &TableSchema| -> Vec<Operation> {
        [
            ("far", i64::MAX),
            ("year 10000", 253_402_300_800_000),
            ("ok", 0),
        ]
        .into_iter()
        .map(|(id, ms)| {
            Operation::Upsert(
                t.record()
                    .set("id", id)
                    .set("at", Value::Timestamp(ms))
                    .build()
                    .unwrap(),
            )
        })
        .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut sqlite = SqliteDestination::open(dir.path().join("t.db")).unwrap();
    sqlite.prepare("test", std::slice::from_ref(&t)).unwrap();
    sqlite.write("test", &rows(&t)).unwrap();
    let nulls: i64 = sqlite
        .connection()
        .query_row("SELECT count(*) FROM times WHERE at IS NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(nulls, 2);
    let Some(url) = postgres_database("a_time_out_of_range") else {
        return;
    };
    let u = url.clone();
    blocking(move || {
        let mut pg = PostgresDestination::new(&u).unwrap();
        pg.prepare("test", std::slice::from_ref(&t)).unwrap();
        pg.write("test", &rows(&t)).unwrap();
    });
    let nulls = query(&url, "SELECT count(*)::text FROM times WHERE at IS NULL");
    assert_eq!(nulls[0][0].as_deref(), Some("2"));
}

/// With the server's CA given by `sslrootcert`, `sslmode=verify-full` connects over TLS; without
/// it, the certificate is refused (checks are on); `sslmode=disable` goes without TLS.
#[test]
fn tls_is_verified_against_the_system_roots_and_sslrootcert() {
    let Some(url) = postgres_database("tls") else {
        return;
    };
    let url = url.split('?').next().unwrap().to_owned();
    let Some(ca) = std::env::var("CIDATA_TEST_POSTGRES_CA")
        .ok()
        .filter(|c| !c.is_empty())
    else {
        if std::env::var_os(test_support::REQUIRE_POSTGRES_ENV).is_some() {
            panic!("CIDATA_TEST_POSTGRES_CA is not set but PostgreSQL is required");
        }
        eprintln!("SKIPPED tls: no CIDATA_TEST_POSTGRES_CA (the server's CA)");
        return;
    };
    let t = TableSchema::new("t")
        .column("id", ColumnType::Text)
        .primary_key(["id"]);
    let connect = move |url: String, t: TableSchema| {
        blocking(move || {
            let mut dest = PostgresDestination::new(&url).map_err(|e| e.to_string())?;
            dest.prepare("tls", std::slice::from_ref(&t))
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(())
        })
    };
    // Verified TLS: the session, held open, shows in pg_stat_ssl.
    let verified = format!("{url}?sslmode=verify-full&sslrootcert={ca}");
    let (opened, close) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let holder = {
        let (opened, t) = (opened.0, t.clone());
        std::thread::spawn(move || {
            let mut dest = PostgresDestination::new(&verified).unwrap();
            opened
                .send(
                    dest.prepare("tls", std::slice::from_ref(&t))
                        .map_err(|e| e.to_string()),
                )
                .unwrap();
            close.1.recv().unwrap();
        })
    };
    opened.1.recv().unwrap().unwrap();
    let ssl_used = query(
        &format!("{url}?sslmode=disable"),
        "SELECT count(*)::text FROM pg_stat_ssl WHERE ssl",
    );
    close.0.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(
        ssl_used[0][0].as_deref(),
        Some("1"),
        "the verified session uses TLS"
    );
    let unknown_ca = connect(format!("{url}?sslmode=require"), t.clone()).unwrap_err();
    assert!(
        unknown_ca.to_lowercase().contains("certificate"),
        "{unknown_ca}"
    );
    connect(format!("{url}?sslmode=disable"), t).unwrap();
}
