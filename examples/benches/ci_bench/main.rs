//! ci-bench: the benchmarks users can reproduce with one command, side by side with a peer.
//!
//! ```text
//! cargo bench -p cidata-cli --bench ci-bench                  # everything, 3 runs each
//! cargo bench -p cidata-cli --bench ci-bench -- circleci --runs 1
//! ```
//!
//! Every sync runs in a process of its own (`ci-sync run`, or the peer's Python), against the
//! simulator this process serves, so that wall time and peak RSS are the sync's own. After each
//! sync, what the database holds is checked against the simulator's truth: rows missing, and rows
//! stale (a status that is no longer the server's). One line per run; medians at the end, as the
//! Markdown table `BENCHMARKS.md` holds.
//!
//! Scenarios: `jenkins` (200 jobs x 100 builds x 2 artifacts, and 20 x 1,000: full, no-change,
//! +10%), `circleci` (2,000 pipelines x 2 workflows x 4 jobs; with dlt's `rest_api` source as the
//! peer), `bitbucket` (5,000 repositories x 20 pipelines), each without and with 20 ms of latency
//! per request; `console` (a 1 GB log streamed by `ci-sync jenkins log`); `decode` (typed models
//! against `serde_json::Value` on the same bytes).

mod child;
mod decode;
mod dlt;
mod ours;
mod scenarios;
mod sim;

use std::collections::BTreeMap;

/// One measured run, for the medians.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// `jenkins`, `circleci (dlt)`, ...
    pub tool: String,
    /// `200x100x2`.
    pub size: String,
    /// Simulated latency per request.
    pub latency_ms: u64,
    /// `full`, `no-change`, `+10%`.
    pub pass: String,
    /// Requests the simulator answered.
    pub requests: u64,
    /// Wall time, seconds.
    pub wall_s: f64,
    /// Peak RSS, bytes.
    pub peak_rss: u64,
    /// Rows the truth has that the database lacks.
    pub missing: u64,
    /// Rows whose state is no longer the server's.
    pub stale: u64,
}

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Runs per scenario (medians over them).
    pub runs: usize,
    /// Latencies to run each sync at, ms.
    pub latencies: Vec<u64>,
    /// Run the peers (dlt) too.
    pub peers: bool,
    /// ci-sync's `concurrency` for every source.
    pub concurrency: usize,
}

/// Every run so far.
#[derive(Debug, Default)]
pub struct Results {
    runs: Vec<RunResult>,
}

impl Results {
    /// Records a run and prints its line.
    pub fn add(&mut self, run: RunResult, rows: &str) {
        println!(
            "{:<16} {:<12} {:>3} ms  {:<9} {:>7} requests {:>8.2} s {:>7.1} MiB  missing {} stale {}  | {rows}",
            run.tool,
            run.size,
            run.latency_ms,
            run.pass,
            run.requests,
            run.wall_s,
            child::mib(run.peak_rss),
            run.missing,
            run.stale,
        );
        self.runs.push(run);
    }

    /// The medians of every (tool, size, latency, pass), as a Markdown table.
    fn print_medians(&self) {
        let mut groups: BTreeMap<(String, String, u64, String), Vec<&RunResult>> = BTreeMap::new();
        let mut order = Vec::new();
        for r in &self.runs {
            let key = (r.tool.clone(), r.size.clone(), r.latency_ms, r.pass.clone());
            if !groups.contains_key(&key) {
                order.push(key.clone());
            }
            groups.entry(key).or_default().push(r);
        }
        println!();
        println!(
            "| tool | size | latency | pass | runs | requests | wall time (median) | peak RSS (median) | missing | stale |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for key in order {
            let runs = &groups[&key];
            let wall: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
            let rss: Vec<u64> = runs.iter().map(|r| r.peak_rss).collect();
            let requests: Vec<u64> = runs.iter().map(|r| r.requests).collect();
            println!(
                "| {} | {} | {} ms | {} | {} | {} | {:.2} s | {:.1} MiB | {} | {} |",
                key.0,
                key.1,
                key.2,
                key.3,
                runs.len(),
                child::median(&requests),
                child::median(&wall),
                child::mib(child::median(&rss)),
                runs.iter().map(|r| r.missing).max().unwrap_or(0),
                runs.iter().map(|r| r.stale).max().unwrap_or(0),
            );
        }
        self.print_ratios();
    }

