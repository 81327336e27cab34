//! The sync scenarios: each run starts a fresh simulator, syncs it into a fresh database in
//! processes of their own, and checks every pass against the simulator's truth.

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use cidata_cli::simulator::{BbWorld, CciWorld, World};

use crate::child::{self, Measured};
use crate::ours::{self, Workdir};
use crate::sim::Sim;
use crate::{Options, Results, RunResult, dlt};

/// Ids and statuses, per table, that a complete CircleCI sync holds.
pub struct CircleCiTruth {
    /// Pipeline ids.
    pub pipelines: Vec<String>,
    /// Workflow id to status.
    pub workflows: HashMap<String, String>,
    /// Job id to status.
    pub jobs: HashMap<String, String>,
}

impl CircleCiTruth {
    /// What `world` holds now.
    pub fn of(world: &CciWorld) -> CircleCiTruth {
        let mut truth = CircleCiTruth {
            pipelines: Vec::new(),
            workflows: HashMap::new(),
            jobs: HashMap::new(),
        };
        for pipeline in world.projects.iter().flat_map(|p| &p.pipelines) {
            truth.pipelines.push(pipeline.id.clone());
            for workflow in &pipeline.workflows {
                truth
                    .workflows
                    .insert(workflow.id.clone(), workflow.status.to_owned());
                for job in &workflow.jobs {
                    truth.jobs.insert(job.id.clone(), job.status.to_owned());
                }
            }
        }
        truth
    }

    /// Rows missing and rows stale in a database holding `pipelines`, `workflows` and `jobs`
    /// (ids, and ids with statuses).
    pub fn check(
        &self,
        pipelines: &[String],
        workflows: &[(String, String)],
        jobs: &[(String, String)],
    ) -> (u64, u64) {
        let held: std::collections::HashSet<&String> = pipelines.iter().collect();
        let mut missing = self
            .pipelines
            .iter()
            .filter(|id| !held.contains(id))
            .count() as u64;
        let mut stale = 0;
        for (truth, rows) in [(&self.workflows, workflows), (&self.jobs, jobs)] {
            let rows: HashMap<&String, &String> = rows.iter().map(|(id, s)| (id, s)).collect();
            for (id, status) in truth {
                match rows.get(id) {
                    None => missing += 1,
                    Some(held) if *held != status => stale += 1,
                    Some(_) => {}
                }
            }
        }
        (missing, stale)
    }
}

