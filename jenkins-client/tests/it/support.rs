//! Helpers: clients against a mock server; the rest comes from `test-support`.

use std::time::Duration;

use cidata_jenkins::Jenkins;
use wiremock::MockServer;

pub use test_support::{catch_all, json, json_fixture, query};

pub fn fast_retry() -> cidata_core::RetryPolicy {
    test_support::fast_retry(3)
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
