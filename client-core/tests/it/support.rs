//! Helpers: a client against a mock server under the `/ctx/` context path.

use cidata_core::{Auth, HttpClient};
use wiremock::MockServer;

pub use test_support::{catch_all, fast_retry};

pub fn client(server: &MockServer, attempts: u32) -> HttpClient {
    HttpClient::builder(format!("{}/ctx/", server.uri()))
        .auth(Auth::basic("alice", "tok-secret"))
        .retry(fast_retry(attempts))
        .build()
        .unwrap()
}
