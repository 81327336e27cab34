//! Single reads, each against a recorded fixture.

use cidata_core::ErrorKind;
use cidata_jenkins::models::{BuildResult, JobKind, QueueState};
use cidata_jenkins::{JobPath, Tree};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{catch_all, json_fixture, token_client};

#[tokio::test]
async fn job_build_queue_and_nodes_from_fixtures() {
    let server = MockServer::start().await;
    Mock::given(path("/jenkins/job/folder/job/pipeline/api/json"))
        .respond_with(json_fixture("jobs/workflow-job.json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/folder/job/pipeline/52/api/json"))
        .and(query_param(
            "tree",
            "number,result,actions[causes[shortDescription]]",
        ))
        .respond_with(json_fixture("builds/workflow-run-replay-params.json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/queue/api/json"))
        .respond_with(json_fixture("queue/queue-blocked-and-placeholder.json"))
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/queue/item/599/api/json"))
        .respond_with(json_fixture("queue/item-left-with-executable.json"))
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/computer/api/json"))
        .respond_with(json_fixture("nodes/computer-set-many-agents.json"))
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/api/json"))
        .respond_with(json_fixture("root/root-modern-url-null.json"))
        .mount(&server)
        .await;
    Mock::given(path(
        "/jenkins/job/folder/job/pipeline/52/testReport/api/json",
    ))
    .respond_with(json_fixture("builds/test-report.json"))
    .mount(&server)
    .await;
    catch_all(&server).await;

    let jenkins = token_client(&server, "/jenkins/");
    let job_path = JobPath::from_full_name("folder/pipeline").unwrap();
    let job = jenkins.job(&job_path, None).await.unwrap();
    assert_eq!(job.kind(), JobKind::Pipeline);

    let tree: Tree = "number,result,actions[causes[shortDescription]]"
        .parse()
        .unwrap();
    let build = jenkins.build(&job_path, 52, Some(&tree)).await.unwrap();
    assert_eq!(build.result, Some(BuildResult::Failure));

    let queue = jenkins.queue(None).await.unwrap();
    assert!(!queue.items.is_empty());
    let item = jenkins.queue_item(599).await.unwrap();
    assert!(matches!(item.state(), QueueState::Started(b) if b.number == Some(54)));

    use futures::TryStreamExt;
    let nodes: Vec<_> = jenkins.computers(None).try_collect().await.unwrap();
    assert_eq!(nodes.len(), 10);

    let root = jenkins.root(None).await.unwrap();
    assert_eq!(root.url, None);
    let report = jenkins
        .test_report(&job_path, 52, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.fail_count, Some(2));
    assert_eq!(jenkins.stats().snapshot().requests, 7);
}

#[tokio::test]
async fn last_build_number_is_text_and_404_means_none() {
    let server = MockServer::start().await;
    Mock::given(path("/job/app/lastBuild/buildNumber"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("42\n", "text/plain;charset=utf-8"))
        .mount(&server)
        .await;
    Mock::given(path("/job/never/lastBuild/buildNumber"))
        .respond_with(
            ResponseTemplate::new(404).set_body_raw("<html>Not Found</html>", "text/html"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/job/app/99/testReport/api/json"))
        .respond_with(
            ResponseTemplate::new(404).set_body_raw("<html>Not Found</html>", "text/html"),
        )
        .mount(&server)
        .await;
    catch_all(&server).await;
    let jenkins = token_client(&server, "/");
    let app = JobPath::from_full_name("app").unwrap();
    assert_eq!(jenkins.last_build_number(&app).await.unwrap(), Some(42));
    let never = JobPath::from_full_name("never").unwrap();
    assert_eq!(jenkins.last_build_number(&never).await.unwrap(), None);
    assert!(jenkins.test_report(&app, 99, None).await.unwrap().is_none());
}

#[tokio::test]
async fn html_login_page_where_json_was_expected() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<html><head><title>Sign in [Jenkins]</title></head></html>",
            "text/html;charset=utf-8",
        ))
        .mount(&server)
        .await;
    let jenkins = token_client(&server, "/");
    let err = jenkins
        .job(&JobPath::from_full_name("app").unwrap(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedContent);
    assert!(err.to_string().contains("Sign in"), "{err}");
}

#[tokio::test]
async fn errors_name_status_and_url_but_never_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("WWW-Authenticate", "Basic realm=\"Jenkins\"")
                .set_body_raw(
                    "<html><body>Invalid password/token for user: alice</body></html>",
                    "text/html",
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let jenkins = token_client(&server, "/ci/");
    let err = jenkins.root(None).await.unwrap_err();
    assert!(err.is_auth());
    let shown = format!("{err} / {err:?} / {jenkins:?}");
    assert!(
        shown.contains("401") && shown.contains("/ci/api/json"),
        "{shown}"
    );
    assert!(!shown.contains("tok-secret"), "{shown}");
}
