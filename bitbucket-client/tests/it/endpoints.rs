//! Each endpoint against wiremock: multi-page listings, the `q` filter, pipelines paged by number
//! when `next` is missing, retries with and without `Retry-After`, and a next link to another
//! host refused without sending credentials.

use cidata_bitbucket::{Bitbucket, ErrorKind, Filter, FilterValue, Query};
use futures::TryStreamExt;
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn setup() -> (MockServer, Bitbucket) {
    let server = MockServer::start().await;
    test_support::catch_all(&server).await;
    let bitbucket = Bitbucket::builder()
        .base_url(format!("{}/2.0/", server.uri()))
        .access_token("secret-token")
        .pagelen(10)
        .retry(test_support::fast_retry(3))
        .build()
        .unwrap();
    (server, bitbucket)
}

fn page(values: serde_json::Value, next: Option<String>) -> ResponseTemplate {
    let mut body = json!({"pagelen": 10, "values": values});
    if let Some(next) = next {
        body["next"] = next.into();
    }
    test_support::json(body.to_string())
}

fn repos(range: std::ops::Range<u32>) -> serde_json::Value {
    range
        .map(
            |i| json!({"type": "repository", "uuid": format!("{{r{i}}}"), "slug": format!("r{i}")}),
        )
        .collect()
}

#[tokio::test]
async fn repositories_follow_next_links_with_the_filter() {
    let (server, bitbucket) = setup().await;
    let q = r#"updated_on >= 2026-01-01T00:00:00Z"#;
    Mock::given(method("GET"))
        .and(path("/2.0/repositories/acme"))
        .and(query_param("q", q))
        .and(query_param("sort", "updated_on"))
        .and(query_param_is_missing("page"))
        .and(header("Authorization", "Bearer secret-token"))
        .respond_with(page(
            repos(0..10),
            Some(format!("{}/2.0/repositories/acme?page=2&q=x", server.uri())),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/2.0/repositories/acme"))
        .and(query_param("page", "2"))
        .respond_with(page(repos(10..13), None))
        .expect(1)
        .mount(&server)
        .await;
    let query = Query::new()
        .filter(Filter::gte(
            "updated_on",
            FilterValue::Time("2026-01-01T00:00:00Z".into()),
        ))
        .sort_asc("updated_on");
    let all: Vec<_> = bitbucket
        .repositories("acme", &query)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 13);
}

#[tokio::test]
async fn pipelines_without_next_are_paged_by_number_until_a_short_page() {
    let (server, bitbucket) = setup().await;
    let list = "/2.0/repositories/acme/web/pipelines";
    let pipelines = |range: std::ops::Range<u32>| -> serde_json::Value {
        range
            .map(|i| json!({"type": "pipeline", "build_number": i}))
            .collect()
    };
    Mock::given(path(list))
        .and(query_param_is_missing("page"))
        .and(query_param("sort", "-created_on"))
        .respond_with(page(pipelines(0..10), None))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(list))
        .and(query_param("page", "2"))
        .respond_with(page(pipelines(10..20), None))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(list))
        .and(query_param("page", "3"))
        .respond_with(page(pipelines(20..24), None))
        .expect(1)
        .mount(&server)
        .await;
    let all: Vec<_> = bitbucket
        .pipelines("acme", "web", &Query::new().sort_desc("created_on"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 24);
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused_unsent() {
    let (server, bitbucket) = setup().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/2.0/repositories/acme"))
        .respond_with(page(
            repos(0..10),
            Some(format!("{}/2.0/repositories/acme?page=2", elsewhere.uri())),
        ))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let mut seen = 0;
    let mut stream = std::pin::pin!(bitbucket.repositories("acme", &Query::new()));
    let err = loop {
        match stream.try_next().await {
            Ok(Some(_)) => seen += 1,
            Ok(None) => panic!("the foreign link must not end the list quietly"),
            Err(e) => break e,
        }
    };
    assert_eq!(seen, 10, "the page before the bad link is kept");
    assert_eq!(err.kind(), ErrorKind::ForeignOrigin);
    assert!(!format!("{err:#}").contains("secret-token"));
}

#[tokio::test]
async fn a_429_is_retried_with_and_without_retry_after() {
    let (server, bitbucket) = setup().await;
    Mock::given(path("/2.0/workspaces/acme"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/2.0/workspaces/acme"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/2.0/workspaces/acme"))
        .respond_with(test_support::json(
            r#"{"type": "workspace", "slug": "acme"}"#,
        ))
        .mount(&server)
        .await;
    let workspace = bitbucket.workspace("acme").await.unwrap();
    assert_eq!(workspace.slug.as_deref(), Some("acme"));
    assert_eq!(bitbucket.stats().snapshot().retries, 2);
}

#[tokio::test]
async fn uuids_keep_their_braces_and_errors_carry_the_message() {
    let (server, bitbucket) = setup().await;
    Mock::given(path("/2.0/repositories/%7Bw1%7D/%7Br1%7D"))
        .respond_with(ResponseTemplate::new(404).set_body_raw(
            r#"{"type": "error", "error": {"message": "No workspace with identifier '{w1}'."}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let err = bitbucket.repository("{w1}", "{r1}").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains("No workspace with identifier"),
        "{err}"
    );
}

/// A proxy's or a gateway's answer as page 2 of a list, a repeated `next`, a `?page=` the server
/// ignores: each an error naming the page, never the end of the list.
#[tokio::test]
async fn a_second_page_that_breaks_the_list_is_an_error_naming_it() {
    let second: [(&str, Option<serde_json::Value>, u16, ErrorKind); 5] = [
        ("{}", Some(json!({})), 200, ErrorKind::Decode),
        (
            "values null",
            Some(json!({"values": null})),
            200,
            ErrorKind::Decode,
        ),
        ("404", None, 404, ErrorKind::IncompleteList),
        (
            "the same page again (?page= ignored)",
            Some(json!({"pagelen": 10, "values": repos(0..10), "next": "NEXT3"})),
            200,
            ErrorKind::IncompleteList,
        ),
        (
            "a next link already followed",
            Some(json!({"pagelen": 10, "values": repos(10..20), "next": "NEXT2"})),
            200,
            ErrorKind::IncompleteList,
        ),
    ];
    for (what, body, status, kind) in second {
        let (server, bitbucket) = setup().await;
        let next = |n: u32| format!("{}/2.0/repositories/acme?page={n}", server.uri());
        Mock::given(path("/2.0/repositories/acme"))
            .and(query_param_is_missing("page"))
            .respond_with(page(repos(0..10), Some(next(2))))
            .mount(&server)
            .await;
        let answer = match body {
            Some(body) => test_support::json(
                body.to_string()
                    .replace("NEXT3", &next(3))
                    .replace("NEXT2", &next(2)),
            ),
            None => ResponseTemplate::new(status),
        };
        Mock::given(path("/2.0/repositories/acme"))
            .and(query_param("page", "2"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let err = bitbucket
            .repositories("acme", &Query::new())
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{what}: {err}");
        assert!(err.to_string().contains("page=2"), "{what}: {err}");
    }
}
