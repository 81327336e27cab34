//! Asks a database ci-sync wrote one question over every CI: per source, the runs and failures
//! (from the `ci_daily` view), the success rate, and the median duration of finished runs (from
//! `ci_runs`).
//!
//! ```sh
//! cargo run -p cidata-cli --example query_ci_runs -- ci-sync.db
//! ```

use cidata_sync::rusqlite::Connection;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ci-sync.db".to_owned());
    let conn =
        Connection::open_with_flags(&db, cidata_sync::rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare(
        "WITH totals AS (
             SELECT source, sum(runs) AS runs, sum(failures) AS failures,
                    round(100.0 * sum(successes) / nullif(sum(successes) + sum(failures), 0), 1) AS success_pct
             FROM ci_daily GROUP BY source),
         ranked AS (
             SELECT source, duration_ms,
                    row_number() OVER (PARTITION BY source ORDER BY duration_ms) AS nth,
                    count(*) OVER (PARTITION BY source) AS n
             FROM ci_runs WHERE duration_ms IS NOT NULL)
         SELECT t.source, t.runs, t.failures, t.success_pct, r.duration_ms
         FROM totals t LEFT JOIN ranked r ON r.source = t.source AND r.nth = (r.n + 1) / 2
         ORDER BY t.source",
    )?;
    println!("source\truns\tfailures\tsuccess %\tmedian s");
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Option<f64>>(3)?,
            r.get::<_, Option<i64>>(4)?,
        ))
    })?;
    for row in rows {
        let (source, runs, failures, success, median) = row?;
        let success = success.map_or("-".to_owned(), |p| format!("{p:.1}"));
        let median = median.map_or("-".to_owned(), |ms| format!("{:.1}", ms as f64 / 1000.0));
        println!("{source}\t{runs}\t{failures}\t{success}\t{median}");
    }
    Ok(())
}
