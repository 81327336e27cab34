//! `ci-sync`: the example tool of the CI data SDK. It reads a CI server through the SDK's client
//! crates and writes what it finds as JSON lines (and, with later subcommands, into a database).
//!
//! ```text
//! JENKINS_URL=https://ci.example.com/ JENKINS_USER=alice JENKINS_API_TOKEN=... ci-sync jenkins jobs
//! ci-sync jenkins builds team/app
//! ci-sync jenkins log team/app 42 --follow
//! ```

mod cli_error;
mod jenkins_cmd;
mod output;

use std::process::ExitCode;

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
    /// Read a Jenkins server: jobs, builds, artifacts, console logs (JSON lines on stdout).
    Jenkins(jenkins_cmd::JenkinsArgs),
}

fn init_logs(quiet: bool, verbose: u8) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.quiet, cli.verbose);
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
        match cli.command {
            Command::Jenkins(args) => jenkins_cmd::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
