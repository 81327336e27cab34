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

use crate::cli_error::{CliError, Settings};
use crate::progress::Display;
use crate::sync_cmd::{DEFAULT_DESTINATION, Pass, open_destination, summary, sync_once};

/// Options of `ci-sync demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write (an SQLite database made by an earlier demo is replaced).
    #[arg(long, default_value = DEFAULT_DESTINATION)]
    dest: String,
}

const DEMO_MARK: &str = "created_by";
const DEMO_VALUE: &str = "ci-sync demo";

/// Removes a database an earlier demo wrote; refuses any other file before writing a byte to it
/// (it is opened read-only to look for the demo's mark).
fn fresh_database(path: &Path) -> Result<(), CliError> {
    if !path.exists() {
        return Ok(());
    }
    let made_by_demo = cidata_sync::SqliteDestination::peek_meta(path, DEMO_MARK)
        .ok()
        .flatten();
    if made_by_demo.as_deref() != Some(DEMO_VALUE) {
        return Err(CliError::Usage(format!(
            "{} exists and was not written by `ci-sync demo`: it is left as it is; pass --dest sqlite://another.db",
            path.display()
        )));
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::remove_file(&file)
                .map_err(|e| CliError::Usage(format!("cannot replace {}: {e}", file.display())))?;
        }
    }
    Ok(())
}

/// The queries the demo suggests, each a question a dashboard asks. The tests run every one.
pub const QUERIES: [(&str, &str); 4] = [
    (
        "Builds and failures per job",
        "SELECT job_name, count(*) AS builds, sum(result = 'FAILURE') AS failures FROM jenkins_builds GROUP BY job_name ORDER BY failures DESC",
    ),
    (
        "Average stage duration (finished stages only: running ones have no duration yet)",
        "SELECT name, status, round(avg(duration_ms) / 1000.0, 1) AS avg_s, count(duration_ms) AS runs FROM jenkins_stages GROUP BY name, status",
    ),
    (
        "The newest artifacts",
        "SELECT job_name, build_number, relative_path, timestamp FROM jenkins_artifacts ORDER BY timestamp_ms DESC LIMIT 10",
    ),
    (
        "What the next incremental sync starts from",
        "SELECT partition, non_final, updated_at FROM _ci_sync_state ORDER BY partition LIMIT 10",
    ),
];

/// Quotes a word for a POSIX shell: as it is when safe, else in single quotes.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
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
    let settings = Settings::simulator();
    let jenkins = Jenkins::builder(sim.base_url())
        .basic_auth("demo", "demo-token")
        .build()
        .map_err(|e| CliError::api(e, &settings, None))?;
    let concurrency = jenkins.concurrency();
    let destination = open_destination(dest)?;
    sync_once(Pass {
        source: JenkinsSource::new(Wfapi::new(jenkins)),
        destination,
        concurrency,
        display,
        label,
        settings: &settings,
    })
    .await
}

/// Runs the demo.
pub async fn run(args: DemoArgs, display: Display) -> Result<(), CliError> {
    let parsed = DestinationUrl::parse(&args.dest).map_err(|e| CliError::Usage(e.to_string()))?;
    let db_path = match &parsed {
        DestinationUrl::Sqlite(path) => {
            fresh_database(path)?;
            // Marked as the demo's, so that the next demo may replace it.
            let db = cidata_sync::SqliteDestination::open(path).map_err(CliError::Sync)?;
            db.set_meta(DEMO_MARK, DEMO_VALUE).map_err(CliError::Sync)?;
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
            CliError::Usage(format!(
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

    match db_path {
        Some(path) => {
            let db = shell_quote(&path.display().to_string());
            say(
                "\nLook at the data with any SQLite client; with the `sqlite3` shell \
                 (`apt install sqlite3`, `brew install sqlite`) for instance:"
                    .to_owned(),
            );
            for (question, sql) in QUERIES {
                say(format!(
                    "  # {question}\n  sqlite3 -header -column {db} \"{sql}\""
                ));
            }
        }
        None => say(
            "\nJSON lines keep no sync state, so the second pass above was a full re-sync; \
             with SQLite it reads only what changed."
                .to_owned(),
        ),
    }
    say(
        "\nNext: sync your own Jenkins.\n  \
         cp examples/ci-sync.example.toml ci-sync.toml   # set [jenkins] base_url and username\n  \
         export JENKINS_API_TOKEN=...                     # your user's API token\n  \
         ci-sync run                                      # again and again: only changes are read\n\
         Or serve this simulated Jenkins to try every `ci-sync jenkins` command on it: `ci-sync simulate`."
    .to_owned());
    Ok(())
}
