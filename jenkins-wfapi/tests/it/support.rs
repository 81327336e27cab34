use std::path::PathBuf;
use std::time::Duration;

use client_core::RetryPolicy;
use jenkins_client::Jenkins;
use jenkins_wfapi::Wfapi;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/jenkins")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn json(body: impl AsRef<[u8]>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_raw(body.as_ref().to_vec(), "application/json;charset=utf-8")
}

pub fn json_fixture(rel: &str) -> ResponseTemplate {
    json(fixture(rel))
}

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 2,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
        max_retry_after: Duration::from_millis(5),
        jitter: false,
    }
}

pub fn wfapi(server: &MockServer, context: &str) -> Wfapi {
    Wfapi::new(
        Jenkins::builder(format!("{}{context}", server.uri()))
            .basic_auth("alice", "tok-secret")
            .retry(fast_retry())
            .build()
            .unwrap(),
    )
}

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
