//! Progressive console output: offsets from `X-Text-Size`, `X-More-Data` then absent, UTF-8 split
//! across polls, resume, an offset past the end.

use std::time::Duration;

use cidata_core::ErrorKind;
use cidata_jenkins::{ConsoleOptions, JobPath};
use futures::TryStreamExt;
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{catch_all, token_client};

/// The log in two polls; the first ends inside `É` (two bytes) and `✓` (three bytes) is whole.
const PART_1: &[u8] = b"Started by user alice\n\xc3";
const PART_2: &[u8] = b"\x89tape 1 \xe2\x9c\x93\nFinished: SUCCESS\n";

fn text(body: &[u8], size: u64, more: bool) -> ResponseTemplate {
    // The raw log holds hidden annotations: its offsets exceed the body's length on purpose.
    let t = ResponseTemplate::new(200)
        .insert_header("X-Text-Size", size.to_string().as_str())
        .set_body_raw(body.to_vec(), "text/plain;charset=UTF-8");
    if more {
        t.insert_header("X-More-Data", "true")
    } else {
        t
    }
}

async fn log_server() -> MockServer {
    let server = MockServer::start().await;
    let p = "/job/app/job/main/7/logText/progressiveText";
    Mock::given(path(p))
        .and(query_param("start", "0"))
        .respond_with(text(PART_1, 120, true))
        .mount(&server)
        .await;
    Mock::given(path(p))
        .and(query_param("start", "120"))
        .respond_with(text(PART_2, 300, true))
        .mount(&server)
        .await;
    Mock::given(path(p))
        .and(query_param("start", "300"))
        .respond_with(text(b"", 300, false))
        .mount(&server)
        .await;
    // Jenkins restarts from 0 for an offset past the end.
    Mock::given(path(p))
        .and(query_param("start", "999"))
        .respond_with(text(PART_1, 300, false))
        .mount(&server)
        .await;
    catch_all(&server).await;
    server
}

fn job() -> JobPath {
    JobPath::from_full_name("app/main").unwrap()
}

#[tokio::test]
async fn follows_until_more_data_is_absent_and_never_splits_a_character() {
    let server = log_server().await;
    let jenkins = token_client(&server, "/");
    let opts = ConsoleOptions::follow().poll_interval(Duration::from_millis(1));
    let chunks: Vec<_> = jenkins
        .console(&job(), 7, opts.clone())
        .try_collect()
        .await
        .unwrap();
    let resumes: Vec<_> = chunks.iter().filter_map(|c| c.resume_from).collect();
    assert_eq!(resumes, [120, 300, 300]);
    assert_eq!(chunks.last().unwrap().more_data, Some(false));
    let bytes: Vec<u8> = chunks.iter().flat_map(|c| c.bytes.to_vec()).collect();
    assert_eq!(bytes, [PART_1, PART_2].concat());

    let pieces: Vec<String> = jenkins
        .console_text(&job(), 7, opts)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pieces.concat(),
        "Started by user alice\nÉtape 1 ✓\nFinished: SUCCESS\n"
    );
    assert!(pieces.iter().all(|p| !p.contains('\u{fffd}')));
    assert_eq!(jenkins.stats().snapshot().requests, 6);
}

#[tokio::test]
async fn without_follow_one_poll_returns_what_is_there() {
    let server = log_server().await;
    let jenkins = token_client(&server, "/");
    let chunks: Vec<_> = jenkins
        .console(&job(), 7, ConsoleOptions::snapshot())
        .try_collect()
        .await
        .unwrap();
    let last = chunks.last().unwrap();
    assert_eq!((last.resume_from, last.more_data), (Some(120), Some(true)));
    assert_eq!(jenkins.stats().snapshot().requests, 1);
}

#[tokio::test]
async fn resumes_from_an_offset() {
    let server = log_server().await;
    let jenkins = token_client(&server, "/");
    let opts = ConsoleOptions::follow().from_offset(300);
    let chunks: Vec<_> = jenkins
        .console(&job(), 7, opts)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(chunks.len(), 1);
    assert!(chunks[0].bytes.is_empty());
    assert_eq!(chunks[0].resume_from, Some(300));
}

#[tokio::test]
async fn an_offset_past_the_end_is_an_error_not_a_repeat() {
    let server = log_server().await;
    let jenkins = token_client(&server, "/");
    let out: Vec<_> = futures::StreamExt::collect(jenkins.console(
        &job(),
        7,
        ConsoleOptions::snapshot().from_offset(999),
    ))
    .await;
    assert_eq!(out.len(), 1);
    let err = out[0].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("999"), "{err}");
}

#[test]
fn invalid_utf8_becomes_replacement_characters_without_an_error() {
    let mut text = cidata_jenkins::ConsoleText::new();
    let mut out = text.push(b"ok \xff\xfe then \xe2\x9c");
    out.push_str(&text.push(b"\x93 done \xe2"));
    out.push_str(&text.finish());
    assert_eq!(out, "ok \u{fffd}\u{fffd} then ✓ done \u{fffd}");
}

proptest::proptest! {
    /// Bytes cut into chunks anywhere decode as the whole does: a character split across chunks
    /// is neither lost nor doubled, invalid bytes become U+FFFD (the fuzz target, in CI).
    #[test]
    fn chunk_cuts_never_change_the_text(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        cuts in proptest::collection::vec(0usize..16, 0..20),
    ) {
        let mut text = cidata_jenkins::ConsoleText::new();
        let mut out = String::new();
        let mut at = 0;
        for cut in cuts {
            let end = (at + cut).min(bytes.len());
            out.push_str(&text.push(&bytes[at..end]));
            at = end;
        }
        out.push_str(&text.push(&bytes[at..]));
        out.push_str(&text.finish());
        proptest::prop_assert_eq!(out, String::from_utf8_lossy(&bytes));
    }
}
