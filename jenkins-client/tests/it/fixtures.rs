//! Every recorded Jenkins response under `shared/fixtures/jenkins/` (but `wfapi/`, which
//! cidata-wfapi covers) decodes into its model, with the facts each file was recorded for.

use std::collections::BTreeSet;

use cidata_core::{BaseUrl, decode_json};
use cidata_jenkins::JobPath;
use cidata_jenkins::models::*;

pub use test_support::{jenkins_fixture as fixture, jenkins_fixture_dir as fixture_dir};

fn decode<T: serde::de::DeserializeOwned>(rel: &str) -> T {
    decode_json(&fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Decodes `rel` with the model its folder and name call for; returns whether it knew the file.
fn decode_any(rel: &str) -> bool {
    match rel {
        "builds/git-changeset-item.json" => drop(decode::<ChangeSetItem>(rel)),
        "builds/test-report.json" => drop(decode::<TestReport>(rel)),
        "builds/time-in-queue-action.json" => drop(decode::<Action>(rel)),
        "misc/crumb.json" => drop(decode::<Crumb>(rel)),
        "misc/user.json" => drop(decode::<User>(rel)),
        "misc/api-token-generate.json" => drop(decode::<ApiTokenResponse>(rel)),
        "nodes/computer-set-many-agents.json" => drop(decode::<ComputerSet>(rel)),
        "nodes/label.json" => drop(decode::<Label>(rel)),
        "nodes/overall-load.json" => drop(decode::<OverallLoad>(rel)),
        "views/view-list-root.json" => drop(decode::<Root>(rel)),
        r if r.starts_with("builds/") => drop(decode::<Build>(rel)),
        r if r.starts_with("jobs/") => drop(decode::<Job>(rel)),
        r if r.starts_with("nodes/") => drop(decode::<Computer>(rel)),
        r if r.starts_with("queue/item-") => drop(decode::<QueueItem>(rel)),
        r if r.starts_with("queue/") => drop(decode::<Queue>(rel)),
        r if r.starts_with("root/") => drop(decode::<Root>(rel)),
        r if r.starts_with("views/") => drop(decode::<View>(rel)),
        _ => return false,
    }
    true
}

#[test]
fn every_fixture_decodes() {
    let dir = fixture_dir();
    let mut seen = BTreeSet::new();
    for folder in std::fs::read_dir(&dir).unwrap() {
        let folder = folder.unwrap();
        if !folder.file_type().unwrap().is_dir() || folder.file_name() == "wfapi" {
            continue;
        }
        for file in std::fs::read_dir(folder.path()).unwrap() {
            let path = file.unwrap().path();
            let rel = path
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel.ends_with(".json") {
                assert!(decode_any(&rel), "no model is assigned to fixture {rel}");
                seen.insert(rel);
            }
        }
    }
    // 64 files in all: 16 under wfapi/, 2 console texts, 46 JSON here.
    assert_eq!(seen.len(), 46, "{seen:#?}");
}

#[test]
fn builds_keep_results_actions_and_unknown_data() {
    let b: Build = decode("builds/workflow-run-replay-params.json");
    assert_eq!(b.kind(), BuildKind::Pipeline);
    assert_eq!(b.result, Some(BuildResult::Failure));
    assert_eq!(
        (b.number, b.duration, b.timestamp),
        (Some(52), Some(324447), Some(1559281453240))
    );
    assert!(b.is_final());
    let causes: Vec<_> = b
        .causes()
        .filter_map(|c| c.short_description.as_deref())
        .collect();
    assert_eq!(causes, ["Started by user admin", "Replayed #1"]);
    let params: Vec<_> = b
        .parameters()
        .map(|p| (p.name.clone().unwrap(), p.value.clone().unwrap()))
        .collect();
    assert_eq!(
        params[1],
        ("parameter2".into(), serde_json::json!("value2"))
    );
    assert!(
        b.raw.get().contains("\"estimatedDuration\":197743")
            || b.raw.get().contains("\"estimatedDuration\": 197743")
    );

    let legacy: Build = decode("builds/legacy-build-date-id.json");
    assert_eq!(legacy.id.as_deref(), Some("2014-07-25_05-15-17"));
    assert_eq!(legacy.kind(), BuildKind::Unclassified);
    assert_eq!(
        legacy.causes().count(),
        1,
        "causes found by shape without _class"
    );

    let running: Build = decode("builds/matrix-build-in-progress.json");
    assert_eq!(
        (running.result.clone(), running.building),
        (None, Some(true))
    );
    assert!(!running.is_final());
    assert_eq!(running.runs.len(), 1);
    assert_eq!(
        running.scm_revision().and_then(|r| r.sha1.as_deref()),
        Some("e9c8039cf77402adfa4a6ae94bd7b3416f77c0a4")
    );

    let maven: Build = decode("builds/maven-build-git-builddata.json");
    assert_eq!(maven.kind(), BuildKind::Maven);
    assert!(maven.scm_revision().is_some());
    assert!(
        maven.raw.get().contains("mavenVersionUsed"),
        "fields no model knows stay in raw"
    );

    let badge: Build = decode("builds/freestyle-build-params-badge.json");
    let other: Vec<_> = badge
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Other { class, raw } => Some((class.clone().unwrap(), raw.get().to_owned())),
            _ => None,
        })
        .collect();
    assert_eq!(other.len(), 2, "{other:?}");
    assert!(other[0].1.contains("There could be HTML text here"));
    assert_eq!(
        badge.parameters().next().unwrap().value,
        Some(serde_json::json!(true))
    );
    assert_eq!(
        badge.artifacts[0].relative_path.as_deref(),
        Some("fish.txt")
    );

    let empty_null: Build = decode("builds/build-empty-and-null-params.json");
    let values: Vec<_> = empty_null.parameters().map(|p| p.value.clone()).collect();
    assert_eq!(
        values,
        [Some(serde_json::json!("null")), Some(serde_json::json!(""))]
    );

    let git: Build = decode("builds/build-git-changesets.json");
    let item = &git.all_change_sets().next().unwrap().items[0];
    assert_eq!(
        item.commit_id.as_deref(),
        Some("d27afa0805201322d846d7defc29b82c88d9b5ce")
    );
    assert_eq!(item.paths[0].edit_type.as_deref(), Some("add"));

    match decode::<Action>("builds/time-in-queue-action.json") {
        Action::TimeInQueue(t) => assert_eq!(t.queuing_duration_millis, Some(284544)),
        other => panic!("{other:?}"),
    }
    let report: TestReport = decode("builds/test-report.json");
    assert_eq!((report.fail_count, report.pass_count), (Some(2), Some(37)));
    assert_eq!(report.suites[0].cases[0].status.as_deref(), Some("PASSED"));
}

