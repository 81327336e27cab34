//! `ci-sync demo`: a full sync and an incremental sync of the built-in simulated Jenkins into an
//! SQLite database, with no server and no configuration.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cidata_bitbucket::Bitbucket;
use cidata_circleci::{CircleCi, ProjectSlug};
use cidata_cli::simulator::{Simulator, World};
use cidata_jenkins::Jenkins;
use cidata_sources::bitbucket::{BitbucketSource, BitbucketSyncOptions};
use cidata_sources::circleci::CircleCiSource;
use cidata_sources::jenkins::JenkinsSource;
use cidata_sync::DestinationUrl;
use cidata_wfapi::Wfapi;
use clap::Args;

use crate::cli_error::{CliError, Settings};
use crate::progress::Display;
use crate::simulate_cmd;
use crate::sync_cmd::{
    BITBUCKET_WORDS, CIRCLECI_WORDS, Configured, DEFAULT_DESTINATION, JENKINS_WORDS, Synced,
    Target, summary, sync_source,
};

/// Options of `ci-sync demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write (an SQLite database made by an earlier demo is replaced).
    #[arg(long, default_value = DEFAULT_DESTINATION)]
    dest: String,
    /// Where to write the dashboard of the synced database (a file an earlier dashboard wrote is
    /// replaced, any other is left alone).
    #[arg(long, default_value = "dashboard.html")]
    dashboard: PathBuf,
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

/// Refuses to overwrite a file that is not a dashboard ci-sync wrote.
fn replaceable_page(path: &Path) -> Result<(), CliError> {
    if !path.exists() {
        return Ok(());
    }
    let mark = cidata_cli::dashboard::page::GENERATOR_MARK.as_bytes();
    let ours = std::fs::read(path)
        .is_ok_and(|bytes| bytes.windows(mark.len()).take(4096).any(|w| w == mark));
    if ours {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "{} exists and was not written by ci-sync: it is left as it is; pass --dashboard another.html",
        path.display()
    )))
}

/// The queries the demo suggests, each a question a dashboard asks. The tests run every one.
pub const QUERIES: [(&str, &str); 8] = [
    (
        "Every CI in one view: runs, failures and success rate per source and project",
        "SELECT source, project, sum(runs) AS runs, sum(failures) AS failures, round(100.0 * sum(successes) / nullif(sum(successes) + sum(failures), 0), 1) AS success_pct FROM ci_daily GROUP BY source, project ORDER BY failures DESC LIMIT 10",
    ),
    (
        "What is running or queued now, on any CI",
        "SELECT source, project, number, status, source_status, started_at FROM ci_runs WHERE NOT is_final ORDER BY started_at DESC",
    ),
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
        "CircleCI workflows: success rate and average duration",
        "SELECT project_slug, name, count(*) AS runs, round(avg(status = 'success') * 100) AS success_pct, round(avg(duration_ms) / 1000.0) AS avg_s FROM circleci_workflows GROUP BY project_slug, name",
    ),
    (
        "Bitbucket pipelines per repository and result",
        "SELECT r.full_name, p.result, count(*) AS pipelines FROM bitbucket_pipelines p JOIN bitbucket_repositories r ON r.uuid = p.repository_uuid WHERE r.deleted_at IS NULL GROUP BY r.full_name, p.result ORDER BY r.full_name",
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

/// Rows per table of the demo's database.
fn counts(path: &Path, tables: &[&str]) -> Option<Vec<u64>> {
    let conn = cidata_sync::rusqlite::Connection::open(path).ok()?;
    tables
        .iter()
        .map(|t| {
            conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| {
                r.get::<_, i64>(0)
            })
            .ok()
            .map(|n| n as u64)
        })
        .collect()
}

/// A count the database should have: its name in the report, the table (with a filter if any),
/// the simulator's truth.
type Expected = (&'static str, &'static str, u64);

