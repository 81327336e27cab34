//! `.ci/run` closes with the total of passed and failed tests, also when some failed, and keeps
//! cargo's exit status. Run with a stand-in `cargo` first on `PATH`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn run_with_fake_cargo(script: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let cargo = dir.path().join("cargo");
    std::fs::write(&cargo, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let ci_run = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/run");
    Command::new("bash")
        .arg(ci_run)
        .env("PATH", path)
        .output()
        .unwrap()
}

#[test]
fn the_total_is_printed_when_tests_fail_and_the_status_kept() {
    let out = run_with_fake_cargo(
        "echo 'test result: ok. 5 passed; 0 failed; 0 ignored'\n\
         echo 'test result: FAILED. 3 passed; 2 failed; 0 ignored'\n\
         exit 101",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("8 passed, 2 failed (cargo test exited with 101)")
    );
}

#[test]
fn a_passing_run_prints_the_total_and_succeeds() {
    let out = run_with_fake_cargo("echo 'test result: ok. 4 passed; 0 failed; 1 ignored'");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().last(),
        Some("4 passed, 0 failed")
    );
}
