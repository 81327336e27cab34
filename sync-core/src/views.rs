//! One view over every CI: `ci_runs`, `ci_steps` and `ci_daily`, SQL views over the sources'
//! tables, on SQLite and PostgreSQL alike.
//!
//! Each source contributes a [`ViewPart`]: one `SELECT` per view, with the view's columns in the
//! view's order, written once for both dialects through [`Dialect`]'s helpers. [`refresh`]
//! creates (or replaces) the views from the parts whose tables the database holds, so that a
//! database synced from Jenkins alone still gets working views, and one that later adds
//! CircleCI gets its rows at the next refresh. `ci_daily` is built on `ci_runs`.
//!
//! ```no_run
//! # fn demo(parts: &[cidata_sync::views::ViewPart]) -> cidata_sync::Result<()> {
//! let mut destination = cidata_sync::DestinationUrl::parse("sqlite://ci-sync.db")?.open()?;
//! let views = cidata_sync::views::refresh(destination.as_mut(), parts)?;
//! println!("{views:?}");
//! # Ok(()) }
//! ```

use crate::{Destination, Error, Result};

/// The SQL dialect of a destination that keeps tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: times are RFC 3339 text (`2024-05-01T12:00:00.123Z`), booleans 0 and 1.
    Sqlite,
    /// PostgreSQL: times are `timestamptz`, booleans `boolean`.
    Postgres,
}

impl Dialect {
    /// A time from an expression in milliseconds since the epoch (NULL stays NULL).
    pub fn time_from_ms(self, ms: &str) -> String {
        match self {
            Dialect::Sqlite => {
                format!("strftime('%Y-%m-%dT%H:%M:%fZ', ({ms}) / 1000.0, 'unixepoch')")
            }
            Dialect::Postgres => format!("to_timestamp(({ms}) / 1000.0)"),
        }
    }

    /// A time column's NULL of the right type (a `UNION ALL` branch that has no such time).
    pub fn null_time(self) -> &'static str {
        match self {
            Dialect::Sqlite => "CAST(NULL AS TEXT)",
            Dialect::Postgres => "CAST(NULL AS timestamptz)",
        }
    }

    /// The UTC day of a time: `YYYY-MM-DD` text on SQLite, a `date` on PostgreSQL.
    pub fn day(self, time: &str) -> String {
        match self {
            Dialect::Sqlite => format!("substr({time}, 1, 10)"),
            Dialect::Postgres => format!("CAST(({time}) AT TIME ZONE 'UTC' AS date)"),
        }
    }

    /// A time literal, comparable with the views' times (`started_at >= ...`).
    pub fn time_literal(self, ms: i64) -> String {
        let text = crate::format_timestamp(ms);
        match self {
            // RFC 3339 text of one width: compares as the times do.
            Dialect::Sqlite => format!("'{text}'"),
            Dialect::Postgres => format!("CAST('{text}' AS timestamptz)"),
        }
    }

    /// An integer expression in milliseconds from a source's time difference.
    pub fn ms_between(self, start: &str, end: &str) -> String {
        match self {
            Dialect::Sqlite => format!(
                "CAST(round((julianday({end}) - julianday({start})) * 86400000.0) AS INTEGER)"
            ),
            Dialect::Postgres => {
                format!("CAST(round(extract(epoch FROM ({end}) - ({start})) * 1000) AS bigint)")
            }
        }
    }
}

/// The views [`refresh`] creates, in creation order (`ci_daily` reads `ci_runs`).
pub const VIEWS: [&str; 3] = ["ci_runs", "ci_steps", "ci_daily"];

/// The columns of `ci_runs`, in order: every [`ViewPart`] of it selects exactly these.
pub const RUN_COLUMNS: [&str; 15] = [
    "source",
    "server",
    "project",
    "run_id",
    "number",
    "branch",
    "revision",
    "status",
    "source_status",
    "started_at",
    "finished_at",
    "duration_ms",
    "url",
    "is_final",
    "name",
];

