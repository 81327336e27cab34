//! Bitbucket sync benchmark (run: `cargo bench -p cidata-cli --bench bitbucket`): a simulated
//! workspace of 5,000 repositories in 20 projects with 20 pipelines and 3 pull requests each, a
//! full sync and a no-change sync into SQLite, reporting requests, wall time and peak RSS. The
//! seed connector walks every repository page on every run (about 100 requests and 16-20 s for
//! 5,000 repositories, changed or not); a no-change sync here asks only what changed.
//!
//! Three kinds of process: this one orchestrates; `serve` runs the simulator; `sync` runs the two
//! syncs, so that its peak RSS is the sync's own.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cidata_bitbucket::Bitbucket;
use cidata_bitbucket::sync::{BitbucketSource, BitbucketSyncOptions};
use cidata_cli::simulator::{BbWorld, CciWorld, Simulator, World};
use cidata_sync::{DestinationUrl, Engine};

const CONCURRENCY: usize = 8;

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

fn serve(repositories: usize, latency_ms: u64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let bitbucket = BbWorld::generated(repositories, 20, 20, 0);
        let truth = bitbucket.truth();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let sim = Simulator::serve(
            addr,
            World::bench(0, 0, 0),
            CciWorld::new(&[], 0, 0, 0),
            None,
        )
        .await
        .unwrap();
        sim.set_bitbucket(bitbucket);
        sim.set_latency(Duration::from_millis(latency_ms));
        println!(
            "{} {} {} {}",
            sim.bitbucket_url(),
            truth.repositories,
            truth.pipelines,
            truth.pull_requests
        );
        std::io::stdout().flush().unwrap();
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await
        .unwrap();
    });
}

fn sync(url: &str, db: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for label in ["full", "no-change"] {
            let client = Bitbucket::builder()
                .base_url(url)
                .concurrency(CONCURRENCY)
                .build()
                .unwrap();
            let options = BitbucketSyncOptions {
                workspaces: vec!["acme".to_owned()],
                ..BitbucketSyncOptions::default()
            };
            let source = BitbucketSource::new(client, options);
            let destination = DestinationUrl::parse(db).unwrap().open().unwrap();
            let started = Instant::now();
            let stats = Engine::new()
                .concurrency(CONCURRENCY)
                .run(Arc::new(source), destination)
                .await
                .unwrap();
            println!(
                "{label}: {:.2} s, {} requests, {} rows written ({} repositories, {} pipelines, {} pull requests), peak RSS {:.1} MiB",
                started.elapsed().as_secs_f64(),
                stats.requests,
                stats.rows_upserted(),
                stats.tables.get("bitbucket_repositories").map_or(0, |c| c.upserted),
                stats.tables.get("bitbucket_pipelines").map_or(0, |c| c.upserted),
                stats.tables.get("bitbucket_pull_requests").map_or(0, |c| c.upserted),
                peak_rss_mib()
            );
        }
    });
}

fn orchestrate(repositories: usize, latency_ms: u64) {
    let exe = std::env::current_exe().unwrap();
    let mut server = Command::new(&exe)
        .args(["serve", &repositories.to_string(), &latency_ms.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let parts: Vec<&str> = first.split_whitespace().collect();
    println!(
        "== {} repositories, {} pipelines, {} pull requests; {latency_ms} ms per request; concurrency {CONCURRENCY}",
        parts[1], parts[2], parts[3]
    );
    let dir = std::env::temp_dir().join(format!(
        "ci-sync-bench-bitbucket-{}-{latency_ms}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("bench.db").display());
    let status = Command::new(&exe)
        .args(["sync", parts[0], &db])
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
        Some("serve") => serve(args[2].parse().unwrap(), args[3].parse().unwrap()),
        Some("sync") => sync(&args[2], &args[3]),
        _ => {
            orchestrate(5_000, 0);
        }
    }
}
