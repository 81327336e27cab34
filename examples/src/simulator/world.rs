//! The simulated server's data: folders, freestyle and Pipeline jobs, builds with artifacts and
//! stages, some still running; and how it moves on between syncs.

/// The kind of a simulated job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimKind {
    /// A folder (`com.cloudbees.hudson.plugins.folder.Folder`).
    Folder,
    /// A multibranch project; its children are Pipelines.
    MultiBranch,
    /// A freestyle project.
    Freestyle,
    /// A Pipeline (`WorkflowJob`).
    Pipeline,
}

impl SimKind {
    /// The Java class Jenkins reports.
    pub fn class(self) -> &'static str {
        match self {
            SimKind::Folder => "com.cloudbees.hudson.plugins.folder.Folder",
            SimKind::MultiBranch => {
                "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"
            }
            SimKind::Freestyle => "hudson.model.FreeStyleProject",
            SimKind::Pipeline => "org.jenkinsci.plugins.workflow.job.WorkflowJob",
        }
    }

    /// The class of its builds.
    pub fn build_class(self) -> &'static str {
        match self {
            SimKind::Pipeline => "org.jenkinsci.plugins.workflow.job.WorkflowRun",
            _ => "hudson.model.FreeStyleBuild",
        }
    }

    /// Whether it holds jobs.
    pub fn is_container(self) -> bool {
        matches!(self, SimKind::Folder | SimKind::MultiBranch)
    }
}

/// A stage of a simulated Pipeline run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStage {
    /// The flow node id.
    pub id: String,
    /// The stage name.
    pub name: String,
    /// `SUCCESS`, `FAILED`, `IN_PROGRESS`.
    pub status: &'static str,
    /// Start, ms since the epoch.
    pub start_ms: i64,
    /// Duration, ms.
    pub duration_ms: i64,
    /// The error of a failed stage.
    pub error: Option<String>,
}

/// An `input` step a running Pipeline waits at, as `wfapi/pendingInputActions` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimInput {
    /// The input's id (`inputId=` of its proceed URL).
    pub id: String,
    /// The question shown to people.
    pub message: String,
    /// Parameters, as wfapi's `inputs` entries (`type`, `name`, `definition`).
    pub parameters: serde_json::Value,
}

/// A simulated build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimBuild {
    /// The build number.
    pub number: u64,
    /// Start, ms since the epoch.
    pub timestamp: i64,
    /// Duration, ms (0 while running).
    pub duration: i64,
    /// `SUCCESS`, `FAILURE`, `UNSTABLE`, `ABORTED`; `None` while running.
    pub result: Option<&'static str>,
    /// Artifact paths (relative, `/`-separated); archived when the build finishes.
    pub artifacts: Vec<String>,
    /// Stages (Pipelines only).
    pub stages: Vec<SimStage>,
    /// The input the run waits at, if any (its last stage is then paused).
    pub input: Option<SimInput>,
    /// How the last input was answered: `proceed` with the parameters' values, or `abort`.
    pub answer: Option<serde_json::Value>,
}

impl SimBuild {
    /// Whether it is still running.
    pub fn running(&self) -> bool {
        self.result.is_none()
    }
}

/// A simulated job or folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimJob {
    /// Its own name (raw, as Jenkins shows it).
    pub name: String,
    /// Its kind.
    pub kind: SimKind,
    /// Children of a container.
    pub children: Vec<SimJob>,
    /// Builds, oldest first.
    pub builds: Vec<SimBuild>,
    /// How many artifacts each finished build archives.
    pub artifacts_per_build: usize,
}

/// Counts of what the server holds: what a complete sync must end with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Truth {
    /// Jobs and folders.
    pub jobs: u64,
    /// Builds.
    pub builds: u64,
    /// Artifacts of all builds.
    pub artifacts: u64,
    /// Stages of all Pipeline runs.
    pub stages: u64,
    /// Builds still running.
    pub running: u64,
}

/// The whole simulated server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct World {
    /// Top-level jobs.
    pub jobs: Vec<SimJob>,
    /// The simulated clock, ms since the epoch.
    pub clock_ms: i64,
    /// How many times it moved on.
    pub generation: u64,
}

/// A small deterministic hash, so that the same world is the same on every run.
fn mix(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xD1B5_4A32_D192_ED03);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

const START_MS: i64 = 1_735_689_600_000; // 2025-01-01T00:00:00Z
const STAGE_NAMES: [&str; 4] = ["Checkout", "Build", "Test", "Deploy"];

impl SimJob {
    fn container(name: &str, kind: SimKind, children: Vec<SimJob>) -> SimJob {
        SimJob {
            name: name.to_owned(),
            kind,
            children,
            builds: Vec::new(),
            artifacts_per_build: 0,
        }
    }

