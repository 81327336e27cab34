//! `ci-sync run --report FILE`: what a run did, as JSON, for schedulers, monitoring and the
//! benchmarks.

use std::path::Path;

use serde_json::{Value, json};

use crate::cli_error::CliError;
use crate::sync_cmd::Synced;

/// The report of one `ci-sync run`: one entry per configured source, in the order they ran.
#[derive(Debug, Default)]
pub struct RunReport {
    sources: Vec<Value>,
}

impl RunReport {
    /// Records the outcome of one source's pass.
    pub fn add(&mut self, kind: &str, name: &str, outcome: &Result<(String, Synced), CliError>) {
        let entry = match outcome {
            Ok((base, synced)) => {
                let stats = &synced.stats;
                let tables: serde_json::Map<String, Value> = stats
                    .tables
                    .iter()
                    .map(|(table, c)| {
                        let counts = json!({
                            "upserted": c.upserted,
                            "unchanged": c.unchanged,
                            "deleted": c.deleted,
                        });
                        (table.clone(), counts)
                    })
                    .collect();
                let failed: Vec<Value> = stats
                    .failed_partitions
                    .iter()
                    .map(|(partition, error)| json!({"partition": partition, "error": error}))
                    .collect();
                let reported: Vec<Value> = stats
                    .reported
                    .iter()
                    .map(
                        |r| json!({"partition": r.partition, "item": r.item, "problem": r.problem}),
                    )
                    .collect();
                json!({
                    "kind": kind,
                    "name": name,
                    "base_url": base,
                    "ok": true,
                    "requests": stats.requests,
                    "retries": stats.retries,
                    "partitions": stats.partitions,
                    "checkpoints": stats.checkpoints,
                    "non_final": stats.non_final,
                    "transactions": stats.transactions,
                    "duration_ms": u64::try_from(stats.duration.as_millis()).unwrap_or(u64::MAX),
                    "tables": tables,
                    "failed_partitions": failed,
                    "reported": reported,
                })
            }
            Err(e) => json!({"kind": kind, "name": name, "ok": false, "error": e.to_string()}),
        };
        self.sources.push(entry);
    }

    /// Writes the report to `path` (through a temporary file, so that a reader never sees half
    /// of it).
    pub fn write(&self, path: &Path) -> Result<(), CliError> {
        let document = json!({
            "sources": self.sources,
            "peak_rss_bytes": peak_rss_bytes(),
        });
        let mut text = serde_json::to_string_pretty(&document)
            .map_err(|e| CliError::Usage(format!("cannot encode the report: {e}")))?;
        text.push('\n');
        let partial = path.with_extension("partial");
        std::fs::write(&partial, text)
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|e| {
                CliError::Usage(format!("cannot write the report {}: {e}", path.display()))
            })
    }
}

/// This process's peak resident set size (`VmHWM` of `/proc/self/status`); `None` where there is
/// no such file (not Linux).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
