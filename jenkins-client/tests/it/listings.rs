//! Streams: all jobs through folders, all builds paged past the 100 cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cidata_jenkins::{Jenkins, JobPath, Range, Tree, default_job_fields};
use futures::TryStreamExt;
use serde_json::json;
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, Request};

use crate::support::{catch_all, fast_retry, json, query};

const FOLDER: &str = "com.cloudbees.hudson.plugins.folder.Folder";
const MULTI: &str = "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject";
const PIPE: &str = "org.jenkinsci.plugins.workflow.job.WorkflowJob";
const FREE: &str = "hudson.model.FreeStyleProject";

#[tokio::test]
async fn all_jobs_through_folders_with_few_requests() {
    let server = MockServer::start().await;
    let stale = "http://jenkins.internal:8080/jenkins";
    let expected_tree = jenkins_tree(2);
    Mock::given(path("/jenkins/api/json"))
        .and(query_param("tree", expected_tree.as_str()))
        .respond_with(json(json!({"_class": "hudson.model.Hudson", "jobs": [
            {"_class": FOLDER, "name": "team", "url": format!("{stale}/job/team/"), "jobs": [
                {"_class": MULTI, "name": "app", "jobs": [{"_class": PIPE, "name": "feature%2Fx"}]},
                {"_class": FOLDER, "name": "deep", "jobs": [{"_class": FOLDER, "name": "level3"}]},
                {"_class": "com.example.plugin.TemplateJob", "name": "templated", "color": "blue"}
            ]},
            {"_class": FREE, "name": "Déploiement prod", "color": "blue_anime", "lastBuild": {"number": 7}},
            {"_class": FOLDER, "name": "empty", "jobs": []}
        ]}).to_string()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/team/job/app/api/json"))
        .and(query_param("tree", expected_tree.as_str()))
        .respond_with(json(
            json!({"jobs": [
                {"_class": PIPE, "name": "feature%2Fx", "color": "red"},
                {"_class": PIPE, "name": "main", "color": "blue"}
            ]})
            .to_string(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/jenkins/job/team/job/deep/api/json"))
        .respond_with(json(json!({"jobs": [
            {"_class": FOLDER, "name": "level3", "jobs": [{"_class": FREE, "name": "leaf", "color": "notbuilt"}]}
        ]}).to_string()))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;

    let jenkins = Jenkins::builder(format!("{}/jenkins", server.uri()))
        .basic_auth("alice", "tok")
        .folder_depth(2)
        .retry(fast_retry())
        .build()
        .unwrap();
    let entries: Vec<_> = jenkins.jobs().try_collect().await.unwrap();
    let names: Vec<String> = entries.iter().map(|e| e.path.full_name()).collect();
    assert_eq!(
        names,
        [
            "team",
            "team/app",
            "team/deep",
            "team/templated",
            "Déploiement prod",
            "empty",
            "team/app/feature%2Fx",
            "team/app/main",
            "team/deep/level3",
            "team/deep/level3/leaf",
        ]
    );
    let prod = entries
        .iter()
        .find(|e| e.path.name() == "Déploiement prod")
        .unwrap();
    assert!(prod.job.is_building());
    assert_eq!(prod.job.last_build_number(), Some(7));
    assert_eq!(prod.path.url_path(), "job/D%C3%A9ploiement%20prod/");
    let branch = entries
        .iter()
        .find(|e| e.path.name() == "feature%2Fx")
        .unwrap();
    assert_eq!(
        branch.path.url_path(),
        "job/team/job/app/job/feature%252Fx/"
    );
    assert!(entries[0].job.is_container());
    assert_eq!(jenkins.stats().snapshot().requests, 3);
}

fn jenkins_tree(levels: u32) -> String {
    // What the client must send for `levels` nested levels: the default fields at every level and
    // a one-entry probe of `jobs` at the bottom.
    let probe = cidata_jenkins::Field::new("jobs")
        .children(Tree::fields(["name"]))
        .range(Range::To(1));
    let mut inner = default_job_fields().with(probe);
    for _ in 1..levels {
        inner = default_job_fields().nested("jobs", inner);
    }
    Tree::new().nested("jobs", inner).to_string()
}

/// Serves `allBuilds{M,N}` slices of a job with `total()` builds, newest first.
fn builds_responder(
    total: impl Fn(usize) -> u64 + Send + Sync + 'static,
) -> impl wiremock::Respond {
    let calls = Arc::new(AtomicUsize::new(0));
    move |req: &Request| {
        let call = calls.fetch_add(1, Ordering::SeqCst);
        let total = total(call);
        let tree = Tree::parse(&query(req, "tree").unwrap()).unwrap();
        let (start, end) = match tree.get("allBuilds").unwrap().range_spec().unwrap() {
            Range::Between(m, n) => (m, n),
            other => panic!("unexpected range {other:?}"),
        };
        let builds: Vec<_> = (start..end.min(total))
            .map(|i| {
                let n = total - i;
                json!({"_class": "hudson.model.FreeStyleBuild", "number": n, "result": "SUCCESS",
                       "building": false, "timestamp": 1_700_000_000_000u64 + n, "duration": 1000,
                       "url": format!("http://stale/job/big/{n}/"),
                       "artifacts": [{"fileName": "a.txt", "relativePath": "out/a.txt"}]})
            })
            .collect();
        json(json!({"_class": "hudson.model.FreeStyleProject", "allBuilds": builds}).to_string())
    }
}

#[tokio::test]
async fn all_builds_are_paged_past_the_cap_of_100() {
    let server = MockServer::start().await;
    Mock::given(path("/job/big/api/json"))
        .respond_with(builds_responder(|_| 250))
        .expect(3)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let jenkins = Jenkins::builder(server.uri())
        .basic_auth("a", "t")
        .retry(fast_retry())
        .build()
        .unwrap();
    let builds: Vec<_> = jenkins
        .builds(&JobPath::from_full_name("big").unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(builds.len(), 250);
    let numbers: Vec<u64> = builds.iter().map(|b| b.number.unwrap()).collect();
    assert_eq!(numbers, (1..=250).rev().collect::<Vec<_>>());
    assert_eq!(
        builds[0].artifacts[0].relative_path.as_deref(),
        Some("out/a.txt")
    );
}

#[tokio::test]
async fn a_build_started_during_the_listing_is_not_yielded_twice() {
    let server = MockServer::start().await;
    // A new build (#251) starts after the first page: page two then repeats #151.
    Mock::given(path("/job/big/api/json"))
        .respond_with(builds_responder(|call| if call == 0 { 250 } else { 251 }))
        .mount(&server)
        .await;
    let jenkins = Jenkins::builder(server.uri())
        .page_size(100)
        .retry(fast_retry())
        .build()
        .unwrap();
    let builds: Vec<_> = jenkins
        .builds(&JobPath::from_full_name("big").unwrap())
        .try_collect()
        .await
        .unwrap();
    let numbers: Vec<u64> = builds.iter().map(|b| b.number.unwrap()).collect();
    assert_eq!(numbers, (1..=250).rev().collect::<Vec<_>>());
}

#[tokio::test]
async fn page_size_is_configurable_and_a_custom_tree_is_sent() {
    let server = MockServer::start().await;
    Mock::given(path("/job/big/api/json"))
        .and(query_param("tree", "allBuilds[number,result]{0,30}"))
        .respond_with(builds_responder(|_| 45))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/job/big/api/json"))
        .and(query_param("tree", "allBuilds[number,result]{30,60}"))
        .respond_with(builds_responder(|_| 45))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let jenkins = Jenkins::builder(server.uri())
        .page_size(30)
        .retry(fast_retry())
        .build()
        .unwrap();
    let job = JobPath::from_full_name("big").unwrap();
    let builds: Vec<_> = jenkins
        .builds_with(&job, Tree::fields(["number", "result"]))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(builds.len(), 45);
}
