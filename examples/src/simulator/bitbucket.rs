//! The simulated Bitbucket Cloud API (under `/2.0/` of the simulator): a workspace with projects,
//! repositories with pipelines (one running per pushed repository) and pull requests; between
//! passes a push starts pipelines, a repository is renamed and one deleted. Pipeline pages carry
//! no `next` (as the real API often does); repository pages do. Times follow the real clock.

use serde_json::{Value, json};

/// The path prefix of the simulated Bitbucket API.
pub const BITBUCKET_PREFIX: &str = "/2.0/";

/// A simulated pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct BbPipeline {
    /// Its UUID, with braces.
    pub uuid: String,
    /// Its build number.
    pub number: i64,
    /// Creation, ms.
    pub created_ms: i64,
    /// Completion, ms (none while running).
    pub completed_ms: Option<i64>,
    /// `SUCCESSFUL`, `FAILED`; none while running.
    pub result: Option<&'static str>,
    /// `PUSH`, `MANUAL`, `SCHEDULED`.
    pub trigger: &'static str,
}

/// A simulated pull request.
#[derive(Debug, Clone, PartialEq)]
pub struct BbPullRequest {
    /// Its number.
    pub id: i64,
    /// `OPEN`, `MERGED`, `DECLINED`.
    pub state: &'static str,
    /// Creation, ms.
    pub created_ms: i64,
    /// Last change, ms.
    pub updated_ms: i64,
}

/// A simulated repository.
#[derive(Debug, Clone, PartialEq)]
pub struct BbRepository {
    /// Its UUID.
    pub uuid: String,
    /// Its slug (and name).
    pub slug: String,
    /// Its project's index.
    pub project: usize,
    /// Last change, ms (a push moves it).
    pub updated_ms: i64,
    /// Its pipelines, oldest first.
    pub pipelines: Vec<BbPipeline>,
    /// Its pull requests.
    pub pull_requests: Vec<BbPullRequest>,
}

/// What a complete Bitbucket sync must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BbTruth {
    /// Repositories that exist.
    pub repositories: u64,
    /// Projects.
    pub projects: u64,
    /// Pipelines of existing repositories.
    pub pipelines: u64,
    /// Pull requests of existing repositories.
    pub pull_requests: u64,
    /// Pipelines still running.
    pub running: u64,
    /// Steps of those pipelines ([`STEPS`] each).
    pub steps: u64,
}

/// The steps of every simulated pipeline, in order.
pub const STEPS: [&str; 3] = ["Build", "Test", "Deploy"];

/// The simulated Bitbucket: one workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct BbWorld {
    /// The workspace's slug.
    pub workspace: String,
    /// Its repositories.
    pub repositories: Vec<BbRepository>,
    /// How many projects it has.
    pub projects: usize,
    /// The clock, ms.
    pub clock_ms: i64,
    /// How many times it moved on.
    pub generation: u64,
    next_id: u64,
}

const PROJECTS: [(&str, &str); 3] = [("PLAT", "Platform"), ("WEB", "Web"), ("DATA", "Data")];

/// The key and name of project `i`: the demo's three, then generated ones.
fn project(i: usize) -> (String, String) {
    match PROJECTS.get(i) {
        Some((key, name)) => ((*key).to_owned(), (*name).to_owned()),
        None => (format!("P{i:02}"), format!("Project {i}")),
    }
}

fn uuid(n: u64) -> String {
    format!(
        "{{{:08x}-0000-4000-8000-{:012x}}}",
        n >> 32,
        n & 0xffff_ffff_ffff
    )
}

impl BbWorld {
    fn id(&mut self) -> String {
        self.next_id += 1;
        uuid(0xbb00_0000 + self.next_id)
    }

    /// The demo's shape: `repositories` repositories in 3 projects, `pipelines` pipelines each
    /// (the newest of every third repository running) and 3 pull requests each.
    pub fn new(repositories: usize, pipelines: usize) -> BbWorld {
        BbWorld::generated(repositories, 3, pipelines, 3)
    }

