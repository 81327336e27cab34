//! A corpus of bad answers, served for every request to `ci-sync run` of each source: each gives
//! one error line naming the server and what was wrong, no panic, and no row committed.

use std::path::Path;

use cidata_sync::rusqlite::Connection;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::sync::sqlite_url;

/// A bad answer and words its error must hold.
struct Bad {
    what: &'static str,
    response: fn() -> ResponseTemplate,
    says: &'static [&'static str],
}

fn json_body(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

const CORPUS: &[Bad] = &[
    Bad {
        what: "malformed JSON",
        response: || json_body(r#"{"jobs": [{"name": "a",, }"#),
        says: &["decode"],
    },
    Bad {
        what: "truncated JSON",
        response: || json_body(r#"{"items": [{"id": "a", "name"#),
        says: &["decode"],
    },
    Bad {
        what: "an HTML login page with status 200",
        response: || {
            ResponseTemplate::new(200).set_body_raw(
                b"<html><head><title>Sign in [Jenkins]</title></head><body>login</body></html>"
                    .to_vec(),
                "text/html;charset=utf-8",
            )
        },
        says: &["expected JSON (got text/html"],
    },
    Bad {
        what: "JSON with a wrong content type",
        response: || {
            ResponseTemplate::new(200).set_body_raw(b"{\"jobs\": []}".to_vec(), "text/plain")
        },
        says: &["expected JSON (got text/plain"],
    },
    Bad {
        what: "JSON of the wrong shape",
        response: || json_body("[1, 2, 3]"),
        says: &["decode"],
    },
    Bad {
        what: "an enormous number",
        response: || {
            json_body(
                r#"{"jobs": 1e400, "items": 1e400, "values": 1e400, "next_page_token": 1e400}"#,
            )
        },
        says: &["decode"],
    },
    Bad {
        what: "a negative number where a count is expected",
        response: || {
            json_body(
                r#"{"_class": "hudson.model.Hudson", "jobs": [{"_class": "hudson.model.FreeStyleProject", "name": "a", "lastBuild": {"number": -5}}], "items": -1, "values": -1, "size": -1}"#,
            )
        },
        says: &["decode"],
    },
    Bad {
        what: "a body over the size limit",
        response: || json_body(&" ".repeat(65 * 1024 * 1024)),
        says: &["over the limit"],
    },
];

/// Runs `section` (a config without its URL) against `server` into a new database.
async fn run(dir: &Path, section: &str, server: &MockServer) -> (std::process::Output, String) {
    let config = dir.join("bad.toml");
    std::fs::write(&config, section.replace("URL", &server.uri())).unwrap();
    let db = dir.join(format!("bad-{}.db", rand_suffix()));
    let out = crate::sync::ci_sync_run(&config, &sqlite_url(&db))
        .env("JENKINS_API_TOKEN", "t")
        .env("CIRCLECI_TOKEN", "t")
        .env("BITBUCKET_APP_PASSWORD", "t")
        .output()
        .await
        .unwrap();
    (out, db.display().to_string())
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Rows in every table but the bookkeeping ones.
fn rows(db: &str) -> i64 {
    let Ok(conn) = Connection::open(db) else {
        return 0;
    };
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_ci\\_sync%' ESCAPE '\\'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables
        .iter()
        .map(|t| {
            conn.query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
        })
        .sum()
}

#[tokio::test]
async fn every_bad_answer_is_one_clear_error_and_no_row_for_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let sections = [
        (
            "jenkins",
            "[jenkins]\nbase_url = \"URL/jenkins/\"\nusername = \"u\"\n",
        ),
        (
            "circleci",
            "[circleci]\nbase_url = \"URL/api/v2/\"\nproject_slugs = [\"gh/acme/web\"]\n",
        ),
        (
            "bitbucket",
            "[bitbucket]\nbase_url = \"URL/2.0/\"\nusername = \"u\"\nworkspaces = [\"acme\"]\n",
        ),
    ];
    let mut failures = Vec::new();
    for bad in CORPUS {
        for (source, section) in sections {
            let server = MockServer::start().await;
            Mock::given(any())
                .respond_with((bad.response)())
                .mount(&server)
                .await;
            let (out, db) = run(dir.path(), section, &server).await;
            let stderr = String::from_utf8_lossy(&out.stderr);
            let context = format!("{source}, {}:\n{stderr}", bad.what);
            let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
            let ok = !out.status.success()
                && !stderr.contains("panicked")
                && errors.len() == 1
                && errors[0].contains(&server.address().to_string())
                && bad.says.iter().all(|w| errors[0].contains(w))
                && rows(&db) == 0;
            if !ok {
                failures.push(context);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}
