//! Every file under `shared/fixtures/jenkins/wfapi/` decodes, with the facts it was recorded for.

use cidata_core::decode_json;
use cidata_wfapi::*;

use crate::support::fixture;

fn decode<T: serde::de::DeserializeOwned>(rel: &str) -> T {
    decode_json(&fixture(&format!("wfapi/{rel}"))).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn every_wfapi_fixture_decodes() {
    let dir = test_support::jenkins_fixture_dir().join("wfapi");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        match name.as_str() {
            "job-describe.json" => drop(decode::<JobDescription>(&name)),
            "artifacts.json" => drop(decode::<Vec<Artifact>>(&name)),
            "changesets.json" => drop(decode::<Vec<ChangeSet>>(&name)),
            "node-log.json" => drop(decode::<NodeLog>(&name)),
            "pending-input-actions.json" => drop(decode::<Vec<PendingInputAction>>(&name)),
            "pending-input-action-with-params.json" => drop(decode::<PendingInputAction>(&name)),
            "run-describe-paused-pending-input.json" => drop(decode::<Run>(&name)),
            n if n.starts_with("node-describe-") => drop(decode::<NodeDescription>(&name)),
            n if n.starts_with("runs-") => drop(decode::<Vec<Run>>(&name)),
            other => panic!("no model is assigned to wfapi fixture {other}"),
        }
        count += 1;
    }
    assert_eq!(count, 16);
}

#[test]
fn runs_stages_and_statuses() {
    let runs: Vec<Run> = decode("runs-history.json");
    assert_eq!(runs[0].status, Some(Status::PausedPendingInput));
    assert_eq!(
        runs[0].id,
        Some(RunId::Legacy("2014-10-16_13-07-52".into()))
    );
    assert_eq!(
        runs[0].number(),
        Some(16),
        "number read from the self link of a legacy id"
    );
    assert!(runs[0].links.pending_input_actions.is_some());
    assert!(runs[0].links.artifacts.is_none());
    assert!(runs[1].links.artifacts.is_some());
    assert_eq!(runs[0].stages.len(), 3);
    assert_eq!(
        runs[0].stages[2].links.self_link.as_ref().unwrap().href(),
        "/jenkins/job/Test%20Workflow/16/execution/node/10/wfapi/describe"
    );

    let failed: Vec<Run> = decode("runs-failed.json");
    let staging = &failed[0].stages[2];
    assert_eq!(
        (staging.name.as_deref(), staging.status.clone()),
        (Some("Staging"), Some(Status::Failed))
    );
    assert_eq!(failed[0].pause_duration_millis, Some(0));
    let rerun: Vec<Run> = decode("runs-checkpoint-rerun.json");
    assert!(
        rerun
            .iter()
            .flat_map(|r| &r.stages)
            .any(|s| s.status == Some(Status::NotExecuted))
    );
    let running: Vec<Run> = decode("runs-in-progress.json");
    assert_eq!(running[0].status, Some(Status::InProgress));
    assert!(!running[0].is_final());
    let unstable: Vec<Run> = decode("runs-unstable.json");
    assert_eq!(unstable[0].status, Some(Status::Unstable));
    let queued: Vec<Run> = decode("runs-no-stages-queued.json");
    assert!(queued.iter().any(|r| r.stages.is_empty()));

    let modern: Run = serde_json::from_str(
        r##"{"id":"42","name":"#42","status":"SOMETHING_NEW","stages":null}"##,
    )
    .unwrap();
    assert_eq!(modern.id, Some(RunId::Number(42)));
    assert_eq!(modern.number(), Some(42));
    assert_eq!(modern.status, Some(Status::Unknown("SOMETHING_NEW".into())));
}

#[test]
fn nodes_logs_inputs_artifacts_changesets() {
    let node: NodeDescription = decode("node-describe-failed-error.json");
    let step = &node.stage_flow_nodes[0];
    assert_eq!(
        step.error.as_ref().unwrap().message.as_deref(),
        Some("script returned exit code 1")
    );
    assert_eq!(
        step.error.as_ref().unwrap().kind.as_deref(),
        Some("hudson.AbortException")
    );
    assert_eq!(step.parent_nodes, ["8"]);
    assert!(step.links.log.is_some());
    let skipped: NodeDescription = decode("node-describe-not-executed.json");
    let statuses: Vec<_> = skipped
        .stage_flow_nodes
        .iter()
        .map(|n| (n.status.clone().unwrap(), n.start_time_millis))
        .collect();
    assert_eq!(
        statuses[0],
        (Status::NotExecuted, Some(0)),
        "nodes before the checkpoint were not executed"
    );
    assert_eq!(statuses[2].0, Status::Success);

    let log: NodeLog = decode("node-log.json");
    assert_eq!(
        (log.node_id.as_deref(), log.length, log.has_more),
        (Some("6"), Some(295), Some(false))
    );
    assert_eq!(log.node_status, Some(Status::Failed));

    let input: PendingInputAction = decode("pending-input-action-with-params.json");
    assert_eq!(input.inputs.len(), 5);
    assert_eq!(input.proceed_text.as_deref(), Some("Okay"));
    assert_eq!(
        input.inputs[4].definition.as_ref().unwrap()["choices"][1],
        "Choice 2"
    );

    let artifacts: Vec<Artifact> = decode("artifacts.json");
    assert_eq!(artifacts[1].size, Some(2467));
    let changes: Vec<ChangeSet> = decode("changesets.json");
    assert_eq!(changes[0].commits.len(), 3);
    assert_eq!(changes[0].commits[2].commit_url, None);

    let job: JobDescription = decode("job-describe.json");
    assert_eq!(job.run_count, Some(17));
    assert!(job.links.runs.is_some());
}
