//! No secret anywhere: a sync of every source at the highest verbosity, with the tokens in the
//! config file and in the environment, leaves them out of stdout, stderr (every log line), the
//! SQLite database and the JSON lines.

use crate::every_source::{EVERY_SOURCE, config_with, run_cmd};
use crate::sync::{Setup, ok, sqlite_url};

/// The simulator's one secret, and the forms it travels in.
fn forms() -> [&'static str; 2] {
    // base64("demo:demo-token"), as basic auth sends it.
    ["demo-token", "ZGVtbzpkZW1vLXRva2Vu"]
}

fn assert_no_secret(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for secret in forms() {
        assert!(!text.contains(secret), "{what} holds `{secret}`");
    }
}

#[tokio::test]
async fn no_secret_in_logs_output_or_databases_at_any_verbosity() {
    let s = Setup::new().await;
    // Secrets in the file (Jenkins, CircleCI, Bitbucket) and in the environment (run_cmd).
    let config = config_with(&s, &EVERY_SOURCE, "");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text
        .replace(
            "username = \"demo\"\n\n[circleci]",
            "username = \"demo\"\napi_token = \"demo-token\"\n\n[circleci]",
        )
        .replace("[circleci]\n", "[circleci]\ntoken = \"demo-token\"\n")
        .replace(
            "[bitbucket]\n",
            "[bitbucket]\napp_password = \"demo-token\"\n",
        );
    std::fs::write(&config, &text).unwrap();
    assert!(text.matches("demo-token").count() >= 3, "{text}");
    let db = s.db("secrets.db");
    let jsonl = s.db("secrets.jsonl");
    for (verbosity, dest) in [
        ("-vv", sqlite_url(&db)),
        ("-v", format!("jsonl://{}", jsonl.display())),
        ("-vv", "jsonl://-".to_owned()),
    ] {
        let out = run_cmd(&config, &dest)
            .arg(verbosity)
            .env("RUST_LOG", "trace")
            .output()
            .await
            .unwrap();
        ok(&out);
        assert!(out.stderr.len() > 10_000, "trace logs were written");
        assert_no_secret(&format!("stdout of {verbosity} {dest}"), &out.stdout);
        assert_no_secret(&format!("stderr of {verbosity} {dest}"), &out.stderr);
    }
    for file in [db.clone(), db.with_extension("db-wal"), jsonl] {
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(!bytes.is_empty());
            assert_no_secret(&file.display().to_string(), &bytes);
        }
    }
}

#[tokio::test]
async fn secrets_may_come_from_files() {
    let s = Setup::new().await;
    let secret_file = s.dir.path().join("token");
    std::fs::write(&secret_file, "demo-token\n").unwrap();
    let file = secret_file.display().to_string();
    let config = config_with(&s, &EVERY_SOURCE, "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            "username = \"demo\"\n\n[circleci]",
            &format!("username = \"demo\"\napi_token_file = \"{file}\"\n\n[circleci]"),
        )
        .replace(
            "[circleci]\n",
            &format!("[circleci]\ntoken_file = \"{file}\"\n"),
        )
        .replace(
            "[bitbucket]\n",
            &format!("[bitbucket]\napp_password_file = \"{file}\"\n"),
        );
    std::fs::write(&config, &text).unwrap();
    let db = s.db("files.db");
    // Secrets from the files only: none in the environment.
    let run = || {
        let mut cmd = crate::sync::ci_sync_run(&config, &sqlite_url(&db));
        cmd.env_remove("CIRCLECI_TOKEN")
            .env_remove("BITBUCKET_APP_PASSWORD");
        async move { cmd.output().await.unwrap() }
    };
    ok(&run().await);
    // A file that is not there: exit 2, naming the key and the file, not a secret.
    std::fs::remove_file(&secret_file).unwrap();
    let out = run().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("[jenkins] api_token_file {file}")),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_ca_bundle_is_read_with_a_warning_and_a_bad_one_is_refused() {
    let s = Setup::new().await;
    let jobs = |ca: &std::path::Path| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ci-sync"));
        cmd.args(["jenkins", "jobs", "--ca-file", ca.to_str().unwrap()])
            .env("JENKINS_URL", s.sim.base_url())
            .env("JENKINS_USER", "demo")
            .env("JENKINS_API_TOKEN", "demo-token")
            .env_remove("RUST_LOG");
        cmd
    };
    let bad = s.dir.path().join("bad.pem");
    std::fs::write(&bad, "not a certificate\n").unwrap();
    let out = jobs(&bad).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("--ca-file {}: no PEM certificate", bad.display())),
        "{stderr}"
    );
    // A real bundle (the system's, where there is one) is trusted besides the roots, loudly.
    let system = std::path::Path::new("/etc/ssl/certs/ca-certificates.crt");
    if system.exists() {
        let out = jobs(system).output().await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        ok(&out);
        assert!(stderr.contains("trusting its certificates"), "{stderr}");
    }
}