/// The columns of `ci_steps`, in order: every [`ViewPart`] of it selects exactly these.
pub const STEP_COLUMNS: [&str; 13] = [
    "source",
    "server",
    "project",
    "run_id",
    "step_id",
    "name",
    "status",
    "source_status",
    "started_at",
    "finished_at",
    "duration_ms",
    "is_final",
    "number",
];

/// The normalised statuses of `ci_runs.status` and `ci_steps.status`.
pub const STATUSES: [&str; 7] = [
    "success",
    "failure",
    "cancelled",
    "running",
    "queued",
    "skipped",
    "other",
];

/// One source's `SELECT` for one view.
#[derive(Debug, Clone, Copy)]
pub struct ViewPart {
    /// `ci_runs` or `ci_steps`.
    pub view: &'static str,
    /// The source's name in the view's `source` column (`jenkins`, `circleci`, `bitbucket`).
    pub source: &'static str,
    /// The tables the `SELECT` reads: the part is left out while one of them is missing.
    pub tables: &'static [&'static str],
    /// The `SELECT`, with the view's columns in order ([`RUN_COLUMNS`], [`STEP_COLUMNS`]).
    pub select: fn(Dialect) -> String,
}

/// A `CASE` that maps a source's status values to [`STATUSES`]: `(normalised, [source values])`,
/// anything else `other` (NULL stays NULL).
pub fn normalise_status(expr: &str, mapping: &[(&str, &[&str])]) -> String {
    let mut sql = format!("CASE WHEN {expr} IS NULL THEN NULL");
    for (status, values) in mapping {
        debug_assert!(
            STATUSES.contains(status),
            "{status} is not a ci_runs status"
        );
        let list: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
        sql.push_str(&format!(
            " WHEN {expr} IN ({}) THEN '{status}'",
            list.join(", ")
        ));
    }
    sql.push_str(" ELSE 'other' END");
    sql
}

/// What [`refresh`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refreshed {
    /// Per view, the sources it covers now.
    pub views: Vec<(String, Vec<String>)>,
}

/// The `CREATE VIEW` statements for `parts`, given the tables the database has.
pub fn statements(
    dialect: Dialect,
    parts: &[ViewPart],
    tables: &[String],
) -> (Vec<String>, Refreshed) {
    let has = |t: &&str| tables.iter().any(|have| have == t);
    let mut statements = Vec::new();
    let mut refreshed = Vec::new();
    for (view, columns) in [
        ("ci_runs", &RUN_COLUMNS[..]),
        ("ci_steps", &STEP_COLUMNS[..]),
    ] {
        let present: Vec<&ViewPart> = parts
            .iter()
            .filter(|p| p.view == view && p.tables.iter().all(&has))
            .collect();
        let body = if present.is_empty() {
            empty_select(dialect, view, columns)
        } else {
            present
                .iter()
                .map(|p| (p.select)(dialect))
                .collect::<Vec<_>>()
                .join("\nUNION ALL\n")
        };
        statements.push(create(dialect, view, columns, &body));
        refreshed.push((
            view.to_owned(),
            present
                .iter()
                .map(|p| p.source.to_owned())
                .collect::<Vec<String>>(),
        ));
    }
    let sources = refreshed[0].1.clone();
    statements.push(create(
        dialect,
        "ci_daily",
        &DAILY_COLUMNS,
        &daily_select(dialect),
    ));
    refreshed.push(("ci_daily".to_owned(), sources));
    (statements, Refreshed { views: refreshed })
}

fn create(dialect: Dialect, view: &str, columns: &[&str], body: &str) -> String {
    let columns = columns.join(", ");
    match dialect {
        // PostgreSQL keeps views of one's own built on these: replace, never drop.
        Dialect::Postgres => format!("CREATE OR REPLACE VIEW {view} ({columns}) AS\n{body}"),
        Dialect::Sqlite => format!("CREATE VIEW {view} ({columns}) AS\n{body}"),
    }
}

