//! The simulated CircleCI API v2 (under `/api/v2/` of the simulator): projects with pipelines,
//! several workflows each, approval jobs on hold, running workflows that finish when the world
//! moves on, and reruns that add a workflow to an old pipeline. Times are relative to the real
//! clock so that rerun detection (a lookback from now) sees them.

use serde_json::{Value, json};

/// The path prefix of the simulated CircleCI API.
pub const CIRCLECI_PREFIX: &str = "/api/v2/";

/// Pipelines per page, as the real API answers.
const PAGE: usize = 20;

/// A simulated job of a workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct CciJob {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its number (none for approvals).
    pub number: Option<i64>,
    /// `build` or `approval`.
    pub kind: &'static str,
    /// Its status.
    pub status: &'static str,
    /// Start, ms.
    pub started_ms: Option<i64>,
    /// Stop, ms.
    pub stopped_ms: Option<i64>,
    /// Ids of the jobs it waits for.
    pub dependencies: Vec<String>,
}

/// A simulated workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct CciWorkflow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: &'static str,
    /// Creation, ms.
    pub created_ms: i64,
    /// Stop, ms (none while it runs).
    pub stopped_ms: Option<i64>,
    /// Its jobs.
    pub jobs: Vec<CciJob>,
}

impl CciWorkflow {
    /// Whether it may still change.
    pub fn running(&self) -> bool {
        matches!(self.status, "running" | "on_hold" | "failing")
    }
}

/// A simulated pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct CciPipeline {
    /// Its id.
    pub id: String,
    /// Its number.
    pub number: i64,
    /// Creation, ms.
    pub created_ms: i64,
    /// The branch.
    pub branch: String,
    /// Its workflows, newest first (as the API lists them).
    pub workflows: Vec<CciWorkflow>,
}

/// A simulated project.
#[derive(Debug, Clone, PartialEq)]
pub struct CciProject {
    /// Its slug (`gh/acme/web`).
    pub slug: String,
    /// Its pipelines, oldest first.
    pub pipelines: Vec<CciPipeline>,
    /// Job numbers given so far.
    pub next_job_number: i64,
}

/// What a complete CircleCI sync must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CciTruth {
    /// Pipelines.
    pub pipelines: u64,
    /// Workflows.
    pub workflows: u64,
    /// Jobs.
    pub jobs: u64,
    /// Workflows not final.
    pub running: u64,
}

/// The simulated CircleCI.
#[derive(Debug, Clone, PartialEq)]
pub struct CciWorld {
    /// Its projects.
    pub projects: Vec<CciProject>,
    /// The clock, ms (starts at the real time of creation).
    pub clock_ms: i64,
    /// How many times it moved on.
    pub generation: u64,
    /// Ids given so far.
    next_id: u64,
}

fn uuid(n: u64) -> String {
    // A UUID-shaped id, unique per world.
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        n >> 32,
        n & 0xffff_ffff_ffff
    )
}

impl CciWorld {
    fn id(&mut self) -> String {
        self.next_id += 1;
        uuid(self.next_id)
    }

    /// A world with `projects` of `pipelines` pipelines each, `workflows` workflows per pipeline
    /// and `jobs` jobs per workflow, all final but the newest pipeline of each project (one
    /// workflow running, one on hold at an approval).
    pub fn new(projects: &[&str], pipelines: usize, workflows: usize, jobs: usize) -> CciWorld {
        let now = cidata_sync::now_ms();
        let mut world = CciWorld {
            projects: Vec::new(),
            clock_ms: now,
            generation: 0,
            next_id: 0,
        };
        for slug in projects {
            let mut project = CciProject {
                slug: (*slug).to_owned(),
                pipelines: Vec::new(),
                next_job_number: 1,
            };
            for n in 0..pipelines {
                // One pipeline an hour, the newest a few minutes old.
                let created = now - ((pipelines - n) as i64) * 3_600_000 + 3_000_000;
                let newest = n + 1 == pipelines;
                let pipeline = world.pipeline(&mut project, created, workflows, jobs, newest);
                project.pipelines.push(pipeline);
            }
            world.projects.push(project);
        }
        world
    }