    /// `repositories` repositories in `projects` projects, `pipelines` pipelines and 3 pull
    /// requests each; the newest pipeline of every `running_every`-th repository runs (0: none).
    pub fn generated(
        repositories: usize,
        projects: usize,
        pipelines: usize,
        running_every: usize,
    ) -> BbWorld {
        let now = cidata_sync::now_ms();
        let mut world = BbWorld {
            workspace: "acme".to_owned(),
            repositories: Vec::new(),
            projects: projects.max(1),
            clock_ms: now,
            generation: 0,
            next_id: 0,
        };
        for r in 0..repositories {
            let uuid = world.id();
            let mut repo = BbRepository {
                uuid,
                slug: format!("repo-{r:04}"),
                project: r % projects.max(1),
                // Ten minutes apart, the newest an hour ago: a 5-minute lookback re-reads few.
                updated_ms: now - 3_600_000 - (repositories - r) as i64 * 600_000,
                pipelines: Vec::new(),
                pull_requests: Vec::new(),
            };
            for n in 1..=pipelines as i64 {
                let running = n == pipelines as i64 && running_every > 0 && r % running_every == 0;
                let created = now - (pipelines as i64 - n + 1) * 3_600_000;
                let pipeline = world.pipeline(n, created, running, r);
                repo.pipelines.push(pipeline);
            }
            repo.pull_requests = pull_requests(3, now);
            world.repositories.push(repo);
        }
        world
    }

    /// The same world with `count` pull requests in every repository (3 by default), the
    /// newest updated an hour ago.
    pub fn with_pull_requests(mut self, count: i64) -> BbWorld {
        let now = self.clock_ms;
        for repo in &mut self.repositories {
            repo.pull_requests = pull_requests(count, now);
        }
        self
    }

    /// The demo's workspace: 9 repositories of 6 pipelines.
    pub fn demo() -> BbWorld {
        BbWorld::new(9, 6)
    }

    fn pipeline(&mut self, number: i64, created: i64, running: bool, salt: usize) -> BbPipeline {
        let failed = (number + salt as i64) % 5 == 0;
        BbPipeline {
            uuid: self.id(),
            number,
            created_ms: created,
            completed_ms: (!running).then_some(created + 90_000 + number * 1_000),
            result: (!running).then_some(if failed { "FAILED" } else { "SUCCESSFUL" }),
            trigger: if number % 4 == 0 { "MANUAL" } else { "PUSH" },
        }
    }

    /// Moves on: running pipelines finish; every second repository gets a push (a new running
    /// pipeline, a pull request updated); the first repository is renamed and the last deleted.
    pub fn advance(&mut self) {
        self.generation += 1;
        self.clock_ms += 600_000;
        let clock = self.clock_ms;
        let mut repositories = std::mem::take(&mut self.repositories);
        for (i, repo) in repositories.iter_mut().enumerate() {
            for p in repo.pipelines.iter_mut().filter(|p| p.result.is_none()) {
                p.result = Some("SUCCESSFUL");
                p.completed_ms = Some(clock - 30_000);
            }
            if i % 2 == 1 {
                let number = repo.pipelines.last().map_or(1, |p| p.number + 1);
                let pipeline = self.pipeline(number, clock - 60_000, true, i);
                repo.pipelines.push(pipeline);
                if let Some(pr) = repo.pull_requests.last_mut() {
                    pr.updated_ms = clock - 50_000;
                }
                repo.updated_ms = clock - 40_000;
            }
        }
        if let Some(first) = repositories.first_mut() {
            first.slug = format!("{}-renamed", first.slug);
            first.updated_ms = clock - 20_000;
        }
        if repositories.len() > 2 {
            repositories.pop();
        }
        self.repositories = repositories;
    }

    /// What a complete sync must hold.
    pub fn truth(&self) -> BbTruth {
        let mut t = BbTruth {
            projects: self.projects as u64,
            ..BbTruth::default()
        };
        for r in &self.repositories {
            t.repositories += 1;
            t.pipelines += r.pipelines.len() as u64;
            t.steps += (r.pipelines.len() * STEPS.len()) as u64;
            t.pull_requests += r.pull_requests.len() as u64;
            t.running += r.pipelines.iter().filter(|p| p.result.is_none()).count() as u64;
        }
        t
    }

    fn repository(&self, id: &str) -> Option<&BbRepository> {
        self.repositories
            .iter()
            .find(|r| r.slug == id || r.uuid == id)
    }

    fn repository_value(&self, r: &BbRepository) -> Value {
        let (key, name) = project(r.project);
        json!({
            "type": "repository", "uuid": r.uuid, "slug": r.slug, "name": r.slug,
            "full_name": format!("{}/{}", self.workspace, r.slug),
            "is_private": true, "scm": "git", "language": "rust", "has_issues": false, "has_wiki": false,
            "size": 123_456, "fork_policy": "no_public_forks", "website": null, "description": "",
            "created_on": time(r.updated_ms - 86_400_000 * 30), "updated_on": time(r.updated_ms),
            "mainbranch": {"type": "branch", "name": "main"},
            "project": {"type": "project", "key": key, "name": name, "uuid": project_uuid(&key)},
            "workspace": {"type": "workspace", "slug": self.workspace, "uuid": WORKSPACE_UUID, "name": "Acme"},
            "parent": null,
            "links": {"html": {"href": format!("https://bitbucket.org/{}/{}", self.workspace, r.slug)}}
        })
    }
}

