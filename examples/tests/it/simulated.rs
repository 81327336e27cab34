//! `ci-sync simulate` and the `ci-sync jenkins` commands against the simulated Jenkins: names as
//! people type them, pasted URLs, errors that say what exists, inputs, exit codes, pipes.

use std::process::{Output, Stdio};

use cidata_cli::simulator::{Simulator, World};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

async fn simulator() -> Simulator {
    Simulator::start(World::demo(), Some(("demo".into(), "demo-token".into())))
        .await
        .unwrap()
}

fn jenkins_cmd(base_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ci-sync"));
    cmd.env("JENKINS_URL", base_url)
        .env("JENKINS_USER", "demo")
        .env("JENKINS_API_TOKEN", "demo-token")
        .env_remove("RUST_LOG");
    cmd
}

async fn jenkins(sim: &Simulator, args: &[&str]) -> Output {
    jenkins_cmd(&sim.base_url())
        .arg("jenkins")
        .args(args)
        .output()
        .await
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect()
}

#[tokio::test]
async fn simulate_prints_its_url_and_credentials_and_serves_until_stopped() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ci-sync"))
        .args(["simulate", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    assert!(first.contains("user demo, API token demo-token"), "{first}");
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .expect("the URL");
    let out = jenkins_cmd(url)
        .args(["jenkins", "jobs"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), 13);
    // It printed commands to try; each one names a job the server has.
    let mut rest = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push_str(&line);
        rest.push('\n');
        if line.starts_with("then ") {
            break;
        }
    }
    assert!(
        rest.contains("ci-sync jenkins input 'déploiement prod' 12 --proceed"),
        "{rest}"
    );
    assert!(child.try_wait().unwrap().is_none(), "still serving");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn builds_of_a_folder_says_it_is_a_folder_and_lists_what_it_holds() {
    let sim = simulator().await;
    let out = jenkins(&sim, &["builds", "platform"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        stderr(&out).trim(),
        "error: `platform` is a folder, not a job; it holds: services, web"
    );
}

#[tokio::test]
async fn a_branch_typed_with_its_slash_and_a_pasted_url_are_accepted() {
    let sim = simulator().await;
    let out = jenkins(&sim, &["builds", "platform/web/feature/login"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let builds = json_lines(&out);
    assert_eq!(builds.len(), 5);
    assert_eq!(builds[0]["job"], "platform/web/feature%2Flogin");

    let url = format!(
        "{}job/platform/job/services/job/worker/20/console",
        sim.base_url()
    );
    let out = jenkins(&sim, &["artifacts", &url]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let artifacts = json_lines(&out);
    assert_eq!(artifacts.len(), 3);
    assert_eq!(artifacts[0]["build_number"], 20);
}

#[tokio::test]
async fn missing_jobs_and_builds_say_what_exists() {
    let sim = simulator().await;
    let out = jenkins(&sim, &["builds", "platform/web/nope"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "error: no job `nope` in folder `platform/web`; it holds: main, feature%2Flogin"
    );

    let out = jenkins(&sim, &["artifacts", "platform/services/worker", "99"]).await;
    assert_eq!(out.status.code(), Some(1));
    let line = stderr(&out);
    assert!(
        line.trim_end()
            .ends_with("; `platform/services/worker` has no build #99 (the newest is #20)"),
        "{line}"
    );
    assert!(line.len() < 300, "short: {line}");

    // A URL without the context path: the root answers 404, and the hint is about the URL.
    let root = sim.base_url().replace("/jenkins/", "/");
    let out = jenkins_cmd(&root)
        .args(["jenkins", "jobs"])
        .output()
        .await
        .unwrap();
    let line = stderr(&out);
    assert!(line.contains("check JENKINS_URL (or --url)"), "{line}");
    assert!(!line.contains("full name"), "{line}");
    assert_eq!(line.matches("check").count(), 1, "one hint: {line}");
}

#[tokio::test]
async fn url_user_and_page_size_are_accepted_after_the_subcommand() {
    let sim = simulator().await;
    let out = Command::new(env!("CARGO_BIN_EXE_ci-sync"))
        .args(["jenkins", "builds", "nightly-big", "--page-size", "7"])
        .args(["--url", &sim.base_url(), "--user", "demo"])
        .env("JENKINS_API_TOKEN", "demo-token")
        .env_remove("JENKINS_URL")
        .env_remove("JENKINS_USER")
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), 250);
    let help = Command::new(env!("CARGO_BIN_EXE_ci-sync"))
        .args(["jenkins", "log", "--help"])
        .output()
        .await
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--url") && help.contains("--page-size"),
        "{help}"
    );
}

#[tokio::test]
async fn proceed_without_params_sends_the_defaults_and_the_run_finishes() {
    let sim = simulator().await;
    let out = jenkins(&sim, &["input", "déploiement prod", "12"]).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "--proceed or --abort is required"
    );
    assert!(
        stderr(&out).contains("<--proceed|--abort>"),
        "{}",
        stderr(&out)
    );

    let out = jenkins(&sim, &["input", "déploiement prod", "12", "--proceed"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let answer = sim.input_answer("déploiement prod", 12).expect("answered");
    assert_eq!(
        answer,
        serde_json::json!({"parameter": [
            {"name": "TARGET", "value": "staging"},
            {"name": "NOTIFY", "value": true}
        ]})
    );
    let out = jenkins(&sim, &["builds", "déploiement prod"]).await;
    assert_eq!(json_lines(&out)[0]["result"], "SUCCESS");
}

#[tokio::test]
async fn a_reader_that_goes_away_ends_the_sync_quietly() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ci-sync.toml");
    std::fs::write(
        &config,
        format!(
            "[jenkins]\nbase_url = \"{}\"\nusername = \"demo\"\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ci-sync"))
        .args([
            "run",
            "--config",
            config.to_str().unwrap(),
            "--dest",
            "jsonl://-",
        ])
        .env("JENKINS_API_TOKEN", "demo-token")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, as `| head -1` does, and go away.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).await.unwrap();
    assert!(first.starts_with('{'), "{first}");
    drop(stdout);
    let status = child.wait().await.unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    assert!(status.success(), "exit 0 on a closed pipe: {status} {err}");
    assert!(!err.contains("error"), "{err}");
}