    /// The demo's CircleCI: two projects, 25 and 8 pipelines of two workflows (`build-test` with
    /// 3 jobs, `deploy` with an approval), the newest of each still running or on hold.
    pub fn demo() -> CciWorld {
        CciWorld::new(&["gh/acme/web", "gh/acme/api"], 25, 2, 3).trimmed("gh/acme/api", 8)
    }

    fn trimmed(mut self, slug: &str, keep: usize) -> CciWorld {
        if let Some(p) = self.projects.iter_mut().find(|p| p.slug == slug) {
            let drop = p.pipelines.len().saturating_sub(keep);
            p.pipelines.drain(..drop);
        }
        self
    }

    fn pipeline(
        &mut self,
        project: &mut CciProject,
        created: i64,
        workflows: usize,
        jobs: usize,
        running: bool,
    ) -> CciPipeline {
        let id = self.id();
        let number = project.pipelines.last().map_or(1, |p| p.number + 1);
        let mut pipeline = CciPipeline {
            id,
            number,
            created_ms: created,
            branch: if number % 3 == 0 { "feature/x" } else { "main" }.to_owned(),
            workflows: Vec::new(),
        };
        for w in 0..workflows {
            let name = match w {
                0 => "build-test".to_owned(),
                1 => "deploy".to_owned(),
                n => format!("extra-{n}"),
            };
            let status = match (running, w) {
                (true, 0) => "running",
                (true, 1) => "on_hold",
                _ if (number + w as i64) % 7 == 0 => "failed",
                _ => "success",
            };
            let workflow = self.workflow(project, &name, status, created + 1_000, jobs);
            pipeline.workflows.insert(0, workflow);
        }
        pipeline
    }

    fn workflow(
        &mut self,
        project: &mut CciProject,
        name: &str,
        status: &'static str,
        created: i64,
        jobs: usize,
    ) -> CciWorkflow {
        let id = self.id();
        let running = matches!(status, "running" | "on_hold");
        let mut list: Vec<CciJob> = Vec::new();
        let mut start = created + 2_000;
        for j in 0..jobs {
            let approval = name == "deploy" && j == 0;
            let job_id = self.id();
            let last = j + 1 == jobs;
            let job_status = match (status, approval, last) {
                ("on_hold", true, _) => "on_hold",
                ("on_hold", false, _) => "blocked",
                ("running", _, true) => "running",
                ("failed", _, true) => "failed",
                _ => "success",
            };
            let ended = !matches!(job_status, "on_hold" | "blocked" | "running");
            let duration = 20_000 + (j as i64) * 7_000;
            let number = (!approval).then(|| {
                project.next_job_number += 1;
                project.next_job_number
            });
            list.push(CciJob {
                id: job_id,
                name: if approval {
                    "hold".to_owned()
                } else {
                    format!("{name}-step-{j}")
                },
                number,
                kind: if approval { "approval" } else { "build" },
                status: job_status,
                started_ms: (!approval && job_status != "blocked").then_some(start),
                stopped_ms: (ended && !approval).then_some(start + duration),
                dependencies: list.last().map(|p| vec![p.id.clone()]).unwrap_or_default(),
            });
            start += duration;
        }
        CciWorkflow {
            id,
            name: name.to_owned(),
            status,
            created_ms: created,
            stopped_ms: (!running).then_some(start),
            jobs: list,
        }
    }

    /// Moves on: running workflows finish, approvals are given, each project gets a new
    /// pipeline (running), and the pipeline before the newest gets a rerun of its first
    /// workflow (finished), as `rerun` in the UI does.
    pub fn advance(&mut self) {
        self.generation += 1;
        self.clock_ms += 600_000;
        let clock = self.clock_ms;
        let mut projects = std::mem::take(&mut self.projects);
        for project in &mut projects {
            for pipeline in &mut project.pipelines {
                for workflow in &mut pipeline.workflows {
                    if !workflow.running() {
                        continue;
                    }
                    workflow.status = "success";
                    workflow.stopped_ms = Some(clock - 60_000);
                    for job in &mut workflow.jobs {
                        if job.kind == "approval" {
                            job.status = "success";
                        } else if matches!(job.status, "running" | "blocked") {
                            job.status = "success";
                            job.started_ms.get_or_insert(clock - 300_000);
                            job.stopped_ms = Some(clock - 60_000);
                        }
                    }
                }
            }
            let workflows = project.pipelines.last().map_or(2, |p| p.workflows.len());
            let jobs = project
                .pipelines
                .last()
                .and_then(|p| p.workflows.first())
                .map_or(3, |w| w.jobs.len());
            // A rerun of an earlier pipeline's first workflow: a new workflow, same name.
            let count = project.pipelines.len();
            if count >= 2 {
                let name = project.pipelines[count - 2]
                    .workflows
                    .last()
                    .map(|w| w.name.clone())
                    .unwrap_or_else(|| "build-test".to_owned());
                let rerun = self.workflow(project, &name, "success", clock - 400_000, jobs);
                project.pipelines[count - 2].workflows.insert(0, rerun);
            }
            let pipeline = self.pipeline(project, clock - 120_000, workflows, jobs, true);
            project.pipelines.push(pipeline);
        }
        self.projects = projects;
    }

