//! `ci-sync` against a hostile or broken Jenkins: each probe that once lost data, hung, leaked a
//! secret or drove the terminal, now a test.

use std::path::{Path, PathBuf};
use std::process::Output;

use cidata_sync::rusqlite::Connection;
use serde_json::{Value, json};
use tokio::process::Command;
use wiremock::matchers::{path, query_param_contains};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::sync::{ci_sync_run, count, ok, sqlite_url};

fn jenkins_json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json;charset=utf-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A config for an anonymous Jenkins at `server`, and the database beside it.
fn setup(server: &MockServer, dir: &Path, extra: &str) -> (PathBuf, PathBuf) {
    let config = dir.join("ci-sync.toml");
    std::fs::write(
        &config,
        format!(
            "[jenkins]\nbase_url = \"{}/jenkins/\"\nretry_attempts = 1\n{extra}\n",
            server.uri()
        ),
    )
    .unwrap();
    (config, dir.join("ci-sync.db"))
}

async fn run(config: &Path, db: &Path, args: &[&str]) -> Output {
    ci_sync_run(config, &sqlite_url(db))
        .args(args)
        .output()
        .await
        .unwrap()
}

/// Serves `body` as the root job listing, replacing what was served before.
async fn serve_listing(server: &MockServer, body: &str) {
    server.reset().await;
    Mock::given(path("/jenkins/api/json"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.to_owned(), "application/json"))
        .mount(server)
        .await;
}

fn jobs(names: &[&str]) -> String {
    let jobs: Vec<Value> = names
        .iter()
        .map(|n| json!({"_class": "hudson.model.FreeStyleProject", "name": n, "lastBuild": null}))
        .collect();
    json!({ "jobs": jobs }).to_string()
}

fn deleted_jobs(db: &Path) -> u64 {
    let conn = Connection::open(db).unwrap();
    count(
        &conn,
        "SELECT count(*) FROM jenkins_jobs WHERE deleted_at IS NOT NULL",
    )
}

#[tokio::test]
async fn a_listing_without_its_key_is_an_error_not_an_empty_server() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(&server, dir.path(), "");
    serve_listing(&server, &jobs(&["a", "b", "c"])).await;
    ok(&run(&config, &db, &[]).await);

    for body in ["{}", r#"{"jobs": null}"#, r#"{"error": "backend down"}"#] {
        serve_listing(&server, body).await;
        let out = run(&config, &db, &[]).await;
        assert_eq!(out.status.code(), Some(1), "{body}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("jobs"), "{body}: {err}");
        assert!(err.contains("/jenkins/api/json"), "{body}: {err}");
        assert_eq!(deleted_jobs(&db), 0, "{body}");
    }
    // The state survived: a good listing again needs nothing more than the listing.
    serve_listing(&server, &jobs(&["a", "b", "c"])).await;
    ok(&run(&config, &db, &[]).await);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// A job filter that matches no job of the server is a mistake in the settings: an error naming
/// the setting, not a run of nothing that exits 0.
#[tokio::test]
async fn an_include_that_selects_no_job_names_the_setting() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(
        &server,
        dir.path(),
        "[jenkins.jobs]\ninclude = [\"tema/**\"]",
    );
    serve_listing(&server, &jobs(&["team-a", "team-b"])).await;
    let out = run(&config, &db, &[]).await;
    assert_eq!(out.status.code(), Some(2), "bad settings: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("[jenkins.jobs] include"), "{err}");
    assert!(err.contains("tema/**"), "{err}");
}

#[tokio::test]
async fn deleting_every_known_job_at_once_needs_confirmation() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(&server, dir.path(), "");
    serve_listing(&server, &jobs(&["a", "b", "c"])).await;
    ok(&run(&config, &db, &[]).await);

    serve_listing(&server, &jobs(&[])).await;
    let out = run(&config, &db, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("3 of 3 known jobs") && stderr(&out).contains("--allow-mass-delete"),
        "{}",
        stderr(&out)
    );
    assert_eq!(deleted_jobs(&db), 0);

    // One job gone of three is an ordinary deletion.
    serve_listing(&server, &jobs(&["a", "b"])).await;
    ok(&run(&config, &db, &[]).await);
    assert_eq!(deleted_jobs(&db), 1);

    serve_listing(&server, &jobs(&[])).await;
    ok(&run(&config, &db, &["--allow-mass-delete"]).await);
    assert_eq!(deleted_jobs(&db), 3);
}

