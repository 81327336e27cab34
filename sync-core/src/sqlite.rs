//! The embedded default destination: one SQLite file (WAL), upserts that write only real changes,
//! and the sync state in a table of the same database, written in the same transaction as the rows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::types::{ToSqlOutput, Value as SqlValue};
use rusqlite::{Connection, OptionalExtension, ToSql, params};

use crate::destination::{Destination, State, WriteStats};
use crate::error::{Error, Result};
use crate::migration::Migration;
use crate::record::{Operation, Value, format_timestamp};
use crate::schema::{ColumnType, TableSchema};

/// The state table's name, for `concat!`.
macro_rules! state_table {
    () => {
        "_ci_sync_state"
    };
}

/// The table that holds each partition's state.
pub const STATE_TABLE: &str = state_table!();

/// Saves a checkpoint; a state that did not change is not written again.
const SAVE_CHECKPOINT: &str = concat!(
    "INSERT INTO ",
    state_table!(),
    " (source, partition, state, non_final, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
     ON CONFLICT (source, partition) DO UPDATE SET state = excluded.state, \
     non_final = excluded.non_final, updated_at = excluded.updated_at \
     WHERE state IS NOT excluded.state OR non_final IS NOT excluded.non_final"
);

/// A SQLite database file as a destination.
///
/// ```
/// use cidata_sync::{Destination, SqliteDestination, Value};
/// let dir = tempfile::tempdir()?;
/// let mut db = SqliteDestination::open(dir.path().join("ci.db"))?;
/// // Views over every source (none synced yet: empty, with the right columns).
/// cidata_sync::views::refresh(&mut db, &[])?;
/// assert_eq!(db.query("SELECT count(*) FROM ci_runs")?, vec![vec![Value::Integer(0)]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SqliteDestination {
    path: PathBuf,
    conn: Connection,
    tables: HashMap<String, TableSql>,
    abort_after_statements: std::cell::Cell<Option<u64>>,
}

struct TableSql {
    schema: TableSchema,
    upsert: String,
    soft_delete: Option<String>,
}

impl std::fmt::Debug for SqliteDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqliteDestination({})", self.path.display())
    }
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn sql_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text | ColumnType::Timestamp | ColumnType::Json => "TEXT",
        ColumnType::Integer | ColumnType::Boolean => "INTEGER",
        ColumnType::Real => "REAL",
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(SqlValue::Null),
            Value::Text(s) | Value::Json(s) => ToSqlOutput::Borrowed(s.as_str().into()),
            Value::Integer(i) => ToSqlOutput::Owned(SqlValue::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Owned(SqlValue::Real(*f)),
            Value::Boolean(b) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
            Value::Timestamp(ms) => ToSqlOutput::Owned(
                crate::record::timestamp_text(*ms).map_or(SqlValue::Null, SqlValue::Text),
            ),
        })
    }
}

/// `"a" = ?2 AND "b" = ?3` for the columns of `matching` (`placeholder(n)` for the n-th),
/// each checked to be a column of `schema`; at least one.
pub(crate) fn match_conditions(
    schema: &TableSchema,
    matching: &[(std::sync::Arc<str>, Value)],
    placeholder: impl Fn(usize) -> String,
) -> Result<String> {
    if matching.is_empty() {
        return Err(Error::Record(format!(
            "a soft delete of `{}` matches no column",
            schema.name
        )));
    }
    let mut conditions = Vec::new();
    for (n, (column, _)) in matching.iter().enumerate() {
        if !schema.columns.iter().any(|c| *c.name == **column) {
            return Err(Error::Record(format!(
                "table `{}` has no column `{column}`",
                schema.name
            )));
        }
        conditions.push(format!("{} = {}", quote(column), placeholder(n)));
    }
    Ok(conditions.join(" AND "))
}

