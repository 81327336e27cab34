//! `ci-sync`: the example tool of the CI data SDK. It reads a CI server through the SDK's client
//! crates and writes what it finds into a database, or as JSON lines.
//!
//! ```text
//! ci-sync demo                                   # the built-in simulator into ci-sync.db
//! ci-sync run --config ci-sync.toml              # your Jenkins, incrementally
//! ci-sync simulate                               # the demo's Jenkins on 127.0.0.1:8080
//! JENKINS_URL=https://ci.example.com/ JENKINS_USER=alice JENKINS_API_TOKEN=... ci-sync jenkins jobs
//! ci-sync jenkins builds team/app
//! ci-sync jenkins log team/app 42 --follow
//! CIRCLECI_TOKEN=... ci-sync circleci pipelines gh/acme/web --branch main
//! ```

mod bitbucket_cmd;
mod circleci_cmd;
mod cli_error;
mod config;
mod dashboard_cmd;
mod demo;
mod jenkins_cmd;
mod net_args;
mod output;
mod progress;
mod report;
mod simulate_cmd;
mod sync_cmd;
mod terminal;

use std::io::IsTerminal;
use std::process::ExitCode;

use progress::Display;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use clap::{Parser, Subcommand};

/// Reads CI servers through the CI data SDK and writes what it finds.
#[derive(Debug, Parser)]
#[command(name = "ci-sync", version, about, propagate_version = true)]
struct Cli {
    /// Only print errors on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// More logs on stderr (-v: debug, -vv: trace). `RUST_LOG` overrides.
    #[arg(long, short, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sync the built-in simulated Jenkins and CircleCI into an SQLite database: a full sync,
    /// then an incremental one (no server, no configuration needed).
    Demo(demo::DemoArgs),
    /// Sync Jenkins, CircleCI and Bitbucket into a database, incrementally (configured by
    /// `ci-sync.toml`).
    Run(sync_cmd::RunArgs),
    /// Read a Jenkins server: jobs, builds, artifacts, stages, console logs (JSON lines on
    /// stdout), and answer a Pipeline's input.
    Jenkins(jenkins_cmd::JenkinsArgs),
    /// Read CircleCI: pipelines, workflows, jobs, job details, artifacts, tests (JSON lines on
    /// stdout).
    #[command(name = "circleci")]
    CircleCi(circleci_cmd::CircleCiArgs),
    /// Read Bitbucket Cloud: workspaces, repositories, projects, pipelines, pull requests,
    /// commits (JSON lines on stdout).
    Bitbucket(bitbucket_cmd::BitbucketArgs),
    /// Serve the demo's simulated Jenkins, CircleCI and Bitbucket until stopped, to try the
    /// commands on.
    Simulate(simulate_cmd::SimulateArgs),
    /// Write the dashboard of a synced database as one self-contained HTML file.
    Dashboard(dashboard_cmd::DashboardArgs),
    /// Serve the dashboard of a synced database, re-read at every visit (read-only).
    Serve(dashboard_cmd::ServeArgs),
}

/// Logs on stderr; with progress bars, through the bars' writer so that lines never cut a bar.
/// Waits for SIGINT (Ctrl-C) or SIGTERM and names it.
async fn interrupted() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// What this process committed before a signal stopped it.
fn committed_so_far() -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let c = &progress::COMMITTED;
    let (transactions, rows, partitions) = (
        c.transactions.load(Relaxed),
        c.rows.load(Relaxed),
        c.partitions.load(Relaxed),
    );
    if transactions == 0 {
        "nothing was committed in this run; the next run starts where the last one ended".to_owned()
    } else {
        format!(
            "{transactions} transactions committed ({rows} rows, {partitions} partitions complete); \
             the next run continues from there"
        )
    }
}

fn init_logs(quiet: bool, verbose: u8, bars: bool) {
    let default = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    // Colour only for a person at a terminal, never in cron logs or files; `NO_COLOR` (any
    // non-empty value, see no-color.org) turns it off there too.
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // `RUST_LOG` as `target=level` directives (`debug`, `cidata_core=trace,warn`); one that
    // does not parse falls back to the flags' level.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(default));
    let registry = tracing_subscriber::registry().with(filter);
    if bars {
        let indicatif = tracing_indicatif::IndicatifLayer::new();
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(terminal::safe_fields())
                    .with_writer(indicatif.get_stderr_writer())
                    .with_ansi(colour)
                    .with_target(false),
            )
            .with(indicatif)
            .init();
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(terminal::safe_fields())
                    .with_writer(std::io::stderr)
                    .with_ansi(colour)
                    .with_target(false),
            )
            .init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let syncing = matches!(cli.command, Command::Run(_) | Command::Demo(_));
    let display = match (cli.quiet, std::io::stderr().is_terminal()) {
        (true, _) => Display::Quiet,
        (false, true) if syncing => Display::Bar,
        _ => Display::Plain,
    };
    init_logs(cli.quiet, cli.verbose, display == Display::Bar);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let command = async {
            match cli.command {
                Command::Demo(args) => demo::run(args, display).await,
                Command::Run(args) => sync_cmd::run(args, display).await,
                Command::Jenkins(args) => jenkins_cmd::run(args).await,
                Command::CircleCi(args) => circleci_cmd::run(args).await,
                Command::Bitbucket(args) => bitbucket_cmd::run(args).await,
                Command::Simulate(args) => simulate_cmd::run(args).await,
                Command::Dashboard(args) => dashboard_cmd::run(args).await,
                Command::Serve(args) => dashboard_cmd::serve(args).await,
            }
        };
        tokio::select! {
            result = command => result,
            signal = interrupted() => {
                // Whatever is half-written is in an open transaction that dies with the process
                // (as with a kill): what was committed stays, and the next run continues from it.
                if syncing {
                    eprintln!("ci-sync: stopped by {signal}; {}", committed_so_far());
                }
                std::process::exit(if signal == "SIGINT" { 130 } else { 143 });
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of stdout went away (`ci-sync ... | head`): nothing to say.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", terminal::safe(&err.to_string()));
            err.exit_code()
        }
    }
}
