//! The CircleCI source against wiremock: reruns found through insights, and a server without
//! insights (404) synced all the same.

use std::sync::Arc;

use cidata_circleci::CircleCi;
use cidata_sources::circleci::CircleCiSource;
use cidata_sync::{Engine, SqliteDestination, format_timestamp, now_ms};
use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SLUG_PATH: &str = "/api/v2/project/gh%2Facme%2Fweb";

fn page(items: serde_json::Value) -> ResponseTemplate {
    test_support::json(json!({"items": items, "next_page_token": null}).to_string())
}

fn ago(minutes: i64) -> String {
    format_timestamp(now_ms() - minutes * 60_000)
}

fn pipeline() -> serde_json::Value {
    json!({"id": "p1", "number": 1, "state": "created", "project_slug": "gh/acme/web", "created_at": ago(60)})
}

fn workflow(id: &str, minutes_ago: i64) -> serde_json::Value {
    json!({"id": id, "name": "build", "status": "success", "pipeline_id": "p1", "pipeline_number": 1,
           "project_slug": "gh/acme/web", "created_at": ago(minutes_ago), "stopped_at": ago(minutes_ago - 1)})
}

/// The server as it is before the rerun: one pipeline, one finished workflow with one job.
async fn mount_before(server: &MockServer) {
    test_support::catch_all(server).await;
    Mock::given(path(format!("{SLUG_PATH}/pipeline")))
        .respond_with(page(json!([pipeline()])))
        .mount(server)
        .await;
    Mock::given(path("/api/v2/pipeline/p1/workflow"))
        .respond_with(page(json!([workflow("w1", 59)])))
        .mount(server)
        .await;
    Mock::given(path_regex(r"^/api/v2/workflow/w[0-9]/job$"))
        .respond_with(page(json!([{"id": "j1", "name": "test", "type": "build", "status": "success", "job_number": 7}])))
        .mount(server)
        .await;
}

async fn sync(server: &MockServer, db: &std::path::Path) -> cidata_sync::RunStats {
    let client = CircleCi::builder()
        .base_url(format!("{}/api/v2/", server.uri()))
        .token("t")
        .retry(test_support::fast_retry(1))
        .build()
        .unwrap();
    let source = CircleCiSource::new(client, vec!["gh/acme/web".parse().unwrap()]);
    Engine::new()
        .run(
            Arc::new(source),
            Box::new(SqliteDestination::open(db).unwrap()),
        )
        .await
        .unwrap()
}

fn workflows(db: &std::path::Path) -> i64 {
    let conn = cidata_sync::rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM circleci_workflows", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_rerun_in_an_old_pipeline_is_found_through_insights() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cci.db");
    mount_before(&server).await;
    sync(&server, &db).await;
    assert_eq!(workflows(&db), 1);

    // A rerun: the pipeline now has a second `build` workflow; the listing's first page is
    // unchanged, so only insights tells.
    server.reset().await;
    test_support::catch_all(&server).await;
    Mock::given(path(format!("{SLUG_PATH}/pipeline")))
        .respond_with(page(json!([pipeline()])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/insights/gh%2Facme%2Fweb/workflows/build"))
        .respond_with(page(
            json!([{"id": "w2", "status": "success", "created_at": ago(5)},
                                  {"id": "w1", "status": "success", "created_at": ago(59)}]),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/workflow/w2"))
        .respond_with(test_support::json(workflow("w2", 5).to_string()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/pipeline/p1"))
        .respond_with(test_support::json(pipeline().to_string()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/pipeline/p1/workflow"))
        .respond_with(page(json!([workflow("w2", 5), workflow("w1", 59)])))
        .expect(1)
        .mount(&server)
        .await;
    // Only the new workflow's jobs are read; w1's are known and final.
    Mock::given(path("/api/v2/workflow/w2/job"))
        .respond_with(page(json!([{"id": "j2", "name": "test", "type": "build", "status": "success", "job_number": 8}])))
        .expect(1)
        .mount(&server)
        .await;
    let stats = sync(&server, &db).await;
    assert_eq!(workflows(&db), 2);
    assert_eq!(stats.requests, 6);
}

#[tokio::test]
async fn without_insights_the_sync_goes_on() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cci.db");
    mount_before(&server).await;
    // CircleCI server installations answer 404 on insights.
    Mock::given(path_regex(r"^/api/v2/insights/"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_raw(r#"{"message":"Not Found"}"#, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    sync(&server, &db).await;
    let stats = sync(&server, &db).await;
    assert!(stats.failed_partitions.is_empty());
    assert_eq!(
        stats.requests, 2,
        "the first page, and the insights request that said 404"
    );
    assert_eq!(workflows(&db), 1);
}

/// A pipeline held as not final that then answers 404 is marked deleted and reported, and is
/// no longer read again; it is not left `running` forever.
#[tokio::test]
async fn a_running_pipeline_that_vanishes_is_marked_and_reported() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cci.db");
    test_support::catch_all(&server).await;
    let running = json!({"id": "p2", "number": 2, "state": "created", "project_slug": "gh/acme/web", "created_at": ago(30)});
    Mock::given(path(format!("{SLUG_PATH}/pipeline")))
        .respond_with(page(json!([running, pipeline()])))
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/pipeline/p1/workflow"))
        .respond_with(page(json!([workflow("w1", 59)])))
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/pipeline/p2/workflow"))
        .respond_with(page(json!([{"id": "w9", "name": "build", "status": "running", "pipeline_id": "p2",
                                    "pipeline_number": 2, "project_slug": "gh/acme/web", "created_at": ago(29)}])))
        .mount(&server)
        .await;
    Mock::given(path_regex(r"^/api/v2/workflow/w[0-9]/job$"))
        .respond_with(page(json!([])))
        .mount(&server)
        .await;
    let first = sync(&server, &db).await;
    assert_eq!(first.non_final, 1);

    // p2 is gone: the listing no longer has it, and it answers 404.
    server.reset().await;
    test_support::catch_all(&server).await;
    Mock::given(path(format!("{SLUG_PATH}/pipeline")))
        .respond_with(page(json!([pipeline()])))
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/insights/gh%2Facme%2Fweb/workflows/build"))
        .respond_with(page(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/pipeline/p2"))
        .respond_with(
            ResponseTemplate::new(404).set_body_string(r#"{"message":"Pipeline not found"}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let second = sync(&server, &db).await;
    assert!(
        second.failed_partitions.is_empty(),
        "{:?}",
        second.failed_partitions
    );
    assert_eq!(second.reported.len(), 1, "{:?}", second.reported);
    assert!(
        second.reported[0].item.contains("p2"),
        "{:?}",
        second.reported
    );
    assert_eq!(second.non_final, 0);
    let conn = cidata_sync::rusqlite::Connection::open(&db).unwrap();
    let deleted: Option<String> = conn
        .query_row(
            "SELECT deleted_at FROM circleci_pipelines WHERE id = 'p2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(deleted.is_some(), "p2 is marked deleted");
    let workflow_deleted: Option<String> = conn
        .query_row(
            "SELECT deleted_at FROM circleci_workflows WHERE id = 'w9'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(workflow_deleted.is_some(), "and its workflow");
    // Not pending any more: the next run does not ask for it again (the mock expects one GET).
    sync(&server, &db).await;
}
