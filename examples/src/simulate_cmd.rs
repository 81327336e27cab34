//! `ci-sync simulate`: the demo's simulated Jenkins and CircleCI, served until stopped, to try
//! every `ci-sync jenkins` and `ci-sync circleci` command, point `ci-sync run` at, or benchmark
//! against.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use cidata_cli::simulator::{CciWorld, FaultPlan, Simulator, World};
use clap::Args;

use crate::cli_error::CliError;

/// The simulator's user and API token.
pub const USER: &str = "demo";
/// The simulator's API token (it is a local toy: the token is no secret).
pub const TOKEN: &str = "demo-token";

/// Options of `ci-sync simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Where to listen (port 0: any free port). Loopback unless told otherwise.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Serve a generated server of this many jobs (in folders of 20, every other one a
    /// Pipeline) instead of the demo's.
    #[arg(long)]
    jobs: Option<usize>,
    /// Builds per generated job (with --jobs).
    #[arg(long, default_value_t = 100, requires = "jobs")]
    builds: u64,
    /// Artifacts per generated build (with --jobs).
    #[arg(long, default_value_t = 2, requires = "jobs")]
    artifacts: usize,
    /// Move on every SECS seconds: running builds finish, new builds start.
    #[arg(long, value_name = "SECS")]
    advance_every: Option<u64>,
    /// Serve a generated CircleCI project of this many pipelines (2 workflows of 4 jobs each)
    /// instead of the demo's projects.
    #[arg(long)]
    pipelines: Option<usize>,
    /// Delay every answer by this many milliseconds, as a remote server would.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,
    /// Answer this fraction of GET requests (0 to 1) with faults: 429 with and without
    /// `Retry-After`, 502, a 503 HTML page, connection resets, bodies cut short, answers slower
    /// than a client's timeout (3 s). A retried request is answered.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0, value_parser = fault_rate)]
    fault_rate: f64,
    /// The seed of the faults' choice.
    #[arg(long, value_name = "N", default_value_t = 1)]
    fault_seed: u64,
}

fn fault_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("`{text}` is not a fraction from 0 to 1")),
    }
}

/// Runs the simulator until the process is stopped (Ctrl-C).
pub async fn run(args: SimulateArgs) -> Result<(), CliError> {
    let world = match args.jobs {
        Some(jobs) => World::bench(jobs, args.builds, args.artifacts),
        None => World::demo(),
    };
    let circleci = match args.pipelines {
        Some(n) => CciWorld::new(&["gh/bench/app"], n, 2, 4),
        None => CciWorld::demo(),
    };
    let sim = Simulator::serve(
        args.addr,
        world,
        circleci,
        Some((USER.into(), TOKEN.into())),
    )
    .await
    .map_err(|e| CliError::Usage(format!("cannot listen on {}: {e}", args.addr)))?;
    sim.set_latency(Duration::from_millis(args.latency_ms));
    if args.fault_rate > 0.0 {
        sim.set_faults(Some(FaultPlan::new(args.fault_rate, args.fault_seed)));
    }
    let url = sim.base_url();
    let truth = sim.truth();
    let mut lines = vec![
        format!("Simulated Jenkins at {url} (user {USER}, API token {TOKEN}); Ctrl-C stops it."),
        format!(
            "  {} jobs and folders, {} builds ({} running)",
            truth.jobs, truth.builds, truth.running
        ),
        String::new(),
        "Try it:".to_owned(),
        format!("  export JENKINS_URL={url} JENKINS_USER={USER} JENKINS_API_TOKEN={TOKEN}"),
        "  ci-sync jenkins jobs".to_owned(),
    ];
    if args.jobs.is_none() {
        lines.push("  ci-sync jenkins builds platform/services/api".to_owned());
        lines.push("  ci-sync jenkins builds platform/web/feature/login".to_owned());
        lines.push("  ci-sync jenkins artifacts platform/services/worker 20".to_owned());
    }
    for (job, number) in sim.pending_inputs() {
        let job = crate::demo::shell_quote(&job);
        lines.push(format!("  ci-sync jenkins stages {job} {number}"));
        lines.push(format!(
            "  ci-sync jenkins input {job} {number} --proceed --param TARGET=prod"
        ));
    }
    let circleci = sim.circleci_url();
    let projects = sim.circleci_projects();
    lines.push(String::new());
    lines.push(format!(
        "Simulated CircleCI at {circleci} (token {TOKEN}): projects {}",
        projects.join(", ")
    ));
    lines.push(format!(
        "  export CIRCLECI_URL={circleci} CIRCLECI_TOKEN={TOKEN}"
    ));
    if let Some(first) = projects.first() {
        lines.push(format!("  ci-sync circleci pipelines {first}"));
    }
    let bitbucket = sim.bitbucket_url();
    lines.push(String::new());
    lines.push(format!(
        "Simulated Bitbucket at {bitbucket} (user {USER}, app password {TOKEN}): workspace {}",
        sim.bitbucket_workspace()
    ));
    lines.push(format!(
        "  export BITBUCKET_URL={bitbucket} BITBUCKET_USERNAME={USER} BITBUCKET_APP_PASSWORD={TOKEN}"
    ));
    lines.push(format!(
        "  ci-sync bitbucket repos {}",
        sim.bitbucket_workspace()
    ));
    lines.push(String::new());
    lines.push("Or sync them all: a ci-sync.toml with".to_owned());
    lines.push(format!(
        "  [jenkins]\n  base_url = \"{url}\"\n  username = \"{USER}\""
    ));
    let quoted: Vec<String> = projects.iter().map(|p| format!("\"{p}\"")).collect();
    lines.push(format!(
        "  [circleci]\n  base_url = \"{circleci}\"\n  project_slugs = [{}]",
        quoted.join(", ")
    ));
    lines.push(format!(
        "  [bitbucket]\n  base_url = \"{bitbucket}\"\n  username = \"{USER}\""
    ));
    lines.push(format!(
        "then `JENKINS_API_TOKEN={TOKEN} CIRCLECI_TOKEN={TOKEN} BITBUCKET_APP_PASSWORD={TOKEN} ci-sync run`."
    ));
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        writeln!(stdout, "{line}")?;
    }
    stdout.flush()?;
    drop(stdout);
    match args.advance_every {
        Some(secs) => {
            let mut tick = tokio::time::interval(Duration::from_secs(secs.max(1)));
            tick.tick().await;
            loop {
                tick.tick().await;
                sim.advance();
                let t = sim.truth();
                tracing::warn!(
                    "the simulated server moved on: {} builds, {} running",
                    t.builds,
                    t.running
                );
            }
        }
        None => std::future::pending::<Result<(), CliError>>().await,
    }
}
