//! Where records land: the trait, write statistics, and opening a destination from a URL.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::migration::Migration;
use crate::record::Operation;
use crate::schema::TableSchema;

/// The saved states of a source's partitions.
pub type State = BTreeMap<String, serde_json::Value>;

/// The [`State`] of `(partition, JSON text)` rows as a database keeps them; a row that is not
/// JSON is an error naming its partition.
pub(crate) fn state_from_rows(rows: impl IntoIterator<Item = (String, String)>) -> Result<State> {
    let mut state = State::new();
    for (partition, text) in rows {
        let value = serde_json::from_str(&text).map_err(|e| Error::State {
            partition: partition.clone(),
            message: e.to_string(),
        })?;
        state.insert(partition, value);
    }
    Ok(state)
}

/// Rows written to one table by a batch or a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    /// Rows inserted or changed.
    pub upserted: u64,
    /// Rows sent again with the same values (nothing written).
    pub unchanged: u64,
    /// Rows newly marked deleted.
    pub deleted: u64,
}

impl TableCounts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: TableCounts) {
        self.upserted += other.upserted;
        self.unchanged += other.unchanged;
        self.deleted += other.deleted;
    }
}

/// What one batch wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Per table.
    pub tables: BTreeMap<String, TableCounts>,
    /// Checkpoints whose state changed.
    pub checkpoints: u64,
}

/// A destination of records and state. Methods are blocking: the engine runs them on a blocking
/// thread of its own.
pub trait Destination: Send + 'static {
    /// Creates missing tables and adds missing columns (never drops anything).
    fn prepare(&mut self, source: &str, tables: &[TableSchema]) -> Result<()>;

    /// Applies the migrations this destination has not applied yet, each in one transaction,
    /// after [`Destination::prepare`]. Destinations that keep no rows (JSON lines) have nothing
    /// to rewrite.
    fn migrate(&mut self, migrations: &[Migration]) -> Result<()> {
        let _ = migrations;
        Ok(())
    }

    /// The state saved by earlier runs of `source`.
    fn load_state(&mut self, source: &str) -> Result<State>;

    /// Applies a batch atomically: its rows and its checkpoints are durable together or not at all.
    fn write(&mut self, source: &str, batch: &[Operation]) -> Result<WriteStats>;

    /// A short description for messages (`sqlite:///path/ci-sync.db`).
    fn describe(&self) -> String;

    /// The SQL dialect, for a destination that keeps tables (`None` for JSON lines).
    fn dialect(&self) -> Option<crate::views::Dialect> {
        None
    }

    /// The tables and views the destination holds.
    fn table_names(&mut self) -> Result<Vec<String>> {
        Err(unsupported(self.describe(), "tables"))
    }

    /// Runs statements (views, indexes) in one transaction.
    fn execute_ddl(&mut self, statements: &[String]) -> Result<()> {
        let _ = statements;
        Err(unsupported(self.describe(), "SQL statements"))
    }

    /// The rows of a read-only query, each value as [`Value`](crate::Value): times as
    /// [`Value::Timestamp`](crate::Value::Timestamp) on PostgreSQL, as their RFC 3339 text on
    /// SQLite; numbers of any width as `Integer` or `Real`.
    fn query(&mut self, sql: &str) -> Result<Vec<Vec<crate::Value>>> {
        let _ = sql;
        Err(unsupported(self.describe(), "queries"))
    }
}

/// What a destination without tables answers to a question about them.
fn unsupported(described: String, what: &str) -> crate::Error {
    crate::Error::Unsupported(format!("{described} has no {what}"))
}

/// A parsed destination URL: what `ci-sync --dest` takes.
///
/// ```
/// use cidata_sync::DestinationUrl;
/// let url = DestinationUrl::parse("sqlite://ci-sync.db")?;
/// assert_eq!(url, DestinationUrl::Sqlite("ci-sync.db".into()));
/// // A password never shows in messages.
/// let pg = DestinationUrl::parse("postgres://ci:s3cret@db.example.com/ci")?;
/// assert!(!format!("{pg:?}").contains("s3cret"));
/// # Ok::<(), cidata_sync::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum DestinationUrl {
    /// `sqlite://relative.db` (relative to the current folder) or `sqlite:///absolute/path.db`.
    Sqlite(PathBuf),
    /// `jsonl://-` (stdout), `jsonl://relative.jsonl` or `jsonl:///absolute/path.jsonl`.
    JsonLines(Option<PathBuf>),
    /// `postgres://user@host:5432/db?sslmode=require` (or `postgresql://`), as given: it may hold
    /// a password, which `Debug` leaves out. Opening it needs the feature `postgres`.
    Postgres(String),
}

impl std::fmt::Debug for DestinationUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DestinationUrl::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            DestinationUrl::JsonLines(path) => f.debug_tuple("JsonLines").field(path).finish(),
            DestinationUrl::Postgres(url) => {
                f.debug_tuple("Postgres").field(&redacted_url(url)).finish()
            }
        }
    }
}

/// `url` with its password and options left out, for messages. The password may hold `/` or
/// `@`: the user info ends at the last `@` before the options.
pub(crate) fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.split('?').next().unwrap_or_default().to_owned();
    };
    let rest = rest.split('?').next().unwrap_or_default();
    match rest.rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{}", &rest[at + 1..])
        }
        None => format!("{scheme}://{rest}"),
    }
}

