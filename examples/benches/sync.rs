//! Sync benchmark (run: `cargo bench -p cidata-cli`): a simulated Jenkins of 200 jobs x 100 builds x
//! 2 artifacts (every other job a Pipeline with stages), a full sync and a no-change sync into
//! SQLite, reporting requests, wall time and peak RSS; then the same with ten times the builds per
//! job, to show that memory does not grow with history.
//!
//! Three kinds of process: this one orchestrates; `serve` runs the simulator; `sync` runs the two
//! syncs, so that its peak RSS is the sync's own.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use cidata_cli::simulator::{Simulator, World};
use cidata_jenkins::Jenkins;
use cidata_sync::{DestinationUrl, Engine, RunStats};
use cidata_wfapi::Wfapi;
use cidata_wfapi::sync::JenkinsSource;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn serve(jobs: usize, builds: u64, artifacts: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let world = World::bench(jobs, builds, artifacts);
        let truth = world.truth();
        let sim = Simulator::start(world, None).await.unwrap();
        println!(
            "{} {} {} {} {}",
            sim.base_url(),
            truth.jobs,
            truth.builds,
            truth.artifacts,
            truth.stages
        );
        std::io::stdout().flush().unwrap();
        // Serve until the orchestrator closes our stdin.
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await
        .unwrap();
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
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
                peak_rss_mib()
            );
        }
    });
}

fn orchestrate(jobs: usize, builds: u64, artifacts: usize) {
    let exe = std::env::current_exe().unwrap();
    let mut server = Command::new(&exe)
        .args([
            "serve",
            &jobs.to_string(),
            &builds.to_string(),
            &artifacts.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let parts: Vec<&str> = first.split_whitespace().collect();
    let (url, truth) = (parts[0], &parts[1..]);
    println!(
        "== {jobs} jobs x {builds} builds x {artifacts} artifacts (server: {} jobs and folders, {} builds, {} artifacts, {} stages)",
        truth[0], truth[1], truth[2], truth[3]
    );
    let dir = std::env::temp_dir().join(format!(
        "ci-sync-bench-{}-{jobs}-{builds}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("bench.db").display());
    let status = Command::new(&exe)
        .args(["sync", url, &db])
        .status()
        .unwrap();
    assert!(status.success());
    drop(server.stdin.take());
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
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
