//! Throughput benchmarks of cidata-jenkins (run: `cargo bench -p cidata-jenkins`).
//!
//! 1. Decoding a 10,000-build `allBuilds` listing into typed models, beside `serde_json::Value`.
//! 2. Streaming a 200 MB console log from a local server: throughput and peak RSS.
//!
//! A plain bench binary rather than criterion: two long measurements need no statistics
//! machinery, and the build stays lean on a 2-core machine.

use std::time::{Duration, Instant};

use cidata_jenkins::models::Build;
use cidata_jenkins::{ConsoleOptions, Jenkins, JobPath};
use futures::TryStreamExt;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Listing {
    all_builds: Vec<Build>,
}

/// A listing shaped like what `default_build_fields()` returns from a real server.
fn listing(builds: u64) -> Vec<u8> {
    let mut out = String::from(r#"{"_class":"hudson.model.FreeStyleProject","allBuilds":["#);
    for n in (1..=builds).rev() {
        if n != builds {
            out.push(',');
        }
        let result = if n % 7 == 0 { "FAILURE" } else { "SUCCESS" };
        out.push_str(&format!(
            r##"{{"_class":"hudson.model.FreeStyleBuild","actions":[{{"_class":"hudson.model.CauseAction","causes":[{{"_class":"hudson.model.Cause$UserIdCause","shortDescription":"Started by user Alice Example","userId":"alice","userName":"Alice Example"}}]}},{{"_class":"hudson.model.ParametersAction","parameters":[{{"_class":"hudson.model.StringParameterValue","name":"BRANCH","value":"main"}},{{"_class":"hudson.model.BooleanParameterValue","name":"DEPLOY","value":false}}]}},{{}},{{"_class":"hudson.plugins.git.util.BuildData","lastBuiltRevision":{{"SHA1":"e9c8039cf77402adfa4a6ae94bd7b3416f77c0a4","branch":[{{"SHA1":"e9c8039cf77402adfa4a6ae94bd7b3416f77c0a4","name":"refs/remotes/origin/main"}}]}},"remoteUrls":["https://git.example.com/team/app.git"]}},{{"_class":"hudson.tasks.junit.TestResultAction","failCount":{f},"skipCount":3,"totalCount":1200,"urlName":"testReport"}},{{"_class":"org.jenkinsci.plugins.displayurlapi.actions.RunDisplayAction"}}],"artifacts":[{{"displayPath":"app.jar","fileName":"app.jar","relativePath":"build/libs/app.jar"}},{{"displayPath":"report.html","fileName":"report.html","relativePath":"build/reports/report.html"}}],"building":false,"description":null,"displayName":"#{n}","duration":{d},"estimatedDuration":61234,"id":"{n}","keepLog":false,"number":{n},"queueId":{q},"result":"{result}","timestamp":{t},"url":"https://ci.example.com/job/team/job/app/{n}/","builtOn":"agent-{a}"}}"##,
            f = n % 5,
            d = 60_000 + n % 1000,
            q = 100_000 + n,
            t = 1_600_000_000_000u64 + n * 3_600_000,
            a = n % 12,
        ));
    }
    out.push_str("]}");
    out.into_bytes()
}

fn mb_per_s(bytes: usize, iterations: u32, elapsed: Duration) -> f64 {
    bytes as f64 * f64::from(iterations) / elapsed.as_secs_f64() / 1e6
}

fn bench_decode() {
    let body = listing(10_000);
    let iterations = 10;
    // Warm-up, and a check that the listing decodes.
    let decoded: Listing = cidata_core::decode_json(&body).expect("listing decodes");
    assert_eq!(decoded.all_builds.len(), 10_000);
    let started = Instant::now();
    for _ in 0..iterations {
        let l: Listing = cidata_core::decode_json(&body).unwrap();
        std::hint::black_box(l);
    }
    let typed = started.elapsed();
    let started = Instant::now();
    for _ in 0..iterations {
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        std::hint::black_box(v);
    }
    let value = started.elapsed();
    println!(
        "decode 10,000 builds ({:.1} MB): typed models {:.0} MB/s ({:.1} ms each), serde_json::Value {:.0} MB/s ({:.1} ms each)",
        body.len() as f64 / 1e6,
        mb_per_s(body.len(), iterations, typed),
        typed.as_secs_f64() * 1000.0 / f64::from(iterations),
        mb_per_s(body.len(), iterations, value),
        value.as_secs_f64() * 1000.0 / f64::from(iterations),
    );
}

/// Peak resident set size of this process, from /proc (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A minimal HTTP/1.1 server that answers every request with a `size`-byte log, generated in 64 KiB
/// pieces so that the server itself holds no more than that.
async fn serve_log(listener: tokio::net::TcpListener, size: u64) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=UTF-8\r\nX-Text-Size: {size}\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
            );
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let line =
                "[2024-01-01T00:00:00Z] compiling module ✓ ünïcode line of a big build log\n";
            let mut piece = Vec::with_capacity(65_536);
            while piece.len() + line.len() <= 65_536 {
                piece.extend_from_slice(line.as_bytes());
            }
            let mut left = size;
            while left > 0 {
                let n = left.min(piece.len() as u64) as usize;
                if socket.write_all(&piece[..n]).await.is_err() {
                    return;
                }
                left -= n as u64;
            }
        });
    }
}

async fn bench_console() {
    const SIZE: u64 = 200 * 1024 * 1024;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_log(listener, SIZE));
    let jenkins = Jenkins::builder(format!("http://{addr}/")).build().unwrap();
    let job = JobPath::from_full_name("big-log").unwrap();
    let before = peak_rss_mib().unwrap_or(0.0);

    let started = Instant::now();
    let mut bytes = 0u64;
    let mut chunks = std::pin::pin!(jenkins.console(&job, 1, ConsoleOptions::snapshot()));
    while let Some(chunk) = chunks.try_next().await.unwrap() {
        bytes += chunk.bytes.len() as u64;
    }
    let raw = started.elapsed();
    assert_eq!(bytes, SIZE);

    let started = Instant::now();
    let mut chars = 0usize;
    let mut text = std::pin::pin!(jenkins.console_text(&job, 1, ConsoleOptions::snapshot()));
    while let Some(piece) = text.try_next().await.unwrap() {
        chars += piece.len();
    }
    let decoded = started.elapsed();
    assert_eq!(chars as u64, SIZE);
    let after = peak_rss_mib().unwrap_or(0.0);
    println!(
        "console 200 MiB: bytes {:.0} MB/s, text {:.0} MB/s; peak RSS {before:.1} MiB before, {after:.1} MiB after (target: flat, < 32 MiB)",
        SIZE as f64 / raw.as_secs_f64() / 1e6,
        SIZE as f64 / decoded.as_secs_f64() / 1e6,
    );
}

fn main() {
    // Each benchmark runs in a process of its own, so that the peak RSS of one is not the other's.
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if args.iter().any(|a| a == "decode") {
        return bench_decode();
    }
    if args.iter().any(|a| a == "console") {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        return runtime.block_on(bench_console());
    }
    let exe = std::env::current_exe().expect("the bench binary's path");
    for which in ["decode", "console"] {
        let status = std::process::Command::new(&exe)
            .arg(which)
            .status()
            .expect("run a benchmark");
        assert!(status.success(), "benchmark {which} failed");
    }
}
