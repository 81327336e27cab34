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

/// The environment variable that points to the `shared` folder when it is not beside the
/// repository.
pub const SHARED_ENV: &str = "CIDATA_SHARED";

/// The `shared` folder of recorded responses, specifications and tools: `$CIDATA_SHARED`, else
/// `../shared` beside the repository. Panics with one line naming the folder when it is missing,
/// so that a checkout without it fails with what to do, not with a file error per test.
pub fn shared_dir() -> PathBuf {
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    locate_shared(std::env::var_os(SHARED_ENV), beside)
        .unwrap_or_else(|message| panic!("{message}"))
}

/// Where the `shared` folder is, given the variable's value and the default; the one-line
/// message when it holds no `fixtures` folder.
fn locate_shared(var: Option<std::ffi::OsString>, beside: PathBuf) -> Result<PathBuf, String> {
    let (dir, from) = match var.filter(|v| !v.is_empty()) {
        Some(dir) => (PathBuf::from(dir), format!("from ${SHARED_ENV}")),
        None => (beside, "beside the repository".to_owned()),
    };
    if dir.join("fixtures").is_dir() {
        return Ok(dir);
    }
    Err(format!(
        "the recorded fixtures are missing: no folder {} ({from}); put the `shared` folder beside the repository or set {SHARED_ENV}",
        dir.join("fixtures").display()
    ))
}

/// The folder of recorded responses of `system` (`jenkins`, `circleci`, `bitbucket`).
pub fn fixture_dir(system: &str) -> PathBuf {
    let dir = shared_dir().join("fixtures").join(system);
    assert!(
        dir.is_dir(),
        "the recorded {system} fixtures are missing: no folder {}",
        dir.display()
    );
    dir
}

