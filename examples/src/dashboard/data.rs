//! What the dashboard reads: the rows of `ci_runs` and `ci_steps`, and Bitbucket's pull requests,
//! through any destination that answers queries (SQLite, PostgreSQL).

use cidata_sync::{Destination, Value};

/// A row of `ci_runs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// `jenkins`, `circleci`, `bitbucket`.
    pub source: String,
    /// Job full name, project slug, repository full name.
    pub project: String,
    /// The workflow's name (CircleCI), the job's (Jenkins).
    pub name: Option<String>,
    /// The branch, where known.
    pub branch: Option<String>,
    /// The commit, where known.
    pub revision: Option<String>,
    /// Normalised: `success`, `failure`, `cancelled`, `running`, `queued`, `skipped`, `other`.
    pub status: String,
    /// The source's own status.
    pub source_status: Option<String>,
    /// Start, ms since the epoch.
    pub started_ms: Option<i64>,
    /// Duration of a final run.
    pub duration_ms: Option<i64>,
    /// Nothing about it will change.
    pub is_final: bool,
    /// Build or pipeline number.
    pub number: Option<i64>,
    /// Its page on the server.
    pub url: Option<String>,
}

/// A row of `ci_steps` with a duration.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The source.
    pub source: String,
    /// The run's project.
    pub project: String,
    /// The stage's or job's name.
    pub name: String,
    /// Start, ms since the epoch.
    pub started_ms: i64,
    /// Its duration.
    pub duration_ms: i64,
}

/// Everything a dashboard is drawn from.
#[derive(Debug, Clone, Default)]
pub struct Data {
    /// Every run.
    pub runs: Vec<Run>,
    /// Every finished step with a start and a duration.
    pub steps: Vec<Step>,
    /// Bitbucket pull requests per repository full name: `(repository, open, all)`.
    pub pull_requests: Vec<(String, i64, i64)>,
    /// The database, for the page's header (no password).
    pub described: String,
}

/// Why the dashboard cannot be drawn.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The database has no `ci_runs` view (not synced by this version of ci-sync yet).
    #[error("{0} has no ci_runs view: run `ci-sync run` (or `ci-sync demo`) against it first")]
    NoViews(String),
    /// A query failed.
    #[error(transparent)]
    Sync(#[from] cidata_sync::Error),
    /// A value is not what the view promises.
    #[error("{described}: {column} of {view}: unexpected value {value:?}")]
    Value {
        /// The database.
        described: String,
        /// The view.
        view: &'static str,
        /// The column.
        column: &'static str,
        /// What it held.
        value: Value,
    },
}

const RUNS_SQL: &str = "SELECT source, project, name, branch, revision, status, source_status, \
    started_at, duration_ms, is_final, number, url FROM ci_runs";
const STEPS_SQL: &str = "SELECT source, project, name, started_at, duration_ms FROM ci_steps \
    WHERE duration_ms IS NOT NULL AND started_at IS NOT NULL AND name IS NOT NULL";
const PULL_REQUESTS_SQL: &str = "SELECT r.full_name, \
    SUM(CASE WHEN pr.state = 'OPEN' THEN 1 ELSE 0 END), COUNT(*) \
    FROM bitbucket_pull_requests pr JOIN bitbucket_repositories r ON r.uuid = pr.repository_uuid \
    GROUP BY r.full_name";

/// SQL text for a string value.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The rows to draw: per source, those started in the `days` before its newest run (sources
/// synced at different times keep their own windows), and every run or step not final.
fn window(destination: &mut dyn Destination, days: u32) -> Result<String, DataError> {
    let Some(dialect) = destination.dialect() else {
        return Ok("1 = 1".to_owned());
    };
    let mut clauses = vec!["NOT is_final".to_owned()];
    for row in destination.query("SELECT source, max(started_at) FROM ci_runs GROUP BY source")? {
        let (Some(source), Some(newest)) =
            (row.first().and_then(text), row.get(1).and_then(time_ms))
        else {
            continue;
        };
        let from = newest.saturating_sub(i64::from(days) * 86_400_000);
        clauses.push(format!(
            "(source = {} AND started_at >= {})",
            quoted(&source),
            dialect.time_literal(from)
        ));
    }
    Ok(format!("({})", clauses.join(" OR ")))
}

