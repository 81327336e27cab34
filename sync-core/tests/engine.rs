//! The engine's guarantees, each tested against a small in-memory source and a real SQLite file:
//! a replay changes nothing; state never gets ahead of durable rows; a failing partition does not
//! advance its state nor stop the others; a new column migrates an existing database.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use cidata_sync::*;
use futures::stream::{self, BoxStream, StreamExt};

/// A source of `items` rows in partitions; the "server" is a map partition -> values.
struct FakeSource {
    server: Arc<Mutex<BTreeMap<String, Vec<i64>>>>,
    schema: TableSchema,
    /// Read every partition whatever the state says (a replay).
    ignore_state: bool,
    /// Partitions whose read fails after two rows.
    failing: Vec<String>,
    /// A bad record after this partition's checkpoint (a destination error).
    poison_after: Option<String>,
}

fn items_schema() -> TableSchema {
    TableSchema::new("items")
        .column("id", ColumnType::Text)
        .column("partition", ColumnType::Text)
        .column("value", ColumnType::Integer)
        .column("deleted_at", ColumnType::Timestamp)
        .volatile_column("synced_at", ColumnType::Timestamp)
        .primary_key(["id"])
        .soft_delete("deleted_at")
}

impl FakeSource {
    fn new(server: &Arc<Mutex<BTreeMap<String, Vec<i64>>>>) -> FakeSource {
        FakeSource {
            server: server.clone(),
            schema: items_schema(),
            ignore_state: false,
            failing: vec![],
            poison_after: None,
        }
    }
}

struct Part {
    key: String,
    values: Vec<i64>,
}

impl Source for FakeSource {
    type Partition = Part;

    fn name(&self) -> &str {
        "fake"
    }

    fn tables(&self) -> Vec<TableSchema> {
        vec![self.schema.clone()]
    }

    fn discover(&self, state: State) -> BoxStream<'static, Result<Discovery<Part>>> {
        let server = self.server.lock().unwrap().clone();
        let mut found = Vec::new();
        for (key, values) in &server {
            let seen = state.get(key).and_then(|s| s["len"].as_u64());
            if self.ignore_state || seen != Some(values.len() as u64) {
                found.push(Ok(Discovery::Partition(Part {
                    key: key.clone(),
                    values: values.clone(),
                })));
            }
        }
        for gone in state.keys().filter(|k| !server.contains_key(*k)) {
            let key = vec![Value::Text(format!("{gone}-0"))];
            found.push(Ok(Discovery::Operation(Operation::SoftDelete {
                table: "items".into(),
                key,
                at_ms: 1,
            })));
        }
        stream::iter(found).boxed()
    }

    fn partition_key(&self, p: &Part) -> String {
        p.key.clone()
    }

    fn read(&self, p: Part) -> BoxStream<'static, Result<Operation>> {
        let mut ops = Vec::new();
        for (i, v) in p.values.iter().enumerate() {
            if self.failing.contains(&p.key) && i == 2 {
                ops.push(Err(Error::Source("the server broke".into())));
                return stream::iter(ops).boxed();
            }
            let record = self
                .schema
                .record()
                .set("id", format!("{}-{i}", p.key))
                .set("partition", p.key.as_str())
                .set("value", *v)
                .set("synced_at", Value::Timestamp(now_ms()))
                .build()
                .unwrap();
            ops.push(Ok(Operation::Upsert(record)));
        }
        ops.push(Ok(Operation::Checkpoint(Checkpoint {
            partition: p.key.clone(),
            state: serde_json::json!({ "len": p.values.len() }),
            non_final: 0,
        })));
        if self.poison_after.as_deref() == Some(&p.key) {
            ops.push(Ok(Operation::Upsert(Record {
                table: "no_such_table".into(),
                values: vec![],
            })));
        }
        stream::iter(ops).boxed()
    }
}

fn server(parts: &[(&str, usize)]) -> Arc<Mutex<BTreeMap<String, Vec<i64>>>> {
    let map = parts
        .iter()
        .map(|(k, n)| (k.to_string(), (0..*n as i64).collect()))
        .collect();
    Arc::new(Mutex::new(map))
}

fn dump(path: &std::path::Path) -> Vec<(String, String, i64, Option<String>)> {
    let conn = rusqlite_open(path);
    let mut stmt = conn
        .prepare("SELECT id, partition, value, deleted_at FROM items ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn states(path: &std::path::Path) -> BTreeMap<String, String> {
    let conn = rusqlite_open(path);
    let mut stmt = conn
        .prepare("SELECT partition, state FROM _ci_sync_state")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn rusqlite_open(path: &std::path::Path) -> cidata_sync::rusqlite::Connection {
    cidata_sync::rusqlite::Connection::open(path).unwrap()
}

async fn run(source: FakeSource, path: &std::path::Path) -> Result<RunStats> {
    let dest = DestinationUrl::Sqlite(path.to_owned()).open()?;
    Engine::new()
        .concurrency(2)
        .run(Arc::new(source), dest)
        .await
}

#[tokio::test]
async fn a_second_run_and_a_replay_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sync.db");
    let srv = server(&[("a", 5), ("b", 3), ("c", 0)]);
    let first = run(FakeSource::new(&srv), &db).await.unwrap();
    assert_eq!(first.tables["items"].upserted, 8);
    assert_eq!(first.checkpoints, 3);
    let rows = dump(&db);

    let second = run(FakeSource::new(&srv), &db).await.unwrap();
    assert_eq!(
        (
            second.rows_upserted(),
            second.checkpoints,
            second.partitions,
            second.transactions
        ),
        (0, 0, 0, 0)
    );

    // A replay of everything (state ignored) sends every row again: nothing changes.
    let replay = run(
        FakeSource {
            ignore_state: true,
            ..FakeSource::new(&srv)
        },
        &db,
    )
    .await
    .unwrap();
    assert_eq!(replay.rows_upserted(), 0);
    assert_eq!(replay.tables["items"].unchanged, 8);
    assert_eq!(replay.checkpoints, 0);
    assert_eq!(dump(&db), rows);
}

#[tokio::test]
async fn changes_and_deletions_are_applied_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sync.db");
    let srv = server(&[("a", 2), ("b", 2)]);
    run(FakeSource::new(&srv), &db).await.unwrap();
    {
        let mut s = srv.lock().unwrap();
        s.get_mut("a").unwrap().push(99);
        s.remove("b");
    }
    let stats = run(FakeSource::new(&srv), &db).await.unwrap();
    assert_eq!(stats.partitions, 1, "only the changed partition is read");
    assert_eq!(stats.tables["items"].upserted, 1);
    assert_eq!(stats.tables["items"].deleted, 1);
    let rows = dump(&db);
    assert_eq!(rows.len(), 5, "deleted rows are kept");
    assert!(rows.iter().any(|r| r.0 == "b-0" && r.3.is_some()));
}