/// Builds that break the listing's contract: listed oldest first (paging from the newest would
/// skip builds) fails that job naming the URL; a build without a number is reported with its URL.
#[tokio::test]
async fn builds_that_break_the_listings_contract_are_reported_not_dropped() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(&server, dir.path(), "");
    Mock::given(path("/jenkins/api/json"))
        .respond_with(jenkins_json(json!({"jobs": [
            {"_class": "hudson.model.FreeStyleProject", "name": "rising", "lastBuild": {"number": 3}},
            {"_class": "hudson.model.FreeStyleProject", "name": "fine", "lastBuild": {"number": 2}},
        ]})))
        .mount(&server)
        .await;
    let build = |n: u64| json!({"number": n, "result": "SUCCESS", "building": false, "timestamp": 1_700_000_000_000u64, "duration": 5});
    Mock::given(path("/jenkins/job/rising/api/json"))
        .respond_with(jenkins_json(
            json!({"allBuilds": [build(1), build(2), build(3)]}),
        ))
        .mount(&server)
        .await;
    let unnumbered =
        json!({"url": format!("{}/jenkins/job/fine/odd/", server.uri()), "result": "SUCCESS"});
    Mock::given(path("/jenkins/job/fine/api/json"))
        .respond_with(jenkins_json(
            json!({"allBuilds": [build(2), unnumbered, build(1)]}),
        ))
        .mount(&server)
        .await;
    let out = run(&config, &db, &[]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "one job failed: {err}");
    assert!(err.contains("not listed newest first"), "{err}");
    assert!(err.contains("/jenkins/job/rising/api/json"), "{err}");
    assert!(
        err.contains("/jenkins/job/fine/odd/"),
        "the build reported: {err}"
    );
    assert!(err.contains("reported"), "{err}");
    let conn = Connection::open(&db).unwrap();
    let builds = |job: &str| {
        count(
            &conn,
            &format!("SELECT count(*) FROM jenkins_builds WHERE job_name = '{job}'"),
        )
    };
    assert_eq!((builds("fine"), builds("rising")), (2, 0));
}

/// A job whose name no URL can address (`..`) fails alone, named, and the others are synced.
#[tokio::test]
async fn a_job_named_dot_dot_is_reported_and_the_others_synced() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(&server, dir.path(), "");
    serve_listing(&server, &jobs(&["..", "fine"])).await;
    let out = run(&config, &db, &[]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "one job failed: {err}");
    assert!(err.contains("`..`"), "{err}");
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_jobs WHERE name = 'fine'"
        ),
        1
    );
}

#[tokio::test]
async fn a_build_number_no_column_can_hold_fails_that_job_only() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(&server, dir.path(), "");
    let huge = 1u64 << 63;
    Mock::given(path("/jenkins/api/json"))
        .respond_with(jenkins_json(json!({"jobs": [
            {"_class": "hudson.model.FreeStyleProject", "name": "huge", "lastBuild": {"number": huge}},
            {"_class": "hudson.model.FreeStyleProject", "name": "fine", "lastBuild": {"number": 1}},
        ]})))
        .mount(&server)
        .await;
    let build = |n: u64| json!({"number": n, "result": "SUCCESS", "building": false, "timestamp": 1_700_000_000_000u64, "duration": 5});
    Mock::given(path("/jenkins/job/huge/api/json"))
        .respond_with(jenkins_json(json!({"allBuilds": [build(huge)]})))
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/fine/api/json"))
        .respond_with(jenkins_json(json!({"allBuilds": [build(1)]})))
        .mount(&server)
        .await;
    let out = run(&config, &db, &[]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("huge"), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE job_name = 'fine'"
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE job_name = 'huge'"
        ),
        0
    );
}