/// The bytes of a recorded response of `system`, `rel` below [`fixture_dir`].
pub fn fixture(system: &str, rel: &str) -> Vec<u8> {
    let path = fixture_dir(system).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// `shared/tools/replay-server` serving a fixtures folder on 127.0.0.1 (a free port), stopped
/// when dropped.
pub struct ReplayServer {
    child: std::process::Child,
    port: u16,
    _dir: TempPortFile,
}

/// A temporary folder for the port file, removed on drop.
struct TempPortFile(PathBuf);

impl Drop for TempPortFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl ReplayServer {
    /// Serves the recorded responses of `system` (`circleci`, `bitbucket`).
    pub fn start(system: &str) -> ReplayServer {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cidata-replay-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let port_file = dir.join("port");
        let tool = shared_dir().join("tools/replay-server");
        let child = std::process::Command::new("python3")
            .arg(&tool)
            .arg(fixture_dir(system))
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--quiet",
                "--port-file",
            ])
            .arg(&port_file)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} with python3: {e}", tool.display()));
        let started = std::time::Instant::now();
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                break port;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "replay-server wrote no port file in 20 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        ReplayServer {
            child,
            port,
            _dir: TempPortFile(dir),
        }
    }

    /// `http://127.0.0.1:PORT` + `prefix` (such as `/api/v2/`).
    pub fn url(&self, prefix: &str) -> String {
        format!("http://127.0.0.1:{}{prefix}", self.port)
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Prism mock server of an OpenAPI specification (`shared/tools/prism-mock`, which installs
/// Prism from npm on first use), on 127.0.0.1; stopped when dropped.
pub struct PrismServer {
    pid: String,
    port: u16,
}

impl PrismServer {
    /// Serves `shared/specs/<spec>`: static examples, or with `dynamic` generated data
    /// (`seed` makes it repeatable).
    pub fn start(spec: &str, dynamic: bool, seed: Option<u64>) -> PrismServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let tool = shared_dir().join("tools/prism-mock");
        let mut cmd = std::process::Command::new("bash");
        cmd.arg(&tool)
            .arg(shared_dir().join("specs").join(spec))
            .arg(port.to_string());
        if dynamic {
            cmd.arg("--dynamic");
        }
        if let Some(seed) = seed {
            cmd.args(["--", "--seed", &seed.to_string()]);
        }
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
        assert!(
            out.status.success(),
            "prism-mock did not start a server for {spec}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        PrismServer { pid, port }
    }

    /// `http://127.0.0.1:PORT/` (Prism serves the spec's paths without their prefix).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for PrismServer {
    fn drop(&mut self) {
        // Stopping takes up to 5 s (TERM, then KILL): it goes on in the background, so that the
        // next servers start at once instead of after every stop in turn.
        let stopping = std::process::Command::new("bash")
            .arg(shared_dir().join("tools/prism-mock"))
            .args(["stop", &self.pid])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if let Ok(mut child) = stopping {
            std::thread::spawn(move || child.wait());
        }
    }
}

/// The folder of recorded Jenkins responses: `fixtures/jenkins/` of [`shared_dir`].
pub fn jenkins_fixture_dir() -> PathBuf {
    shared_dir().join("fixtures/jenkins")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_shared_folder_is_one_line_naming_it() {
        let missing = std::env::temp_dir().join("cidata-no-such-shared-folder");
        let message =
            locate_shared(Some(missing.clone().into()), PathBuf::from("/unused")).unwrap_err();
        assert!(!message.contains('\n'), "{message}");
        assert!(
            message.contains(&missing.join("fixtures").display().to_string())
                && message.contains(SHARED_ENV),
            "{message}"
        );
        let message = locate_shared(None, missing.clone()).unwrap_err();
        assert!(message.contains("beside the repository"), "{message}");
        assert!(shared_dir().join("fixtures/jenkins").is_dir());
    }
}

/// The variable holding the URL of a PostgreSQL role allowed to create databases, for the
/// PostgreSQL tests (`source .ci/postgres.sh && pg_start` sets it).
pub const POSTGRES_ENV: &str = "CIDATA_TEST_POSTGRES";

/// Set (by `.ci/run`) to make a missing PostgreSQL fail the PostgreSQL tests instead of skipping
/// them.
pub const REQUIRE_POSTGRES_ENV: &str = "CIDATA_REQUIRE_POSTGRES";

/// A new, empty PostgreSQL database for one test, as a URL (with its password, and
/// `?sslmode=disable`); `None`, said
/// loudly on stderr, when no server is configured by [`POSTGRES_ENV`] (a panic instead when
/// [`REQUIRE_POSTGRES_ENV`] is set, as in CI).
pub fn postgres_database(test: &str) -> Option<String> {
    let Some(admin) = std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty()) else {
        if std::env::var_os(REQUIRE_POSTGRES_ENV).is_some() {
            panic!("{test}: ${POSTGRES_ENV} is not set but ${REQUIRE_POSTGRES_ENV} is");
        }
        eprintln!(
            "SKIPPED {test}: no PostgreSQL (set ${POSTGRES_ENV}, or `source .ci/postgres.sh && pg_start`)"
        );
        return None;
    };
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("t{}_{n}", std::process::id());
    let create = format!("CREATE DATABASE {name}");
    let url = admin.clone();
    // The blocking client runs a runtime of its own: not on a thread of the test's runtime.
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting to ${POSTGRES_ENV}: {e}"));
        client
            .batch_execute(&create)
            .unwrap_or_else(|e| panic!("{create}: {e}"));
    })
    .join()
    .expect("creating the test database");
    // Without TLS: these tests are about the data; the TLS test adds its own `sslmode`.
    Some(format!("{}?sslmode=disable", with_database(&admin, &name)))
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|s| s + 3)
        .and_then(|start| base[start..].find('/').map(|i| start + i))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod postgres_tests {
    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            super::with_database("postgres://u:p@127.0.0.1:5/postgres", "t1"),
            "postgres://u:p@127.0.0.1:5/t1"
        );
        assert_eq!(
            super::with_database("postgres://h?sslmode=disable", "t1"),
            "postgres://h/t1?sslmode=disable"
        );
    }
}
