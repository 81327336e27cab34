//! ci-sync runs: `ci-sync run` in a process of its own, against a config the scenario writes,
//! into an SQLite file; what the database then holds is read back to check it against the truth.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::child::{self, Measured};

/// The ci-sync built beside this benchmark (release profile).
pub const CI_SYNC: &str = env!("CARGO_BIN_EXE_ci-sync");

/// A folder for one scenario run: its config, database and logs; removed when dropped.
pub struct Workdir {
    /// The folder.
    pub dir: PathBuf,
}

impl Workdir {
    /// A new empty folder under the system's temp folder.
    pub fn new(name: &str) -> Workdir {
        let dir = std::env::temp_dir().join(format!("ci-bench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("work folder");
        Workdir { dir }
    }

    /// A path inside it.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One `ci-sync run` with `config` (TOML) into `db`.
pub fn sync(work: &Workdir, config: &str, db: &Path) -> Measured {
    let config_path = work.path("ci-sync.toml");
    std::fs::write(&config_path, config).expect("config written");
    let mut cmd = Command::new(CI_SYNC);
    cmd.arg("run")
        .arg("--config")
        .arg(&config_path)
        .arg("--dest")
        .arg(format!("sqlite://{}", db.display()))
        .arg("-q")
        .env_remove("RUST_LOG");
    child::run(&mut cmd, child::Output::Null, &work.path("stderr.txt")).check("ci-sync run")
}

/// Counts of `query` (one integer) in the database.
pub fn count(db: &Path, query: &str) -> u64 {
    let conn = cidata_sync::rusqlite::Connection::open(db).expect("database opens");
    conn.query_row(query, [], |row| row.get::<_, i64>(0))
        .unwrap_or_else(|e| panic!("{query}: {e}")) as u64
}

/// `(id, status)` of every live row of `table`.
pub fn statuses(db: &Path, table: &str) -> Vec<(String, String)> {
    let conn = cidata_sync::rusqlite::Connection::open(db).expect("database opens");
    let mut stmt = conn
        .prepare(&format!("SELECT id, COALESCE(status, '') FROM {table}"))
        .expect("query");
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows read")
}

/// The `id` of every row of `table`.
pub fn ids(db: &Path, table: &str) -> Vec<String> {
    let conn = cidata_sync::rusqlite::Connection::open(db).expect("database opens");
    let mut stmt = conn
        .prepare(&format!("SELECT id FROM {table}"))
        .expect("query");
    stmt.query_map([], |row| row.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows read")
}

/// `table rows, ...` for the line of a run.
pub fn rows_line(db: &Path, tables: &[&str]) -> String {
    tables
        .iter()
        .map(|t| format!("{t} {}", count(db, &format!("SELECT COUNT(*) FROM {t}"))))
        .collect::<Vec<_>>()
        .join(", ")
}