    /// A buildable job with `builds` builds; the newest `running` of them still run.
    pub fn buildable(
        name: &str,
        kind: SimKind,
        builds: u64,
        running: u64,
        artifacts_per_build: usize,
    ) -> SimJob {
        let mut job = SimJob {
            name: name.to_owned(),
            kind,
            children: Vec::new(),
            builds: Vec::new(),
            artifacts_per_build,
        };
        let seed = name.bytes().fold(0u64, |h, b| mix(h, u64::from(b)));
        for number in 1..=builds {
            let running = number + running > builds;
            job.builds.push(job.make_build(
                seed,
                number,
                START_MS + number as i64 * 3_600_000,
                running,
            ));
        }
        job
    }

    fn make_build(&self, seed: u64, number: u64, timestamp: i64, running: bool) -> SimBuild {
        let h = mix(seed, number);
        let result = if running {
            None
        } else {
            Some(match h % 10 {
                0 | 1 => "FAILURE",
                2 => "UNSTABLE",
                3 if h.is_multiple_of(7) => "ABORTED",
                _ => "SUCCESS",
            })
        };
        let mut build = SimBuild {
            number,
            timestamp,
            duration: if running {
                0
            } else {
                60_000 + (h % 240_000) as i64
            },
            result,
            artifacts: Vec::new(),
            stages: Vec::new(),
            input: None,
            answer: None,
        };
        self.complete(&mut build, h);
        build
    }

    /// Fills artifacts and stages according to the build's state.
    fn complete(&self, build: &mut SimBuild, h: u64) {
        if build.result.is_some() {
            build.input = None;
        }
        if build.result.is_some() && build.result != Some("ABORTED") {
            build.artifacts = (0..self.artifacts_per_build)
                .map(|i| match i % 3 {
                    0 => format!(
                        "dist/{}-{}.tar.gz",
                        self.name.replace('%', "_"),
                        build.number
                    ),
                    1 => "reports/junit/TEST-results.xml".to_owned(),
                    _ => format!("logs/step-{i}.log"),
                })
                .collect();
        }
        if self.kind == SimKind::Pipeline {
            let fail_at = match build.result {
                Some("FAILURE") => Some(2 + (h % 2) as usize),
                _ => None,
            };
            let upto = match (build.result, fail_at) {
                (None, _) => 1 + (h % 3) as usize,
                (_, Some(f)) => f + 1,
                _ => STAGE_NAMES.len(),
            };
            let mut start = build.timestamp + 1_000;
            build.stages = (0..upto)
                .map(|i| {
                    let last = i + 1 == upto;
                    let status = match (build.result, fail_at) {
                        (None, _) if last => "IN_PROGRESS",
                        (_, Some(f)) if f == i => "FAILED",
                        _ => "SUCCESS",
                    };
                    let duration = if status == "IN_PROGRESS" {
                        0
                    } else {
                        5_000 + (mix(h, i as u64) % 60_000) as i64
                    };
                    let stage = SimStage {
                        id: (6 + i * 4).to_string(),
                        name: STAGE_NAMES[i].to_owned(),
                        status,
                        start_ms: start,
                        duration_ms: duration,
                        error: (status == "FAILED")
                            .then(|| "script returned exit code 1".to_owned()),
                    };
                    start += duration;
                    stage
                })
                .collect();
        }
    }

    /// The colour of the ball: the last finished result, `_anime` while a build runs.
    pub fn color(&self) -> Option<String> {
        if self.kind.is_container() {
            return None;
        }
        let last_done = self.builds.iter().rev().find(|b| !b.running());
        let base = match last_done.and_then(|b| b.result) {
            None => "notbuilt",
            Some("SUCCESS") => "blue",
            Some("UNSTABLE") => "yellow",
            Some("ABORTED") => "aborted",
            Some(_) => "red",
        };
        let running = self.builds.last().is_some_and(SimBuild::running);
        Some(if running {
            format!("{base}_anime")
        } else {
            base.to_owned()
        })
    }

    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a SimJob)) {
        f(self);
        for c in &self.children {
            c.visit(f);
        }
    }

    fn visit_mut(&mut self, f: &mut impl FnMut(&mut SimJob)) {
        f(self);
        for c in &mut self.children {
            c.visit_mut(f);
        }
    }
}

