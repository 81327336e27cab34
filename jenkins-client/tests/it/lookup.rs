//! Finding the job a person typed: branch names with `/`, missing names, ambiguous names.

use cidata_jenkins::{JobLookup, JobPath};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::support::{catch_all, json, token_client};

async fn folder(server: &MockServer, at: &str, children: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(format!("/jenkins/{at}api/json")))
        .respond_with(json(json!({ "jobs": children }).to_string()))
        .mount(server)
        .await;
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    let f = "com.cloudbees.hudson.plugins.folder.Folder";
    let mb = "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject";
    let pipe = "org.jenkinsci.plugins.workflow.job.WorkflowJob";
    folder(
        &server,
        "",
        json!([
            {"_class": f, "name": "platform", "jobs": [{"name": "web"}]},
            {"_class": f, "name": "a", "jobs": [{"name": "b"}]},
            {"_class": pipe, "name": "a%2Fb", "lastBuild": {"number": 3}},
        ]),
    )
    .await;
    folder(&server, "job/platform/", json!([{"_class": mb, "name": "web", "jobs": [{"name": "main"}, {"name": "feature%2Flogin"}]}])).await;
    folder(&server, "job/platform/job/web/", json!([
        {"_class": pipe, "name": "main", "firstBuild": {"number": 1}, "lastBuild": {"number": 15}},
        {"_class": pipe, "name": "feature%2Flogin", "firstBuild": {"number": 1}, "lastBuild": {"number": 5}},
    ]))
    .await;
    folder(&server, "job/a/", json!([{"_class": pipe, "name": "b"}])).await;
    catch_all(&server).await;
    server
}

#[tokio::test]
async fn a_branch_typed_with_slashes_is_found_encoded() {
    let server = server().await;
    let jenkins = token_client(&server, "/jenkins/");
    let JobLookup::Found { path, job } = jenkins
        .lookup_job("platform/web/feature/login")
        .await
        .unwrap()
    else {
        panic!("not found")
    };
    assert_eq!(
        path,
        JobPath::from_segments(["platform", "web", "feature%2Flogin"]).unwrap()
    );
    assert_eq!(job.last_build_number(), Some(5));
    // The encoded name a person may copy from a URL works too.
    let JobLookup::Found { path: same, .. } = jenkins
        .lookup_job("platform/web/feature%2Flogin")
        .await
        .unwrap()
    else {
        panic!("not found")
    };
    assert_eq!(same, path);
    // A folder is found as a folder, with what it holds.
    let JobLookup::Found { job, .. } = jenkins.lookup_job("platform").await.unwrap() else {
        panic!("not found")
    };
    assert!(job.is_container());
    assert_eq!(job.jobs.unwrap()[0].name.as_deref(), Some("web"));
}

#[tokio::test]
async fn a_missing_name_says_where_the_walk_stopped_and_what_is_there() {
    let server = server().await;
    let jenkins = token_client(&server, "/jenkins/");
    match jenkins
        .lookup_job("platform/web/feature/logout")
        .await
        .unwrap()
    {
        JobLookup::Missing {
            folder,
            name,
            children,
        } => {
            assert_eq!(folder.full_name(), "platform/web");
            assert_eq!(name, "feature");
            assert_eq!(children, ["main", "feature%2Flogin"]);
        }
        other => panic!("{other:?}"),
    }
    match jenkins.lookup_job("nope").await.unwrap() {
        JobLookup::Missing {
            folder,
            name,
            children,
        } => {
            assert!(folder.is_root());
            assert_eq!(name, "nope");
            assert_eq!(children, ["platform", "a", "a%2Fb"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(jenkins.lookup_job("a//b").await.is_err());
}

#[tokio::test]
async fn two_readings_of_one_name_are_ambiguous() {
    let server = server().await;
    let jenkins = token_client(&server, "/jenkins/");
    match jenkins.lookup_job("a/b").await.unwrap() {
        JobLookup::Ambiguous(paths) => {
            let mut names: Vec<String> = paths.iter().map(|p| p.full_name()).collect();
            names.sort();
            assert_eq!(names, ["a%2Fb", "a/b"]);
        }
        other => panic!("{other:?}"),
    }
}
