//! Every source against a simulator that misbehaves: a seeded 10% of answers faulty (429 with and
//! without `Retry-After`, 502, 503 pages, resets, bodies cut short, answers slower than the
//! timeout), a service that goes down and stays down, and runs killed at seeded points. Each
//! must end with exactly the database a clean run gives.

use std::time::{Duration, Instant};

use cidata_cli::simulator::FaultPlan;

use crate::every_source::{
    EVERY_SOURCE, assert_same, config_of, config_with, kill_points, run, run_cmd, sqlite_normalized,
};
use crate::sync::{Setup, ok, sqlite_url};

/// Each section's timeout (1 s, beaten by the slow answers) and attempts.
const PATIENT: &str = "request_timeout_seconds = 1\nretry_attempts = 3";

fn report(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// The retries the summaries report, summed over the sources.
fn retries(report: &str) -> u64 {
    report
        .lines()
        .filter_map(|l| {
            let (_, after) = l.split_once(" requests (")?;
            after.split_once(" retried)")?.0.trim().parse::<u64>().ok()
        })
        .sum()
}

#[tokio::test]
async fn with_ten_percent_of_faulty_answers_full_and_incremental_syncs_give_the_clean_database() {
    let s = Setup::new().await;
    let config = config_with(&s, &EVERY_SOURCE, PATIENT);
    let (clean, faulty) = (s.db("clean.db"), s.db("faulty.db"));
    for (pass, seed) in [("full", 11), ("incremental", 12)] {
        if pass == "incremental" {
            s.sim.advance();
        }
        ok(&run(&config, &sqlite_url(&clean)).await);
        let before = s.sim.faults_injected();
        s.sim.set_faults(Some(FaultPlan {
            slow: Duration::from_millis(1500),
            ..FaultPlan::new(0.1, seed)
        }));
        let out = run(&config, &sqlite_url(&faulty)).await;
        let injected = s.sim.faults_injected() - before;
        s.sim.set_faults(None);
        ok(&out);
        let report = report(&out);
        assert!(injected >= 5, "{pass}: only {injected} faults injected");
        assert!(
            retries(&report) >= injected,
            "{pass}: {injected} faults but the summaries report {} retries:\n{report}",
            retries(&report)
        );
        assert_same(
            &sqlite_normalized(&faulty),
            &sqlite_normalized(&clean),
            &format!("the {pass} sync with faults"),
        );
    }
}

#[tokio::test]
async fn a_service_that_stays_down_stops_its_source_alone_and_the_next_run_continues() {
    let s = Setup::new().await;
    let config = config_of(&s, &EVERY_SOURCE);
    let reference = s.db("reference.db");
    let before = s.sim.requests();
    ok(&run(&config, &sqlite_url(&reference)).await);
    let full_run_requests = s.sim.requests() - before;

    let want = sqlite_normalized(&reference);
    // Each service in turn answers a few requests, then only 503 pages.
    for (source, prefix, answered) in [
        ("jenkins", "/jenkins/", 30),
        ("circleci", "/api/v2/", 12),
        ("bitbucket", "/2.0/", 6),
    ] {
        let db = s.db(&format!("outage-{source}.db"));
        s.sim.set_outage(Some(prefix), answered);
        let started = Instant::now();
        let out = run(&config, &sqlite_url(&db)).await;
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let context = format!("{source} down:\n{stderr}");
        assert!(!out.status.success(), "{context}");
        // One error line, naming the status; within the retry budget.
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
        assert_eq!(errors.len(), 1, "{context}");
        assert!(errors[0].contains("503"), "{context}");
        assert!(took < Duration::from_secs(60), "{took:?}: {context}");
        // The other sources were synced in full; what the one down committed stays.
        let partial = sqlite_normalized(&db);
        for other in EVERY_SOURCE.iter().filter(|o| **o != source) {
            let prefix = format!("{other}_");
            let got: Vec<&String> = partial.iter().filter(|l| l.starts_with(&prefix)).collect();
            let expected: Vec<&String> = want.iter().filter(|l| l.starts_with(&prefix)).collect();
            assert_eq!(got, expected, "{other} while {source} was down");
        }
        if source == "jenkins" {
            let committed_jobs = partial
                .iter()
                .filter(|l| l.starts_with("_ci_sync_state: 'jenkins'|'job:"))
                .count();
            assert!(committed_jobs > 0, "nothing of Jenkins was committed");
        }

        // Back up: the next run continues from there, to the reference database.
        s.sim.set_outage(None, 0);
        let before = s.sim.requests();
        ok(&run(&config, &sqlite_url(&db)).await);
        let resumed_requests = s.sim.requests() - before;
        assert_same(
            &sqlite_normalized(&db),
            &want,
            &format!("after the {source} outage"),
        );
        assert!(
            resumed_requests < full_run_requests,
            "the run after the {source} outage took {resumed_requests} requests, a full one {full_run_requests}"
        );
    }
}

#[tokio::test]
async fn runs_killed_at_twenty_seeded_points_resume_to_the_uninterrupted_database() {
    let s = Setup::new().await;
    let config = config_of(&s, &EVERY_SOURCE);
    let reference = s.db("reference.db");
    ok(&run(&config, &sqlite_url(&reference)).await);
    let want = sqlite_normalized(&reference);
    // A full run of SQLite takes about 1,206 statements for Jenkins, 298 for CircleCI and 101
    // for Bitbucket; the killed run syncs one source, the next one all of them.
    for (i, (source, n)) in kill_points(20, [1200, 295, 100]).into_iter().enumerate() {
        let db = s.db(&format!("killed-{i}.db"));
        let out = run_cmd(&config_of(&s, &[source]), &sqlite_url(&db))
            .env("CI_SYNC_ABORT_AFTER_STATEMENTS", n.to_string())
            .output()
            .await
            .unwrap();
        assert!(
            !out.status.success(),
            "the {source} run was meant to be killed after {n} statements"
        );
        ok(&run(&config, &sqlite_url(&db)).await);
        assert_same(
            &sqlite_normalized(&db),
            &want,
            &format!("after a kill of {source} at statement {n}"),
        );
    }
}