#[test]
fn jobs_dispatch_on_class_and_survive_old_servers() {
    let base = BaseUrl::parse("https://ci.example.com/").unwrap();
    let mb: Job = decode("jobs/multibranch.json");
    assert_eq!(mb.kind(), JobKind::MultiBranch);
    assert!(mb.is_container());
    let branch = &mb.jobs.as_ref().unwrap()[0];
    assert_eq!(branch.name.as_deref(), Some("feature%2Fgithub-commands"));
    let path =
        JobPath::from_segments(["Level1_multibranchjob", branch.name.as_deref().unwrap()]).unwrap();
    assert_eq!(
        path.url_path(),
        "job/Level1_multibranchjob/job/feature%252Fgithub-commands/"
    );

    let folder: Job = decode("jobs/folder.json");
    assert_eq!(folder.kind(), JobKind::Folder);
    assert_eq!(folder.color, None);
    let kinds: Vec<_> = folder
        .jobs
        .as_ref()
        .unwrap()
        .iter()
        .map(Job::kind)
        .collect();
    assert!(kinds.contains(&JobKind::Matrix) && kinds.contains(&JobKind::Pipeline));

    let spaced: Job = decode("jobs/folder-tree-jobs.json");
    let child = &spaced.jobs.as_ref().unwrap()[0];
    assert_eq!(child.name.as_deref(), Some("Test Project"));

    let maven: Job = decode("jobs/maven-job-behind-proxy.json");
    assert_eq!(maven.kind(), JobKind::Maven);
    let p = maven.path(&base).unwrap();
    assert_eq!(p.segments().len(), 1);

    let params: Job = decode("jobs/freestyle-job-param-definitions.json");
    assert_eq!(params.kind(), JobKind::Unclassified);
    let names: Vec<_> = params
        .parameter_definitions()
        .filter_map(|d| d.name.clone())
        .collect();
    assert!(
        !names.is_empty(),
        "parameter definitions read from legacy actions"
    );

    let never: Job = decode("jobs/freestyle-job-never-built.json");
    assert_eq!(never.last_build_number(), None);
    let pipeline: Job = decode("jobs/workflow-job.json");
    assert_eq!(pipeline.kind(), JobKind::Pipeline);
    assert!(pipeline.last_build_number().is_some());
}

