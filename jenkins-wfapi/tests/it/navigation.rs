//! Navigation by links only, from a job description down to a node log and to artifacts, on a
//! server under a `/jenkins/` context path; links to another origin are refused.

use cidata_core::ErrorKind;
use cidata_jenkins::JobPath;
use cidata_wfapi::{Link, Run};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

use crate::support::{catch_all, json_fixture, wfapi};

async fn mount(server: &MockServer, at: &str, fixture: &str) {
    Mock::given(path(at))
        .respond_with(json_fixture(fixture))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn from_job_description_to_node_log_and_artifacts_by_links_only() {
    let server = MockServer::start().await;
    let job = "/jenkins/job/Test%20Workflow";
    mount(
        &server,
        &format!("{job}/wfapi/describe"),
        "wfapi/job-describe.json",
    )
    .await;
    mount(
        &server,
        &format!("{job}/wfapi/runs"),
        "wfapi/runs-history.json",
    )
    .await;
    mount(
        &server,
        &format!("{job}/16/execution/node/5/wfapi/describe"),
        "wfapi/node-describe-stage.json",
    )
    .await;
    mount(
        &server,
        &format!("{job}/16/execution/node/6/wfapi/log"),
        "wfapi/node-log.json",
    )
    .await;
    mount(
        &server,
        &format!("{job}/15/wfapi/artifacts"),
        "wfapi/artifacts.json",
    )
    .await;
    mount(
        &server,
        &format!("{job}/16/wfapi/pendingInputActions"),
        "wfapi/pending-input-actions.json",
    )
    .await;
    catch_all(&server).await;

    // The base URL has the context path; the hrefs have it too: it must not be doubled.
    let wfapi = wfapi(&server, "/jenkins/");
    let description = wfapi
        .describe_job(&JobPath::from_full_name("Test Workflow").unwrap())
        .await
        .unwrap();
    let runs: Vec<Run> = description
        .links
        .runs
        .as_ref()
        .unwrap()
        .follow(&wfapi)
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);

    let build_stage = &runs[0].stages[0];
    let stage = build_stage
        .links
        .self_link
        .as_ref()
        .unwrap()
        .follow(&wfapi)
        .await
        .unwrap();
    assert_eq!(stage.name.as_deref(), Some("Build"));
    let git_step = &stage.stage_flow_nodes[0];
    let log = git_step
        .links
        .log
        .as_ref()
        .unwrap()
        .follow(&wfapi)
        .await
        .unwrap();
    assert!(log.text.unwrap().contains("git rev-parse"));

    let artifacts = runs[1]
        .links
        .artifacts
        .as_ref()
        .unwrap()
        .follow(&wfapi)
        .await
        .unwrap();
    assert_eq!(artifacts[0].name.as_deref(), Some("hello2.jar"));
    let inputs = runs[0]
        .links
        .pending_input_actions
        .as_ref()
        .unwrap()
        .follow(wfapi.jenkins())
        .await
        .unwrap();
    assert_eq!(inputs[0].message.as_deref(), Some("Is the build okay?"));
}

#[tokio::test]
async fn a_link_to_another_origin_is_refused_and_gets_no_credentials() {
    let home = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    catch_all(&home).await;
    catch_all(&elsewhere).await;
    let wfapi = wfapi(&home, "/jenkins/");
    let link: Link<Run> = Link::new(format!(
        "{}/jenkins/job/x/1/wfapi/describe",
        elsewhere.uri()
    ));
    let err = link.follow(&wfapi).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignOrigin);
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    assert!(home.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn hrefs_without_context_path_get_it() {
    let server = MockServer::start().await;
    // runs-failed.json was recorded on a server at the root: `/job/cd/3/...`.
    Mock::given(path("/jenkins/job/cd/3/wfapi/artifacts"))
        .respond_with(json_fixture("wfapi/artifacts.json"))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let wfapi = wfapi(&server, "/jenkins/");
    let runs: Vec<Run> =
        cidata_core::decode_json(&crate::support::fixture("wfapi/runs-failed.json")).unwrap();
    let artifacts = runs[0]
        .links
        .artifacts
        .as_ref()
        .unwrap()
        .follow(&wfapi)
        .await
        .unwrap();
    assert_eq!(artifacts.len(), 2);
}
