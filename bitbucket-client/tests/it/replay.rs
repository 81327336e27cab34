//! The client against the recorded service (`shared/tools/replay-server`): lists follow the
//! recorded `next` links across pages, `{uuid}`s reach their routes, misses are typed with
//! Bitbucket's message (JSON or plain text).

use cidata_bitbucket::{Bitbucket, ErrorKind, PullRequestState, Query};
use futures::TryStreamExt;
use test_support::ReplayServer;

fn client(server: &ReplayServer) -> Bitbucket {
    Bitbucket::builder()
        .base_url(server.url("/2.0/"))
        .app_password("recorded", "secret-password")
        .retry(test_support::fast_retry(1))
        .build()
        .unwrap()
}

#[tokio::test]
async fn lists_follow_next_links_and_reads_decode() {
    let server = ReplayServer::start("bitbucket");
    let bitbucket = client(&server);
    let repos: Vec<_> = bitbucket
        .repositories("sourcegraph-testing", &Query::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(repos.len(), 2, "two recorded pages of one");
    let commits: Vec<_> = bitbucket
        .pull_request_commits("ThiagoCodecov", "example-python", 1)
        .try_collect()
        .await
        .unwrap();
    assert!(
        commits.len() >= 2,
        "an opaque `page=8xhd` next link followed"
    );
    let repo = bitbucket
        .repository("atlassian", "stash-example-plugin")
        .await
        .unwrap();
    assert_eq!(
        repo.full_name.as_deref(),
        Some("atlassian/stash-example-plugin")
    );
    let open: Vec<_> = bitbucket
        .pull_requests(
            "ThiagoCodecov",
            "example-python",
            &[PullRequestState::Open],
            &Query::new(),
        )
        .try_collect()
        .await
        .unwrap();
    assert!(open.iter().all(|p| p.state == Some(PullRequestState::Open)));
    let pipeline = bitbucket
        .pipeline(
            "likyh",
            "likyhphp",
            "{02c4dfe8-70a6-442c-8bd8-19061979c2cf}",
        )
        .await
        .unwrap();
    assert!(!pipeline.is_final());
    let steps: Vec<_> = bitbucket
        .pipeline_steps("TestWorkspace1", "testrepository1", "{PipelineUuid}")
        .try_collect()
        .await
        .unwrap();
    assert!(!steps.is_empty());
    let access: Vec<_> = bitbucket.user_workspaces().try_collect().await.unwrap();
    assert_eq!(access.len(), 2);
    assert!(bitbucket.user().await.unwrap().uuid.is_some());
    assert!(
        bitbucket
            .workspace("atlassian")
            .await
            .unwrap()
            .slug
            .is_some()
    );
    assert_eq!(bitbucket.stats().snapshot().retries, 0);
}

#[tokio::test]
async fn misses_are_typed_with_the_api_message() {
    let server = ReplayServer::start("bitbucket");
    let bitbucket = client(&server);
    let err = bitbucket.repository("dev", "null").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains("Repository dev/null not found"),
        "{err}"
    );
    // A plain-text 404 (2018) says why too.
    let err = bitbucket
        .pull_request("ThiagoCodecov", "example-python", 100)
        .await
        .unwrap_err();
    assert!(err.to_string().ends_with(": Not Found"), "{err}");
    let shown = format!("{err} {err:#} {err:?}");
    assert!(!shown.contains("secret-password"), "{shown}");
}