    /// What a complete sync must hold.
    pub fn truth(&self) -> CciTruth {
        let mut t = CciTruth::default();
        for p in self.projects.iter().flat_map(|p| &p.pipelines) {
            t.pipelines += 1;
            for w in &p.workflows {
                t.workflows += 1;
                t.jobs += w.jobs.len() as u64;
                t.running += u64::from(w.running());
            }
        }
        t
    }

    fn project(&self, slug: &str) -> Option<&CciProject> {
        self.projects.iter().find(|p| p.slug == slug)
    }

    fn find_pipeline(&self, id: &str) -> Option<(&CciProject, &CciPipeline)> {
        self.projects
            .iter()
            .flat_map(|p| p.pipelines.iter().map(move |x| (p, x)))
            .find(|(_, x)| x.id == id)
    }

    fn find_workflow(&self, id: &str) -> Option<(&CciProject, &CciPipeline, &CciWorkflow)> {
        self.projects
            .iter()
            .flat_map(|p| p.pipelines.iter().map(move |x| (p, x)))
            .flat_map(|(p, x)| x.workflows.iter().map(move |w| (p, x, w)))
            .find(|(_, _, w)| w.id == id)
    }

    /// Approves an approval job on hold; whether there was one.
    fn approve(&mut self, workflow_id: &str, request_id: &str) -> bool {
        for workflow in self
            .projects
            .iter_mut()
            .flat_map(|p| p.pipelines.iter_mut())
            .flat_map(|x| x.workflows.iter_mut())
            .filter(|w| w.id == workflow_id)
        {
            if let Some(job) = workflow
                .jobs
                .iter_mut()
                .find(|j| j.id == request_id && j.status == "on_hold")
            {
                job.status = "success";
                workflow.status = "running";
                for job in workflow.jobs.iter_mut().filter(|j| j.status == "blocked") {
                    job.status = "queued";
                }
                return true;
            }
        }
        false
    }
}

fn time(ms: i64) -> String {
    cidata_sync::format_timestamp(ms)
}

/// Workflow and job lists give whole seconds, as the real API does.
fn seconds(ms: i64) -> String {
    let text = cidata_sync::format_timestamp(ms - ms.rem_euclid(1000));
    text.replace(".000Z", "Z")
}

fn pipeline_value(project: &CciProject, p: &CciPipeline) -> Value {
    let running = p.workflows.iter().any(CciWorkflow::running);
    json!({
        "id": p.id,
        "errors": [],
        "project_slug": project.slug,
        "updated_at": time(p.created_ms + 2_000),
        "number": p.number,
        "state": "created",
        "created_at": time(p.created_ms),
        "trigger": {"type": "webhook", "received_at": time(p.created_ms), "actor": {"login": "dev", "avatar_url": null}},
        "vcs": {
            "provider_name": "GitHub",
            "origin_repository_url": format!("https://github.com/{}", &project.slug[3..]),
            "target_repository_url": format!("https://github.com/{}", &project.slug[3..]),
            "revision": format!("{:040x}", p.number as u64 * 2_654_435_761),
            "branch": p.branch,
            "commit": {"subject": format!("Change #{}{}", p.number, if running { " (running)" } else { "" }), "body": ""}
        }
    })
}

