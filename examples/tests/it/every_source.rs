//! Helpers of the tests that sync every simulated source: configs, runs, kill points and
//! database dumps that compare runs made at different times.

use std::path::{Path, PathBuf};
use std::process::Output;

use cidata_sync::rusqlite::Connection;
use tokio::process::Command;

use crate::sync::{Setup, ci_sync_run};

/// A config of the simulated services named (`jenkins`, `circleci`, `bitbucket`), written
/// beside the databases.
pub(crate) fn config_of(s: &Setup, sources: &[&str]) -> PathBuf {
    config_with(s, sources, "")
}

/// [`config_of`] with `extra` lines in every section (`request_timeout_seconds = 1`).
pub(crate) fn config_with(s: &Setup, sources: &[&str], extra: &str) -> PathBuf {
    let path = s
        .dir
        .path()
        .join(format!("{}{}.toml", sources.join("-"), extra.len()));
    let projects = project_slugs(s);
    let mut text = String::new();
    for source in sources {
        text.push_str(&match *source {
            "jenkins" => format!(
                "[jenkins]\nbase_url = \"{}\"\nusername = \"demo\"\n",
                s.sim.base_url()
            ),
            "circleci" => format!(
                "[circleci]\nbase_url = \"{}\"\nproject_slugs = [{}]\n",
                s.sim.circleci_url(),
                projects
            ),
            "bitbucket" => format!(
                "[bitbucket]\nbase_url = \"{}\"\nusername = \"demo\"\nworkspaces = [\"{}\"]\nfull_check_hours = 0\nenable_pipeline_steps = true\n",
                s.sim.bitbucket_url(),
                s.sim.bitbucket_workspace()
            ),
            other => panic!("no source {other}"),
        });
        text.push_str(extra);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// The simulated CircleCI projects as a TOML list's items: `"gh/acme/web", "gh/acme/api"`.
pub(crate) fn project_slugs(s: &Setup) -> String {
    let quoted: Vec<String> = s
        .sim
        .circleci_projects()
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect();
    quoted.join(", ")
}

pub(crate) const EVERY_SOURCE: [&str; 3] = ["jenkins", "circleci", "bitbucket"];

pub(crate) fn run_cmd(config: &Path, dest: &str) -> Command {
    let mut cmd = ci_sync_run(config, dest);
    cmd.env("JENKINS_API_TOKEN", "demo-token")
        .env("CIRCLECI_TOKEN", "demo-token")
        .env("BITBUCKET_APP_PASSWORD", "demo-token")
        .env_remove("PGPASSWORD");
    cmd
}

pub(crate) async fn run(config: &Path, dest: &str) -> Output {
    run_cmd(config, dest).output().await.unwrap()
}

/// Runs `run` (a run killed after a number of statements) again and again until one ends
/// successfully, failing the test after `most` killed runs or when fewer than 3 were killed (the
/// kills did not cut the run); returns how many were killed.
pub(crate) async fn killed_runs_until_one_completes<F, Fut>(most: u32, mut run: F) -> u32
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Output>,
{
    let mut killed = 0;
    while !run().await.status.success() {
        killed += 1;
        assert!(killed <= most, "no convergence after {killed} killed runs");
    }
    assert!(killed >= 3, "the kills did not cut the run ({killed})");
    killed
}

/// Fails naming the first lines only one side has.
pub(crate) fn assert_same(got: &[String], want: &[String], context: &str) {
    if got == want {
        return;
    }
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter()
            .filter(|l| !b.contains(l))
            .take(3)
            .map(|l| l.chars().take(500).collect())
            .collect()
    };
    panic!(
        "{context}: {} rows against {}\nonly here: {:#?}\nonly in the reference: {:#?}",
        got.len(),
        want.len(),
        only(got, want),
        only(want, got)
    );
}

/// `count` seeded kill points per source (one of three sources in turn), each below the number
/// of write steps that source's full run takes on the destination (`limits`: Jenkins, CircleCI,
/// Bitbucket), so that every one of them kills the run.
pub(crate) fn kill_points(count: usize, limits: [u64; 3]) -> Vec<(&'static str, u64)> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    (0..count)
        .map(|i| {
            let source = EVERY_SOURCE[i % 3];
            (source, next(limits[i % 3]))
        })
        .collect()
}

/// Every table of an SQLite database (but the volatile sync times) as sorted lines, with what
/// the clock decides left out: when a deletion was seen, when a full check ran.
pub(crate) fn sqlite_normalized(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> '_ci_sync_meta'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut lines = Vec::new();
    for table in tables {
        let cols: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .filter(|c: &String| c != "synced_at" && c != "updated_at")
            .collect();
        let select: Vec<String> = cols.iter().map(|c| format!("quote(\"{c}\")")).collect();
        let mut stmt = conn
            .prepare(&format!("SELECT {} FROM \"{table}\"", select.join(", ")))
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                (0..cols.len())
                    .map(|i| r.get::<_, String>(i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        for values in rows {
            let shown: Vec<String> = cols
                .iter()
                .zip(values.unwrap())
                .map(|(c, v)| match c.as_str() {
                    "deleted_at" if v != "NULL" => "deleted".to_owned(),
                    "state" if table == "_ci_sync_state" => {
                        let text = v.trim_matches('\'').replace("''", "'");
                        without_clock(serde_json::from_str(&text).unwrap()).to_string()
                    }
                    _ => v,
                })
                .collect();
            lines.push(format!("{table}: {}", shown.join("|")));
        }
    }
    lines.sort();
    lines
}

/// A saved state without what the clock decides (when Bitbucket was last checked in full).
pub(crate) fn without_clock(mut state: serde_json::Value) -> serde_json::Value {
    if let Some(fields) = state.as_object_mut() {
        fields.remove("checked_ms");
        fields.remove("full_check_ms");
    }
    state
}