const WORKSPACE_UUID: &str = "{aaaaaaaa-0000-4000-8000-000000000001}";

fn project_uuid(key: &str) -> String {
    let n = key.bytes().fold(0u64, |h, b| h * 31 + u64::from(b));
    uuid(0xcc00_0000 + n % 0xffff)
}

/// Bitbucket writes six fraction digits and an offset.
fn time(ms: i64) -> String {
    let text = cidata_sync::format_timestamp(ms);
    text.replace('Z', "000+00:00")
}

fn pipeline_value(r: &BbRepository, p: &BbPipeline) -> Value {
    let state = match p.result {
        Some(result) => json!({"type": "pipeline_state_completed", "name": "COMPLETED",
            "result": {"type": format!("pipeline_state_completed_{}", result.to_lowercase()), "name": result}}),
        None => json!({"type": "pipeline_state_in_progress", "name": "IN_PROGRESS",
            "stage": {"type": "pipeline_state_in_progress_running", "name": "RUNNING"}}),
    };
    let duration = p.completed_ms.map_or(45, |c| (c - p.created_ms) / 1000);
    json!({
        "type": "pipeline", "uuid": p.uuid, "build_number": p.number, "state": state,
        "created_on": format!("{}", cidata_sync::format_timestamp(p.created_ms)),
        "completed_on": p.completed_ms.map(cidata_sync::format_timestamp),
        "duration_in_seconds": duration, "build_seconds_used": duration,
        "trigger": {"type": format!("pipeline_trigger_{}", p.trigger.to_lowercase()), "name": p.trigger},
        "target": {"type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main",
                   "commit": {"type": "commit", "hash": format!("{:040x}", p.number as u64 * 40_503)}},
        "creator": {"type": "user", "display_name": "Dev", "uuid": uuid(1)},
        "repository": {"type": "repository", "uuid": r.uuid, "full_name": r.slug},
    })
}

/// A pipeline's steps: Build, Test and Deploy, run one after the other. A failed pipeline failed
/// at Test (Deploy not run); a running one is at Test (Deploy pending).
fn steps_value(p: &BbPipeline) -> Vec<Value> {
    let durations = [20 + p.number % 3 * 5, 40 + p.number % 7 * 5, 15];
    let mut started = p.created_ms + 5_000;
    STEPS
        .iter()
        .zip(durations)
        .enumerate()
        .map(|(i, (name, seconds))| {
            let uuid = p.uuid.replacen("-8000-", &format!("-8{:03x}-", i + 1), 1);
            let (state, completed) = match (i, p.result) {
                (0, _) | (1 | 2, Some("SUCCESSFUL")) => (
                    json!({"type": "pipeline_step_state_completed", "name": "COMPLETED",
                        "result": {"type": "pipeline_step_state_completed_successful", "name": "SUCCESSFUL"}}),
                    true,
                ),
                (1, Some(_)) => (
                    json!({"type": "pipeline_step_state_completed", "name": "COMPLETED",
                        "result": {"type": "pipeline_step_state_completed_failed", "name": "FAILED"}}),
                    true,
                ),
                (1, None) => (
                    json!({"type": "pipeline_step_state_in_progress", "name": "IN_PROGRESS"}),
                    false,
                ),
                (_, Some(_)) => (json!({"type": "pipeline_step_state_not_run", "name": "NOT_RUN"}), false),
                (_, None) => (json!({"type": "pipeline_step_state_pending", "name": "PENDING"}), false),
            };
            let ran = completed || i == 1 && p.result.is_none();
            let value = json!({
                "type": "pipeline_step", "uuid": uuid, "name": name, "state": state,
                "started_on": ran.then(|| cidata_sync::format_timestamp(started)),
                "completed_on": completed.then(|| cidata_sync::format_timestamp(started + seconds * 1000)),
                "duration_in_seconds": if completed { seconds } else { 0 },
                "build_seconds_used": if completed { seconds } else { 0 },
                "run_number": 1,
                "pipeline": {"type": "pipeline", "uuid": p.uuid},
            });
            started += seconds * 1000;
            value
        })
        .collect()
}

