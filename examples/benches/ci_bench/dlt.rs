//! The peer: dlt's `rest_api` source for CircleCI into DuckDB, installed from PyPI into a virtual
//! environment under `target/` on first use, run in a process of its own per sync.

use std::path::PathBuf;
use std::process::Command;

use crate::child::{self, Measured};
use crate::ours::Workdir;

/// The dlt release measured (pinned, so that figures compare across runs).
const DLT: &str = "dlt[duckdb]==1.31.0";

/// The script dlt runs (written into the virtual environment).
const SCRIPT: &str = include_str!("dlt_circleci.py");

/// How dlt is configured.
#[derive(Debug, Clone, Copy)]
pub enum Variant {
    /// Child resources one after the other, as the seed configuration has it.
    Seed,
    /// Child resources with `parallelized: true`.
    Parallelized,
}

impl Variant {
    /// Its short name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Seed => "seed",
            Variant::Parallelized => "parallelized",
        }
    }

    /// Its name in the result lines.
    pub fn tool(self) -> String {
        format!("dlt ({})", self.name())
    }
}

/// What dlt's DuckDB holds after a sync.
#[derive(Debug, Default)]
pub struct Rows {
    /// Pipeline ids.
    pub pipelines: Vec<String>,
    /// Workflow ids and statuses.
    pub workflows: Vec<(String, String)>,
    /// Job ids and statuses.
    pub jobs: Vec<(String, String)>,
}

/// `target/ci-bench-venv`, beside the build that runs this.
fn venv() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    // target/release/deps/ci_bench-HASH
    let target = exe
        .ancestors()
        .nth(3)
        .map_or_else(std::env::temp_dir, |p| p.to_path_buf());
    target.join("ci-bench-venv")
}

fn python() -> PathBuf {
    venv().join("bin").join("python")
}

/// Makes sure dlt is installed; the reason when it cannot be.
pub fn install() -> Result<(), String> {
    let venv = venv();
    let marker = venv.join(".ci-bench-installed");
    if std::fs::read_to_string(&marker).is_ok_and(|s| s.trim() == DLT) {
        return Ok(());
    }
    println!("dlt: installing {DLT} into {} (first use)", venv.display());
    let status = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .status()
        .map_err(|e| format!("python3 not found: {e}"))?;
    if !status.success() {
        return Err(format!("python3 -m venv {} failed", venv.display()));
    }
    let status = Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            DLT,
        ])
        .status()
        .map_err(|e| format!("pip: {e}"))?;
    if !status.success() {
        return Err(format!("pip install {DLT} failed (is PyPI reachable?)"));
    }
    std::fs::write(&marker, DLT).map_err(|e| e.to_string())
}

/// One dlt sync of `slug` at `base_url` (the pipeline's state lives in `work`, so that the next
/// sync is incremental).
pub fn sync(work: &Workdir, variant: Variant, base_url: &str, slug: &str) -> (Measured, Rows) {
    let script = work.path("dlt_circleci.py");
    std::fs::write(&script, SCRIPT).expect("script written");
    let mut cmd = Command::new(python());
    cmd.arg(&script)
        .args(["--base-url", base_url, "--slug", slug, "--workdir"])
        .arg(&work.dir);
    if matches!(variant, Variant::Parallelized) {
        cmd.arg("--parallelized");
    }
    let m = child::run(&mut cmd, child::Output::Keep, &work.path("dlt-stderr.txt")).check("dlt");
    let out: serde_json::Value = serde_json::from_str(&m.stdout)
        .unwrap_or_else(|e| panic!("dlt printed no JSON ({e}): {}", m.stdout));
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let pairs = |key: &str| -> Vec<(String, String)> {
        out[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|pair| (text(&pair[0]), text(&pair[1])))
            .collect()
    };
    let rows = Rows {
        pipelines: out["pipelines"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect(),
        workflows: pairs("workflows"),
        jobs: pairs("jobs"),
    };
    // The polled high-water mark, or dlt's own when its peak was too short to be seen.
    let reported = out["peak_rss_kib"].as_u64().unwrap_or(0) * 1024;
    let m = Measured {
        peak_rss: m.peak_rss.max(reported),
        ..m
    };
    (m, rows)
}
