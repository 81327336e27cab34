//! End-to-end runs of the `ci-sync` binary against a mock Jenkins.

use std::process::Output;

use serde_json::{Value, json};
use tokio::process::Command;
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn jenkins_json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json;charset=utf-8")
}

async fn ci_sync(server: &MockServer, args: &[&str], token: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ci-sync"));
    cmd.args(args)
        .env("JENKINS_URL", format!("{}/jenkins/", server.uri()))
        .env("JENKINS_USER", "alice")
        .env_remove("RUST_LOG");
    match token {
        Some(t) => cmd.env("JENKINS_API_TOKEN", t),
        None => cmd.env_remove("JENKINS_API_TOKEN"),
    };
    cmd.output().await.expect("ci-sync runs")
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect()
}

#[tokio::test]
async fn jobs_are_listed_recursively_as_json_lines() {
    let server = MockServer::start().await;
    Mock::given(path("/jenkins/api/json"))
        .respond_with(jenkins_json(json!({"jobs": [
            {"_class": "com.cloudbees.hudson.plugins.folder.Folder", "name": "team", "url": "http://stale:8080/jenkins/job/team/",
             "jobs": [{"_class": "hudson.model.FreeStyleProject", "name": "app ünï", "color": "blue"}]}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let out = ci_sync(&server, &["jenkins", "jobs"], Some("tok")).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jobs = lines(&out);
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[1]["full_name"], "team/app ünï");
    assert_eq!(jobs[1]["name"], "app ünï");
    assert_eq!(jobs[1]["class"], "hudson.model.FreeStyleProject");
    assert_eq!(jobs[1]["color"], "blue");
    assert_eq!(
        jobs[1]["url"],
        format!("{}/jenkins/job/team/job/app%20%C3%BCn%C3%AF/", server.uri())
    );
    assert_eq!(jobs[0]["color"], Value::Null);
}

#[tokio::test]
async fn builds_lists_every_build() {
    let server = MockServer::start().await;
    Mock::given(path("/jenkins/job/team/job/app/api/json"))
        .respond_with(|req: &Request| {
            let tree = req.url.query_pairs().find(|(k, _)| k == "tree").unwrap().1.into_owned();
            let range = tree.rsplit('{').next().unwrap().trim_end_matches('}').to_owned();
            let (m, n) = range.split_once(',').unwrap();
            let (m, n): (u64, u64) = (m.parse().unwrap(), n.parse().unwrap());
            let builds: Vec<Value> = (m..n.min(150))
                .map(|i| {
                    let num = 150 - i;
                    let running = num == 150;
                    json!({"number": num, "result": if running { Value::Null } else { json!("SUCCESS") },
                           "building": running, "timestamp": 1_700_000_000_000u64 + num, "duration": if running { 0 } else { 5000 }})
                })
                .collect();
            jenkins_json(json!({"allBuilds": builds}))
        })
        .expect(2)
        .mount(&server)
        .await;
    let out = ci_sync(&server, &["jenkins", "builds", "team/app"], Some("tok")).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let builds = lines(&out);
    assert_eq!(builds.len(), 150);
    assert_eq!(builds[0]["building"], true);
    assert_eq!(builds[0]["result"], Value::Null);
    assert_eq!(builds[1]["result"], "SUCCESS");
    assert_eq!(builds[1]["duration_ms"], 5000);
    assert_eq!(builds[1]["timestamp_ms"], 1_700_000_000_149u64);
    assert_eq!(builds[1]["job"], "team/app");
    assert_eq!(
        builds[1]["url"],
        format!("{}/jenkins/job/team/job/app/149/", server.uri())
    );
}

#[tokio::test]
async fn artifacts_and_log() {
    let server = MockServer::start().await;
    Mock::given(path("/jenkins/job/app/3/api/json"))
        .respond_with(jenkins_json(json!({"artifacts": [
            {"fileName": "a b.txt", "relativePath": "out/x/a b.txt"},
            {"fileName": "a b.txt", "relativePath": "out/y/a b.txt"}
        ]})))
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/app/3/logText/progressiveText"))
        .and(query_param("start", "0"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Text-Size", "10")
                .insert_header("X-More-Data", "true")
                .set_body_string("line one\n"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/app/3/logText/progressiveText"))
        .and(query_param("start", "10"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Text-Size", "20")
                .set_body_string("Finished: SUCCESS\n"),
        )
        .mount(&server)
        .await;
    let out = ci_sync(&server, &["jenkins", "artifacts", "app", "3"], Some("tok")).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let arts = lines(&out);
    assert_eq!(arts.len(), 2);
    assert_eq!(arts[1]["relative_path"], "out/y/a b.txt");
    assert_eq!(arts[1]["build_number"], 3);
    assert_eq!(
        arts[1]["url"],
        format!(
            "{}/jenkins/job/app/3/artifact/out/y/a%20b.txt",
            server.uri()
        )
    );

    let out = ci_sync(&server, &["jenkins", "log", "app", "3"], Some("tok")).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "line one\n");
    let out = ci_sync(
        &server,
        &["jenkins", "log", "app", "3", "--follow"],
        Some("tok"),
    )
    .await;
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "line one\nFinished: SUCCESS\n"
    );
}

#[tokio::test]
async fn authentication_failure_is_one_clear_line_without_the_token() {
    let server = MockServer::start().await;
    Mock::given(path("/jenkins/api/json"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("WWW-Authenticate", "Basic realm=\"Jenkins\"")
                .set_body_raw(
                    "<html><head><title>Error 401 Unauthorized</title></head></html>",
                    "text/html",
                ),
        )
        .mount(&server)
        .await;
    let out = ci_sync(&server, &["jenkins", "jobs"], Some("tok-very-secret")).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("401")
            && stderr.contains("/jenkins/api/json")
            && stderr.contains("JENKINS_API_TOKEN"),
        "{stderr}"
    );
    assert!(!stderr.contains("tok-very-secret"));
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn a_user_without_a_token_is_a_configuration_error() {
    let server = MockServer::start().await;
    let out = ci_sync(&server, &["jenkins", "jobs"], None).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JENKINS_API_TOKEN"), "{stderr}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn stages_of_a_pipeline_run_in_wfapi_order() {
    let server = MockServer::start().await;
    Mock::given(path("/jenkins/job/team/job/pipe/7/wfapi/describe"))
        .respond_with(jenkins_json(json!({"id": "7", "name": "#7", "status": "FAILED", "stages": [
            {"id": "6", "name": "Build", "status": "SUCCESS", "startTimeMillis": 1000, "durationMillis": 500},
            {"id": "12", "name": "Test", "status": "FAILED", "startTimeMillis": 1500, "durationMillis": 250,
             "error": {"message": "script returned exit code 1", "type": "hudson.AbortException"}}
        ]})))
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/free/3/wfapi/describe"))
        .respond_with(ResponseTemplate::new(404).set_body_raw("<html/>", "text/html"))
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/free/3/api/json"))
        .respond_with(jenkins_json(
            json!({"_class": "hudson.model.FreeStyleBuild"}),
        ))
        .mount(&server)
        .await;
    let out = ci_sync(
        &server,
        &["jenkins", "stages", "team/pipe", "7"],
        Some("tok"),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stages = lines(&out);
    assert_eq!(
        stages,
        vec![
            json!({"stage_id": "6", "name": "Build", "status": "SUCCESS", "start_ms": 1000, "duration_ms": 500, "error": null}),
            json!({"stage_id": "12", "name": "Test", "status": "FAILED", "start_ms": 1500, "duration_ms": 250,
                   "error": "script returned exit code 1"}),
        ]
    );
    let out = ci_sync(&server, &["jenkins", "stages", "free", "3"], Some("tok")).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Pipeline"));
}

#[tokio::test]
async fn input_proceeds_aborts_or_says_there_is_none() {
    let server = MockServer::start().await;
    Mock::given(path("/jenkins/job/pipe/5/wfapi/pendingInputActions"))
        .respond_with(jenkins_json(json!([{"id": "Ok1", "message": "Deploy?", "proceedText": "Yes",
            "proceedUrl": "/jenkins/job/pipe/5/wfapi/inputSubmit?inputId=Ok1", "abortUrl": "/jenkins/job/pipe/5/input/Ok1/abort",
            "inputs": [
                {"type": "ChoiceParameterDefinition", "name": "TARGET", "definition": {"choices": ["staging", "prod"]}},
                {"type": "BooleanParameterDefinition", "name": "NOTIFY", "definition": {"defaultVal": true}}
            ]}])))
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/pipe/6/wfapi/pendingInputActions"))
        .respond_with(jenkins_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::method("POST"))
        .and(path("/jenkins/job/pipe/5/wfapi/inputSubmit"))
        .and(wiremock::matchers::body_string_contains("TARGET"))
        // NOTIFY was not given: the form's default goes with it, as Jenkins' own form sends.
        .and(wiremock::matchers::body_string_contains("NOTIFY"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::method("POST"))
        .and(path("/jenkins/job/pipe/5/input/Ok1/abort"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let out = ci_sync(
        &server,
        &[
            "jenkins",
            "input",
            "pipe",
            "5",
            "--proceed",
            "--param",
            "TARGET=prod",
        ],
        Some("tok"),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines(&out)[0]["action"], "proceed");
    let out = ci_sync(
        &server,
        &["jenkins", "input", "pipe", "5", "--abort"],
        Some("tok"),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines(&out)[0]["input_id"], "Ok1");
    let out = ci_sync(
        &server,
        &["jenkins", "input", "pipe", "6", "--abort"],
        Some("tok"),
    )
    .await;
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("waits for no input"));
    assert!(out.stdout.is_empty());
    let out = ci_sync(&server, &["jenkins", "input", "pipe", "6"], Some("tok")).await;
    assert!(!out.status.success(), "--proceed or --abort is required");
}

#[tokio::test]
async fn a_sync_with_a_failing_job_commits_the_others_and_exits_3() {
    let server = MockServer::start().await;
    Mock::given(path("/jenkins/api/json"))
        .respond_with(jenkins_json(json!({"jobs": [
            {"_class": "hudson.model.FreeStyleProject", "name": "good", "lastBuild": {"number": 1}},
            {"_class": "hudson.model.FreeStyleProject", "name": "broken", "lastBuild": {"number": 1}}
        ]})))
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/good/api/json"))
        .respond_with(jenkins_json(json!({"allBuilds": [
            {"_class": "hudson.model.FreeStyleBuild", "number": 1, "result": "SUCCESS", "building": false,
             "timestamp": 1_700_000_000_000_i64, "duration": 1000}
        ]})))
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/broken/api/json"))
        .respond_with(ResponseTemplate::new(500).set_body_string("<html>boom</html>"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ci-sync.toml");
    std::fs::write(
        &config,
        format!(
            "[jenkins]\nbase_url = \"{}/jenkins/\"\nretry_attempts = 1\n",
            server.uri()
        ),
    )
    .unwrap();
    let db = dir.path().join("x.db");
    let out = Command::new(env!("CARGO_BIN_EXE_ci-sync"))
        .args(["run", "--config", config.to_str().unwrap()])
        .args(["--dest", &format!("sqlite://{}", db.display())])
        .env_remove("JENKINS_API_TOKEN")
        .env_remove("RUST_LOG")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: 1 jobs failed and will be read again next run: job:broken"),
        "{stderr}"
    );
    let conn = cidata_sync::rusqlite::Connection::open(&db).unwrap();
    let builds: i64 = conn
        .query_row(
            "SELECT count(*) FROM jenkins_builds WHERE id = 'good#1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(builds, 1, "the good job's rows are committed");
}
