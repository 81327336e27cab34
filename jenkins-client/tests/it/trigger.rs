//! Triggering, queue polling, crumbs with their session cookie, stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cidata_core::ErrorKind;
use cidata_jenkins::{Jenkins, JobPath, WaitOptions};
use wiremock::matchers::{body_string, header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fixtures::fixture;
use crate::support::{catch_all, fast_retry, json, json_fixture, token_client};

fn created(location: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).insert_header("Location", location)
}

fn fast_wait() -> WaitOptions {
    WaitOptions::default()
        .poll_interval(Duration::from_millis(2))
        .timeout(Duration::from_secs(5))
}

#[tokio::test]
async fn trigger_then_wait_tolerates_an_early_404_and_stays_home() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/job/app/build"))
        .respond_with(created(&format!("{}/queue/item/599/", elsewhere.uri())))
        .expect(1)
        .mount(&server)
        .await;
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = polls.clone();
    Mock::given(method("GET"))
        .and(path("/queue/item/599/api/json"))
        .respond_with(
            move |_: &wiremock::Request| match counter.fetch_add(1, Ordering::SeqCst) {
                0 => ResponseTemplate::new(404).set_body_raw("<html/>", "text/html"),
                1 => json(fixture("queue/item-waiting-quiet-period.json")),
                _ => json(fixture("queue/item-left-with-executable.json")),
            },
        )
        .mount(&server)
        .await;
    catch_all(&server).await;
    catch_all(&elsewhere).await;
    let jenkins = token_client(&server, "/");
    let job = JobPath::from_full_name("app").unwrap();
    let queued = jenkins.trigger(&job).await.unwrap();
    assert_eq!(queued.queue_id, 599);
    let build = jenkins
        .wait_for_build(queued.queue_id, fast_wait())
        .await
        .unwrap();
    assert_eq!(build.number, Some(54));
    assert_eq!(polls.load(Ordering::SeqCst), 3);
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the other origin got a request"
    );
}

#[tokio::test]
async fn parameters_are_form_encoded_and_triggers_are_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/job/app/buildWithParameters"))
        .and(body_string("BRANCH=feature%2Fx&NOTE=a+b+%C3%A9"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let jenkins = token_client(&server, "/");
    let job = JobPath::from_full_name("app").unwrap();
    let err = jenkins
        .trigger_with_parameters(&job, &[("BRANCH", "feature/x"), ("NOTE", "a b é")])
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(jenkins.stats().snapshot().requests, 1);
}

#[tokio::test]
async fn cancelled_items_and_timeouts_are_typed() {
    let server = MockServer::start().await;
    Mock::given(path("/queue/item/1/api/json"))
        .respond_with(json_fixture("queue/item-left-cancelled.json"))
        .mount(&server)
        .await;
    Mock::given(path("/queue/item/2/api/json"))
        .respond_with(json_fixture("queue/item-blocked.json"))
        .mount(&server)
        .await;
    let jenkins = token_client(&server, "/");
    let err = jenkins.wait_for_build(1, fast_wait()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    let short = fast_wait().timeout(Duration::from_millis(30));
    let err = jenkins.wait_for_build(2, short).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn password_auth_sends_the_crumb_with_its_session_cookie() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/jenkins/crumbIssuer/api/json"))
        .respond_with(
            json(r#"{"_class":"hudson.security.csrf.DefaultCrumbIssuer","crumb":"c0ffee","crumbRequestField":"Jenkins-Crumb"}"#)
                .insert_header("Set-Cookie", "JSESSIONID.abc123=node0xyz; Path=/jenkins; HttpOnly"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header("Jenkins-Crumb", "c0ffee"))
        .and(header("Cookie", "JSESSIONID.abc123=node0xyz"))
        .and(header_exists("Authorization"))
        .respond_with(created("/jenkins/queue/item/5/"))
        .expect(2)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let jenkins = Jenkins::builder(format!("{}/jenkins/", server.uri()))
        .password_auth("alice", "hunter2")
        .retry(fast_retry())
        .build()
        .unwrap();
    let job = JobPath::from_full_name("app").unwrap();
    assert_eq!(jenkins.trigger(&job).await.unwrap().queue_id, 5);
    // The crumb is fetched once and reused.
    assert_eq!(jenkins.trigger(&job).await.unwrap().queue_id, 5);
}

#[tokio::test]
async fn api_token_auth_asks_for_no_crumb_and_a_missing_issuer_means_csrf_off() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/job/app/5/stop"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "/job/app/5/"))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/job/app/5/"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crumbIssuer/api/json"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let job = JobPath::from_full_name("app").unwrap();
    token_client(&server, "/")
        .stop_build(&job, 5)
        .await
        .unwrap();
    let anonymous = Jenkins::builder(server.uri())
        .retry(fast_retry())
        .build()
        .unwrap();
    anonymous.stop_build(&job, 5).await.unwrap();
}

#[tokio::test]
async fn a_rejected_crumb_is_fetched_again_once() {
    let server = MockServer::start().await;
    let issued = Arc::new(AtomicUsize::new(0));
    let n = issued.clone();
    Mock::given(path("/crumbIssuer/api/json"))
        .respond_with(move |_: &wiremock::Request| {
            let i = n.fetch_add(1, Ordering::SeqCst);
            json(format!(
                r#"{{"crumb":"crumb-{i}","crumbRequestField":"Jenkins-Crumb"}}"#
            ))
        })
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header("Jenkins-Crumb", "crumb-0"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_string("No valid crumb was included in the request"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header("Jenkins-Crumb", "crumb-1"))
        .respond_with(created("/queue/item/9/"))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let jenkins = Jenkins::builder(server.uri())
        .password_auth("a", "pw")
        .retry(fast_retry())
        .build()
        .unwrap();
    let queued = jenkins
        .trigger(&JobPath::from_full_name("app").unwrap())
        .await
        .unwrap();
    assert_eq!(queued.queue_id, 9);
}
