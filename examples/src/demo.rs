//! `ci-sync demo`: a full sync and an incremental sync of the built-in simulated Jenkins into an
//! SQLite database, with no server and no configuration.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cidata_cli::simulator::{Simulator, Truth, World};
use cidata_jenkins::Jenkins;
use cidata_sync::{DestinationUrl, RunStats};
use cidata_wfapi::Wfapi;
use cidata_wfapi::sync::JenkinsSource;
use clap::Args;

use crate::cli_error::CliError;
use crate::progress::Display;
use crate::sync_cmd::{DEFAULT_DESTINATION, open_destination, summary, sync_once};

/// Options of `ci-sync demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write (an SQLite database made by an earlier demo is replaced).
    #[arg(long, default_value = DEFAULT_DESTINATION)]
    dest: String,
}

const DEMO_MARK: &str = "created_by";
const DEMO_VALUE: &str = "ci-sync demo";

/// Removes a database an earlier demo wrote; refuses to touch any other file.
fn fresh_database(path: &Path) -> Result<(), CliError> {
    if !path.exists() {
        return Ok(());
    }
    let made_by_demo = cidata_sync::SqliteDestination::open(path)
        .ok()
        .and_then(|db| db.meta(DEMO_MARK).ok().flatten());
    if made_by_demo.as_deref() != Some(DEMO_VALUE) {
        return Err(CliError::Config(format!(
            "{} exists and was not written by `ci-sync demo`: pass --dest sqlite://another.db",
            path.display()
        )));
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::remove_file(&file)
                .map_err(|e| CliError::Config(format!("cannot replace {}: {e}", file.display())))?;
        }
    }
    Ok(())
}

fn counts(path: &Path) -> Option<[u64; 4]> {
    let conn = cidata_sync::rusqlite::Connection::open(path).ok()?;
    let count = |t: &str| {
        conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .ok()
        .map(|n| n as u64)
    };
    Some([
        count("jenkins_jobs")?,
        count("jenkins_builds")?,
        count("jenkins_artifacts")?,
        count("jenkins_stages")?,
    ])
}

fn check(path: Option<&Path>, truth: Truth) {
    let Some(got) = path.and_then(counts) else {
        return;
    };
    let want = [truth.jobs, truth.builds, truth.artifacts, truth.stages];
    let names = ["jobs", "builds", "artifacts", "stages"];
    let parts: Vec<String> = names
        .iter()
        .zip(got.iter().zip(want))
        .map(|(n, (g, w))| format!("{n} {g}/{w}{}", if *g == w { "" } else { " (MISMATCH)" }))
        .collect();
    println!("  database vs server: {}", parts.join(", "));
}

async fn pass(
    sim: &Simulator,
    dest: &str,
    display: Display,
    label: &str,
) -> Result<RunStats, CliError> {
    let jenkins = Jenkins::builder(sim.base_url())
        .basic_auth("demo", "demo-token")
        .build()
        .map_err(CliError::jenkins)?;
    let concurrency = jenkins.concurrency();
    let destination = open_destination(dest)?;
    sync_once(
        JenkinsSource::new(Wfapi::new(jenkins)),
        destination,
        concurrency,
        display,
        label,
    )
    .await
}

/// Runs the demo.
pub async fn run(args: DemoArgs, display: Display) -> Result<(), CliError> {
    let parsed = DestinationUrl::parse(&args.dest).map_err(|e| CliError::Config(e.to_string()))?;
    let db_path = match &parsed {
        DestinationUrl::Sqlite(path) => {
            fresh_database(path)?;
            // Marked as the demo's, so that the next demo may replace it.
            let db = cidata_sync::SqliteDestination::open(path).map_err(CliError::sync)?;
            db.set_meta(DEMO_MARK, DEMO_VALUE).map_err(CliError::sync)?;
            Some(path.clone())
        }
        DestinationUrl::JsonLines(_) => None,
    };
    // JSON lines on stdout leave the report to stderr.
    let to_stdout = matches!(parsed, DestinationUrl::JsonLines(None));
    let say = |line: String| {
        if to_stdout {
            eprintln!("{line}")
        } else {
            println!("{line}")
        }
    };
    let started = Instant::now();
    let sim = Simulator::start(World::demo(), Some(("demo".into(), "demo-token".into())))
        .await
        .map_err(|e| {
            CliError::Config(format!(
                "cannot start the simulated Jenkins on 127.0.0.1: {e}"
            ))
        })?;
    let truth = sim.truth();
    say(format!(
        "Simulated Jenkins at {} ({} jobs and folders, {} builds, {} still running)",
        sim.base_url(),
        truth.jobs,
        truth.builds,
        truth.running
    ));

    say("\n1. Full sync".to_owned());
    let first = pass(&sim, &args.dest, display, "full sync").await?;
    summary(&first).into_iter().for_each(&say);
    if !to_stdout {
        check(db_path.as_deref(), truth);
    }

    sim.advance();
    let truth = sim.truth();
    say(format!(
        "\n2. The server moved on: running builds finished, new builds started ({} builds, {} running)",
        truth.builds, truth.running
    ));
    say("   Incremental sync".to_owned());
    let second = pass(&sim, &args.dest, display, "incremental sync").await?;
    summary(&second).into_iter().for_each(&say);
    if !to_stdout {
        check(db_path.as_deref(), truth);
    }
    say(format!(
        "\nDone in {:.2} s.",
        started.elapsed().as_secs_f64()
    ));

    if let Some(path) = db_path {
        let db = path.display();
        say(format!(
            "\nLook at the data:\n  sqlite3 {db} \"SELECT job_name, count(*) AS builds, sum(result = 'FAILURE') AS failures FROM jenkins_builds GROUP BY job_name\"\n  sqlite3 {db} \"SELECT name, status, round(avg(duration_ms) / 1000.0, 1) AS avg_s FROM jenkins_stages GROUP BY name, status\"\n  sqlite3 {db} \"SELECT job_name, number, relative_path FROM jenkins_artifacts ORDER BY timestamp_ms DESC LIMIT 10\"\n  sqlite3 {db} \"SELECT partition, state FROM _ci_sync_state\""
        ));
    }
    Ok(())
}
