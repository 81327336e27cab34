//! The client against the recorded service (`shared/tools/replay-server`): paths with encoded
//! slugs reach the recorded routes, lists end, reads decode, actions answer, misses are typed.

use cidata_circleci::{
    CircleCi, ErrorKind, InsightsQuery, JobType, ProjectSlug, RerunOptions, TriggerOptions,
    WorkflowStatus,
};
use futures::TryStreamExt;
use test_support::ReplayServer;

fn client(server: &ReplayServer) -> CircleCi {
    CircleCi::builder()
        .base_url(server.url("/api/v2/"))
        .token("recorded")
        .retry(test_support::fast_retry(1))
        .build()
        .unwrap()
}

fn slug(text: &str) -> ProjectSlug {
    text.parse().unwrap()
}

#[tokio::test]
async fn lists_and_reads_of_the_recorded_service() {
    let server = ReplayServer::start("circleci");
    let circleci = client(&server);
    let pipelines: Vec<_> = circleci
        .pipelines(&slug("gh/ropensci/circle"), None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pipelines.len(), 20, "one recorded page, then the end");
    assert!(
        pipelines
            .iter()
            .all(|p| p.project_slug.as_deref() == Some("gh/ropensci/circle"))
    );

    let workflows: Vec<_> = circleci
        .workflows("1ae27c25-b610-4e43-bcb7-578ca0a680d6")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(workflows.len(), 2);
    assert_eq!(workflows[0].status, Some(WorkflowStatus::Running));

    let jobs: Vec<_> = circleci
        .workflow_jobs("716a0d67-e379-420a-b84c-7cd3a2787c7e")
        .try_collect()
        .await
        .unwrap();
    assert!(
        jobs.iter()
            .any(|j| j.kind == Some(JobType::Approval) && j.job_number.is_none())
    );

    let details = circleci
        .job_details(&slug("github/LF-Engineering/da-ds"), 155)
        .await
        .unwrap();
    assert_eq!(details.number, Some(155));
    let artifacts: Vec<_> = circleci
        .artifacts(&slug("gh/ropensci/circle"), 699)
        .try_collect()
        .await
        .unwrap();
    assert!(artifacts.is_empty());
    let project = circleci
        .project(&slug("gh/huongtn/sample-test"))
        .await
        .unwrap();
    assert_eq!(
        project.vcs_info.unwrap().default_branch.as_deref(),
        Some("main")
    );
    let pipeline = circleci
        .pipeline("d323f088-02fa-4ed5-9696-fc2f89a27150")
        .await
        .unwrap();
    assert_eq!(pipeline.errors.len(), 1);
    assert_eq!(circleci.me().await.unwrap().login.as_deref(), Some("pat-s"));
    assert!(!circleci.collaborations().await.unwrap().is_empty());
    let runs: Vec<_> = circleci
        .workflow_runs(
            &slug("gh/jmleroux/circleci-php-client"),
            "build",
            &InsightsQuery::default(),
        )
        .try_collect()
        .await
        .unwrap();
    assert!(!runs.is_empty());
    let metrics = circleci
        .test_metrics(&slug("gh/foo/bar"), "build", &InsightsQuery::default())
        .await
        .unwrap();
    assert_eq!(metrics.most_failed_tests.len(), 2);
    // Requests went out as the recorded ones: every read answered, none retried.
    assert_eq!(circleci.stats().snapshot().retries, 0);
}

#[tokio::test]
async fn actions_answer_as_recorded() {
    let server = ReplayServer::start("circleci");
    let circleci = client(&server);
    let triggered = circleci
        .trigger_pipeline(
            &slug("gh/ropensci/circle"),
            &TriggerOptions {
                branch: Some("main".into()),
                ..TriggerOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(triggered.state.unwrap().as_str(), "pending");
    let rerun = circleci
        .rerun_workflow(
            "97c77f87-01c3-4b94-bc90-83ad2314afbe",
            &RerunOptions {
                from_failed: true,
                ..RerunOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rerun.message.as_deref(), Some("Accepted."));
}

#[tokio::test]
async fn a_miss_is_a_typed_not_found_with_the_api_message() {
    let server = ReplayServer::start("circleci");
    let err = client(&server)
        .project(&slug("gh/nobody/nothing"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let line = err.to_string();
    assert!(
        line.contains("Not Found") && line.contains("gh%2Fnobody%2Fnothing"),
        "{line}"
    );
}