fn latency(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn result(
    tool: &str,
    size: &str,
    latency_ms: u64,
    pass: &str,
    requests: u64,
    m: &Measured,
) -> RunResult {
    RunResult {
        tool: tool.to_owned(),
        size: size.to_owned(),
        latency_ms,
        pass: pass.to_owned(),
        requests,
        wall_s: m.wall.as_secs_f64(),
        peak_rss: m.peak_rss,
        missing: 0,
        stale: 0,
    }
}

/// Jenkins: `jobs` x `builds` x `artifacts` (every other job a Pipeline), full, no-change and
/// +10% syncs.
pub fn jenkins(
    options: &Options,
    results: &mut Results,
    jobs: usize,
    builds: u64,
    artifacts: usize,
) {
    let size = format!("{jobs}x{builds}x{artifacts}");
    let tables = [
        "jenkins_jobs",
        "jenkins_builds",
        "jenkins_artifacts",
        "jenkins_stages",
    ];
    for &latency_ms in &options.latencies {
        for run in 0..options.runs {
            let sim = Sim::jenkins(World::bench(jobs, builds, artifacts), latency(latency_ms));
            let work = Workdir::new(&format!("jenkins-{size}-{latency_ms}-{run}"));
            let db = work.path("ci.db");
            let config = format!(
                "[jenkins]\nbase_url = \"{}\"\nconcurrency = {}\n",
                sim.sim.base_url(),
                options.concurrency
            );
            for pass in ["full", "no-change", "+10%"] {
                if pass == "+10%" {
                    sim.sim.add_builds((builds / 10).max(1));
                }
                let before = sim.sim.requests();
                let m = ours::sync(&work, &config, &db);
                let requests = sim.sim.requests() - before;
                let truth = sim.sim.truth();
                let live = |table: &str| {
                    ours::count(
                        &db,
                        &format!("SELECT COUNT(*) FROM {table} WHERE deleted_at IS NULL"),
                    )
                };
                let missing = truth.builds.saturating_sub(live("jenkins_builds"))
                    + truth.artifacts.saturating_sub(live("jenkins_artifacts"))
                    + truth.stages.saturating_sub(live("jenkins_stages"));
                let not_final = ours::count(
                    &db,
                    "SELECT COUNT(*) FROM jenkins_builds WHERE is_final = 0 AND deleted_at IS NULL",
                );
                let mut r = result("ci-sync jenkins", &size, latency_ms, pass, requests, &m);
                r.missing = missing;
                r.stale = not_final.saturating_sub(truth.running);
                results.add(r, &ours::rows_line(&db, &tables));
            }
        }
    }
}

/// CircleCI: `pipelines` pipelines x 2 workflows x 4 jobs in one project; a full sync, then the
/// server moves on (running workflows finish, a rerun, a new pipeline) and an incremental one.
/// The same for dlt, as the seed configures it and with its child resources parallelized.
pub fn circleci(options: &Options, results: &mut Results, pipelines: usize) {
    let size = format!("{pipelines}x2x4");
    let slug = "gh/bench/app";
    let tables = ["circleci_pipelines", "circleci_workflows", "circleci_jobs"];
    let peers: Vec<dlt::Variant> = if options.peers {
        match dlt::install() {
            Ok(()) => vec![dlt::Variant::Seed, dlt::Variant::Parallelized],
            Err(why) => {
                println!("dlt: not run ({why})");
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    // Every sync, ours or the peer's, starts from the same server.
    let circleci_sim =
        |latency_ms| Sim::circleci(CciWorld::new(&[slug], pipelines, 2, 4), latency(latency_ms));
    // ci-sync at its default concurrency and at 32 (CircleCI's reads are latency-bound).
    let ours: Vec<usize> = if options.concurrency == 8 {
        vec![8, 32]
    } else {
        vec![options.concurrency]
    };
    for &latency_ms in &options.latencies {
        for run in 0..options.runs {
            for &concurrency in &ours {
                let sim = circleci_sim(latency_ms);
                let work = Workdir::new(&format!("circleci-{latency_ms}-{run}-{concurrency}"));
                let db = work.path("ci.db");
                let config = format!(
                    "[circleci]\nbase_url = \"{}\"\nproject_slugs = [\"{slug}\"]\nconcurrency = {concurrency}\ntoken = \"bench\"\n",
                    sim.sim.circleci_url(),
                );
                let tool = format!("ci-sync circleci (concurrency {concurrency})");
                for pass in ["full", "no-change", "moved on"] {
                    if pass == "moved on" {
                        sim.sim.advance();
                    }
                    let before = sim.sim.requests();
                    let m = ours::sync(&work, &config, &db);
                    let requests = sim.sim.requests() - before;
                    let truth = CircleCiTruth::of(&sim.sim.circleci_snapshot());
                    let ids = ours::ids(&db, "circleci_pipelines");
                    let (missing, stale) = truth.check(
                        &ids,
                        &ours::statuses(&db, "circleci_workflows"),
                        &ours::statuses(&db, "circleci_jobs"),
                    );
                    let mut r = result(&tool, &size, latency_ms, pass, requests, &m);
                    r.missing = missing;
                    r.stale = stale;
                    results.add(r, &ours::rows_line(&db, &tables));
                }
            }
            for variant in &peers {
                let sim = circleci_sim(latency_ms);
                let work = Workdir::new(&format!("dlt-{}-{latency_ms}-{run}", variant.name()));
                for pass in ["full", "no-change", "moved on"] {
                    if pass == "moved on" {
                        sim.sim.advance();
                    }
                    let before = sim.sim.requests();
                    let (m, rows) = dlt::sync(&work, *variant, &sim.sim.circleci_url(), slug);
                    let requests = sim.sim.requests() - before;
                    let truth = CircleCiTruth::of(&sim.sim.circleci_snapshot());
                    let (missing, stale) =
                        truth.check(&rows.pipelines, &rows.workflows, &rows.jobs);
                    let mut r = result(&variant.tool(), &size, latency_ms, pass, requests, &m);
                    r.missing = missing;
                    r.stale = stale;
                    let line = format!(
                        "pipelines {}, workflows {}, jobs {}",
                        rows.pipelines.len(),
                        rows.workflows.len(),
                        rows.jobs.len()
                    );
                    results.add(r, &line);
                }
            }
        }
    }
}

/// Bitbucket: `repositories` repositories in 20 projects, 20 pipelines and 3 pull requests each;
/// full and no-change syncs, then half the repositories get a push and one is renamed.
pub fn bitbucket(options: &Options, results: &mut Results, repositories: usize) {
    let size = format!("{repositories}x20");
    let tables = [
        "bitbucket_repositories",
        "bitbucket_projects",
        "bitbucket_pipelines",
        "bitbucket_pull_requests",
    ];
    for &latency_ms in &options.latencies {
        for run in 0..options.runs {
            let sim = Sim::bitbucket(
                BbWorld::generated(repositories, 20, 20, 0),
                latency(latency_ms),
            );
            let work = Workdir::new(&format!("bitbucket-{latency_ms}-{run}"));
            let db = work.path("ci.db");
            let config = format!(
                "[bitbucket]\nbase_url = \"{}\"\nworkspaces = [\"{}\"]\nconcurrency = {}\nusername = \"bench\"\napp_password = \"bench\"\n",
                sim.sim.bitbucket_url(),
                sim.sim.bitbucket_workspace(),
                options.concurrency
            );
            for pass in ["full", "no-change", "pushes"] {
                if pass == "pushes" {
                    sim.sim.advance();
                }
                let before = sim.sim.requests();
                let m = ours::sync(&work, &config, &db);
                let requests = sim.sim.requests() - before;
                let truth = sim.sim.bitbucket_truth();
                let live_repositories = ours::count(
                    &db,
                    "SELECT COUNT(*) FROM bitbucket_repositories WHERE deleted_at IS NULL",
                );
                let count =
                    |table: &str| ours::count(&db, &format!("SELECT COUNT(*) FROM {table}"));
                let missing = truth.repositories.saturating_sub(live_repositories)
                    + truth.pipelines.saturating_sub(count("bitbucket_pipelines"))
                    + truth
                        .pull_requests
                        .saturating_sub(count("bitbucket_pull_requests"));
                let not_final = ours::count(
                    &db,
                    "SELECT COUNT(*) FROM bitbucket_pipelines WHERE is_final = 0",
                );
                let mut r = result("ci-sync bitbucket", &size, latency_ms, pass, requests, &m);
                r.missing = missing;
                // Running pipelines the server finished, and repositories it deleted that are
                // still live here.
                r.stale = not_final.saturating_sub(truth.running)
                    + live_repositories.saturating_sub(truth.repositories);
                results.add(r, &ours::rows_line(&db, &tables));
            }
        }
    }
}

/// Console streaming: `ci-sync jenkins log` of a build whose log is `bytes` long, to a pipe this
/// process reads and counts.
pub fn console(options: &Options, bytes: u64) {
    for run in 0..options.runs {
        let sim = Sim::jenkins(World::bench(1, 1, 0), Duration::ZERO);
        sim.sim.set_big_log("team-00/job-0000", 1, bytes);
        let work = Workdir::new(&format!("console-{run}"));
        for output in [child::Output::Null, child::Output::Count] {
            let mut cmd = Command::new(ours::CI_SYNC);
            cmd.args(["jenkins", "log", "team-00/job-0000", "1", "--url"])
                .arg(sim.sim.base_url())
                .env_remove("RUST_LOG");
            let m =
                child::run(&mut cmd, output, &work.path("stderr.txt")).check("ci-sync jenkins log");
            let to = match output {
                child::Output::Null => "to /dev/null".to_owned(),
                _ if m.stdout_bytes == bytes => "to a pipe, every byte received".to_owned(),
                _ => format!("to a pipe, INCOMPLETE: {} bytes received", m.stdout_bytes),
            };
            println!(
                "console          {:.2} GiB  run {run}: {:.2} s, {:.2} GB/s, peak RSS {:.1} MiB ({to})",
                bytes as f64 / f64::from(1u32 << 30),
                m.wall.as_secs_f64(),
                bytes as f64 / m.wall.as_secs_f64() / 1e9,
                child::mib(m.peak_rss),
            );
        }
    }
}