/// Reads the views of `destination`: with `days`, only the runs of the last `days` days of each
/// source (and those not final), so that a server's years of history do not all go to memory.
pub fn load(destination: &mut dyn Destination, days: Option<u32>) -> Result<Data, DataError> {
    let described = destination.describe();
    let tables = destination.table_names()?;
    if !tables.iter().any(|t| t == "ci_runs") {
        return Err(DataError::NoViews(described));
    }
    let within = match days {
        Some(days) => window(destination, days)?,
        None => "1 = 1".to_owned(),
    };
    let bad = |view, column, value: &Value| DataError::Value {
        described: described.clone(),
        view,
        column,
        value: value.clone(),
    };
    let mut runs = Vec::new();
    for row in destination.query(&format!("{RUNS_SQL} WHERE {within}"))? {
        let [
            source,
            project,
            name,
            branch,
            revision,
            status,
            source_status,
            started,
            duration,
            is_final,
            number,
            url,
        ] = <[Value; 12]>::try_from(row).map_err(|_| bad("ci_runs", "*", &Value::Null))?;
        runs.push(Run {
            source: text(&source).ok_or_else(|| bad("ci_runs", "source", &source))?,
            project: text(&project).unwrap_or_default(),
            name: text(&name),
            branch: text(&branch),
            revision: text(&revision),
            status: text(&status).unwrap_or_else(|| "other".to_owned()),
            source_status: text(&source_status),
            started_ms: time_ms(&started),
            duration_ms: integer(&duration),
            is_final: boolean(&is_final).ok_or_else(|| bad("ci_runs", "is_final", &is_final))?,
            number: integer(&number),
            url: text(&url),
        });
    }
    let mut steps = Vec::new();
    for row in destination.query(&format!("{STEPS_SQL} AND {within}"))? {
        let [source, project, name, started, duration] =
            <[Value; 5]>::try_from(row).map_err(|_| bad("ci_steps", "*", &Value::Null))?;
        let (Some(started_ms), Some(duration_ms)) = (time_ms(&started), integer(&duration)) else {
            continue;
        };
        steps.push(Step {
            source: text(&source).unwrap_or_default(),
            project: text(&project).unwrap_or_default(),
            name: text(&name).unwrap_or_default(),
            started_ms,
            duration_ms,
        });
    }
    let mut pull_requests = Vec::new();
    let has = |t: &str| tables.iter().any(|have| have == t);
    if has("bitbucket_pull_requests") && has("bitbucket_repositories") {
        for row in destination.query(PULL_REQUESTS_SQL)? {
            let [repository, open, all] = <[Value; 3]>::try_from(row)
                .map_err(|_| bad("bitbucket_pull_requests", "*", &Value::Null))?;
            if let Some(repository) = text(&repository) {
                pull_requests.push((
                    repository,
                    integer(&open).unwrap_or(0),
                    integer(&all).unwrap_or(0),
                ));
            }
        }
    }
    Ok(Data {
        runs,
        steps,
        pull_requests,
        described,
    })
}

pub(crate) fn text(value: &Value) -> Option<String> {
    match value {
        Value::Text(s) | Value::Json(s) => Some(s.clone()),
        Value::Integer(n) => Some(n.to_string()),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(n) => Some(*n),
        // PostgreSQL's sums and SQLite's arithmetic on reals.
        Value::Real(x) if x.is_finite() => Some(x.round() as i64),
        Value::Text(s) => s.parse().ok(),
        _ => None,
    }
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Boolean(b) => Some(*b),
        Value::Integer(n) => Some(*n != 0),
        Value::Null => Some(false),
        _ => None,
    }
}

/// A time as SQLite keeps it (RFC 3339 text) or as PostgreSQL answers it.
pub(crate) fn time_ms(value: &Value) -> Option<i64> {
    match value {
        Value::Timestamp(ms) | Value::Integer(ms) => Some(*ms),
        Value::Text(s) => s
            .parse::<jiff::Timestamp>()
            .ok()
            .map(|t| t.as_millisecond()),
        _ => None,
    }
}
