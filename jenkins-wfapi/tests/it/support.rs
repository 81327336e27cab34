//! Helpers: a wfapi client against a mock server; the rest comes from `test-support`.

use cidata_jenkins::Jenkins;
use cidata_wfapi::Wfapi;
use wiremock::MockServer;

pub use test_support::{catch_all, jenkins_fixture as fixture, json, json_fixture};

pub fn fast_retry() -> cidata_core::RetryPolicy {
    test_support::fast_retry(2)
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