fn pull_request_value(r: &BbRepository, pr: &BbPullRequest) -> Value {
    json!({
        "type": "pullrequest", "id": pr.id, "title": format!("Change {} of {}", pr.id, r.slug),
        "description": "", "state": pr.state,
        "author": {"type": "user", "display_name": "Dev", "uuid": uuid(1)},
        "source": {"branch": {"name": format!("feature/{}", pr.id)}, "commit": {"hash": "abc1234"}},
        "destination": {"branch": {"name": "main"}, "commit": {"hash": "def5678"}},
        "merge_commit": if pr.state == "MERGED" { json!({"hash": "fedcba9"}) } else { Value::Null },
        "comment_count": pr.id, "task_count": 0, "close_source_branch": true, "closed_by": null,
        "created_on": time(pr.created_ms), "updated_on": time(pr.updated_ms),
    })
}

/// `updated_on >= TIME` out of a `q`, the only filter the sync sends.
fn updated_since(q: Option<&str>) -> Option<i64> {
    let q = q?;
    let at = q.find("updated_on >=")?;
    let rest = q[at + "updated_on >=".len()..].trim_start();
    let end = rest
        .find(|c: char| c == ')' || c.is_whitespace())
        .unwrap_or(rest.len());
    cidata_bitbucket::parse_time(&rest[..end])
}

/// `count` pull requests, numbered from 1, the newest updated an hour before `now`.
fn pull_requests(count: i64, now: i64) -> Vec<BbPullRequest> {
    (1..=count)
        .map(|id| BbPullRequest {
            id,
            state: ["MERGED", "DECLINED", "OPEN"][(id as usize - 1) % 3],
            created_ms: now - (count + 1 - id) * 86_400_000,
            updated_ms: now - (count + 1 - id) * 3_600_000,
        })
        .collect()
}

/// One page of `items` by `page` and `pagelen`, with a `next` link when `link` says so.
fn page(items: Vec<Value>, query: &[(String, String)], next_base: Option<&str>) -> Value {
    let q = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let pagelen: usize = q("pagelen")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let number: usize = q("page").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
    let start = (number - 1) * pagelen;
    let values: Vec<Value> = items.iter().skip(start).take(pagelen).cloned().collect();
    let mut body =
        json!({"pagelen": pagelen, "page": number, "size": items.len(), "values": values});
    if let Some(base) = next_base
        && start + pagelen < items.len()
    {
        let mut pairs: Vec<String> = query
            .iter()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| format!("{k}={}", cidata_core::encode_segment(v)))
            .collect();
        pairs.push(format!("page={}", number + 1));
        body["next"] = format!("{base}?{}", pairs.join("&")).into();
    }
    body
}