impl World {
    /// The demo server: nested folders, freestyle and Pipeline jobs with stages, a multibranch
    /// project, one job with 250 builds, artifacts in subfolders, a job with a non-ASCII name, a
    /// job never built, an empty folder, and builds still running.
    pub fn demo() -> World {
        use SimKind::*;
        let jobs = vec![
            SimJob::container(
                "platform",
                Folder,
                vec![
                    SimJob::container(
                        "services",
                        Folder,
                        vec![
                            SimJob::buildable("api", Pipeline, 30, 1, 1),
                            SimJob::buildable("worker", Freestyle, 20, 0, 3),
                            SimJob::container(
                                "legacy",
                                Folder,
                                vec![SimJob::buildable("cron", Freestyle, 8, 0, 0)],
                            ),
                        ],
                    ),
                    SimJob::container(
                        "web",
                        MultiBranch,
                        vec![
                            SimJob::buildable("main", Pipeline, 15, 0, 1),
                            SimJob::buildable("feature%2Flogin", Pipeline, 5, 1, 1),
                        ],
                    ),
                ],
            ),
            SimJob::buildable("nightly-big", Freestyle, 250, 1, 2),
            SimJob::buildable("déploiement prod", Pipeline, 12, 1, 2),
            SimJob::buildable("never-built", Freestyle, 0, 0, 0),
            SimJob::container("empty-folder", Folder, vec![]),
        ];
        let mut world = World {
            jobs,
            clock_ms: START_MS + 300 * 3_600_000,
            generation: 0,
        };
        // The running deployment waits for a person: `ci-sync jenkins input` answers it.
        if let Some(build) = world
            .find_mut(&["déploiement prod".to_owned()])
            .and_then(|job| job.builds.last_mut())
        {
            build.input = Some(SimInput {
                id: "Deploy".to_owned(),
                message: "Deploy to production?".to_owned(),
                parameters: serde_json::json!([
                    {"type": "ChoiceParameterDefinition", "name": "TARGET",
                     "description": "Where to deploy",
                     "definition": {"name": "TARGET", "choices": ["staging", "prod"]}},
                    {"type": "BooleanParameterDefinition", "name": "NOTIFY",
                     "description": "Tell the channel",
                     "definition": {"name": "NOTIFY", "defaultVal": true}}
                ]),
            });
        }
        world
    }

    /// A server of `jobs` jobs (every other one a Pipeline) with `builds` builds each and
    /// `artifacts` artifacts per build, in folders of 20, none running: for benchmarks.
    pub fn bench(jobs: usize, builds: u64, artifacts: usize) -> World {
        let mut folders = Vec::new();
        for f in 0..jobs.div_ceil(20) {
            let children = (f * 20..((f + 1) * 20).min(jobs))
                .map(|i| {
                    let kind = if i % 2 == 0 {
                        SimKind::Pipeline
                    } else {
                        SimKind::Freestyle
                    };
                    SimJob::buildable(&format!("job-{i:04}"), kind, builds, 0, artifacts)
                })
                .collect();
            folders.push(SimJob::container(
                &format!("team-{f:02}"),
                SimKind::Folder,
                children,
            ));
        }
        World {
            jobs: folders,
            clock_ms: START_MS + builds as i64 * 3_600_000,
            generation: 0,
        }
    }