/// A view with no source yet: the right columns and types, no rows.
fn empty_select(dialect: Dialect, view: &str, columns: &[&str]) -> String {
    let typed: Vec<String> = columns
        .iter()
        .map(|c| {
            let value = match *c {
                "started_at" | "finished_at" => dialect.null_time().to_owned(),
                "number" | "duration_ms" => "CAST(NULL AS BIGINT)".to_owned(),
                "is_final" => "CAST(NULL AS BOOLEAN)".to_owned(),
                _ => "CAST(NULL AS TEXT)".to_owned(),
            };
            format!("{value} AS {c}")
        })
        .collect();
    format!(
        "SELECT {} WHERE 1 = 0 -- no source of {view} synced yet",
        typed.join(", ")
    )
}

/// The columns of `ci_daily`.
pub const DAILY_COLUMNS: [&str; 10] = [
    "day",
    "source",
    "project",
    "runs",
    "successes",
    "failures",
    "success_pct",
    "median_duration_ms",
    "p90_duration_ms",
    "finished",
];

/// Per day (UTC, of the start), source and project: runs started, successes, failures, the
/// success rate in percent with one decimal (successes over successes and failures: cancelled
/// and skipped runs count for neither), the median and p90 of final runs' durations (nearest
/// rank), and runs final; by window functions both dialects have.
fn daily_select(dialect: Dialect) -> String {
    let day = dialect.day("started_at");
    format!(
        "WITH ranked AS (
  SELECT {day} AS day, source, project, status, is_final, duration_ms,
    ROW_NUMBER() OVER (PARTITION BY {day}, source, project, duration_ms IS NULL ORDER BY duration_ms) AS nth,
    COUNT(duration_ms) OVER (PARTITION BY {day}, source, project) AS timed
  FROM ci_runs WHERE started_at IS NOT NULL
)
SELECT day, source, project,
  COUNT(*) AS runs,
  SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS successes,
  SUM(CASE WHEN status = 'failure' THEN 1 ELSE 0 END) AS failures,
  CASE WHEN SUM(CASE WHEN status IN ('success', 'failure') THEN 1 ELSE 0 END) = 0 THEN NULL
    ELSE round(100.0 * SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END) / SUM(CASE WHEN status IN ('success', 'failure') THEN 1 ELSE 0 END), 1) END AS success_pct,
  MIN(CASE WHEN duration_ms IS NOT NULL AND nth * 2 >= timed THEN duration_ms END) AS median_duration_ms,
  MIN(CASE WHEN duration_ms IS NOT NULL AND nth * 10 >= timed * 9 THEN duration_ms END) AS p90_duration_ms,
  SUM(CASE WHEN is_final THEN 1 ELSE 0 END) AS finished
FROM ranked
GROUP BY day, source, project"
    )
}