/// How long a statement waits for another process's lock before "database is locked".
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Puts the database in WAL mode. Switching takes an exclusive lock for which SQLite does not
/// call the busy handler: two processes opening the same new file would see one fail at once
/// ("database is locked"), so the switch is retried until the busy timeout.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    loop {
        let mode = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0));
        match mode {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(e),
            Ok(_) => return Ok(()),
        }
    }
}

impl SqliteDestination {
    /// Opens an existing database to read it only (the dashboard): nothing is created or
    /// changed, not even the journal mode; writes fail.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<SqliteDestination> {
        let path = path.as_ref();
        let err = |source| Error::Sqlite {
            path: path.display().to_string(),
            source,
        };
        if !path.is_file() {
            return Err(Error::Config(format!(
                "{}: no such database (a read-only open creates nothing)",
                path.display()
            )));
        }
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        Ok(SqliteDestination {
            path: path.to_owned(),
            conn,
            tables: HashMap::new(),
            abort_after_statements: std::cell::Cell::new(None),
        })
    }

    /// Opens (or creates) the database at `path`, in WAL mode.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteDestination> {
        let path = path.as_ref();
        let err = |source| Error::Sqlite {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        // The busy timeout first: the statements below wait for a second process's locks.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        switch_to_wal(&conn).map_err(err)?;
        // A killed process loses nothing committed in WAL mode with NORMAL sync; only a power cut
        // may lose the last transactions, never consistency.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {STATE_TABLE} (
                source TEXT NOT NULL, partition TEXT NOT NULL, state TEXT NOT NULL, non_final INTEGER NOT NULL,
                updated_at TEXT NOT NULL, PRIMARY KEY (source, partition));
             CREATE TABLE IF NOT EXISTS _ci_sync_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        ))
        .map_err(err)?;
        Ok(SqliteDestination {
            path: path.to_owned(),
            conn,
            tables: HashMap::new(),
            abort_after_statements: std::cell::Cell::new(None),
        })
    }

    /// Fault injection for crash tests: abort the whole process after `n` more statements, inside
    /// a transaction, as a `kill -9` would.
    #[doc(hidden)]
    pub fn abort_after_statements(&mut self, n: u64) {
        self.abort_after_statements.set(Some(n));
    }

    /// The underlying connection (for queries of one's own).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Reads a value of the `_ci_sync_meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT value FROM _ci_sync_meta WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|source| self.error(source))
    }

    /// Reads a value of the `_ci_sync_meta` table of an existing database without changing the
    /// file in any way (read-only, no table created, journal mode kept): to check whose database a
    /// file is before writing to it. `None` when the file holds no such table or key.
    pub fn peek_meta(path: impl AsRef<Path>, key: &str) -> Result<Option<String>> {
        let path = path.as_ref();
        let err = |source| Error::Sqlite {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        let has_meta: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_ci_sync_meta'",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if !has_meta {
            return Ok(None);
        }
        conn.query_row(
            "SELECT value FROM _ci_sync_meta WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)
    }

    /// Sets a value of the `_ci_sync_meta` table.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .execute("INSERT INTO _ci_sync_meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
            .map(drop)
            .map_err(|source| self.error(source))
    }

    fn error(&self, source: rusqlite::Error) -> Error {
        Error::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn count_statement(&self) {
        if let Some(left) = self.abort_after_statements.get() {
            if left == 0 {
                std::process::abort();
            }
            self.abort_after_statements.set(Some(left - 1));
        }
    }

    fn existing_columns(&self, table: &str) -> Result<Option<Vec<String>>> {
        let mut stmt = self
            .conn
            .prepare(&format!("PRAGMA table_info({})", quote(table)))
            .map_err(|e| self.error(e))?;
        let names: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(1))
            .map_err(|e| self.error(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))?;
        Ok((!names.is_empty()).then_some(names))
    }
}