/// Compares the database with what the simulated servers hold, one line per system.
fn check(path: Option<&Path>, sim: &Simulator) -> Vec<String> {
    let Some(path) = path else {
        return Vec::new();
    };
    let truth = sim.truth();
    let circleci = sim.circleci_truth();
    let bitbucket = sim.bitbucket_truth();
    let systems: [(&str, Vec<Expected>); 3] = [
        (
            "Jenkins",
            vec![
                ("jobs", "jenkins_jobs", truth.jobs),
                ("builds", "jenkins_builds", truth.builds),
                ("artifacts", "jenkins_artifacts", truth.artifacts),
                ("stages", "jenkins_stages", truth.stages),
            ],
        ),
        (
            "CircleCI",
            vec![
                ("pipelines", "circleci_pipelines", circleci.pipelines),
                ("workflows", "circleci_workflows", circleci.workflows),
                ("jobs", "circleci_jobs", circleci.jobs),
            ],
        ),
        (
            "Bitbucket",
            vec![
                (
                    "repositories",
                    "bitbucket_repositories WHERE deleted_at IS NULL",
                    bitbucket.repositories,
                ),
                ("projects", "bitbucket_projects", bitbucket.projects),
                (
                    "pipelines",
                    "bitbucket_pipelines WHERE repository_uuid IN (SELECT uuid FROM bitbucket_repositories WHERE deleted_at IS NULL)",
                    bitbucket.pipelines,
                ),
                (
                    "pull requests",
                    "bitbucket_pull_requests WHERE repository_uuid IN (SELECT uuid FROM bitbucket_repositories WHERE deleted_at IS NULL)",
                    bitbucket.pull_requests,
                ),
                (
                    "steps",
                    "bitbucket_steps WHERE repository_uuid IN (SELECT uuid FROM bitbucket_repositories WHERE deleted_at IS NULL)",
                    bitbucket.steps,
                ),
            ],
        ),
    ];
    systems
        .iter()
        .filter_map(|(system, rows)| {
            let tables: Vec<&str> = rows.iter().map(|r| r.1).collect();
            let got = counts(path, &tables)?;
            let parts: Vec<String> = rows
                .iter()
                .zip(got)
                .map(|((name, _, want), got)| {
                    let mark = if got == *want { "" } else { " (MISMATCH)" };
                    format!("{name} {got}/{want}{mark}")
                })
                .collect();
            Some(format!("  database vs {system}: {}", parts.join(", ")))
        })
        .collect()
}