#[tokio::test]
async fn a_running_build_deleted_on_the_server_is_marked_deleted() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(&server, dir.path(), "");
    let build = |n: u64, running: bool| {
        json!({"number": n, "result": if running { Value::Null } else { json!("SUCCESS") },
               "building": running, "timestamp": 1_700_000_000_000u64 + n, "duration": 5,
               "artifacts": [{"fileName": "a.txt", "relativePath": "a.txt"}]})
    };
    let serve = |last: u64, builds: Vec<Value>| {
        let server = &server;
        async move {
            server.reset().await;
            Mock::given(path("/jenkins/api/json"))
                .respond_with(jenkins_json(json!({"jobs": [
                    {"_class": "hudson.model.FreeStyleProject", "name": "app", "lastBuild": {"number": last}}]})))
                .mount(server)
                .await;
            Mock::given(path("/jenkins/job/app/api/json"))
                .respond_with(jenkins_json(json!({ "allBuilds": builds })))
                .mount(server)
                .await;
        }
    };
    // Builds 3 (running) and 4 (running), then 2 and 1.
    serve(
        4,
        vec![
            build(4, true),
            build(3, true),
            build(2, false),
            build(1, false),
        ],
    )
    .await;
    ok(&run(&config, &db, &[]).await);
    // 3 is deleted while running; 4 finishes.
    serve(4, vec![build(4, false), build(2, false), build(1, false)]).await;
    ok(&run(&config, &db, &[]).await);
    let conn = Connection::open(&db).unwrap();
    let deleted = |table: &str, number: &str| {
        count(
            &conn,
            &format!("SELECT count(*) FROM {table} WHERE {number} = 3 AND deleted_at IS NOT NULL"),
        )
    };
    assert_eq!(deleted("jenkins_builds", "number"), 1);
    assert_eq!(deleted("jenkins_artifacts", "build_number"), 1);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE deleted_at IS NULL AND NOT is_final"
        ),
        0
    );
    // The newest build, running, deleted: the job's last build goes back to 2.
    serve(
        5,
        vec![
            build(5, true),
            build(4, false),
            build(2, false),
            build(1, false),
        ],
    )
    .await;
    ok(&run(&config, &db, &[]).await);
    serve(4, vec![build(4, false), build(2, false), build(1, false)]).await;
    ok(&run(&config, &db, &[]).await);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM jenkins_builds WHERE number = 5 AND deleted_at IS NOT NULL"
        ),
        1
    );
    // Nothing carried over any more: the next run is the listing alone.
    server.reset().await;
    Mock::given(path("/jenkins/api/json"))
        .respond_with(jenkins_json(json!({"jobs": [
            {"_class": "hudson.model.FreeStyleProject", "name": "app", "lastBuild": {"number": 4}}]})))
        .mount(&server)
        .await;
    ok(&run(&config, &db, &[]).await);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_deleted_job_takes_its_builds_along() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(&server, dir.path(), "");
    Mock::given(path("/jenkins/api/json"))
        .respond_with(jenkins_json(json!({"jobs": [
            {"_class": "hudson.model.FreeStyleProject", "name": "app", "lastBuild": {"number": 1}},
            {"_class": "hudson.model.FreeStyleProject", "name": "keep", "lastBuild": null},
        ]})))
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/app/api/json"))
        .respond_with(jenkins_json(json!({"allBuilds": [
            {"number": 1, "result": "SUCCESS", "building": false, "timestamp": 1, "duration": 5,
             "artifacts": [{"fileName": "a", "relativePath": "a"}]}]})))
        .mount(&server)
        .await;
    ok(&run(&config, &db, &[]).await);
    serve_listing(&server, &jobs(&["keep"])).await;
    ok(&run(&config, &db, &[]).await);
    let conn = Connection::open(&db).unwrap();
    for table in ["jenkins_builds", "jenkins_artifacts"] {
        assert_eq!(
            count(
                &conn,
                &format!(
                    "SELECT count(*) FROM {table} WHERE job_name = 'app' AND deleted_at IS NOT NULL"
                )
            ),
            1,
            "{table}"
        );
    }
}

async fn ci_sync(server: &MockServer, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ci-sync"));
    cmd.args(args)
        .env("JENKINS_URL", format!("{}/jenkins/", server.uri()))
        .env_remove("JENKINS_USER")
        .env_remove("JENKINS_API_TOKEN")
        .env_remove("RUST_LOG");
    cmd.output().await.unwrap()
}

