//! `.ci/run` closes with the total of passed and failed tests, also when some failed, and keeps
//! cargo's exit status: `.ci/total`, which it calls with cargo test's output and status, is run
//! here on such outputs (the rest of `.ci/run` installs services, which these lines need not).

use std::path::Path;
use std::process::Command;

fn total(log: &str, status: i32) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cargo-test.log");
    std::fs::write(&file, log).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/total");
    Command::new("bash")
        .arg(script)
        .arg(&file)
        .arg(status.to_string())
        .output()
        .unwrap()
}

#[test]
fn the_total_is_printed_when_tests_fail_and_the_status_kept() {
    let out = total(
        "running 7 tests\n\
         test result: ok. 5 passed; 0 failed; 0 ignored\n\
         test result: FAILED. 3 passed; 2 failed; 0 ignored\n",
        101,
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
    let out = total("test result: ok. 4 passed; 0 failed; 1 ignored\n", 0);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().last(),
        Some("4 passed, 0 failed")
    );
}

#[test]
fn ci_run_closes_with_the_total_script() {
    let run =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/run")).unwrap();
    let last = run.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert_eq!(last, r#"bash .ci/total "$log" "$status""#);
}