fn upsert_sql(t: &TableSchema) -> String {
    let cols: Vec<String> = t.columns.iter().map(|c| quote(&c.name)).collect();
    let marks: Vec<String> = (1..=t.columns.len()).map(|i| format!("?{i}")).collect();
    let key: Vec<String> = t.primary_key.iter().map(|k| quote(k)).collect();
    let rest: Vec<&crate::schema::Column> = t
        .columns
        .iter()
        .filter(|c| !t.primary_key.contains(&c.name))
        .collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO ",
        quote(&t.name),
        cols.join(", "),
        marks.join(", "),
        key.join(", ")
    );
    let compared: Vec<String> = rest
        .iter()
        .filter(|c| !c.volatile)
        .map(|c| {
            format!(
                "{}.{q} IS NOT excluded.{q}",
                quote(&t.name),
                q = quote(&c.name)
            )
        })
        .collect();
    if rest.is_empty() || compared.is_empty() {
        sql.push_str("NOTHING");
    } else {
        let sets: Vec<String> = rest
            .iter()
            .map(|c| format!("{q} = excluded.{q}", q = quote(&c.name)))
            .collect();
        sql.push_str(&format!(
            "UPDATE SET {} WHERE {}",
            sets.join(", "),
            compared.join(" OR ")
        ));
    }
    sql
}

impl SqliteDestination {
    /// A transaction that takes the write lock at its start (`BEGIN IMMEDIATE`): a deferred one
    /// that reads first cannot upgrade while another process writes, and fails at once with
    /// "database is locked" instead of waiting its turn.
    fn write_transaction(&self) -> Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.error(e))
    }

    /// Creates the tables that do not exist and adds the columns a newer version brought.
    fn prepare_tables(&mut self, tables: &[TableSchema]) -> Result<()> {
        for t in tables {
            t.validate()?;
            match self.existing_columns(&t.name)? {
                None => {
                    let cols: Vec<String> = t
                        .columns
                        .iter()
                        .map(|c| format!("{} {}", quote(&c.name), sql_type(c.ty)))
                        .collect();
                    let key: Vec<String> = t.primary_key.iter().map(|k| quote(k)).collect();
                    let sql = format!(
                        "CREATE TABLE {} ({}, PRIMARY KEY ({}))",
                        quote(&t.name),
                        cols.join(", "),
                        key.join(", ")
                    );
                    self.conn.execute_batch(&sql).map_err(|e| self.error(e))?;
                }
                Some(existing) => {
                    // A newer version added columns: add them; nothing is ever dropped.
                    for c in t.columns.iter().filter(|c| !existing.contains(&c.name)) {
                        let sql = format!(
                            "ALTER TABLE {} ADD COLUMN {} {}",
                            quote(&t.name),
                            quote(&c.name),
                            sql_type(c.ty)
                        );
                        self.conn.execute_batch(&sql).map_err(|e| self.error(e))?;
                        tracing::info!(table = %t.name, column = %c.name, "added a column");
                    }
                }
            }
            let soft_delete = t.soft_delete.as_ref().map(|sd| {
                let key: Vec<String> = t
                    .primary_key
                    .iter()
                    .enumerate()
                    .map(|(i, k)| format!("{} = ?{}", quote(k), i + 2))
                    .collect();
                format!(
                    "UPDATE {} SET {q} = ?1 WHERE {} AND {q} IS NULL",
                    quote(&t.name),
                    key.join(" AND "),
                    q = quote(sd)
                )
            });
            self.tables.insert(
                t.name.clone(),
                TableSql {
                    schema: t.clone(),
                    upsert: upsert_sql(t),
                    soft_delete,
                },
            );
        }
        Ok(())
    }
}