    /// Ours against each peer on the same size, latency and pass: wall time and peak RSS.
    fn print_ratios(&self) {
        let median_of = |tool: &str, size: &str, latency: u64, pass: &str| {
            let runs: Vec<&RunResult> = self
                .runs
                .iter()
                .filter(|r| {
                    r.tool == tool && r.size == size && r.latency_ms == latency && r.pass == pass
                })
                .collect();
            if runs.is_empty() {
                return None;
            }
            let wall: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
            let rss: Vec<u64> = runs.iter().map(|r| r.peak_rss).collect();
            Some((child::median(&wall), child::median(&rss)))
        };
        let mut pairs = Vec::new();
        for peer in self.runs.iter().filter(|r| r.tool.starts_with("dlt")) {
            for ours in self
                .runs
                .iter()
                .filter(|r| r.tool.starts_with("ci-sync circleci"))
            {
                let key = (
                    ours.tool.clone(),
                    peer.tool.clone(),
                    peer.size.clone(),
                    peer.latency_ms,
                    peer.pass.clone(),
                );
                if !pairs.contains(&key) {
                    pairs.push(key);
                }
            }
        }
        for (ours_tool, peer_tool, size, latency, pass) in pairs {
            let (Some(ours), Some(theirs)) = (
                median_of(&ours_tool, &size, latency, &pass),
                median_of(&peer_tool, &size, latency, &pass),
            ) else {
                continue;
            };
            println!(
                "ratio {ours_tool} / {peer_tool} ({size}, {latency} ms, {pass}): wall time {:.3} ({:.1}x faster), peak RSS {:.3} ({:.1}x less)",
                ours.0 / theirs.0,
                theirs.0 / ours.0,
                ours.1 as f64 / theirs.1 as f64,
                theirs.1 as f64 / ours.1 as f64,
            );
        }
    }
}

/// An option's number, if it has one.
fn number<T: std::str::FromStr>(value: Option<String>) -> Option<T> {
    value?.parse().ok()
}

fn usage() -> ! {
    eprintln!(
        "usage: ci-bench [all|jenkins|jenkins-large|circleci|bitbucket|console|decode]... \
         [--runs N] [--latency MS]... [--concurrency N] [--no-peers]"
    );
    std::process::exit(2);
}

fn main() {
    let mut selected = Vec::new();
    let mut options = Options {
        runs: 3,
        latencies: Vec::new(),
        peers: true,
        concurrency: 8,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // What `cargo bench` passes to every bench binary.
            "--bench" => {}
            "--runs" => {
                options.runs = number(args.next())
                    .filter(|n| *n > 0)
                    .unwrap_or_else(|| usage())
            }
            "--latency" => options
                .latencies
                .push(number(args.next()).unwrap_or_else(|| usage())),
            "--no-peers" => options.peers = false,
            "--concurrency" => {
                options.concurrency = number(args.next())
                    .filter(|n| *n > 0)
                    .unwrap_or_else(|| usage())
            }
            "all" | "jenkins" | "jenkins-large" | "circleci" | "bitbucket" | "console"
            | "decode" => selected.push(arg),
            _ => usage(),
        }
    }
    if options.latencies.is_empty() {
        options.latencies = vec![0, 20];
    }
    if selected.is_empty() || selected.iter().any(|s| s == "all") {
        selected = [
            "jenkins",
            "jenkins-large",
            "circleci",
            "bitbucket",
            "console",
            "decode",
        ]
        .map(str::to_owned)
        .to_vec();
    }
    println!(
        "ci-bench: {} runs each, latencies {:?} ms, ci-sync concurrency {}, on {} cores ({})",
        options.runs,
        options.latencies,
        options.concurrency,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    let mut results = Results::default();
    for scenario in &selected {
        match scenario.as_str() {
            "jenkins" => scenarios::jenkins(&options, &mut results, 200, 100, 2),
            "jenkins-large" => scenarios::jenkins(&options, &mut results, 20, 1000, 2),
            "circleci" => scenarios::circleci(&options, &mut results, 2000),
            "bitbucket" => scenarios::bitbucket(&options, &mut results, 5000),
            "console" => scenarios::console(&options, 1 << 30),
            "decode" => decode::all(),
            _ => usage(),
        }
    }
    results.print_medians();
}

/// The CPU's model name, for the record.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}
