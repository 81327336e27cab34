//! Hostile bodies: bigger than the limit (declared, streamed, or inflated from gzip), and error
//! pages that echo the request's credentials.

use std::io::Write;

use cidata_core::{Auth, ErrorKind, HttpClient, encode_base64};
use serde_json::Value;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{catch_all, fast_retry};

fn limited(server: &MockServer, limit: usize) -> HttpClient {
    HttpClient::builder(format!("{}/ctx/", server.uri()))
        .auth(Auth::basic("alice", "tok-secret"))
        .retry(fast_retry(1))
        .max_response_bytes(limit)
        .build()
        .unwrap()
}

fn url(server: &MockServer, rest: &str) -> cidata_core::Url {
    format!("{}/ctx/{rest}", server.uri()).parse().unwrap()
}

#[tokio::test]
async fn bodies_over_the_limit_fail_naming_the_url() {
    let server = MockServer::start().await;
    let big = format!("[{}1]", "1,".repeat(600_000));
    Mock::given(path("/ctx/big"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(big.clone(), "application/json"))
        .mount(&server)
        .await;
    // 1 MiB of zeros inside a JSON string, sent gzip-compressed: about 1 KiB on the wire.
    let inflated = format!("[\"{}\"]", "0".repeat(1 << 20));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(inflated.as_bytes()).unwrap();
    let compressed = gz.finish().unwrap();
    assert!(compressed.len() < 8 * 1024);
    Mock::given(path("/ctx/bomb"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(compressed, "application/json")
                .insert_header("content-encoding", "gzip"),
        )
        .mount(&server)
        .await;
    catch_all(&server).await;

    let client = limited(&server, 256 * 1024);
    for what in ["big", "bomb"] {
        let err = client
            .get_json::<Value>(url(&server, what))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{what}: {err}");
        assert!(err.to_string().contains(&format!("/ctx/{what}")), "{err}");
        assert!(err.to_string().contains("262144 bytes"), "{err}");
    }
    // Under the limit the same bodies decode.
    let roomy = limited(&server, 4 << 20);
    let v: Value = roomy.get_json(url(&server, "big")).await.unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(600_001));
    let v: Value = roomy.get_json(url(&server, "bomb")).await.unwrap();
    assert_eq!(v[0].as_str().map(str::len), Some(1 << 20));
}

#[tokio::test]
async fn echoed_credentials_are_redacted_from_errors() {
    let server = MockServer::start().await;
    let header = format!("Basic {}", encode_base64(b"alice:tok-secret"));
    let echo = format!(
        "<html><pre>GET /ctx/x\nAuthorization: {header}\npassword: tok-secret</pre></html>"
    );
    Mock::given(path("/ctx/x"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(echo.clone(), "text/html"))
        .mount(&server)
        .await;
    Mock::given(path("/ctx/y"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(echo.clone(), "text/html"))
        .mount(&server)
        .await;
    Mock::given(path("/ctx/z"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!("{{\"echo\": \"{header}\", \"secret\": \"tok-secret\""),
            "application/json",
        ))
        .mount(&server)
        .await;
    catch_all(&server).await;
    let client = limited(&server, 1 << 20);
    for what in ["x", "y", "z"] {
        let err = client
            .get_json::<Value>(url(&server, what))
            .await
            .unwrap_err();
        let shown = format!("{err} | {err:#} | {err:?} | {:?}", err.body_snippet());
        assert!(!shown.contains("tok-secret"), "{what}: {shown}");
        assert!(
            !shown.contains(&encode_base64(b"alice:tok-secret")),
            "{what}: {shown}"
        );
        assert!(
            err.body_snippet().is_some_and(|b| b.contains("***")),
            "{what}: {shown}"
        );
    }
}
