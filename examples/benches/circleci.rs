//! CircleCI sync benchmark (run: `cargo bench -p cidata-cli --bench circleci`): a simulated
//! project of 2,000 pipelines x 2 workflows x 4 jobs, a full sync and a no-change sync into
//! SQLite, without and with 20 ms of latency per request, reporting requests, wall time and
//! peak RSS. Requests are inherent here (one per pipeline and per workflow); with latency,
//! concurrency decides the time, and the bound is requests x latency / concurrency.
//!
//! Three kinds of process: this one orchestrates; `serve` runs the simulator; `sync` runs the two
//! syncs, so that its peak RSS is the sync's own.

mod harness;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cidata_circleci::CircleCi;
use cidata_circleci::sync::CircleCiSource;
use cidata_cli::simulator::{CciWorld, Simulator, World};
use cidata_sync::{DestinationUrl, Engine};

const CONCURRENCY: usize = 8;

fn serve(pipelines: usize, latency_ms: u64) {
    harness::serve(async move {
        let circleci = CciWorld::new(&["gh/bench/app"], pipelines, 2, 4);
        let truth = circleci.truth();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let sim = Simulator::serve(addr, World::bench(0, 0, 0), circleci, None)
            .await
            .unwrap();
        sim.set_latency(Duration::from_millis(latency_ms));
        let line = format!(
            "{} {} {} {}",
            sim.circleci_url(),
            truth.pipelines,
            truth.workflows,
            truth.jobs
        );
        (sim, line)
    });
}

fn sync(url: &str, db: &str) {
    harness::runtime(2).block_on(async {
        for label in ["full", "no-change"] {
            let client = CircleCi::builder()
                .base_url(url)
                .concurrency(CONCURRENCY)
                .build()
                .unwrap();
            let source = CircleCiSource::new(client, vec!["gh/bench/app".parse().unwrap()]);
            let destination = DestinationUrl::parse(db).unwrap().open().unwrap();
            let started = Instant::now();
            let stats = Engine::new()
                .run(Arc::new(source), destination)
                .await
                .unwrap();
            println!(
                "{label}: {:.2} s, {} requests, {} rows written ({} pipelines, {} workflows, {} jobs), peak RSS {:.1} MiB",
                started.elapsed().as_secs_f64(),
                stats.requests,
                stats.rows_upserted(),
                stats.tables.get("circleci_pipelines").map_or(0, |c| c.upserted),
                stats.tables.get("circleci_workflows").map_or(0, |c| c.upserted),
                stats.tables.get("circleci_jobs").map_or(0, |c| c.upserted),
                harness::peak_rss_mib()
            );
        }
    });
}

fn orchestrate(pipelines: usize, latency_ms: u64) {
    let requests = pipelines.div_ceil(20) + pipelines * 3;
    let args = [pipelines.to_string(), latency_ms.to_string()];
    harness::orchestrate("circleci", &args, |parts| {
        format!(
            "== {} pipelines, {} workflows, {} jobs; {latency_ms} ms per request; concurrency {CONCURRENCY} (bound: {requests} requests x latency / concurrency = {:.1} s)",
            parts[1],
            parts[2],
            parts[3],
            requests as f64 * latency_ms as f64 / 1000.0 / CONCURRENCY as f64
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
            orchestrate(2_000, 0);
            orchestrate(2_000, 20);
        }
    }
}
