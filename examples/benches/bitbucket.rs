//! Bitbucket sync benchmark (run: `cargo bench -p cidata-cli --bench bitbucket`): a simulated
//! workspace of 5,000 repositories in 20 projects with 20 pipelines and 3 pull requests each, a
//! full sync and a no-change sync into SQLite, reporting requests, wall time and peak RSS. The
//! seed connector walks every repository page on every run (about 100 requests and 16-20 s for
//! 5,000 repositories, changed or not); a no-change sync here asks only what changed.
//!
//! Three kinds of process: this one orchestrates; `serve` runs the simulator; `sync` runs the two
//! syncs, so that its peak RSS is the sync's own.

mod harness;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cidata_bitbucket::Bitbucket;
use cidata_bitbucket::sync::{BitbucketSource, BitbucketSyncOptions};
use cidata_cli::simulator::{BbWorld, CciWorld, Simulator, World};
use cidata_sync::{DestinationUrl, Engine};

const CONCURRENCY: usize = 8;

fn serve(repositories: usize, latency_ms: u64) {
    harness::serve(async move {
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
        let line = format!(
            "{} {} {} {}",
            sim.bitbucket_url(),
            truth.repositories,
            truth.pipelines,
            truth.pull_requests
        );
        (sim, line)
    });
}

fn sync(url: &str, db: &str) {
    harness::runtime(2).block_on(async {
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
                harness::peak_rss_mib()
            );
        }
    });
}

fn orchestrate(repositories: usize, latency_ms: u64) {
    let args = [repositories.to_string(), latency_ms.to_string()];
    harness::orchestrate("bitbucket", &args, |parts| {
        format!(
            "== {} repositories, {} pipelines, {} pull requests; {latency_ms} ms per request; concurrency {CONCURRENCY}",
            parts[1], parts[2], parts[3]
        )
    });
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
