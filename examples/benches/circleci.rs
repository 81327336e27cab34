//! CircleCI sync benchmark (run: `cargo bench -p cidata-cli --bench circleci`): a simulated
//! project of 2,000 pipelines x 2 workflows x 4 jobs, a full sync and a no-change sync into
//! SQLite, without and with 20 ms of latency per request, reporting requests, wall time and
//! peak RSS. Requests are inherent here (one per pipeline and per workflow); with latency,
//! concurrency decides the time, and the bound is requests x latency / concurrency.
//!
//! Three kinds of process: this one orchestrates; `serve` runs the simulator; `sync` runs the two
//! syncs, so that its peak RSS is the sync's own.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cidata_circleci::CircleCi;
use cidata_circleci::sync::CircleCiSource;
use cidata_cli::simulator::{CciWorld, Simulator, World};
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

fn serve(pipelines: usize, latency_ms: u64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let circleci = CciWorld::new(&["gh/bench/app"], pipelines, 2, 4);
        let truth = circleci.truth();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let sim = Simulator::serve(addr, World::bench(0, 0, 0), circleci, None)
            .await
            .unwrap();
        sim.set_latency(Duration::from_millis(latency_ms));
        println!(
            "{} {} {} {}",
            sim.circleci_url(),
            truth.pipelines,
            truth.workflows,
            truth.jobs
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
                peak_rss_mib()
            );
        }
    });
}

fn orchestrate(pipelines: usize, latency_ms: u64) {
    let exe = std::env::current_exe().unwrap();
    let mut server = Command::new(&exe)
        .args(["serve", &pipelines.to_string(), &latency_ms.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let parts: Vec<&str> = first.split_whitespace().collect();
    let requests = pipelines.div_ceil(20) + pipelines * 3;
    println!(
        "== {} pipelines, {} workflows, {} jobs; {latency_ms} ms per request; concurrency {CONCURRENCY} (bound: {requests} requests x latency / concurrency = {:.1} s)",
        parts[1],
        parts[2],
        parts[3],
        requests as f64 * latency_ms as f64 / 1000.0 / CONCURRENCY as f64
    );
    let dir = std::env::temp_dir().join(format!(
        "ci-sync-bench-circleci-{}-{latency_ms}",
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
            orchestrate(2_000, 0);
            orchestrate(2_000, 20);
        }
    }
}