/// Creates or replaces `ci_runs`, `ci_steps` and `ci_daily` in `destination` from the `parts`
/// whose tables it holds, in one transaction. A destination without tables (JSON lines) has no
/// views: [`Error::Unsupported`].
pub fn refresh(destination: &mut dyn Destination, parts: &[ViewPart]) -> Result<Refreshed> {
    let dialect = destination.dialect().ok_or_else(|| {
        Error::Unsupported(format!(
            "{} keeps no tables: no views",
            destination.describe()
        ))
    })?;
    let tables = destination.table_names()?;
    let (mut statements, refreshed) = statements(dialect, parts, &tables);
    if dialect == Dialect::Sqlite {
        // SQLite has no CREATE OR REPLACE VIEW; dropping in reverse order keeps ci_daily's
        // dependency on ci_runs valid throughout.
        let drops = VIEWS
            .iter()
            .rev()
            .map(|v| format!("DROP VIEW IF EXISTS {v}"));
        statements.splice(0..0, drops);
    }
    destination.execute_ddl(&statements)?;
    Ok(refreshed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Destination, SqliteDestination};

    /// A source of test: `runs_t(project, status, started_ms, duration_ms)`.
    fn select(dialect: Dialect) -> String {
        let started = dialect.time_from_ms("started_ms");
        format!(
            "SELECT 'test', 'srv', project, project || '#' || CAST(started_ms AS TEXT), 1, NULL, NULL, \
             status, status, {started}, NULL, duration_ms, NULL, duration_ms IS NOT NULL, NULL FROM runs_t"
        )
    }

    const PART: ViewPart = ViewPart {
        view: "ci_runs",
        source: "test",
        tables: &["runs_t"],
        select,
    };

    fn database() -> (tempfile::TempDir, SqliteDestination) {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDestination::open(dir.path().join("views.db")).unwrap();
        (dir, db)
    }

    fn rows(db: &mut SqliteDestination, sql: &str) -> Vec<Vec<crate::Value>> {
        db.query(sql).unwrap()
    }

    #[test]
    fn views_exist_with_no_source_and_leave_out_parts_whose_tables_are_missing() {
        let (_dir, mut db) = database();
        let refreshed = refresh(&mut db, &[PART]).unwrap();
        assert_eq!(refreshed.views[0], ("ci_runs".to_owned(), vec![]));
        for view in VIEWS {
            assert!(rows(&mut db, &format!("SELECT * FROM {view}")).is_empty());
        }
        let columns = db
            .connection()
            .prepare("SELECT * FROM ci_runs")
            .unwrap()
            .column_names()
            .map(|c| c.to_string())
            .collect::<Vec<_>>();
        assert_eq!(columns, RUN_COLUMNS);
    }

    #[test]
    fn ci_daily_gives_nearest_rank_median_and_p90_and_the_success_rate() {
        let (_dir, mut db) = database();
        db.connection()
            .execute_batch(
                "CREATE TABLE runs_t (project TEXT, status TEXT, started_ms INTEGER, duration_ms INTEGER)",
            )
            .unwrap();
        let day = 1_764_633_600_000_i64; // 2025-12-02T00:00:00Z
        for i in 1..=10 {
            let status = if i <= 7 { "success" } else { "failure" };
            db.connection()
                .execute(
                    "INSERT INTO runs_t VALUES ('app', ?1, ?2, ?3)",
                    (status, day + i * 60_000, i * 1000),
                )
                .unwrap();
        }
        // Still running: counted as a run, not in the durations.
        db.connection()
            .execute(
                "INSERT INTO runs_t VALUES ('app', 'running', ?1, NULL)",
                [day + 3_600_000],
            )
            .unwrap();
        refresh(&mut db, &[PART]).unwrap();
        let daily = rows(
            &mut db,
            "SELECT day, runs, successes, failures, success_pct, median_duration_ms, p90_duration_ms, finished FROM ci_daily",
        );
        use crate::Value::{Integer, Real, Text};
        assert_eq!(
            daily,
            vec![vec![
                Text("2025-12-02".into()),
                Integer(11),
                Integer(7),
                Integer(3),
                Real(70.0),
                Integer(5000),
                Integer(9000),
                Integer(10),
            ]]
        );
        // Refreshing again replaces the views (no "already exists").
        refresh(&mut db, &[PART]).unwrap();
        let started = rows(
            &mut db,
            "SELECT started_at FROM ci_runs ORDER BY started_at LIMIT 1",
        );
        assert_eq!(started, vec![vec![Text("2025-12-02T00:01:00.000Z".into())]]);
    }

    #[test]
    fn statuses_outside_the_mapping_are_other() {
        let sql = normalise_status("s", &[("success", &["OK"])]);
        assert_eq!(
            sql,
            "CASE WHEN s IS NULL THEN NULL WHEN s IN ('OK') THEN 'success' ELSE 'other' END"
        );
    }
}