impl Destination for SqliteDestination {
    fn prepare(&mut self, _source: &str, tables: &[TableSchema]) -> Result<()> {
        // One write transaction for the whole check-then-create: two processes preparing the
        // same new file take turns instead of both creating a table.
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.error(e))?;
        let prepared = self.prepare_tables(tables);
        let end = if prepared.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        self.conn.execute_batch(end).map_err(|e| self.error(e))?;
        prepared
    }

    fn migrate(&mut self, migrations: &[Migration]) -> Result<()> {
        for m in migrations {
            if self.meta(&m.meta_key())?.is_some() {
                continue;
            }
            let tx = self.write_transaction()?;
            let mut rewritten = 0;
            for table in &m.tables {
                if self.existing_columns(table)?.is_none() {
                    continue;
                }
                rewritten += 1;
            }
            // Tables made by this run are empty: the rewrite is a no-op there, and cheap.
            if rewritten == m.tables.len() {
                for sql in &m.statements {
                    tx.execute_batch(sql).map_err(|e| {
                        Error::Schema(format!("migration `{}`: `{sql}`: {e}", m.name))
                    })?;
                }
            }
            tx.execute(
                "INSERT INTO _ci_sync_meta (key, value) VALUES (?1, ?2)",
                [
                    m.meta_key(),
                    crate::record::format_timestamp(crate::record::now_ms()),
                ],
            )
            .map_err(|e| self.error(e))?;
            tx.commit().map_err(|e| self.error(e))?;
            tracing::info!(migration = %m.name, "migrated");
        }
        Ok(())
    }

    fn load_state(&mut self, source: &str) -> Result<State> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT partition, state FROM {STATE_TABLE} WHERE source = ?1"
            ))
            .map_err(|e| self.error(e))?;
        let rows: Vec<(String, String)> = stmt
            .query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.error(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))?;
        crate::destination::state_from_rows(rows)
    }

    fn write(&mut self, source: &str, batch: &[Operation]) -> Result<WriteStats> {
        let mut stats = WriteStats::default();
        let tx = self.write_transaction()?;
        for op in batch {
            self.count_statement();
            match op {
                Operation::Upsert(record) => {
                    let t = self.tables.get(&*record.table).ok_or_else(|| {
                        Error::Record(format!("table `{}` was not prepared", record.table))
                    })?;
                    if record.values.len() != t.schema.columns.len() {
                        return Err(Error::Record(format!(
                            "a `{}` record has {} values for {} columns",
                            record.table,
                            record.values.len(),
                            t.schema.columns.len()
                        )));
                    }
                    let mut stmt = tx.prepare_cached(&t.upsert).map_err(|e| self.error(e))?;
                    let changed = stmt
                        .execute(rusqlite::params_from_iter(record.values.iter()))
                        .map_err(|e| self.error(e))?;
                    let counts = stats.tables.entry(record.table.to_string()).or_default();
                    if changed > 0 {
                        counts.upserted += 1
                    } else {
                        counts.unchanged += 1
                    }
                }
                // Reports are the engine's; nothing to write.
                Operation::Report(_) => {}
                Operation::SoftDelete { table, key, at_ms } => {
                    let t = self.tables.get(&**table).ok_or_else(|| {
                        Error::Record(format!("table `{table}` was not prepared"))
                    })?;
                    let sql = t.soft_delete.as_ref().ok_or_else(|| {
                        Error::Record(format!("table `{table}` has no soft-delete column"))
                    })?;
                    let mut stmt = tx.prepare_cached(sql).map_err(|e| self.error(e))?;
                    let at = Value::Timestamp(*at_ms);
                    let args: Vec<&dyn ToSql> = std::iter::once(&at as &dyn ToSql)
                        .chain(key.iter().map(|v| v as &dyn ToSql))
                        .collect();
                    let changed = stmt.execute(args.as_slice()).map_err(|e| self.error(e))?;
                    stats.tables.entry(table.to_string()).or_default().deleted += changed as u64;
                }
                Operation::SoftDeleteWhere {
                    table,
                    matching,
                    at_ms,
                } => {
                    let t = self.tables.get(&**table).ok_or_else(|| {
                        Error::Record(format!("table `{table}` was not prepared"))
                    })?;
                    let sd = t.schema.soft_delete.as_ref().ok_or_else(|| {
                        Error::Record(format!("table `{table}` has no soft-delete column"))
                    })?;
                    let conditions =
                        match_conditions(&t.schema, matching, |n| format!("?{}", n + 2))?;
                    let sql = format!(
                        "UPDATE {} SET {q} = ?1 WHERE {conditions} AND {q} IS NULL",
                        quote(table),
                        q = quote(sd)
                    );
                    let mut stmt = tx.prepare_cached(&sql).map_err(|e| self.error(e))?;
                    let at = Value::Timestamp(*at_ms);
                    let mut values: Vec<&dyn ToSql> = vec![&at];
                    values.extend(matching.iter().map(|(_, v)| v as &dyn ToSql));
                    let changed = stmt.execute(values.as_slice()).map_err(|e| self.error(e))?;
                    stats.tables.entry(table.to_string()).or_default().deleted += changed as u64;
                }
                Operation::Checkpoint(cp) => {
                    let state = cp.state.to_string();
                    let now = format_timestamp(crate::record::now_ms());
                    let mut stmt = tx
                        .prepare_cached(SAVE_CHECKPOINT)
                        .map_err(|e| self.error(e))?;
                    let changed = stmt
                        .execute(params![
                            source,
                            cp.partition,
                            state,
                            cp.non_final as i64,
                            now
                        ])
                        .map_err(|e| self.error(e))?;
                    stats.checkpoints += changed as u64;
                }
            }
        }
        tx.commit().map_err(|e| self.error(e))?;
        Ok(stats)
    }

    fn describe(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    fn dialect(&self) -> Option<crate::views::Dialect> {
        Some(crate::views::Dialect::Sqlite)
    }

    fn table_names(&mut self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
            .map_err(|e| self.error(e))?;
        let names = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| self.error(e))?
            .collect::<rusqlite::Result<Vec<String>>>();
        names.map_err(|e| self.error(e))
    }

    fn execute_ddl(&mut self, statements: &[String]) -> Result<()> {
        let tx = self.write_transaction()?;
        for sql in statements {
            tx.execute_batch(sql)
                .map_err(|e| Error::Schema(format!("`{sql}`: {e}")))?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    fn query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.error(e))?;
        let width = stmt.column_count();
        let rows = stmt
            .query_map([], |row| {
                (0..width)
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => Value::Null,
                            rusqlite::types::ValueRef::Integer(n) => Value::Integer(n),
                            rusqlite::types::ValueRef::Real(x) => Value::Real(x),
                            rusqlite::types::ValueRef::Text(t)
                            | rusqlite::types::ValueRef::Blob(t) => {
                                Value::Text(String::from_utf8_lossy(t).into_owned())
                            }
                        })
                    })
                    .collect::<rusqlite::Result<Vec<Value>>>()
            })
            .map_err(|e| self.error(e))?
            .collect::<rusqlite::Result<Vec<_>>>();
        rows.map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_only_open_creates_nothing_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ci.db");
        let missing = SqliteDestination::open_read_only(&path).err().unwrap();
        assert!(
            missing.to_string().contains("no such database"),
            "{missing}"
        );
        assert!(!path.exists());

        drop(SqliteDestination::open(&path).unwrap());
        let mut db = SqliteDestination::open_read_only(&path).unwrap();
        assert_eq!(
            db.query("SELECT count(*) FROM _ci_sync_meta").unwrap(),
            vec![vec![Value::Integer(0)]]
        );
        assert!(db.execute_ddl(&["CREATE TABLE t (x)".to_owned()]).is_err());
        assert!(!db.table_names().unwrap().contains(&"t".to_owned()));
    }

    #[test]
    fn upsert_writes_only_real_changes() {
        let t = TableSchema::new("t")
            .column("id", ColumnType::Text)
            .column("v", ColumnType::Integer)
            .volatile_column("synced_at", ColumnType::Timestamp)
            .primary_key(["id"]);
        let sql = upsert_sql(&t);
        assert!(
            sql.contains("WHERE \"t\".\"v\" IS NOT excluded.\"v\""),
            "{sql}"
        );
        assert!(!sql.contains("\"t\".\"synced_at\" IS NOT"), "{sql}");
    }
}
