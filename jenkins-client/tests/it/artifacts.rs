//! Artifacts: listing, encoded URLs, streamed downloads.

use cidata_jenkins::JobPath;
use futures::TryStreamExt;
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{catch_all, json, token_client};

#[tokio::test]
async fn lists_and_downloads_with_encoded_paths() {
    let server = MockServer::start().await;
    Mock::given(path("/ci/job/My%20App/3/api/json"))
        .and(query_param("tree", "artifacts[fileName,relativePath,displayPath]"))
        .respond_with(json(
            r#"{"artifacts":[{"fileName":"résumé.txt","relativePath":"reports/my report/résumé.txt","displayPath":"résumé.txt"},
                             {"fileName":"résumé.txt","relativePath":"other/résumé.txt","displayPath":"other/résumé.txt"}]}"#,
        ))
        .mount(&server)
        .await;
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    Mock::given(path(
        "/ci/job/My%20App/3/artifact/reports/my%20report/r%C3%A9sum%C3%A9.txt",
    ))
    .respond_with(ResponseTemplate::new(200).set_body_raw(big.clone(), "application/octet-stream"))
    .expect(1)
    .mount(&server)
    .await;
    catch_all(&server).await;
    let jenkins = token_client(&server, "/ci/");
    let job = JobPath::from_full_name("My App").unwrap();
    let artifacts = jenkins.artifacts(&job, 3).await.unwrap();
    assert_eq!(artifacts.len(), 2);
    let rel = artifacts[0].relative_path.clone().unwrap();
    let chunks: Vec<_> = jenkins
        .download_artifact(&job, 3, &rel)
        .try_collect()
        .await
        .unwrap();
    assert!(chunks.len() > 1, "the body arrives in several chunks");
    let got: Vec<u8> = chunks.concat();
    assert_eq!(got.len(), big.len());
    assert!(got == big);
    assert!(jenkins.stats().snapshot().bytes_received >= big.len() as u64);
}

#[tokio::test]
async fn artifact_paths_cannot_escape_the_build() {
    let server = MockServer::start().await;
    let jenkins = token_client(&server, "/");
    let job = JobPath::from_full_name("a").unwrap();
    for bad in ["../secret", "a//b", "", "/abs"] {
        assert!(jenkins.artifact_url(&job, 1, bad).is_err(), "{bad}");
    }
}