    /// Moves on: running builds finish, and some jobs start new builds (one of them finished,
    /// one still running), so that the next sync has something to do.
    pub fn advance(&mut self) {
        self.generation += 1;
        self.clock_ms += 3_600_000;
        let (clock, generation) = (self.clock_ms, self.generation);
        let mut index = 0u64;
        for job in &mut self.jobs {
            job.visit_mut(&mut |job| {
                index += 1;
                if job.kind.is_container() {
                    return;
                }
                let seed = job.name.bytes().fold(0u64, |h, b| mix(h, u64::from(b)));
                // Every running build finishes.
                let finished: Vec<usize> = job
                    .builds
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.running())
                    .map(|(i, _)| i)
                    .collect();
                for i in finished {
                    let h = mix(seed, job.builds[i].number);
                    let mut build = job.builds[i].clone();
                    build.result = Some(if h.is_multiple_of(4) {
                        "FAILURE"
                    } else {
                        "SUCCESS"
                    });
                    build.duration = 90_000 + (h % 100_000) as i64;
                    job.complete(&mut build, h);
                    job.builds[i] = build;
                }
                // Two jobs in three start new builds: one that finishes at once, one still running.
                if job.builds.is_empty() || mix(index, generation).is_multiple_of(3) {
                    return;
                }
                let next = job.builds.last().map_or(1, |b| b.number + 1);
                let done = job.make_build(seed, next, clock - 1_800_000, false);
                let running = job.make_build(seed, next + 1, clock - 60_000, true);
                job.builds.push(done);
                job.builds.push(running);
            });
        }
    }

    /// Adds `per_job` finished builds to every job that has builds (a benchmark's "+10%").
    pub fn add_builds(&mut self, per_job: u64) {
        self.generation += 1;
        self.clock_ms += 3_600_000;
        let clock = self.clock_ms;
        for job in &mut self.jobs {
            job.visit_mut(&mut |job| {
                if job.kind.is_container() || job.builds.is_empty() {
                    return;
                }
                let seed = job.name.bytes().fold(0u64, |h, b| mix(h, u64::from(b)));
                let next = job.builds.last().map_or(1, |b| b.number + 1);
                for number in next..next + per_job {
                    let started = clock - (next + per_job - number) as i64 * 60_000;
                    let build = job.make_build(seed, number, started, false);
                    job.builds.push(build);
                }
            });
        }
    }

    /// Removes the job at `full_name`; returns whether it existed.
    pub fn remove(&mut self, full_name: &str) -> bool {
        fn remove_in(jobs: &mut Vec<SimJob>, segments: &[&str]) -> bool {
            match segments {
                [] => false,
                [last] => {
                    let before = jobs.len();
                    jobs.retain(|j| j.name != *last);
                    jobs.len() != before
                }
                [first, rest @ ..] => jobs
                    .iter_mut()
                    .any(|j| j.name == *first && remove_in(&mut j.children, rest)),
            }
        }
        let segments: Vec<&str> = full_name.split('/').collect();
        remove_in(&mut self.jobs, &segments)
    }

    /// Calls `f` with every build and its job's full name.
    pub fn visit_builds(&self, f: &mut impl FnMut(&str, &SimBuild)) {
        fn walk(jobs: &[SimJob], prefix: &str, f: &mut impl FnMut(&str, &SimBuild)) {
            for job in jobs {
                let full_name = if prefix.is_empty() {
                    job.name.clone()
                } else {
                    format!("{prefix}/{}", job.name)
                };
                for build in &job.builds {
                    f(&full_name, build);
                }
                walk(&job.children, &full_name, f);
            }
        }
        walk(&self.jobs, "", f);
    }

    /// What a complete sync must hold.
    pub fn truth(&self) -> Truth {
        let mut t = Truth::default();
        for job in &self.jobs {
            job.visit(&mut |j| {
                t.jobs += 1;
                t.builds += j.builds.len() as u64;
                for b in &j.builds {
                    t.artifacts += b.artifacts.len() as u64;
                    t.stages += b.stages.len() as u64;
                    t.running += u64::from(b.running());
                }
            });
        }
        t
    }

    /// Answers the input a running build waits at: `proceed` finishes it as a success, an abort
    /// as aborted; `answer` is kept for whoever checks what was sent. Whether there was such an
    /// input.
    pub fn answer_input(
        &mut self,
        segments: &[String],
        number: u64,
        input_id: &str,
        proceed: bool,
        answer: serde_json::Value,
    ) -> bool {
        let clock = self.clock_ms;
        let Some(job) = self.find_mut(segments) else {
            return false;
        };
        let seed = job.name.bytes().fold(0u64, |h, b| mix(h, u64::from(b)));
        let Some(i) = job.builds.iter().position(|b| {
            b.number == number && b.input.as_ref().is_some_and(|input| input.id == input_id)
        }) else {
            return false;
        };
        let mut build = job.builds[i].clone();
        build.result = Some(if proceed { "SUCCESS" } else { "ABORTED" });
        build.duration = (clock - build.timestamp).max(1);
        build.answer = Some(answer);
        job.complete(&mut build, mix(seed, number));
        job.builds[i] = build;
        true
    }

    /// The job at `segments` (its full name, split), to change it.
    pub fn find_mut(&mut self, segments: &[String]) -> Option<&mut SimJob> {
        let (first, rest) = segments.split_first()?;
        let mut job = self.jobs.iter_mut().find(|j| &j.name == first)?;
        for s in rest {
            job = job.children.iter_mut().find(|j| &j.name == s)?;
        }
        Some(job)
    }

    /// The job at `segments`, if any.
    pub fn find(&self, segments: &[String]) -> Option<&SimJob> {
        let (first, rest) = segments.split_first()?;
        let mut job = self.jobs.iter().find(|j| &j.name == first)?;
        for s in rest {
            job = job.children.iter().find(|j| &j.name == s)?;
        }
        Some(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_world_has_what_the_demo_promises() {
        let w = World::demo();
        let t = w.truth();
        assert!(t.running >= 3, "{t:?}");
        assert!(w.find(&["nightly-big".into()]).unwrap().builds.len() == 250);
        assert!(t.stages > 0 && t.artifacts > 0);
        let mut w2 = w.clone();
        w2.advance();
        let t2 = w2.truth();
        assert!(t2.builds > t.builds);
        assert_eq!(World::demo(), w, "deterministic");
        let api = w2
            .find(&["platform".into(), "services".into(), "api".into()])
            .unwrap();
        assert!(
            api.builds.iter().take(30).all(|b| !b.running()),
            "running builds finished"
        );
    }

    #[test]
    fn bench_world_sizes() {
        let t = World::bench(200, 100, 2).truth();
        assert_eq!((t.jobs, t.builds, t.running), (210, 20_000, 0));
        assert!(t.artifacts > 30_000);
    }
}