fn workflow_value(project: &CciProject, p: &CciPipeline, w: &CciWorkflow) -> Value {
    json!({
        "pipeline_id": p.id,
        "id": w.id,
        "name": w.name,
        "project_slug": project.slug,
        "status": w.status,
        "started_by": uuid(7),
        "pipeline_number": p.number,
        "created_at": seconds(w.created_ms),
        "stopped_at": w.stopped_ms.map(seconds),
    })
}

fn job_value(project: &CciProject, j: &CciJob) -> Value {
    let mut v = json!({
        "dependencies": j.dependencies,
        "id": j.id,
        "started_at": j.started_ms.map(seconds),
        "name": j.name,
        "project_slug": project.slug,
        "status": j.status,
        "type": j.kind,
    });
    // As the real API: approvals have no `job_number` and no `stopped_at` keys.
    if let Some(n) = j.number {
        v["job_number"] = n.into();
        v["stopped_at"] = j.stopped_ms.map(seconds).into();
    } else {
        v["approval_request_id"] = j.id.clone().into();
        if j.status == "success" {
            v["approved_by"] = uuid(8).into();
        }
    }
    v
}

/// The page of `items` a `page-token` asks for (`after-N`: from the N-th), [`PAGE`] items long,
/// with the token of the next page while there is one.
fn paged(items: Vec<Value>, token: Option<&str>) -> (u16, Value) {
    let start: usize = match token {
        Some(token) => match token.strip_prefix("after-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return (400, json!({"message": "invalid page token"})),
        },
        None => 0,
    };
    let next = (start + PAGE < items.len()).then(|| format!("after-{}", start + PAGE));
    let items = items.into_iter().skip(start).take(PAGE).collect();
    (200, page(items, next))
}

fn page(items: Vec<Value>, next: Option<String>) -> Value {
    json!({"items": items, "next_page_token": next})
}