/// One pass of the demo: the simulated Jenkins, CircleCI and Bitbucket, into `dest`; the
/// summary lines of each.
async fn pass(
    sim: &Simulator,
    dest: &str,
    display: Display,
    label: &str,
) -> Result<Vec<String>, CliError> {
    let settings = Settings::simulator;
    let api = |e| CliError::api(e, &settings(), None);
    let dest = &Target::new(dest);
    let mut lines = Vec::new();
    let mut say = |system: &str, synced: Synced| {
        lines.push(format!("  {system}"));
        lines.extend(summary(&synced.stats, &synced.tables, synced.words));
    };

    let jenkins = Jenkins::builder(sim.base_url())
        .basic_auth(simulate_cmd::USER, simulate_cmd::TOKEN)
        .build()
        .map_err(api)?;
    let jenkins = Configured {
        concurrency: jenkins.concurrency(),
        base: sim.base_url(),
        source: JenkinsSource::new(Wfapi::new(jenkins)),
        settings: settings(),
        label: &format!("{label}: jenkins"),
        words: JENKINS_WORDS,
    };
    say("Jenkins", sync_source(jenkins, dest, false, display).await?);

    let circleci = CircleCi::builder()
        .base_url(sim.circleci_url())
        .token(simulate_cmd::TOKEN)
        .build()
        .map_err(api)?;
    let projects = sim
        .circleci_projects()
        .iter()
        .map(|s| ProjectSlug::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(api)?;
    let circleci = Configured {
        concurrency: circleci.concurrency(),
        base: sim.circleci_url(),
        source: CircleCiSource::new(circleci, projects),
        settings: settings(),
        label: &format!("{label}: circleci"),
        words: CIRCLECI_WORDS,
    };
    say(
        "CircleCI",
        sync_source(circleci, dest, true, display).await?,
    );

    let bitbucket = Bitbucket::builder()
        .base_url(sim.bitbucket_url())
        .access_token(simulate_cmd::TOKEN)
        .build()
        .map_err(api)?;
    // A full check on every pass, so that the demo shows a deleted repository marked.
    let options = BitbucketSyncOptions {
        workspaces: vec![sim.bitbucket_workspace()],
        full_check: std::time::Duration::ZERO,
        pipeline_steps: true,
        ..BitbucketSyncOptions::default()
    };
    let bitbucket = Configured {
        concurrency: bitbucket.concurrency(),
        base: sim.bitbucket_url(),
        source: BitbucketSource::new(bitbucket, options),
        settings: settings(),
        label: &format!("{label}: bitbucket"),
        words: BITBUCKET_WORDS,
    };
    say(
        "Bitbucket",
        sync_source(bitbucket, dest, true, display).await?,
    );
    Ok(lines)
}

/// Runs the demo.
pub async fn run(args: DemoArgs, display: Display) -> Result<(), CliError> {
    let parsed = DestinationUrl::parse(&args.dest).map_err(|e| CliError::Usage(e.to_string()))?;
    let db_path = match &parsed {
        DestinationUrl::Sqlite(path) => {
            replaceable_page(&args.dashboard)?;
            fresh_database(path)?;
            // Marked as the demo's, so that the next demo may replace it.
            let db = cidata_sync::SqliteDestination::open(path).map_err(CliError::Sync)?;
            db.set_meta(DEMO_MARK, DEMO_VALUE).map_err(CliError::Sync)?;
            Some(path.clone())
        }
        DestinationUrl::JsonLines(_) => None,
        // The demo starts from an empty database each time, which a shared server is not.
        DestinationUrl::Postgres(_) => {
            return Err(CliError::Usage(
                "the demo writes a new SQLite file or JSON lines; sync into PostgreSQL with `ci-sync run --dest postgres://...`".into(),
            ));
        }
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
    let sim = Simulator::start(
        World::demo(),
        Some((simulate_cmd::USER.into(), simulate_cmd::TOKEN.into())),
    )
    .await
    .map_err(|e| {
        CliError::Usage(format!(
            "cannot start the simulated Jenkins on 127.0.0.1: {e}"
        ))
    })?;
    let truth = sim.truth();
    let circleci = sim.circleci_truth();
    say(format!(
        "Simulated Jenkins at {} ({} jobs and folders, {} builds, {} still running)",
        sim.base_url(),
        truth.jobs,
        truth.builds,
        truth.running
    ));
    say(format!(
        "Simulated CircleCI at {} ({} pipelines, {} workflows, {} running or on hold)",
        sim.circleci_url(),
        circleci.pipelines,
        circleci.workflows,
        circleci.running
    ));
    let bitbucket = sim.bitbucket_truth();
    say(format!(
        "Simulated Bitbucket at {} ({} repositories, {} pipelines, {} running, {} pull requests)",
        sim.bitbucket_url(),
        bitbucket.repositories,
        bitbucket.pipelines,
        bitbucket.running,
        bitbucket.pull_requests
    ));

    say("\n1. Full sync".to_owned());
    pass(&sim, &args.dest, display, "full sync")
        .await?
        .into_iter()
        .for_each(&say);
    check(db_path.as_deref(), &sim).into_iter().for_each(&say);

    sim.advance();
    let truth = sim.truth();
    let circleci = sim.circleci_truth();
    say(format!(
        "\n2. The servers moved on: running builds, workflows and pipelines finished, new ones \
         started, a workflow was rerun, a repository renamed and one deleted ({} builds, {} \
         running; {} workflows, {} running; {} repositories, {} pipelines running)",
        truth.builds,
        truth.running,
        circleci.workflows,
        circleci.running,
        sim.bitbucket_truth().repositories,
        sim.bitbucket_truth().running
    ));
    say("   Incremental sync".to_owned());
    pass(&sim, &args.dest, display, "incremental sync")
        .await?
        .into_iter()
        .for_each(&say);
    check(db_path.as_deref(), &sim).into_iter().for_each(&say);
    say(format!(
        "\nDone in {:.2} s.",
        started.elapsed().as_secs_f64()
    ));

    if db_path.is_some() {
        let out = args.dashboard.clone();
        let dest = args.dest.clone();
        let written = tokio::task::spawn_blocking(move || {
            replaceable_page(&out)?;
            crate::dashboard_cmd::write_dashboard(
                &dest,
                &out,
                Some(cidata_cli::dashboard::DEFAULT_DAYS),
            )
        })
        .await
        .map_err(|e| CliError::Usage(format!("the dashboard failed: {e}")))??;
        let charts = written.charts.iter().filter(|c| c.points() > 0).count();
        say(format!(
            "\nDashboard ({charts} charts): {}\n  open it in a browser, or serve it live: ci-sync serve --db {}",
            std::fs::canonicalize(&args.dashboard)
                .unwrap_or(args.dashboard.clone())
                .display(),
            shell_quote(&args.dest)
        ));
    }

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