/// What the simulated Bitbucket answers: status and JSON body. `origin` is the server's own
/// `http://host:port`, for `next` links.
pub fn respond(
    world: &BbWorld,
    method: &str,
    segments: &[String],
    query: &[(String, String)],
    origin: &str,
) -> (u16, Value) {
    let q = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let missing = (
        404,
        json!({"type": "error", "error": {"message": "Resource not found"}}),
    );
    let ws = world.workspace.as_str();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method, segs.as_slice()) {
        ("GET", ["user"]) => (
            200,
            json!({"type": "user", "uuid": uuid(1), "display_name": "Demo", "nickname": "demo"}),
        ),
        ("GET", ["user", "workspaces"]) => (
            200,
            page(
                vec![json!({
                    "type": "workspace_access", "administrator": true,
                    "workspace": {"type": "workspace_base", "slug": ws, "uuid": WORKSPACE_UUID, "name": "Acme"}
                })],
                query,
                None,
            ),
        ),
        ("GET", ["workspaces"]) => (
            410,
            json!({"type": "error", "error": {"message": "This API is no longer supported.", "detail": "Use /user/workspaces (CHANGE-2770)."}}),
        ),
        ("GET", ["workspaces", w]) if *w == ws || *w == WORKSPACE_UUID => (
            200,
            json!({
                "type": "workspace", "uuid": WORKSPACE_UUID, "slug": ws, "name": "Acme", "is_private": true,
                "created_on": "2019-04-01T09:00:00.000000+00:00", "updated_on": "2025-06-01T09:00:00.000000+00:00",
                "website": null, "location": null, "has_publicly_visible_repos": false
            }),
        ),
        ("GET", ["workspaces", w, "projects"]) if *w == ws => {
            let items = (0..world.projects).map(project).map(|(key, name)| json!({
                "type": "project", "uuid": project_uuid(&key), "key": key, "name": name, "is_private": true,
                "description": format!("The {name} project"), "created_on": "2020-01-01T00:00:00.000000+00:00",
                "updated_on": "2025-01-01T00:00:00.000000+00:00", "has_publicly_visible_repos": false
            })).collect();
            (200, page(items, query, None))
        }
        ("GET", ["repositories", w]) if *w == ws => {
            let since = updated_since(q("q"));
            let mut repos: Vec<&BbRepository> = world
                .repositories
                .iter()
                .filter(|r| since.is_none_or(|s| r.updated_ms >= s))
                .collect();
            match q("sort") {
                Some("-updated_on") => repos.sort_by_key(|r| std::cmp::Reverse(r.updated_ms)),
                _ => repos.sort_by_key(|r| r.updated_ms),
            }
            let items = repos.iter().map(|r| world.repository_value(r)).collect();
            let base = format!("{origin}{BITBUCKET_PREFIX}repositories/{ws}");
            (200, page(items, query, Some(&base)))
        }
        ("GET", ["repositories", w, r]) if *w == ws => match world.repository(r) {
            Some(repo) => (200, world.repository_value(repo)),
            None => missing,
        },
        ("GET", ["repositories", w, r, "pipelines"]) if *w == ws => match world.repository(r) {
            // Newest first, and no `next`: the client pages by number (BCLOUD-13806).
            Some(repo) => {
                let items = repo
                    .pipelines
                    .iter()
                    .rev()
                    .map(|p| pipeline_value(repo, p))
                    .collect();
                (200, page(items, query, None))
            }
            None => missing,
        },
        ("GET", ["repositories", w, r, "pipelines", id]) if *w == ws => {
            let found = world.repository(r).and_then(|repo| {
                repo.pipelines
                    .iter()
                    .find(|p| p.uuid == *id || p.number.to_string() == *id)
                    .map(|p| (repo, p))
            });
            match found {
                Some((repo, p)) => (200, pipeline_value(repo, p)),
                None => missing,
            }
        }
        ("GET", ["repositories", w, r, "pipelines", id, "steps"]) if *w == ws => {
            let found = world
                .repository(r)
                .and_then(|repo| repo.pipelines.iter().find(|p| p.uuid == *id));
            match found {
                Some(p) => (200, page(steps_value(p), query, None)),
                None => missing,
            }
        }
        ("GET", ["repositories", w, r, "pullrequests"]) if *w == ws => match world.repository(r) {
            Some(repo) => {
                let states: Vec<&str> = query
                    .iter()
                    .filter(|(k, _)| k == "state")
                    .map(|(_, v)| v.as_str())
                    .collect();
                let since = updated_since(q("q"));
                let mut prs: Vec<&BbPullRequest> = repo
                    .pull_requests
                    .iter()
                    .filter(|p| {
                        if states.is_empty() {
                            p.state == "OPEN"
                        } else {
                            states.contains(&p.state)
                        }
                    })
                    .filter(|p| since.is_none_or(|s| p.updated_ms >= s))
                    .collect();
                prs.sort_by_key(|p| p.updated_ms);
                let items = prs.iter().map(|p| pull_request_value(repo, p)).collect();
                let base = format!("{origin}{BITBUCKET_PREFIX}repositories/{ws}/{r}/pullrequests");
                (200, page(items, query, Some(&base)))
            }
            None => missing,
        },
        ("GET", ["repositories", w, r, "commits"]) if *w == ws => match world.repository(r) {
            Some(repo) => {
                let items = repo.pipelines.iter().rev().map(|p| json!({
                    "type": "commit", "hash": format!("{:040x}", p.number as u64 * 40_503),
                    "date": time(p.created_ms), "message": format!("Change {}\n\nDetails", p.number),
                    "author": {"raw": "Dev <dev@example.com>", "user": {"display_name": "Dev"}}
                })).collect();
                (200, page(items, query, None))
            }
            None => missing,
        },
        _ => missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_world_moves_on_with_a_rename_and_a_deletion() {
        let mut w = BbWorld::demo();
        let t = w.truth();
        assert_eq!(
            (t.repositories, t.pipelines, t.pull_requests, t.running),
            (9, 54, 27, 3)
        );
        let first = w.repositories[0].uuid.clone();
        w.advance();
        let t = w.truth();
        assert_eq!(t.repositories, 8);
        assert_eq!(t.running, 4, "the new pipelines of the pushed repositories");
        assert!(w.repositories[0].slug.ends_with("-renamed"));
        assert_eq!(w.repositories[0].uuid, first);
        assert_eq!(
            updated_since(Some("(updated_on >= 2026-01-01T00:00:00.000Z) AND (x = 1)")),
            cidata_bitbucket::parse_time("2026-01-01T00:00:00Z")
        );
    }
}
