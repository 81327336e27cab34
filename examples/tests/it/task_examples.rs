//! The examples of `examples/examples/` (one per common task), each run against the simulator
//! the way its doc comment says to run it against a real server.

use std::path::PathBuf;

use cidata_cli::simulator::{Simulator, World};
use tokio::process::Command;

const USER: &str = "demo";
const TOKEN: &str = "demo-token";

/// `target/<profile>/examples/<name>`: `cargo test` builds the examples beside the tests.
fn example(name: &str) -> Command {
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().unwrap().parent().unwrap();
    let path: PathBuf = profile.join("examples").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run the tests with `cargo test` (which builds the examples)",
        path.display()
    );
    let mut cmd = Command::new(path);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

async fn stdout_of(mut cmd: Command) -> String {
    let out = cmd.output().await.unwrap();
    assert!(
        out.status.success(),
        "example failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn jenkins(sim: &Simulator, name: &str) -> Command {
    let mut cmd = example(name);
    cmd.env("JENKINS_URL", sim.base_url())
        .env("JENKINS_USER", USER)
        .env("JENKINS_API_TOKEN", TOKEN);
    cmd
}

#[tokio::test]
async fn every_task_example_runs_against_the_simulator() {
    let sim = Simulator::start(World::demo(), Some((USER.into(), TOKEN.into())))
        .await
        .unwrap();
    let truth = sim.truth();

    let jobs = stdout_of(jenkins(&sim, "list_jenkins_jobs")).await;
    assert_eq!(jobs.lines().count() as u64, truth.jobs, "{jobs}");
    assert!(jobs.contains("platform/services/api\t"), "{jobs}");

    let mut tail = jenkins(&sim, "tail_jenkins_log");
    tail.args(["platform/services/api", "1"]);
    let log = stdout_of(tail).await;
    assert!(
        log.starts_with("Started by") && log.contains("Finished: "),
        "{log}"
    );

    let project = sim.circleci_projects()[0].clone();
    let mut pipelines = example("list_circleci_pipelines");
    pipelines
        .args([project.as_str(), "5"])
        .env("CIRCLECI_URL", sim.circleci_url())
        .env("CIRCLECI_TOKEN", TOKEN);
    let listed = stdout_of(pipelines).await;
    assert_eq!(listed.lines().count(), 5, "{listed}");
    assert!(
        listed
            .lines()
            .all(|l| l.starts_with('#') && l.contains('=')),
        "{listed}"
    );

    let mut repositories = example("list_bitbucket_repositories");
    repositories
        .arg(sim.bitbucket_workspace())
        .env("BITBUCKET_URL", sim.bitbucket_url())
        .env("BITBUCKET_ACCESS_TOKEN", TOKEN);
    let repos = stdout_of(repositories).await;
    assert_eq!(
        repos.lines().count() as u64,
        sim.bitbucket_truth().repositories,
        "{repos}"
    );
    let updated: Vec<&str> = repos
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap())
        .collect();
    assert!(
        updated.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {repos}"
    );

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ci.db");
    let mut sync = jenkins(&sim, "sync_to_sqlite");
    sync.arg(&db);
    let synced = stdout_of(sync).await;
    assert!(
        synced.contains("rows written") && synced.contains("views"),
        "{synced}"
    );
    // Again: only the listing and the builds still running are read.
    let requests = |out: &str| -> u64 {
        let at = out.find(" requests").unwrap_or_else(|| panic!("{out}"));
        out[..at].rsplit(' ').next().unwrap().parse().unwrap()
    };
    let mut again = jenkins(&sim, "sync_to_sqlite");
    again.arg(&db);
    let resynced = stdout_of(again).await;
    assert!(
        requests(&resynced) <= 1 + 2 * truth.running,
        "{resynced} after {synced}"
    );

    let mut query = example("query_ci_runs");
    query.arg(&db);
    let answer = stdout_of(query).await;
    let jenkins_line = answer
        .lines()
        .find(|l| l.starts_with("jenkins\t"))
        .unwrap_or_else(|| panic!("{answer}"));
    let runs: u64 = jenkins_line.split('\t').nth(1).unwrap().parse().unwrap();
    assert_eq!(runs, truth.builds, "{answer}");
}
