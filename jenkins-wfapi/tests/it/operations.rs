//! Endpoints by path: all runs past 10, not-a-pipeline errors, inputs with crumbs, full node logs.

use cidata_core::ErrorKind;
use cidata_jenkins::{Jenkins, JobPath};
use cidata_wfapi::{NodeLog, PendingInputAction, Status, Wfapi};
use futures::TryStreamExt;
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{catch_all, fast_retry, fixture, json, wfapi};

#[tokio::test]
async fn all_runs_returns_more_than_the_ten_of_wfapi_runs() {
    let server = MockServer::start().await;
    let numbers: Vec<_> = (1..=25u64)
        .rev()
        .map(|n| json!({"_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun", "number": n}))
        .collect();
    Mock::given(path("/job/pipe/api/json"))
        .and(query_param("tree", "allBuilds[number]{0,100}"))
        .respond_with(json(json!({"allBuilds": numbers}).to_string()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path_regex(r"^/job/pipe/(\d+)/wfapi/describe$"))
        .respond_with(|req: &wiremock::Request| {
            let n: u64 = req.url.path().split('/').nth(3).unwrap().parse().unwrap();
            json(json!({"_links": {"self": {"href": format!("/job/pipe/{n}/wfapi/describe")}},
                        "id": n.to_string(), "name": format!("#{n}"), "status": if n == 25 { "IN_PROGRESS" } else { "SUCCESS" },
                        "stages": [{"id": "6", "name": "Build", "status": "SUCCESS", "durationMillis": n * 10}]}).to_string())
        })
        .expect(25)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let wfapi = wfapi(&server, "/");
    let runs: Vec<_> = wfapi
        .all_runs(&JobPath::from_full_name("pipe").unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(runs.len(), 25);
    let numbers: Vec<u64> = runs.iter().map(|r| r.number().unwrap()).collect();
    assert_eq!(
        numbers,
        (1..=25).rev().collect::<Vec<_>>(),
        "newest first, in order"
    );
    assert_eq!(runs[0].status, Some(Status::InProgress));
    assert_eq!(runs[3].stages[0].duration_millis, Some(220));
}

#[tokio::test]
async fn wfapi_on_a_freestyle_build_is_a_typed_not_a_pipeline_error() {
    let server = MockServer::start().await;
    Mock::given(path_regex(r"/wfapi/"))
        .respond_with(
            ResponseTemplate::new(404).set_body_raw("<html>Not Found</html>", "text/html"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/job/free/3/api/json"))
        .respond_with(json(
            r#"{"_class":"hudson.model.FreeStyleBuild","number":3}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(path("/job/pipe/4/api/json"))
        .respond_with(json(
            r#"{"_class":"org.jenkinsci.plugins.workflow.job.WorkflowRun","number":4}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(path("/job/gone/3/api/json"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let wfapi = wfapi(&server, "/");
    let err = wfapi
        .run(&JobPath::from_full_name("free").unwrap(), 3)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotSupported);
    assert!(
        err.to_string().contains("hudson.model.FreeStyleBuild"),
        "{err}"
    );
    let err = wfapi
        .run(&JobPath::from_full_name("gone").unwrap(), 3)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // A Pipeline run without wfapi: the server lacks the plugin, which is not "not a Pipeline".
    let err = wfapi
        .run(&JobPath::from_full_name("pipe").unwrap(), 4)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotSupported);
    let shown = err.to_string();
    assert!(
        shown.contains("pipeline-rest-api") && !shown.contains("not a Pipeline"),
        "{shown}"
    );
}

#[tokio::test]
async fn input_proceed_with_parameters_sends_crumb_and_session_cookie() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/jenkins/crumbIssuer/api/json"))
        .respond_with(
            json(r#"{"crumb":"abc","crumbRequestField":"Jenkins-Crumb"}"#)
                .insert_header("Set-Cookie", "JSESSIONID.x=s1; Path=/"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/jenkins/job/Workflow/24/wfapi/inputSubmit"))
        .and(query_param("inputId", "Run-test-suites"))
        .and(header("Jenkins-Crumb", "abc"))
        .and(header("Cookie", "JSESSIONID.x=s1"))
        .and(FormJson(json!({"parameter": [
            {"name": "Run test suites?", "value": true},
            {"name": "Good boy?", "value": true},
            {"name": "Enter some text", "value": "true"},
            {"name": "Enter a passord", "value": "MyPasswd"},
            {"name": "Take your pick", "value": "Choice 1"},
        ]})))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/jenkins/job/Workflow/24/input/Run-test-suites/abort"))
        .and(header("Jenkins-Crumb", "abc"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let jenkins = Jenkins::builder(format!("{}/jenkins/", server.uri()))
        .password_auth("alice", "pw")
        .retry(fast_retry())
        .build()
        .unwrap();
    let wfapi = Wfapi::new(jenkins);
    let action: PendingInputAction =
        cidata_core::decode_json(&fixture("wfapi/pending-input-action-with-params.json")).unwrap();
    // A name the input does not ask for is refused before anything is sent.
    let err = action
        .values_from_text(&[("Run tests", "true")])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("Run test suites?"), "{err}");
    assert!(action.values_from_text(&[("Good boy?", "maybe")]).is_err());
    // Given values typed as each parameter wants (a string keeps "true" as text), defaults for the
    // others: what Jenkins' own form sends.
    let values = action
        .values_from_text(&[("Good boy?", "true"), ("Enter some text", "true")])
        .unwrap();
    let values: Vec<(&str, serde_json::Value)> = values
        .iter()
        .map(|(n, v)| (n.as_str(), v.clone()))
        .collect();
    wfapi.proceed_input(&action, &values).await.unwrap();
    wfapi.abort_input(&action).await.unwrap();
}

/// Matches a form body whose `json` field holds exactly this JSON.
struct FormJson(serde_json::Value);

impl wiremock::Match for FormJson {
    fn matches(&self, request: &wiremock::Request) -> bool {
        url::form_urlencoded::parse(&request.body)
            .find(|(k, _)| k == "json")
            .and_then(|(_, v)| serde_json::from_str::<serde_json::Value>(&v).ok())
            .is_some_and(|v| v == self.0)
    }
}

#[tokio::test]
async fn simple_input_proceeds_with_an_empty_post() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/jenkins/job/Test%20Workflow/11/input/Ef95dd500ae6ed3b27b89fb852296d12/proceedEmpty",
        ))
        .and(body_string(""))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let wfapi = wfapi(&server, "/jenkins/");
    let actions: Vec<PendingInputAction> =
        cidata_core::decode_json(&fixture("wfapi/pending-input-actions.json")).unwrap();
    wfapi.proceed_input(&actions[0], &[]).await.unwrap();
}

#[tokio::test]
async fn the_full_log_of_a_node_is_streamed_from_its_console_url() {
    let server = MockServer::start().await;
    let full = "line\n".repeat(5000);
    Mock::given(path(
        "/jenkins/job/Build%20Github%20Repo/14/execution/node/6/log/logText/progressiveText",
    ))
    .and(query_param("start", "0"))
    .respond_with(
        ResponseTemplate::new(200)
            .insert_header("X-Text-Size", "25000")
            .set_body_string(full.clone()),
    )
    .expect(1)
    .mount(&server)
    .await;
    catch_all(&server).await;
    let wfapi = wfapi(&server, "/jenkins/");
    let mut log: NodeLog = cidata_core::decode_json(&fixture("wfapi/node-log.json")).unwrap();
    let short: Vec<_> = wfapi.full_node_log(&log).try_collect().await.unwrap();
    assert_eq!(
        short.concat(),
        log.text.clone().unwrap().into_bytes(),
        "a complete log needs no request"
    );
    log.has_more = Some(true);
    let chunks: Vec<_> = wfapi.full_node_log(&log).try_collect().await.unwrap();
    assert_eq!(String::from_utf8(chunks.concat()).unwrap(), full);
}

#[tokio::test]
async fn every_endpoint_by_path() {
    let server = MockServer::start().await;
    let job = "/ci/job/Test%20Workflow";
    let cases = [
        (format!("{job}/wfapi/describe"), "wfapi/job-describe.json"),
        (
            format!("{job}/16/wfapi/describe"),
            "wfapi/run-describe-paused-pending-input.json",
        ),
        (
            format!("{job}/17/execution/node/8/wfapi/describe"),
            "wfapi/node-describe-failed-error.json",
        ),
        (
            format!("{job}/17/execution/node/9/wfapi/log"),
            "wfapi/node-log.json",
        ),
        (format!("{job}/14/wfapi/artifacts"), "wfapi/artifacts.json"),
        (
            format!("{job}/11/wfapi/pendingInputActions"),
            "wfapi/pending-input-actions.json",
        ),
        (
            format!("{job}/18/wfapi/changesets"),
            "wfapi/changesets.json",
        ),
    ];
    for (at, file) in &cases {
        Mock::given(path(at.as_str()))
            .respond_with(crate::support::json_fixture(file))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(path(format!("{job}/wfapi/runs")))
        .and(query_param("since", "#14"))
        .and(query_param("fullStages", "true"))
        .respond_with(crate::support::json_fixture("wfapi/runs-history.json"))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let wfapi = wfapi(&server, "/ci/");
    let tw = JobPath::from_full_name("Test Workflow").unwrap();
    assert_eq!(wfapi.describe_job(&tw).await.unwrap().run_count, Some(17));
    let query = cidata_wfapi::RunsQuery::default()
        .since("#14")
        .full_stages(true);
    assert_eq!(wfapi.runs(&tw, &query).await.unwrap().len(), 2);
    assert_eq!(
        wfapi.run(&tw, 16).await.unwrap().status,
        Some(Status::PausedPendingInput)
    );
    assert_eq!(
        wfapi.node(&tw, 17, "8").await.unwrap().status,
        Some(Status::Failed)
    );
    assert_eq!(
        wfapi.node_log(&tw, 17, "9").await.unwrap().length,
        Some(295)
    );
    assert_eq!(wfapi.artifacts(&tw, 14).await.unwrap().len(), 2);
    assert_eq!(wfapi.pending_input_actions(&tw, 11).await.unwrap().len(), 1);
    assert_eq!(
        wfapi.changesets(&tw, 18).await.unwrap()[0].commit_count,
        Some(3)
    );
}
