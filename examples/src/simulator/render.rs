//! JSON as Jenkins renders it: objects pruned to the `tree=` fields (with `_class` always), nested
//! collections, and range specifiers applied to collections before their items are rendered.

use cidata_jenkins::{Range, Tree, encode_segment};
use serde_json::{Map, Value, json};

use super::world::{SimBuild, SimJob, SimKind};

/// The root URL the simulated Jenkins believes it has: stale on purpose, as on real servers, so
/// that clients must rebase every URL onto the address they use.
pub const STALE_ROOT: &str = "http://jenkins.internal:8080/jenkins/";

/// `job/a/job/b/` for a job path.
pub fn job_url_path(path: &[String]) -> String {
    path.iter()
        .map(|s| format!("job/{}/", encode_segment(s)))
        .collect()
}

/// Slices `items` (newest first) by a range: 0-based, end exclusive, cut short past the end.
fn slice<T>(items: &[T], range: Option<Range>) -> &[T] {
    let len = items.len() as u64;
    let (start, end) = match range {
        None => (0, len),
        Some(Range::Between(m, n)) => (m, n),
        Some(Range::From(m)) => (m, len),
        Some(Range::To(n)) => (0, n),
        Some(Range::Exactly(n)) => (n, n + 1),
    };
    let (start, end) = (start.min(len) as usize, end.min(len) as usize);
    &items[start..end.max(start)]
}

/// Keeps the fields of `tree` (and `_class`) of an object, recursively.
pub fn prune(value: Value, tree: &Tree) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            if let Some(c) = map.get("_class") {
                out.insert("_class".into(), c.clone());
            }
            for field in tree.field_list() {
                let Some(v) = map.get(field.name()) else {
                    continue;
                };
                let v = match (v, field.range_spec()) {
                    (Value::Array(items), range) => Value::Array(slice(items, range).to_vec()),
                    (other, _) => other.clone(),
                };
                let v = match (v, field.sub_tree()) {
                    (Value::Array(items), Some(sub)) => {
                        Value::Array(items.into_iter().map(|i| prune(i, sub)).collect())
                    }
                    (v, Some(sub)) => prune(v, sub),
                    (v, None) => v,
                };
                out.insert(field.name().to_owned(), v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|i| prune(i, tree)).collect()),
        other => other,
    }
}

fn build_ref(job: &SimJob, path: &[String], b: &SimBuild) -> Value {
    json!({ "_class": job.kind.build_class(), "number": b.number, "url": format!("{STALE_ROOT}{}{}/", job_url_path(path), b.number) })
}