/// What the simulated CircleCI answers: status and JSON body.
pub fn respond(
    world: &mut CciWorld,
    method: &str,
    segments: &[String],
    query: &[(String, String)],
) -> (u16, Value) {
    let q = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let missing = (404, json!({"message": "Not Found"}));
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method, segs.as_slice()) {
        ("GET", ["me"]) => (200, json!({"id": uuid(7), "login": "demo", "name": "Demo"})),
        ("GET", ["project", slug]) => match world.project(slug) {
            Some(p) => (
                200,
                json!({"slug": p.slug, "name": &p.slug[p.slug.rfind('/').map_or(0, |i| i + 1)..], "id": uuid(9), "organization_name": "acme", "organization_slug": "gh/acme", "organization_id": uuid(10), "vcs_info": {"vcs_url": format!("https://github.com/{}", &p.slug[3..]), "provider": "GitHub", "default_branch": "main"}}),
            ),
            None => missing,
        },
        ("GET", ["project", slug, "pipeline"]) => {
            let Some(project) = world.project(slug) else {
                return missing;
            };
            let branch = q("branch");
            let all: Vec<&CciPipeline> = project
                .pipelines
                .iter()
                .rev()
                .filter(|p| branch.is_none_or(|b| p.branch == b))
                .collect();
            let items = all.iter().map(|p| pipeline_value(project, p)).collect();
            paged(items, q("page-token"))
        }
        ("GET", ["pipeline", id]) => match world.find_pipeline(id) {
            Some((project, p)) => (200, pipeline_value(project, p)),
            None => missing,
        },
        ("GET", ["pipeline", id, "workflow"]) => match world.find_pipeline(id) {
            Some((project, p)) => {
                let items = p
                    .workflows
                    .iter()
                    .map(|w| workflow_value(project, p, w))
                    .collect();
                paged(items, q("page-token"))
            }
            None => missing,
        },
        ("GET", ["workflow", id]) => match world.find_workflow(id) {
            Some((project, p, w)) => (200, workflow_value(project, p, w)),
            None => missing,
        },
        ("GET", ["workflow", id, "job"]) => match world.find_workflow(id) {
            Some((project, _, w)) => {
                let items = w.jobs.iter().map(|j| job_value(project, j)).collect();
                paged(items, q("page-token"))
            }
            None => missing,
        },
        ("GET", ["insights", slug, "workflows", name]) => {
            let Some(project) = world.project(slug) else {
                return missing;
            };
            let since = q("start-date").and_then(cidata_circleci::parse_time);
            let mut runs: Vec<(&CciPipeline, &CciWorkflow)> = project
                .pipelines
                .iter()
                .flat_map(|p| p.workflows.iter().map(move |w| (p, w)))
                .filter(|(_, w)| w.name == *name && !w.running())
                .filter(|(_, w)| since.is_none_or(|s| w.created_ms >= s))
                .collect();
            runs.sort_by_key(|(_, w)| std::cmp::Reverse(w.created_ms));
            let items = runs
                .iter()
                .map(|(p, w)| {
                    json!({"id": w.id, "branch": p.branch, "duration": w.stopped_ms.map(|s| (s - w.created_ms) / 1000),
                           "created_at": time(w.created_ms), "stopped_at": w.stopped_ms.map(time), "credits_used": 3,
                           "status": w.status, "is_approval": false})
                })
                .collect();
            (200, page(items, None))
        }
        ("GET", ["project", slug, "job", number]) => {
            let Some(project) = world.project(slug) else {
                return missing;
            };
            let found = project.pipelines.iter().flat_map(|p| {
                p.workflows
                    .iter()
                    .flat_map(move |w| w.jobs.iter().map(move |j| (p, w, j)))
            });
            let found = found
                .into_iter()
                .find(|(_, _, j)| j.number.map(|n| n.to_string()).as_deref() == Some(number));
            match found {
                Some((p, w, j)) => (
                    200,
                    json!({
                        "web_url": format!("https://app.circleci.com/pipelines/{}/{}/workflows/{}/jobs/{number}", project.slug, p.number, w.id),
                        "project": {"id": uuid(9), "slug": project.slug, "name": &project.slug[3..], "external_url": format!("https://github.com/{}", &project.slug[3..])},
                        "parallel_runs": [{"index": 0, "status": j.status}],
                        "started_at": j.started_ms.map(time),
                        "latest_workflow": {"id": w.id, "name": w.name},
                        "name": j.name,
                        "executor": {"type": "docker", "resource_class": "medium"},
                        "parallelism": 1,
                        "status": j.status,
                        "number": j.number,
                        "pipeline": {"id": p.id},
                        "duration": j.started_ms.zip(j.stopped_ms).map(|(a, b)| b - a),
                        "created_at": time(w.created_ms),
                        "messages": [],
                        "contexts": [],
                        "organization": {"name": "acme"},
                        "queued_at": time(w.created_ms + 1_000),
                        "stopped_at": j.stopped_ms.map(time),
                    }),
                ),
                None => missing,
            }
        }
        ("GET", ["project", slug, number, "artifacts"]) => match world.project(slug) {
            Some(_) if number.parse::<i64>().is_ok() => (
                200,
                page(
                    vec![json!({"path": "dist/app.tar.gz", "node_index": 0,
                "url": format!("https://output.circle-artifacts.com/output/job/{number}/artifacts/0/dist/app.tar.gz")})],
                    None,
                ),
            ),
            _ => missing,
        },
        ("GET", ["project", slug, number, "tests"]) => match world.project(slug) {
            Some(_) if number.parse::<i64>().is_ok() => (
                200,
                page(
                    vec![
                        json!({"message": "", "source": "junit", "run_time": 0.25, "file": "tests/app_test.py", "result": "success", "name": "test_app", "classname": "tests.app_test"}),
                        json!({"message": "assert 1 == 2", "source": "junit", "run_time": 1.5, "file": "tests/app_test.py", "result": "failure", "name": "test_edge", "classname": "tests.app_test"}),
                    ],
                    None,
                ),
            ),
            _ => missing,
        },
        ("POST", ["workflow", id, "approve", request]) => {
            if world.approve(id, request) {
                (202, json!({"message": "Accepted."}))
            } else {
                missing
            }
        }
        _ => missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_world_has_running_and_held_workflows_and_advance_reruns() {
        let mut w = CciWorld::demo();
        let t = w.truth();
        assert_eq!(t.pipelines, 33);
        assert_eq!(t.workflows, 66);
        assert_eq!(t.jobs, 198);
        assert_eq!(t.running, 4);
        w.advance();
        let t = w.truth();
        assert_eq!(t.pipelines, 35);
        assert_eq!(
            t.workflows,
            66 + 4 + 2,
            "new pipelines and a rerun per project"
        );
        assert_eq!(t.running, 4, "the old ones finished, the new ones run");
    }
}
