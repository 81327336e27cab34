//! Each endpoint against wiremock: paths with the slug as one encoded segment, the token header,
//! pagination (across pages, a repeated token, a missing token), retries of reads only.

use cidata_circleci::{CircleCi, ErrorKind, ProjectSlug, RerunOptions, TriggerOptions};
use futures::TryStreamExt;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn setup() -> (MockServer, CircleCi) {
    let server = MockServer::start().await;
    test_support::catch_all(&server).await;
    let circleci = CircleCi::builder()
        .base_url(format!("{}/api/v2/", server.uri()))
        .token("secret-token")
        .retry(test_support::fast_retry(3))
        .build()
        .unwrap();
    (server, circleci)
}

fn page(items: serde_json::Value, next: Option<&str>) -> ResponseTemplate {
    test_support::json(json!({"items": items, "next_page_token": next}).to_string())
}

fn slug() -> ProjectSlug {
    "gh/acme/web".parse().unwrap()
}

#[tokio::test]
async fn pipelines_follow_page_tokens_with_the_slug_as_one_segment() {
    let (server, circleci) = setup().await;
    let list = "/api/v2/project/gh%2Facme%2Fweb/pipeline";
    Mock::given(method("GET"))
        .and(path(list))
        .and(query_param("branch", "main"))
        .and(query_param_is_missing("page-token"))
        .and(header("Circle-Token", "secret-token"))
        .respond_with(page(
            json!([{"id": "p3", "number": 3}, {"id": "p2", "number": 2}]),
            Some("t2"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list))
        .and(query_param("branch", "main"))
        .and(query_param("page-token", "t2"))
        .respond_with(page(json!([{"id": "p1", "number": 1}]), None))
        .expect(1)
        .mount(&server)
        .await;
    let numbers: Vec<Option<i64>> = circleci
        .pipelines(&slug(), Some("main"))
        .map_ok(|p| p.number)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(numbers, [Some(3), Some(2), Some(1)]);
}

#[tokio::test]
async fn a_repeated_token_is_an_error_and_a_missing_one_ends_the_list() {
    let (server, circleci) = setup().await;
    // Prism's static token: the same "string" on every page.
    Mock::given(path("/api/v2/pipeline/p1/workflow"))
        .respond_with(page(
            json!([{"id": "w1", "status": "success"}]),
            Some("string"),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let err = circleci
        .workflows("p1")
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::IncompleteList,
        "the same page again is no end: {err}"
    );
    // Some job lists leave `next_page_token` out.
    Mock::given(path("/api/v2/workflow/w1/job"))
        .respond_with(test_support::json(
            json!({"items": [{"id": "j1", "type": "build"}]}).to_string(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let jobs: Vec<_> = circleci.workflow_jobs("w1").try_collect().await.unwrap();
    assert_eq!(jobs.len(), 1);
}

#[tokio::test]
async fn reads_are_retried_and_actions_are_not() {
    let (server, circleci) = setup().await;
    Mock::given(path("/api/v2/workflow/w1"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/workflow/w1"))
        .respond_with(test_support::json(r#"{"id":"w1","status":"running"}"#))
        .mount(&server)
        .await;
    let workflow = circleci.workflow("w1").await.unwrap();
    assert!(!workflow.is_final());
    assert_eq!(circleci.stats().snapshot().retries, 1);

    Mock::given(method("POST"))
        .and(path("/api/v2/workflow/w1/rerun"))
        .and(body_json(json!({"from_failed": true, "enable_ssh": false})))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let err = circleci
        .rerun_workflow(
            "w1",
            &RerunOptions {
                from_failed: true,
                ..RerunOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
}

#[tokio::test]
async fn trigger_sends_branch_and_parameters_and_approve_the_request_id() {
    let (server, circleci) = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/project/gh%2Facme%2Fweb/pipeline"))
        .and(body_json(
            json!({"branch": "main", "parameters": {"deploy": true, "target": "prod"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_raw(
            r#"{"id":"p9","number":9,"state":"pending","created_at":"2026-01-01T00:00:00Z"}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let triggered = circleci
        .trigger_pipeline(
            &slug(),
            &TriggerOptions {
                branch: Some("main".into()),
                tag: None,
                parameters: vec![
                    ("deploy".into(), json!(true)),
                    ("target".into(), json!("prod")),
                ],
            },
        )
        .await
        .unwrap();
    assert_eq!(triggered.number, Some(9));
    Mock::given(method("POST"))
        .and(path("/api/v2/workflow/w1/approve/a1"))
        .respond_with(test_support::json(r#"{"message":"Accepted."}"#))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        circleci
            .approve_job("w1", "a1")
            .await
            .unwrap()
            .message
            .as_deref(),
        Some("Accepted.")
    );
}

#[tokio::test]
async fn errors_are_typed_and_never_show_the_token() {
    let (server, circleci) = setup().await;
    Mock::given(path("/api/v2/project/gh%2Facme%2Fweb"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            r#"{"message":"You must log in first."}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let err = circleci.project(&slug()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let shown = format!("{err} {err:#} {err:?} {circleci:?}");
    assert!(shown.contains("You must log in first."), "{shown}");
    assert!(!shown.contains("secret-token"), "{shown}");
}

/// A proxy's or a gateway's answer as page 2 of a list: never an empty last page.
#[tokio::test]
async fn a_second_page_without_items_or_not_found_is_an_error_naming_it() {
    let list = "/api/v2/project/gh%2Facme%2Fweb/pipeline";
    let second: [(&str, ResponseTemplate, ErrorKind); 4] = [
        ("{}", test_support::json("{}"), ErrorKind::Decode),
        (
            "items null",
            test_support::json(r#"{"items": null, "next_page_token": null}"#),
            ErrorKind::Decode,
        ),
        (
            "a message",
            test_support::json(r#"{"message": "Internal error"}"#),
            ErrorKind::Decode,
        ),
        ("404", ResponseTemplate::new(404), ErrorKind::IncompleteList),
    ];
    for (what, answer, kind) in second {
        let (server, circleci) = setup().await;
        Mock::given(path(list))
            .and(query_param_is_missing("page-token"))
            .respond_with(page(json!([{"id": "p2", "number": 2}]), Some("t2")))
            .mount(&server)
            .await;
        Mock::given(path(list))
            .and(query_param("page-token", "t2"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let err = circleci
            .pipelines(&slug(), None)
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{what}: {err}");
        assert!(err.to_string().contains("page-token=t2"), "{what}: {err}");
    }
}

/// A fresh token on every page over the same items: stopped at page 2, not after 100,000 pages.
#[tokio::test]
async fn fresh_tokens_over_the_same_items_stop_at_once() {
    let (server, circleci) = setup().await;
    let served = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let count = served.clone();
    Mock::given(path("/api/v2/pipeline/p1/workflow"))
        .respond_with(move |_: &wiremock::Request| {
            let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            page(
                json!([{"id": "w1", "status": "success"}]),
                Some(&format!("t{n}")),
            )
        })
        .mount(&server)
        .await;
    let err = circleci
        .workflows("p1")
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IncompleteList, "{err}");
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 2);
}
