//! The Bitbucket source against wiremock: an incremental run asks for repositories changed since
//! its cursor with `>=` and a lookback, so a repository that shares the cursor's `updated_on`
//! but arrived after the last listing is not lost.

use std::sync::Arc;

use cidata_bitbucket::Bitbucket;
use cidata_sources::bitbucket::{BitbucketSource, BitbucketSyncOptions};
use cidata_sync::{Engine, SqliteDestination};
use serde_json::json;
use wiremock::matchers::{path, query_param_is_missing};
use wiremock::{Mock, MockServer, Request};

fn repo(uuid: &str, updated_on: &str) -> serde_json::Value {
    json!({"type": "repository", "uuid": uuid, "slug": uuid.trim_matches(|c| c == '{' || c == '}'),
           "full_name": format!("acme/{uuid}"), "updated_on": updated_on})
}

async fn sync(server: &MockServer, db: &std::path::Path) {
    let client = Bitbucket::builder()
        .base_url(format!("{}/2.0/", server.uri()))
        .access_token("t")
        .retry(test_support::fast_retry(1))
        .build()
        .unwrap();
    let options = BitbucketSyncOptions {
        workspaces: vec!["acme".into()],
        pipelines: false,
        pull_requests: false,
        ..BitbucketSyncOptions::default()
    };
    let stats = Engine::new()
        .run(
            Arc::new(BitbucketSource::new(client, options)),
            Box::new(SqliteDestination::open(db).unwrap()),
        )
        .await
        .unwrap();
    assert!(stats.failed_partitions.is_empty());
}

fn repositories(db: &std::path::Path) -> Vec<String> {
    let conn = cidata_sync::rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT uuid FROM bitbucket_repositories ORDER BY uuid")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn a_repository_tied_with_the_cursor_is_not_lost() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bb.db");
    let tie = "2026-11-30T12:00:00.000000+00:00";
    test_support::catch_all(&server).await;
    Mock::given(path("/2.0/workspaces/acme"))
        .respond_with(test_support::json(
            r#"{"type": "workspace", "uuid": "{w}", "slug": "acme"}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(path("/2.0/workspaces/acme/projects"))
        .respond_with(test_support::json(r#"{"values": []}"#))
        .mount(&server)
        .await;
    Mock::given(path("/2.0/repositories/acme"))
        .and(query_param_is_missing("q"))
        .respond_with(test_support::json(
            json!({"values": [repo("{a}", "2026-11-30T11:00:00.000000+00:00"), repo("{b}", tie)]})
                .to_string(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    sync(&server, &db).await;
    assert_eq!(repositories(&db), ["{a}", "{b}"]);

    // `{c}` was pushed in the same second as `{b}`, after the first listing.
    Mock::given(path("/2.0/repositories/acme"))
        .and(|req: &Request| {
            let q = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned());
            // `>=`, from a point at or before the cursor.
            q.is_some_and(|q| {
                let bound = q.trim_start_matches("updated_on >= ");
                q.starts_with("updated_on >= ")
                    && cidata_bitbucket::parse_time(bound)
                        <= cidata_bitbucket::parse_time("2026-11-30T12:00:00Z")
            })
        })
        .respond_with(test_support::json(
            json!({"values": [repo("{b}", tie), repo("{c}", tie)]}).to_string(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    sync(&server, &db).await;
    assert_eq!(repositories(&db), ["{a}", "{b}", "{c}"]);
}
