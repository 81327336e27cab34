//! What the sync benchmarks share: each benchmark runs the simulator in a process of its own and
//! the syncs in another, so that the peak RSS a sync reports is its own.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use cidata_cli::simulator::Simulator;

/// This process's peak resident set size, MiB (`VmHWM`).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// A tokio runtime of `workers` threads.
pub fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

/// The `serve` process: starts the simulator `start` gives, prints its first line (the URL
/// and what it holds), and serves until the orchestrator closes stdin.
pub fn serve<F>(start: F)
where
    F: std::future::Future<Output = (Simulator, String)>,
{
    runtime(1).block_on(async {
        let (_sim, first_line) = start.await;
        println!("{first_line}");
        std::io::stdout().flush().unwrap();
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await
        .unwrap();
    });
}

/// The orchestrator: runs `serve SERVE_ARGS` and `sync URL DB` as processes of this binary,
/// printing `describe(first line's words)` first; removes the database after.
pub fn orchestrate(name: &str, serve_args: &[String], describe: impl FnOnce(&[&str]) -> String) {
    let exe = std::env::current_exe().unwrap();
    let mut server = Command::new(&exe)
        .arg("serve")
        .args(serve_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let parts: Vec<&str> = first.split_whitespace().collect();
    println!("{}", describe(&parts));
    let dir = std::env::temp_dir().join(format!(
        "ci-sync-bench-{name}-{}-{}",
        std::process::id(),
        serve_args.join("-")
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