/// The full object of a build (cheap: pruned afterwards).
pub fn build_value(job: &SimJob, path: &[String], b: &SimBuild) -> Value {
    let url = format!("{STALE_ROOT}{}{}/", job_url_path(path), b.number);
    let artifacts: Vec<Value> = b
        .artifacts
        .iter()
        .map(|p| json!({ "displayPath": p.rsplit('/').next(), "fileName": p.rsplit('/').next(), "relativePath": p }))
        .collect();
    let mut actions = vec![
        json!({ "_class": "hudson.model.CauseAction", "causes": [
            { "_class": "hudson.triggers.SCMTrigger$SCMTriggerCause", "shortDescription": "Started by an SCM change" }
        ]}),
        json!({}),
        // Two builds per commit (a rebuild, a nightly run on an unchanged branch): results that
        // differ on one revision are what the dashboard calls flaky.
        json!({ "_class": "hudson.plugins.git.util.BuildData", "lastBuiltRevision": {
            "SHA1": format!("{:040x}", (b.number / 2).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            "branch": [{ "name": "refs/remotes/origin/main" }] }, "remoteUrls": ["https://git.example.com/app.git"] }),
    ];
    if b.result.is_some() {
        actions.push(json!({ "_class": "hudson.tasks.junit.TestResultAction", "failCount": u64::from(b.result == Some("UNSTABLE")),
            "skipCount": 2, "totalCount": 120, "urlName": "testReport" }));
    }
    actions
        .push(json!({ "_class": "org.jenkinsci.plugins.displayurlapi.actions.RunDisplayAction" }));
    json!({
        "_class": job.kind.build_class(),
        "actions": actions,
        "artifacts": artifacts,
        "building": b.running(),
        "inProgress": b.running(),
        "description": null,
        "displayName": format!("#{}", b.number),
        "duration": b.duration,
        "estimatedDuration": 120_000,
        "executor": if b.running() { json!({}) } else { Value::Null },
        "fullDisplayName": format!("{} #{}", path.join(" » "), b.number),
        "id": b.number.to_string(),
        "keepLog": false,
        "number": b.number,
        "queueId": 1000 + b.number,
        "result": b.result,
        "timestamp": b.timestamp,
        "url": url,
        "builtOn": if b.number.is_multiple_of(2) { "agent-linux-1" } else { "" },
        "changeSets": [],
        "culprits": [],
    })
}

/// The object of a job: cheap fields always, children and builds only when the tree asks for them.
pub fn job_value(job: &SimJob, path: &[String], tree: Option<&Tree>) -> Value {
    let newest_first: Vec<&SimBuild> = job.builds.iter().rev().collect();
    let mut map = Map::new();
    map.insert("_class".into(), json!(job.kind.class()));
    map.insert("name".into(), json!(job.name));
    map.insert("fullName".into(), json!(path.join("/")));
    map.insert("displayName".into(), json!(job.name));
    map.insert("fullDisplayName".into(), json!(path.join(" » ")));
    map.insert(
        "url".into(),
        json!(format!("{STALE_ROOT}{}", job_url_path(path))),
    );
    map.insert("description".into(), Value::Null);
    if !job.kind.is_container() {
        map.insert("color".into(), json!(job.color()));
        map.insert("buildable".into(), json!(true));
        map.insert("inQueue".into(), json!(false));
        map.insert(
            "nextBuildNumber".into(),
            json!(job.builds.last().map_or(1, |b| b.number + 1)),
        );
        let last = job.builds.last().map(|b| build_ref(job, path, b));
        let last_done = job
            .builds
            .iter()
            .rev()
            .find(|b| !b.running())
            .map(|b| build_ref(job, path, b));
        map.insert("lastBuild".into(), last.unwrap_or(Value::Null));
        map.insert(
            "lastCompletedBuild".into(),
            last_done.unwrap_or(Value::Null),
        );
        map.insert(
            "firstBuild".into(),
            job.builds
                .first()
                .map_or(Value::Null, |b| build_ref(job, path, b)),
        );
    }
    let Some(tree) = tree else {
        // No tree: what `depth=0` gives, children and the capped `builds` as references.
        if job.kind.is_container() {
            let kids: Vec<Value> = job
                .children
                .iter()
                .map(|c| {
                    let mut p = path.to_vec();
                    p.push(c.name.clone());
                    json!({ "_class": c.kind.class(), "name": c.name, "url": format!("{STALE_ROOT}{}", job_url_path(&p)), "color": c.color() })
                })
                .collect();
            map.insert("jobs".into(), json!(kids));
        } else {
            let refs: Vec<Value> = newest_first
                .iter()
                .take(100)
                .map(|b| build_ref(job, path, b))
                .collect();
            map.insert("builds".into(), json!(refs));
        }
        return Value::Object(map);
    };
    let mut out = match prune(Value::Object(map), tree) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for field in tree.field_list() {
        match field.name() {
            "jobs" if job.kind.is_container() => {
                let kids: Vec<Value> = slice(&job.children, field.range_spec())
                    .iter()
                    .map(|c| {
                        let mut p = path.to_vec();
                        p.push(c.name.clone());
                        job_value(c, &p, field.sub_tree())
                    })
                    .collect();
                out.insert("jobs".into(), Value::Array(kids));
            }
            "allBuilds" | "builds" if !job.kind.is_container() => {
                let all: &[&SimBuild] = if field.name() == "builds" {
                    &newest_first[..newest_first.len().min(100)]
                } else {
                    &newest_first
                };
                let builds: Vec<Value> = slice(all, field.range_spec())
                    .iter()
                    .map(|b| {
                        let v = build_value(job, path, b);
                        match field.sub_tree() {
                            Some(sub) => prune(v, sub),
                            None => build_ref(job, path, b),
                        }
                    })
                    .collect();
                out.insert(field.name().to_owned(), Value::Array(builds));
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// The root object (`hudson.model.Hudson`).
pub fn root_value(jobs: &[SimJob], tree: Option<&Tree>) -> Value {
    let root = SimJob {
        name: String::new(),
        kind: SimKind::Folder,
        children: jobs.to_vec(),
        builds: vec![],
        artifacts_per_build: 0,
    };
    let mut value = job_value(&root, &[], tree);
    if let Value::Object(map) = &mut value {
        map.insert("_class".into(), json!("hudson.model.Hudson"));
        for key in ["name", "fullName", "displayName", "fullDisplayName"] {
            map.remove(key);
        }
        if tree.is_none_or(|t| t.get("url").is_some()) {
            map.insert("url".into(), json!(STALE_ROOT));
        }
        if tree.is_none() {
            map.insert("mode".into(), json!("NORMAL"));
            map.insert("useCrumbs".into(), json!(false));
            map.insert("useSecurity".into(), json!(true));
        }
    }
    value
}

/// `/N/wfapi/describe` of a Pipeline run.
pub fn run_value(path: &[String], b: &SimBuild, context: &str) -> Value {
    let job = job_url_path(path);
    let status = match b.result {
        None if b.input.is_some() => "PAUSED_PENDING_INPUT",
        None => "IN_PROGRESS",
        Some("FAILURE") => "FAILED",
        Some(other) => other,
    };
    let stages: Vec<Value> = b
        .stages
        .iter()
        .map(|s| {
            let mut v = json!({
                "_links": { "self": { "href": format!("{context}{job}{}/execution/node/{}/wfapi/describe", b.number, s.id) } },
                "id": s.id, "name": s.name, "execNode": "",
                "status": if s.status == "IN_PROGRESS" && b.input.is_some() { "PAUSED_PENDING_INPUT" } else { s.status },
                "startTimeMillis": s.start_ms, "durationMillis": s.duration_ms, "pauseDurationMillis": 0
            });
            if let Some(e) = &s.error {
                v["error"] = json!({ "message": e, "type": "hudson.AbortException" });
            }
            v
        })
        .collect();
    let mut links =
        json!({ "self": { "href": format!("{context}{job}{}/wfapi/describe", b.number) } });
    if !b.artifacts.is_empty() {
        links["artifacts"] =
            json!({ "href": format!("{context}{job}{}/wfapi/artifacts", b.number) });
    }
    json!({
        "_links": links,
        "id": b.number.to_string(),
        "name": format!("#{}", b.number),
        "status": status,
        "startTimeMillis": b.timestamp,
        "endTimeMillis": b.timestamp + b.duration,
        "durationMillis": b.duration,
        "queueDurationMillis": 5,
        "pauseDurationMillis": 0,
        "stages": stages,
    })
}

/// `/N/wfapi/pendingInputActions`: the input the run waits at, if any.
pub fn pending_inputs_value(path: &[String], b: &SimBuild, context: &str) -> Value {
    let job = job_url_path(path);
    let Some(input) = &b.input else {
        return json!([]);
    };
    json!([{
        "id": input.id,
        "proceedText": "Proceed",
        "message": input.message,
        "inputs": input.parameters,
        "proceedUrl": format!("{context}{job}{}/wfapi/inputSubmit?inputId={}", b.number, input.id),
        "abortUrl": format!("{context}{job}{}/input/{}/abort", b.number, input.id),
        "redirectApprovalUrl": format!("{context}{job}{}/input/", b.number),
    }])
}

/// The console log of a build (generated, a few lines per stage).
pub fn console_text(job: &SimJob, b: &SimBuild) -> String {
    let mut out = format!(
        "Started by an SCM change\nBuilding {} #{}\n",
        job.name, b.number
    );
    for s in &b.stages {
        out.push_str(&format!(
            "[Pipeline] {{ ({})\n+ make {}\n",
            s.name,
            s.name.to_lowercase()
        ));
    }
    for a in &b.artifacts {
        out.push_str(&format!("Archiving {a}\n"));
    }
    if let Some(r) = b.result {
        out.push_str(&format!("Finished: {r}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::world::World;

    #[test]
    fn trees_prune_nest_and_slice() {
        let w = World::demo();
        let tree = Tree::parse("jobs[name,color,jobs[name]{,1}]").unwrap();
        let root = root_value(&w.jobs, Some(&tree));
        let platform = &root["jobs"][0];
        assert_eq!(platform["name"], "platform");
        assert_eq!(
            platform["_class"],
            "com.cloudbees.hudson.plugins.folder.Folder"
        );
        assert!(platform.get("url").is_none(), "not asked for");
        assert_eq!(
            platform["jobs"].as_array().unwrap().len(),
            1,
            "range {{,1}}"
        );
        let big = w.find(&["nightly-big".into()]).unwrap();
        let tree = Tree::parse("allBuilds[number,result]{240,300}").unwrap();
        let v = job_value(big, &["nightly-big".into()], Some(&tree));
        let builds = v["allBuilds"].as_array().unwrap();
        assert_eq!(builds.len(), 10, "cut short past the end");
        assert_eq!(builds[0]["number"], 10);
        assert_eq!(builds[9]["number"], 1);
        assert!(builds[0].get("timestamp").is_none());
    }
}