impl DestinationUrl {
    /// Parses `sqlite://...`, `jsonl://...` or `postgres://...`.
    pub fn parse(url: &str) -> Result<DestinationUrl> {
        let shown = redacted_url(url);
        let bad = |why: &str| Error::Config(format!("destination `{shown}`: {why}"));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            bad("expected sqlite://PATH, jsonl://PATH or postgres://USER@HOST/DATABASE")
        })?;
        if rest.is_empty() {
            return Err(bad("the path is empty"));
        }
        match scheme {
            "sqlite" => Ok(DestinationUrl::Sqlite(PathBuf::from(rest))),
            "jsonl" if rest == "-" => Ok(DestinationUrl::JsonLines(None)),
            "jsonl" => Ok(DestinationUrl::JsonLines(Some(PathBuf::from(rest)))),
            "postgres" | "postgresql" => Ok(DestinationUrl::Postgres(url.to_owned())),
            other => Err(bad(&format!(
                "unknown scheme `{other}` (sqlite, jsonl or postgres)"
            ))),
        }
    }

    /// Opens the destination.
    pub fn open(&self) -> Result<Box<dyn Destination>> {
        self.open_with(&OpenOptions::default())
    }

    /// Opens the destination with options that apply to some kinds only (each is ignored by the
    /// others), so that a caller needs no code per kind.
    pub fn open_with(&self, options: &OpenOptions) -> Result<Box<dyn Destination>> {
        Ok(match self {
            DestinationUrl::Sqlite(path) if options.read_only => {
                Box::new(crate::sqlite::SqliteDestination::open_read_only(path)?)
            }
            DestinationUrl::JsonLines(_) if options.read_only => {
                return Err(Error::Unsupported(
                    "JSON lines cannot be read back: read-only needs sqlite:// or postgres://"
                        .into(),
                ));
            }
            DestinationUrl::Sqlite(path) => {
                let mut db = crate::sqlite::SqliteDestination::open(path)?;
                if let Some(n) = options.abort_after_statements {
                    db.abort_after_statements(n);
                }
                Box::new(db)
            }
            DestinationUrl::JsonLines(path) => {
                let mut out = crate::jsonl::JsonLinesDestination::open(path.as_deref())?;
                if let Some(state) = &options.state_file {
                    out = out.with_state_file(state.clone());
                }
                Box::new(out)
            }
            #[cfg(feature = "postgres")]
            DestinationUrl::Postgres(url) => {
                let mut db = crate::postgres::PostgresDestination::new(url)?
                    .wait_for_lock(options.wait_for_lock)
                    .read_only(options.read_only);
                if let Some(n) = options.abort_after_statements {
                    db.abort_after_statements(n);
                }
                Box::new(db)
            }
            #[cfg(not(feature = "postgres"))]
            DestinationUrl::Postgres(url) => {
                return Err(Error::Config(format!(
                    "destination `{}`: this build has no PostgreSQL support (feature `postgres` of cidata-sync)",
                    redacted_url(url)
                )));
            }
        })
    }
}

/// Whether this build has the PostgreSQL destination (feature `postgres`).
pub const POSTGRES_SUPPORTED: bool = cfg!(feature = "postgres");

/// How [`DestinationUrl::open_with`] opens a destination; each option applies to the kinds it
/// names and is ignored by the others.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OpenOptions {
    /// PostgreSQL: wait for another process syncing the same source instead of failing.
    pub wait_for_lock: bool,
    /// SQLite and PostgreSQL: fail after this many write statements, as a crash would (tests of
    /// interrupted runs).
    pub abort_after_statements: Option<u64>,
    /// JSON lines: the file that keeps the state between runs.
    pub state_file: Option<PathBuf>,
    /// SQLite and PostgreSQL: open to read only (an SQLite file must exist and is not changed;
    /// PostgreSQL transactions are read-only); JSON lines: refused.
    pub read_only: bool,
}

impl OpenOptions {
    /// See [`OpenOptions::wait_for_lock`].
    pub fn wait_for_lock(mut self, wait: bool) -> Self {
        self.wait_for_lock = wait;
        self
    }

    /// See [`OpenOptions::abort_after_statements`].
    pub fn abort_after_statements(mut self, n: Option<u64>) -> Self {
        self.abort_after_statements = n;
        self
    }

    /// See [`OpenOptions::read_only`].
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// See [`OpenOptions::state_file`].
    pub fn state_file(mut self, path: Option<PathBuf>) -> Self {
        self.state_file = path;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            DestinationUrl::parse("sqlite://ci-sync.db").unwrap(),
            DestinationUrl::Sqlite("ci-sync.db".into())
        );
        assert_eq!(
            DestinationUrl::parse("sqlite:///abs/x.db").unwrap(),
            DestinationUrl::Sqlite("/abs/x.db".into())
        );
        assert_eq!(
            DestinationUrl::parse("jsonl://-").unwrap(),
            DestinationUrl::JsonLines(None)
        );
        assert_eq!(
            DestinationUrl::parse("jsonl://out.jsonl").unwrap(),
            DestinationUrl::JsonLines(Some("out.jsonl".into()))
        );
        assert_eq!(
            DestinationUrl::parse("postgresql://ci@db/ci").unwrap(),
            DestinationUrl::Postgres("postgresql://ci@db/ci".into())
        );
        for bad in ["ci-sync.db", "sqlite://", "postgres://", "mysql://x"] {
            assert!(DestinationUrl::parse(bad).is_err(), "{bad}");
        }
        // Neither `Debug` nor an error shows a password.
        let url = DestinationUrl::parse("postgres://ci:hunter2@db/ci?sslmode=require").unwrap();
        assert_eq!(format!("{url:?}"), "Postgres(\"postgres://ci@db/ci\")");
        let err = DestinationUrl::parse("mysql://ci:hunter2@db/ci").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
