//! Sync benchmark (run: `cargo bench -p cidata-cli`): a simulated Jenkins of 200 jobs x 100 builds x
//! 2 artifacts (every other job a Pipeline with stages), a full sync and a no-change sync into
//! SQLite, reporting requests, wall time and peak RSS; then the same with ten times the builds per
//! job, to show that memory does not grow with history.
//!
//! Three kinds of process: this one orchestrates; `serve` runs the simulator; `sync` runs the two
//! syncs, so that its peak RSS is the sync's own.

mod harness;

use std::sync::Arc;
use std::time::Instant;

use cidata_cli::simulator::{Simulator, World};
use cidata_jenkins::Jenkins;
use cidata_sync::{DestinationUrl, Engine, RunStats};
use cidata_wfapi::Wfapi;
use cidata_wfapi::sync::JenkinsSource;

fn serve(jobs: usize, builds: u64, artifacts: usize) {
    harness::serve(async move {
        let world = World::bench(jobs, builds, artifacts);
        let truth = world.truth();
        let sim = Simulator::start(world, None).await.unwrap();
        let line = format!(
            "{} {} {} {} {}",
            sim.base_url(),
            truth.jobs,
            truth.builds,
            truth.artifacts,
            truth.stages
        );
        (sim, line)
    });
}

async fn sync_pass(url: &str, db: &str) -> RunStats {
    let jenkins = Jenkins::builder(url).concurrency(8).build().unwrap();
    let source = JenkinsSource::new(Wfapi::new(jenkins));
    let destination = DestinationUrl::parse(db).unwrap().open().unwrap();
    Engine::new()
        .concurrency(8)
        .run(Arc::new(source), destination)
        .await
        .unwrap()
}

fn sync(url: &str, db: &str) {
    harness::runtime(2).block_on(async {
        for label in ["full", "no-change"] {
            let started = Instant::now();
            let stats = sync_pass(url, db).await;
            println!(
                "{label}: {:.2} s, {} requests, {} rows written ({} builds, {} artifacts, {} stages), peak RSS {:.1} MiB",
                started.elapsed().as_secs_f64(),
                stats.requests,
                stats.rows_upserted(),
                stats.tables.get("jenkins_builds").map_or(0, |c| c.upserted),
                stats.tables.get("jenkins_artifacts").map_or(0, |c| c.upserted),
                stats.tables.get("jenkins_stages").map_or(0, |c| c.upserted),
                harness::peak_rss_mib()
            );
        }
    });
}

fn orchestrate(jobs: usize, builds: u64, artifacts: usize) {
    let args = [jobs.to_string(), builds.to_string(), artifacts.to_string()];
    harness::orchestrate("jenkins", &args, |parts| {
        format!(
            "== {jobs} jobs x {builds} builds x {artifacts} artifacts (server: {} jobs and folders, {} builds, {} artifacts, {} stages)",
            parts[1], parts[2], parts[3], parts[4]
        )
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    match args.get(1).map(String::as_str) {
        Some("serve") => serve(
            args[2].parse().unwrap(),
            args[3].parse().unwrap(),
            args[4].parse().unwrap(),
        ),
        Some("sync") => sync(&args[2], &args[3]),
        _ => {
            orchestrate(200, 100, 2);
            orchestrate(200, 1000, 2);
        }
    }
}
