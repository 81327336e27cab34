//! `ci-sync dashboard` (one HTML file) and `ci-sync serve` (the same page, live).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cidata_cli::dashboard::{self, Refresh};
use clap::Args;

use crate::cli_error::CliError;
use cidata_sync::{DestinationUrl, OpenOptions};

use crate::sync_cmd::{DEFAULT_DESTINATION, Target, open_destination, refresh_views};

/// Options of `ci-sync dashboard`.
#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// The database ci-sync wrote (`sqlite://...` or `postgres://...`).
    #[arg(long, default_value = DEFAULT_DESTINATION)]
    db: String,
    /// The HTML file to write.
    #[arg(long, default_value = "dashboard.html")]
    out: PathBuf,
    /// Days of history per source, counted back from its newest run (0: everything).
    #[arg(long, default_value_t = dashboard::DEFAULT_DAYS)]
    days: u32,
}

/// `--days`: 0 means everything.
fn window(days: u32) -> Option<u32> {
    (days > 0).then_some(days)
}

/// Options of `ci-sync serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The database ci-sync writes (`sqlite://...` or `postgres://...`).
    #[arg(long, default_value = DEFAULT_DESTINATION)]
    db: String,
    /// Where to listen: loopback unless told otherwise (the page shows every job's name).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Seconds between the page's reloads.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(5..))]
    refresh: u32,
    /// Days of history per source, counted back from its newest run (0: everything).
    #[arg(long, default_value_t = dashboard::DEFAULT_DAYS)]
    days: u32,
}

/// Opens `db` to read it only: an SQLite file must exist and is left as it is; PostgreSQL
/// sessions are read-only; JSON lines, which keep nothing to draw from, are refused.
fn open_read_only(db: &str) -> Result<Box<dyn cidata_sync::Destination>, CliError> {
    let parsed = DestinationUrl::parse(db).map_err(|e| CliError::Usage(e.to_string()))?;
    match parsed {
        DestinationUrl::JsonLines(_) => Err(CliError::Usage(format!(
            "{db}: JSON lines keep no tables; draw the dashboard from an sqlite:// or postgres:// database"
        ))),
        // The same message as a sync's: how to build with PostgreSQL.
        DestinationUrl::Postgres(_) if !cidata_sync::POSTGRES_SUPPORTED => {
            open_destination(&Target::new(db))
        }
        _ => parsed
            .open_with(&OpenOptions::default().read_only(true))
            .map_err(|e| CliError::Usage(e.to_string())),
    }
}

/// Writes the dashboard of `db` to `out`, creating the views first if the database has none
/// (one synced by an older ci-sync). Returns what it drew.
pub fn write_dashboard(
    db: &str,
    out: &Path,
    days: Option<u32>,
) -> Result<dashboard::Dashboard, CliError> {
    let mut destination = open_read_only(db)?;
    let has_views = destination
        .table_names()
        .map_err(CliError::Sync)?
        .iter()
        .any(|t| t == "ci_runs");
    if !has_views {
        refresh_views(&Target::new(db))?;
    }
    let page = dashboard::render_page(destination.as_mut(), Refresh::Never, days)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    std::fs::write(out, &page.html)
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", out.display())))?;
    Ok(page.dashboard)
}

/// Runs `ci-sync dashboard`.
pub async fn run(args: DashboardArgs) -> Result<(), CliError> {
    let out = args.out.clone();
    let db = args.db.clone();
    let days = window(args.days);
    let board = tokio::task::spawn_blocking(move || write_dashboard(&db, &out, days))
        .await
        .map_err(|e| CliError::Usage(format!("the dashboard failed: {e}")))??;
    let runs: usize = board.sources.iter().map(|s| s.1).sum();
    println!(
        "Dashboard of {} runs ({}) written to {}",
        runs,
        board
            .sources
            .iter()
            .map(|s| format!("{} {}", s.0, s.1))
            .collect::<Vec<_>>()
            .join(", "),
        args.out.display()
    );
    Ok(())
}

/// Runs `ci-sync serve` until stopped.
pub async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let target = Target::new(args.db.clone());
    // Fail now, not at the first page, when the database cannot be opened or has no views (off
    // the runtime's thread: the PostgreSQL client blocks).
    let checked = args.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut destination = open_read_only(&checked)?;
        dashboard::data::load(destination.as_mut(), Some(1))
            .map_err(|e| CliError::Usage(e.to_string()))
    })
    .await
    .map_err(|e| CliError::Usage(format!("the dashboard failed: {e}")))??;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| CliError::Usage(format!("cannot listen on {}: {e}", args.addr)))?;
    let addr = listener.local_addr().map_err(CliError::Io)?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "serving beyond this machine: anyone who reaches it sees every job's name and status");
    }
    println!(
        "Dashboard of {} at http://{addr}/ (read-only; Ctrl-C stops it)",
        args.db
    );
    let open: dashboard::Opener =
        Arc::new(move || open_destination(&target).map_err(|e| e.to_string()));
    dashboard::serve(listener, open, args.refresh, window(args.days))
        .await
        .map_err(CliError::Io)
}