#[tokio::test]
async fn state_never_gets_ahead_of_durable_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sync.db");
    let srv = server(&[("a", 3)]);
    // After a's checkpoint, a record the destination rejects: that batch fails and rolls back.
    let source = FakeSource {
        poison_after: Some("a".into()),
        ..FakeSource::new(&srv)
    };
    let err = run(source, &db).await.unwrap_err();
    assert!(err.to_string().contains("no_such_table"), "{err}");
    let st = states(&db);
    assert_eq!(st.get("a").map(String::as_str), Some(r#"{"len":3}"#));
    assert_eq!(
        dump(&db).len(),
        3,
        "every row before the checkpoint is durable"
    );
}

#[tokio::test]
async fn a_failing_partition_keeps_its_state_and_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sync.db");
    let srv = server(&[("a", 4), ("b", 4)]);
    let source = FakeSource {
        failing: vec!["b".into()],
        ..FakeSource::new(&srv)
    };
    let stats = run(source, &db).await.unwrap();
    assert_eq!(stats.failed_partitions.len(), 1);
    assert_eq!(stats.failed_partitions[0].0, "b");
    let st = states(&db);
    assert!(st.contains_key("a") && !st.contains_key("b"));
    // The next run reads b again and completes it.
    let stats = run(FakeSource::new(&srv), &db).await.unwrap();
    assert_eq!(stats.partitions, 1);
    assert!(stats.failed_partitions.is_empty());
    assert_eq!(dump(&db).len(), 8);
}

#[tokio::test]
async fn a_new_column_migrates_an_existing_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sync.db");
    let srv = server(&[("a", 2)]);
    run(FakeSource::new(&srv), &db).await.unwrap();
    let v2 = FakeSource {
        schema: items_schema().column("extra", ColumnType::Json),
        ignore_state: true,
        ..FakeSource::new(&srv)
    };
    run(v2, &db).await.unwrap();
    let conn = rusqlite_open(&db);
    let cols: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('items')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(cols.contains(&"extra".to_owned()), "{cols:?}");
    assert_eq!(dump(&db).len(), 2, "no data lost");
}

#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn json_lines_are_singer_messages() {
    let buf = SharedBuf::default();
    let srv = server(&[("a", 2)]);
    let dest = Box::new(JsonLinesDestination::to_writer(buf.clone()));
    let stats = Engine::new()
        .run(Arc::new(FakeSource::new(&srv)), dest)
        .await
        .unwrap();
    assert_eq!(stats.tables["items"].upserted, 2);
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let messages: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = messages
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["SCHEMA", "RECORD", "RECORD", "STATE"]);
    assert_eq!(messages[0]["key_properties"], serde_json::json!(["id"]));
    assert_eq!(
        messages[0]["schema"]["properties"]["deleted_at"]["format"],
        "date-time"
    );
    assert_eq!(messages[1]["record"]["id"], "a-0");
    assert!(
        messages[1]["record"]["synced_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(messages[3]["value"]["bookmarks"]["a"]["len"], 2);
}

#[tokio::test]
async fn a_long_partition_is_written_in_batches_bounded_by_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sync.db");
    let srv = server(&[("long", 2_000)]);
    let one_record = FakeSource::new(&srv)
        .read(Part {
            key: "long".into(),
            values: vec![0],
        })
        .next()
        .await
        .unwrap()
        .unwrap()
        .size_bytes();
    let dest = DestinationUrl::Sqlite(db.clone()).open().unwrap();
    // Room for about 100 records per transaction: 2,000 records and a checkpoint take about 20.
    let stats = Engine::new()
        .batch_bytes(100 * one_record)
        .run(Arc::new(FakeSource::new(&srv)), dest)
        .await
        .unwrap();
    assert_eq!(stats.tables["items"].upserted, 2_000);
    assert!(
        (19..=22).contains(&stats.transactions),
        "{} transactions",
        stats.transactions
    );
    assert_eq!(dump(&db).len(), 2_000);
    assert_eq!(states(&db)["long"], r#"{"len":2000}"#);

    // Without the bound, the same partition is one transaction (the checkpoint ends it).
    let db = dir.path().join("unbounded.db");
    let dest = DestinationUrl::Sqlite(db.clone()).open().unwrap();
    let stats = Engine::new()
        .run(Arc::new(FakeSource::new(&srv)), dest)
        .await
        .unwrap();
    assert_eq!(stats.transactions, 1);
}
