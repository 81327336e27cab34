use std::time::{Duration, Instant};

use cidata_core::{ErrorKind, RetryPolicy};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{catch_all, client, fast_retry};

fn json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

#[tokio::test]
async fn burst_of_503_then_success() {
    let server = MockServer::start().await;
    Mock::given(path("/ctx/api/json"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_string("<html>Please wait while Jenkins is getting ready</html>"),
        )
        .up_to_n_times(3)
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(path("/ctx/api/json"))
        .respond_with(json(r#"{"ok":true}"#))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server, 5);
    let v: Value = c
        .get_json(c.base().join("api/json").unwrap())
        .await
        .unwrap();
    assert_eq!(v["ok"], true);
    let s = c.stats().snapshot();
    assert_eq!((s.requests, s.retries, s.failures), (4, 3, 0));
}

#[tokio::test]
async fn retry_after_in_seconds_and_http_date_is_honoured_but_clamped() {
    for retry_after in [
        "3600".to_owned(),
        httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3600)),
    ] {
        let server = MockServer::start().await;
        Mock::given(path("/ctx/x"))
            .respond_with(
                ResponseTemplate::new(429).insert_header("Retry-After", retry_after.as_str()),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/ctx/x"))
            .respond_with(json("[]"))
            .mount(&server)
            .await;
        let c = client(&server, 3);
        let started = Instant::now();
        let _: Value = c.get_json(c.base().join("x").unwrap()).await.unwrap();
        // An hour was asked for; the policy's 50 ms maximum applies.
        assert!(started.elapsed() < Duration::from_secs(30), "{retry_after}");
        assert_eq!(c.stats().snapshot().retries, 1);
    }
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(json("[]"))
        .mount(&server)
        .await;
    let c = cidata_core::HttpClient::builder(server.uri())
        .retry(RetryPolicy {
            max_retry_after: Duration::from_secs(5),
            ..fast_retry(3)
        })
        .build()
        .unwrap();
    let started = Instant::now();
    let _: Value = c.get_json(c.base().join("x").unwrap()).await.unwrap();
    // The backoff alone would be 1 ms: waiting a full second proves the header was read.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn unauthorized_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/ctx/api/json"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("WWW-Authenticate", "Basic realm=\"Jenkins\"")
                .set_body_raw(
                    "<html><head><title>Error 401 Unauthorized</title></head></html>",
                    "text/html",
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, 5);
    let err = c
        .get_json::<Value>(c.base().join("api/json").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("/ctx/api/json") && shown.contains("401"),
        "{shown}"
    );
    assert!(!shown.contains("tok-secret"), "{shown}");
    assert_eq!(c.stats().snapshot().retries, 0);
}

#[tokio::test]
async fn exhausted_attempts_give_the_last_status() {
    let server = MockServer::start().await;
    Mock::given(path("/ctx/x"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(path("/ctx/x"))
        .respond_with(ResponseTemplate::new(504))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, 3);
    let err = c
        .get_json::<Value>(c.base().join("x").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(504));
    assert_eq!(err.kind(), ErrorKind::Server);
    let s = c.stats().snapshot();
    assert_eq!((s.requests, s.retries, s.failures), (3, 2, 1));
}

#[tokio::test]
async fn post_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, 5);
    let err = c
        .send(cidata_core::Request::post(
            c.base().join("job/a/build").unwrap(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
}

#[tokio::test]
async fn html_page_where_json_was_expected_is_a_typed_error() {
    let server = MockServer::start().await;
    Mock::given(path("/ctx/api/json"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<html><title>Sign in</title></html>",
            "text/html;charset=utf-8",
        ))
        .mount(&server)
        .await;
    Mock::given(path("/ctx/untyped"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<html><title>Sign in</title></html>",
            "application/octet-stream",
        ))
        .mount(&server)
        .await;
    let c = client(&server, 5);
    let err = c
        .get_json::<Value>(c.base().join("api/json").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedContent);
    assert_eq!(err.content_type(), Some("text/html;charset=utf-8"));
    assert!(err.body_snippet().unwrap().contains("Sign in"));
    let err = c
        .get_json::<Value>(c.base().join("untyped").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedContent);
}

#[tokio::test]
async fn connect_errors_are_retried_then_reported() {
    // A port that was just free: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = cidata_core::HttpClient::builder(format!("http://127.0.0.1:{port}/"))
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let err = c
        .get_json::<Value>(c.base().join("x").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.is_retryable());
    assert_eq!(c.stats().snapshot().requests, 3);
}

#[tokio::test]
async fn the_client_side_rate_limit_spaces_requests() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(json("[]"))
        .expect(5)
        .mount(&server)
        .await;
    let c = cidata_core::HttpClient::builder(server.uri())
        .rate_limit(
            std::num::NonZeroU32::new(20).unwrap(),
            std::num::NonZeroU32::new(1).unwrap(),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..5 {
        let _: Value = c.get_json(c.base().join("x").unwrap()).await.unwrap();
    }
    // 20 a second in bursts of 1: the four requests after the first wait 50 ms each at least.
    assert!(
        started.elapsed() >= Duration::from_millis(190),
        "{:?}",
        started.elapsed()
    );
}