#[test]
fn roots_views_queue_and_nodes() {
    let mixed: Root = decode("root/root-mixed-classes.json");
    let unknown: Vec<_> = mixed
        .jobs
        .iter()
        .filter(|j| matches!(j.kind(), JobKind::Unknown(_)))
        .collect();
    assert_eq!(unknown.len(), 1);
    assert!(
        unknown[0]
            .class
            .as_deref()
            .unwrap()
            .starts_with("com.cloudbees.tiger.plugins.palace")
    );
    assert!(unknown[0].name.is_some());

    let url_null: Root = decode("root/root-modern-url-null.json");
    assert_eq!(url_null.url, None);
    let legacy: Root = decode("root/root-legacy-no-class.json");
    assert_eq!(legacy.class, None);
    assert!(!legacy.jobs.is_empty());
    let nested: Root = decode("root/root-tree-fullName-nested.json");
    let inner = nested.jobs.iter().find_map(|j| j.jobs.as_ref()).unwrap();
    assert!(inner[0].full_name.as_deref().unwrap().contains('/'));

    let view: View = decode("views/all-view-behind-proxy.json");
    assert_eq!(view.class.as_deref(), Some("hudson.model.AllView"));
    assert!(!view.jobs.is_empty());

    let states: Vec<QueueState> = [
        "queue/item-waiting-quiet-period.json",
        "queue/item-blocked.json",
        "queue/item-buildable-placeholder-no-url.json",
        "queue/item-left-cancelled.json",
        "queue/item-left-with-executable.json",
        "queue/item-legacy-executable.json",
    ]
    .iter()
    .map(|f| decode::<QueueItem>(f).state())
    .collect();
    assert_eq!(states[0], QueueState::Waiting);
    assert_eq!(states[1], QueueState::Blocked);
    assert_eq!(states[2], QueueState::Buildable);
    assert_eq!(states[3], QueueState::Cancelled);
    assert!(matches!(&states[4], QueueState::Started(b) if b.number == Some(54)));
    assert!(matches!(&states[5], QueueState::Started(b) if b.number == Some(28)));
    let placeholder: QueueItem = decode("queue/item-buildable-placeholder-no-url.json");
    assert_eq!(placeholder.task.unwrap().name, None);
    let queue: Queue = decode("queue/queue-blocked-and-placeholder.json");
    assert!(!queue.items.is_empty());

    let farm: ComputerSet = decode("nodes/computer-set-many-agents.json");
    assert_eq!(farm.computer.len(), 10);
    assert!(
        farm.computer
            .iter()
            .filter(|c| c.offline == Some(true))
            .count()
            >= 2
    );
    let offline: Computer = decode("nodes/agent-temp-offline.json");
    assert_eq!(offline.offline_cause_reason.as_deref(), Some("away"));

    let token: ApiTokenResponse = decode("misc/api-token-generate.json");
    let shown = format!("{token:?}");
    use cidata_core::ExposeSecret;
    let value = token
        .data
        .as_ref()
        .unwrap()
        .token_value
        .expose_secret()
        .to_owned();
    assert!(
        !shown.contains(&value),
        "token value must not print: {shown}"
    );
    let crumb: Crumb = decode("misc/crumb.json");
    let shown = format!("{crumb:?}");
    assert!(
        !shown.contains(&format!("{:?}", crumb.crumb)) && shown.contains("redacted"),
        "{shown}"
    );
}

#[test]
fn decode_errors_name_the_json_path() {
    let body = br#"{"allBuilds":[{"number":1},{"number":"two"}]}"#;
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase")]
    struct Listing {
        all_builds: Vec<Build>,
    }
    let err = decode_json::<Listing>(body).unwrap_err();
    assert!(err.is_decode());
    assert_eq!(err.json_path(), Some("allBuilds[1]"));
    assert!(err.to_string().contains("number"), "{err}");
}
