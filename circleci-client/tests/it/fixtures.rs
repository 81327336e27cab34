//! Every response under `shared/fixtures/circleci/` decodes into its model, with the facts its
//! provenance records (nulls in required fields, approval jobs without numbers, trigger types
//! outside the spec, a bare array, milliseconds and seconds).

use cidata_circleci::models::*;
use cidata_core::decode_json;
use serde::de::DeserializeOwned;

const SYSTEM: &str = "circleci";

fn decode<T: DeserializeOwned>(rel: &str) -> T {
    decode_json(&test_support::fixture(SYSTEM, rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A list page as the API sends it.
#[derive(serde::Deserialize)]
struct ListPage<T> {
    items: Vec<T>,
    next_page_token: Option<String>,
}

fn page<T: DeserializeOwned>(rel: &str) -> ListPage<T> {
    decode(rel)
}

/// Decodes one file by what its name says it is; panics for a file no model is assigned to.
fn decode_any(rel: &str) {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let kind = name.split('.').next().unwrap_or(name);
    match kind {
        "pipelines-list" => drop(page::<Pipeline>(rel)),
        "pipeline-workflows" => drop(page::<Workflow>(rel)),
        "workflow-jobs" => drop(page::<Job>(rel)),
        "job-details" => drop(decode::<JobDetails>(rel)),
        "job-artifacts" => drop(page::<Artifact>(rel)),
        "job-tests" => drop(page::<TestMetadata>(rel)),
        "project" => drop(decode::<Project>(rel)),
        "me-collaborations" if rel.starts_with("items/") => drop(decode::<Collaboration>(rel)),
        "me-collaborations" => drop(decode::<Vec<Collaboration>>(rel)),
        "me" | "user" => drop(decode::<User>(rel)),
        "insights-workflow-runs" => drop(page::<WorkflowRun>(rel)),
        "insights-job-runs" => drop(page::<JobRun>(rel)),
        "insights-workflows-summary" | "insights-workflow-jobs-summary" => {
            drop(page::<InsightsSummary>(rel))
        }
        "insights-flaky-tests" => drop(decode::<FlakyTests>(rel)),
        "insights-test-metrics" => drop(decode::<TestMetrics>(rel)),
        "envvars-list" => drop(page::<EnvVar>(rel)),
        "checkout-keys-list" => drop(page::<CheckoutKey>(rel)),
        "checkout-key-delete" | "workflow-rerun" => drop(decode::<ActionResponse>(rel)),
        "pipeline-trigger" => drop(decode::<TriggeredPipeline>(rel)),
        "pipeline" => drop(decode::<Pipeline>(rel)),
        "workflow" => drop(decode::<Workflow>(rel)),
        "job" => drop(decode::<Job>(rel)),
        other => panic!("no model is assigned to CircleCI fixture {rel} ({other})"),
    }
}

#[test]
fn every_recorded_response_decodes() {
    let dir = test_support::fixture_dir(SYSTEM);
    let mut count = 0;
    for sub in ["", "items/"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name == "routes.json" {
                continue;
            }
            decode_any(&format!("{sub}{name}"));
            count += 1;
        }
    }
    assert!(count >= 40, "only {count} files decoded");
}

#[test]
fn pipelines_keep_schedule_triggers_and_null_avatars() {
    let list = page::<Pipeline>("pipelines-list.01.json");
    assert_eq!(list.items.len(), 20);
    assert!(list.next_page_token.is_some());
    let scheduled: Vec<&Pipeline> = list
        .items
        .iter()
        .filter(|p| p.trigger.as_ref().and_then(|t| t.kind.clone()) == Some(TriggerType::Schedule))
        .collect();
    assert_eq!(scheduled.len(), 10);
    let actor = scheduled[0]
        .trigger
        .as_ref()
        .unwrap()
        .actor
        .as_ref()
        .unwrap();
    assert_eq!(actor.login.as_deref(), Some("Scheduled"));
    assert_eq!(actor.avatar_url, None);
    assert!(scheduled[0].vcs.as_ref().unwrap().commit.is_none());
    assert!(list.items.iter().all(|p| p.raw.get().starts_with('{')));

    let errored: Pipeline = decode("items/pipeline.item.01.json");
    assert_eq!(errored.state, Some(PipelineState::Errored));
    assert_eq!(errored.errors[0].kind, Some(PipelineErrorType::ConfigFetch));
    assert_eq!(
        errored.trigger.unwrap().kind.unwrap().as_str(),
        "Decoupled Ingestion System"
    );
    assert!(errored.vcs.is_none());
    assert!(errored.trigger_parameters.is_some());
}

#[test]
fn an_approval_job_has_no_number_and_a_null_start() {
    let jobs = page::<Job>("workflow-jobs.05.json").items;
    let approval = jobs
        .iter()
        .find(|j| j.kind == Some(JobType::Approval))
        .expect("an approval job");
    assert_eq!(approval.job_number, None);
    assert_eq!(approval.started_at, None);
    assert_eq!(approval.stopped_at, None);
    assert_eq!(approval.approval_request_id, approval.id);
    let after = jobs
        .iter()
        .find(|j| j.kind == Some(JobType::Build))
        .unwrap();
    assert!(after.dependencies.contains(approval.id.as_ref().unwrap()));
}

#[test]
fn a_rerun_adds_a_second_workflow_of_the_same_name() {
    let before = page::<Workflow>("pipeline-workflows.05.json").items;
    let after = page::<Workflow>("pipeline-workflows.04.json").items;
    assert_eq!((before.len(), after.len()), (1, 2));
    assert_eq!(after[0].name, after[1].name);
    assert_eq!(after[0].status, Some(WorkflowStatus::Running));
    assert!(!after[0].is_final() && after[1].is_final());
    assert_eq!(after[0].stopped_at, None);
}

#[test]
fn units_and_times_as_the_api_gives_them() {
    let details: JobDetails = decode("job-details.01.json");
    assert!(details.duration.unwrap() > 1_000, "milliseconds");
    assert!(
        details.project.as_ref().unwrap().id.is_none(),
        "old: no project id"
    );
    let runs = page::<WorkflowRun>("insights-workflow-runs.01.json").items;
    assert!(runs.iter().all(|r| r.duration.unwrap() < 1_000), "seconds");
    assert!(runs.iter().all(|r| r.branch.is_none()), "old: no branch");
    let created = runs[0].created_at.as_deref().unwrap();
    assert!(cidata_circleci::parse_time(created).is_some(), "{created}");
    let collaborations: Vec<Collaboration> = decode("me-collaborations.01.json");
    assert!(!collaborations.is_empty());
    let newer: Collaboration = decode("items/me-collaborations.item.01.json");
    assert!(newer.vcs_type.is_some() && newer.slug.is_some());
    let tests = page::<TestMetadata>("job-tests.01.json").items;
    assert_eq!(tests[0].run_time, None, "\"\" is no run time");
}
