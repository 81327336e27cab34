//! Test helpers shared by the workspace's test suites (not published).

use std::path::PathBuf;
use std::time::Duration;

use cidata_core::RetryPolicy;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Retries with tiny delays, so that tests of retry behaviour run fast: `attempts` in all, jitter
/// off, `Retry-After` clamped to 50 ms.
pub fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_millis(50),
        jitter: false,
    }
}

/// Mounts, at the lowest priority, a mock that answers any request no other mock expects with a 599
/// naming it, and that expects none: the test fails when the server drops, naming the request.
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

/// A 200 response with a JSON body, as Jenkins sends it.
pub fn json(body: impl AsRef<[u8]>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("X-Jenkins", "2.462.3")
        .set_body_raw(body.as_ref().to_vec(), "application/json;charset=utf-8")
}

/// The folder of recorded Jenkins responses: `shared/fixtures/jenkins/` beside the workspace.
pub fn jenkins_fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/jenkins")
}

/// The bytes of a recorded Jenkins response, `rel` below [`jenkins_fixture_dir`].
pub fn jenkins_fixture(rel: &str) -> Vec<u8> {
    let path = jenkins_fixture_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A 200 JSON response with a recorded Jenkins response as its body.
pub fn json_fixture(rel: &str) -> ResponseTemplate {
    json(jenkins_fixture(rel))
}

/// The value of query parameter `name` of a request.
pub fn query(req: &wiremock::Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
