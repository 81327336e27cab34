//! Shared test helpers: clients against a mock server, JSON responses, a loud catch-all.

use std::time::Duration;

use client_core::RetryPolicy;
use jenkins_client::Jenkins;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fixtures::fixture;

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_millis(20),
        jitter: false,
    }
}

/// A client with an API token (no crumbs) against `server` under `context` (`/` or `/jenkins/`).
pub fn token_client(server: &MockServer, context: &str) -> Jenkins {
    Jenkins::builder(format!("{}{context}", server.uri()))
        .basic_auth("alice", "tok-secret")
        .retry(fast_retry())
        .console_poll_interval(Duration::from_millis(1))
        .build()
        .unwrap()
}

pub fn json(body: impl AsRef<[u8]>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("X-Jenkins", "2.462.3")
        .set_body_raw(body.as_ref().to_vec(), "application/json;charset=utf-8")
}

pub fn json_fixture(rel: &str) -> ResponseTemplate {
    json(fixture(rel))
}

/// Any request no other mock expects gets a 599 naming it, and fails the test's expectations.
pub async fn catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &wiremock::Request| {
            ResponseTemplate::new(599)
                .set_body_string(format!("unexpected request: {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .expect(0)
        .named("catch-all: no unexpected request")
        .mount(server)
        .await;
}

/// The value of query parameter `name` of a request.
pub fn query(req: &wiremock::Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
