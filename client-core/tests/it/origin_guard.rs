use cidata_core::{Auth, ErrorKind, HttpClient, Request};
use serde_json::Value;
use wiremock::matchers::{header_exists, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{catch_all, client};

#[tokio::test]
async fn foreign_urls_are_refused_and_rebased_links_stay_home() {
    let home = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/ctx/job/a/api/json"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{}", "application/json"))
        .expect(1)
        .mount(&home)
        .await;
    catch_all(&home).await;
    catch_all(&elsewhere).await;
    let c = client(&home, 1);

    // Sending straight to another origin is refused before any byte leaves.
    let foreign = format!("{}/ctx/job/a/api/json", elsewhere.uri())
        .parse()
        .unwrap();
    let err = c.get_json::<Value>(foreign).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignOrigin);

    // A server-provided URL of another origin is rebased onto the configured one.
    let rebased = c
        .base()
        .rebase(&format!("{}/ctx/job/a/api/json", elsewhere.uri()))
        .unwrap();
    let _: Value = c.get_json(rebased).await.unwrap();
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn redirects_to_another_origin_are_not_followed() {
    let home = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/ctx/moved"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/steal", elsewhere.uri()).as_str()),
        )
        .mount(&home)
        .await;
    Mock::given(path("/ctx/here"))
        .respond_with(ResponseTemplate::new(301).insert_header("Location", "/ctx/there"))
        .mount(&home)
        .await;
    Mock::given(path("/ctx/there"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("[1]", "application/json"))
        .mount(&home)
        .await;
    catch_all(&elsewhere).await;
    let c = HttpClient::builder(format!("{}/ctx", home.uri()))
        .auth(Auth::bearer("tok-secret"))
        .build()
        .unwrap();
    let err = c
        .send(Request::get(c.base().join("moved").unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Redirect);
    assert!(err.to_string().contains("/steal"), "{err}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    let same: Value = c.get_json(c.base().join("here").unwrap()).await.unwrap();
    assert_eq!(same, serde_json::json!([1]));
}

#[tokio::test]
async fn a_redirect_loop_says_so() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(path("/ctx/a"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", format!("{uri}/ctx/b")))
        .mount(&server)
        .await;
    Mock::given(path("/ctx/b"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", format!("{uri}/ctx/a")))
        .mount(&server)
        .await;
    let http = crate::support::client(&server, 1);
    let url = http.base().join("a").unwrap();
    let err = http.get_json::<serde_json::Value>(url).await.unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("redirect loop"), "{text}");
    assert!(text.contains("/ctx/a"), "{text}");
}
