//! Shared helpers: a fast retry policy and a catch-all mock that names unexpected requests.

use std::time::Duration;

use client_core::{Auth, HttpClient, RetryPolicy};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Retries with tiny delays so that tests run fast.
pub fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_millis(50),
        jitter: false,
    }
}

pub fn client(server: &MockServer, attempts: u32) -> HttpClient {
    HttpClient::builder(format!("{}/ctx/", server.uri()))
        .auth(Auth::basic("alice", "tok-secret"))
        .retry(fast_retry(attempts))
        .build()
        .unwrap()
}

/// Mounted last with the lowest priority: any request no other mock expects gets a 599 whose body
/// names it, so a test failure says which request was unexpected.
pub async fn catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &wiremock::Request| {
            ResponseTemplate::new(599)
                .set_body_string(format!("unexpected request: {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}