#[tokio::test]
async fn a_server_that_ignores_ranges_does_not_page_forever() {
    let server = MockServer::start().await;
    // Whatever `{M,N}` asks for, the same two builds.
    Mock::given(path("/jenkins/job/app/api/json"))
        .and(query_param_contains("tree", "allBuilds"))
        .respond_with(jenkins_json(json!({"allBuilds": [
            {"number": 2, "result": "SUCCESS"}, {"number": 1, "result": "SUCCESS"}]})))
        .mount(&server)
        .await;
    let out = ci_sync(&server, &["jenkins", "builds", "app", "--page-size", "2"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_folder_that_contains_itself_stops_the_walk() {
    let server = MockServer::start().await;
    mount_folder_loop(&server).await;
    let out = ci_sync(&server, &["jenkins", "jobs"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("contains itself"), "{}", stderr(&out));
}

/// A root listing whose folder `loop` lists itself at every level (same URL), beside a job `fine`.
async fn mount_folder_loop(server: &MockServer) {
    let uri = server.uri();
    Mock::given(path("/jenkins/api/json"))
        .respond_with(move |_: &Request| {
            let mut inner = json!({"_class": "com.cloudbees.hudson.plugins.folder.Folder", "name": "loop",
                                   "url": format!("{uri}/jenkins/job/loop/"), "jobs": [{"name": "loop"}]});
            for _ in 0..6 {
                inner = json!({"_class": "com.cloudbees.hudson.plugins.folder.Folder", "name": "loop",
                               "url": format!("{uri}/jenkins/job/loop/"), "jobs": [inner]});
            }
            jenkins_json(json!({ "jobs": [inner, {"_class": "hudson.model.FreeStyleProject", "name": "fine"}] }))
        })
        .mount(server)
        .await;
}

/// The same loop in a sync: the run fails and writes no row of the loop.
#[tokio::test]
async fn a_folder_that_contains_itself_commits_nothing_of_the_loop() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(&server, dir.path(), "");
    mount_folder_loop(&server).await;
    let out = run(&config, &db, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("contains itself"), "{}", stderr(&out));
    let conn = Connection::open(&db).unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM jenkins_jobs"), 0);
}

#[tokio::test]
async fn read_commands_take_timeout_and_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/jenkins/api/json"))
        .respond_with(
            jenkins_json(json!({"jobs": []})).set_delay(std::time::Duration::from_secs(30)),
        )
        .mount(&server)
        .await;
    let out = ci_sync(
        &server,
        &["jenkins", "jobs", "--timeout", "1", "--retries", "1"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/jenkins/api/json"),
        "{}",
        stderr(&out)
    );
    // One attempt and one retry.
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    let out = ci_sync(&server, &["jenkins", "jobs", "--timeout", "0"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--timeout 0"), "{}", stderr(&out));
}

#[tokio::test]
async fn durations_in_the_config_are_checked() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = setup(
        &server,
        dir.path(),
        "request_timeout_seconds = 9223372036854775807",
    );
    let out = run(&config, &db, &[]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("request_timeout_seconds = 9223372036854775807"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn secrets_stay_out_of_help_and_config_errors() {
    let server = MockServer::start().await;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ci-sync"));
    let out = cmd
        .args(["jenkins", "--help"])
        .env("JENKINS_URL", "http://alice:S3CRET-TOKEN@host/")
        .env("JENKINS_USER", "alice")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("JENKINS_URL") && !help.contains("S3CRET"),
        "{help}"
    );

    // A broken config line beside the token: the error gives line and column, not the line.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ci-sync.toml");
    std::fs::write(
        &config,
        "[jenkins]\nbase_url = \"http://h/\"\napi_token = \"S3CRET-TOKEN\" oops\n",
    )
    .unwrap();
    let out = run(&config, &dir.path().join("x.db"), &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 3"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("S3CRET"), "{}", stderr(&out));

    // An invalid base URL whose password holds `/` and `@`.
    std::fs::write(
        &config,
        "[jenkins]\nbase_url = \"http://alice:S3/CR@T@host:99999/\"\n",
    )
    .unwrap();
    let out = run(&config, &dir.path().join("x.db"), &[]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stderr(&out).contains("S3/CR"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("CR@T"), "{}", stderr(&out));
    drop(server);
}

#[tokio::test]
async fn server_text_cannot_drive_the_terminal() {
    let server = MockServer::start().await;
    let evil = "app\nerror: fake line\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}";
    Mock::given(path("/jenkins/api/json"))
        .respond_with(jenkins_json(json!({"jobs": [
            {"_class": "hudson.model.FreeStyleProject", "name": evil}]})))
        .mount(&server)
        .await;
    let out = ci_sync(&server, &["jenkins", "jobs"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(
        !stdout.trim_end().chars().any(char::is_control),
        "{stdout:?}"
    );
    let line: Value = serde_json::from_str(stdout.trim_end()).unwrap();
    assert_eq!(line["name"], evil, "the value itself is kept");

    // An error that quotes server text stays one visible line.
    server.reset().await;
    Mock::given(path("/jenkins/api/json"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            json!({"message": format!("boom\n{evil}")}).to_string(),
            "application/json",
        ))
        .mount(&server)
        .await;
    let out = ci_sync(&server, &["jenkins", "jobs", "--retries", "0"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let error_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "{err:?}");
    assert!(!error_lines[0].chars().any(char::is_control), "{err:?}");
}

#[tokio::test]
async fn two_first_runs_on_a_new_database_take_turns() {
    let s = crate::sync::Setup::new().await;
    let db = s.db("shared.db");
    let (a, b) = tokio::join!(s.run(&db, None), s.run(&db, None));
    ok(&a);
    ok(&b);
    crate::sync::assert_truth(&db, s.sim.truth());
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_the_run_saying_what_was_committed() {
    stopped_by("TERM", 143).await;
}

#[cfg(unix)]
#[tokio::test]
async fn sigint_stops_the_run_saying_what_was_committed() {
    stopped_by("INT", 130).await;
}

/// A run sent SIG`signal` once it has committed something stops at once with `code`, says what
/// was committed, and the next run completes the database.
#[cfg(unix)]
async fn stopped_by(signal: &str, code: i32) {
    let s = crate::sync::Setup::new().await;
    s.sim.set_latency(std::time::Duration::from_millis(20));
    let db = s.db("term.db");
    let config = s.config("concurrency = 2");
    let child = ci_sync_run(&config, &sqlite_url(&db))
        .env("JENKINS_API_TOKEN", "demo-token")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first commits have landed, SIGTERM.
    let conn_ready = async {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            if let Ok(conn) = Connection::open(&db)
                && conn
                    .query_row("SELECT count(*) FROM _ci_sync_state", [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .is_ok_and(|n| n > 2)
            {
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), conn_ready)
        .await
        .expect("the run commits something");
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args([format!("-{signal}").as_str(), &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let signalled = std::time::Instant::now();
    let out = child.wait_with_output().await.unwrap();
    // It stops at once (a second is the aim; the bound leaves room for a loaded machine), not
    // after the run.
    let took = signalled.elapsed();
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.contains(&format!("stopped by SIG{signal}")), "{err}");
    assert!(err.contains("transactions committed"), "{err}");
    // The next run finishes the job: exactly the server's data.
    s.sim.set_latency(std::time::Duration::ZERO);
    ok(&s.run(&db, None).await);
    crate::sync::assert_truth(&db, s.sim.truth());
}

#[tokio::test]
async fn discarded_builds_and_removed_stages_get_deleted_at() {
    let s = crate::sync::Setup::new().await;
    let db = s.db("rotation.db");
    ok(&s.run(&db, None).await);
    let conn = Connection::open(&db).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    // A running Pipeline build with stages, and its first stage.
    let (job, number, build_id, stage): (String, i64, String, String) = conn
        .query_row(
            "SELECT b.job_name, b.number, b.id, min(s.name) FROM jenkins_builds b \
             JOIN jenkins_stages s ON s.build_id = b.id WHERE NOT b.is_final \
             GROUP BY b.id HAVING count(*) >= 2 ORDER BY b.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    // Log rotation keeps builds from 101 on; the running Pipeline loses a stage.
    assert_eq!(s.sim.discard_builds("nightly-big", 101), 100);
    assert!(
        s.sim.remove_stage(&job, number as u64, &stage),
        "{job} #{number} {stage}"
    );
    ok(&s.run(&db, None).await);
    assert_eq!(
        count(
            "SELECT count(*) FROM jenkins_builds WHERE job_name = 'nightly-big' AND deleted_at IS NOT NULL"
        ),
        100
    );
    assert_eq!(
        count(
            "SELECT max(number) FROM jenkins_builds WHERE job_name = 'nightly-big' AND deleted_at IS NOT NULL"
        ),
        100
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM jenkins_artifacts WHERE job_name = 'nightly-big' AND deleted_at IS NOT NULL AND build_number <= 100"
        ),
        count(
            "SELECT count(*) FROM jenkins_artifacts WHERE job_name = 'nightly-big' AND build_number <= 100"
        ),
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM jenkins_builds WHERE deleted_at IS NOT NULL AND job_name <> 'nightly-big'"
        ),
        0
    );
    let removed = conn
        .query_row(
            "SELECT group_concat(name) FROM jenkins_stages WHERE build_id = ?1 AND deleted_at IS NOT NULL",
            [&build_id],
            |r| r.get::<_, Option<String>>(0),
        )
        .unwrap();
    assert_eq!(removed.as_deref(), Some(stage.as_str()), "{build_id}");
    // Nothing more to mark on the next run.
    ok(&s.run(&db, None).await);
    assert_eq!(
        count("SELECT count(*) FROM jenkins_builds WHERE deleted_at IS NOT NULL"),
        100
    );
}
