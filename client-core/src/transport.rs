//! The HTTP client every API crate sends through: auth, origin guard, retries, rate limit, counters.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::Retryable;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use crate::auth::Auth;
use crate::error::{Error, ErrorKind, Result};
use crate::origin::BaseUrl;
use crate::retry::{RetryPolicy, parse_retry_after};
use crate::stats::RequestStats;

/// Builds an [`HttpClient`].
///
/// ```no_run
/// # fn main() -> cidata_core::Result<()> {
/// use cidata_core::{Auth, HttpClient};
/// let client = HttpClient::builder("https://ci.example.com/jenkins/")
///     .auth(Auth::basic("alice", "api-token"))
///     .user_agent("my-tool/1.0")
///     .build()?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct HttpClientBuilder {
    base: String,
    auth: Auth,
    user_agent: String,
    connect_timeout: Duration,
    request_timeout: Option<Duration>,
    retry: RetryPolicy,
    rate_limit: Option<Quota>,
    default_headers: HeaderMap,
    max_response_bytes: usize,
    extra_roots_pem: Option<Vec<u8>>,
}

/// The default cap on a buffered response body (JSON): far above any page a server sends, far below
/// what would exhaust memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

impl HttpClientBuilder {
    /// Replaces the base URL given to [`HttpClient::builder`] (a client crate's builder starts
    /// with its service's default and lets the user point elsewhere).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base = base_url.into();
        self
    }

    /// Credentials for every request to the base origin (and only there).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// The `User-Agent` header; client crates set their own name and version.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How long to wait for a connection. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The deadline of one attempt, from sending to the last byte of a buffered body. Streamed bodies
    /// (console logs, artifacts) are bound by the connect timeout and this deadline only until their
    /// headers arrive. Default 60 s.
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The retry policy. Default: [`RetryPolicy::default`].
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// A client-side rate limit: at most `per_second` requests a second, in bursts of `burst`.
    pub fn rate_limit(mut self, per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        self.rate_limit = Some(Quota::per_second(per_second).allow_burst(burst));
        self
    }

    /// A client-side rate limit counted per hour, as Bitbucket counts: `per_hour` requests an
    /// hour, spread evenly, in bursts of `burst`.
    pub fn rate_limit_per_hour(mut self, per_hour: NonZeroU32, burst: NonZeroU32) -> Self {
        self.rate_limit = Some(Quota::per_hour(per_hour).allow_burst(burst));
        self
    }

    /// The largest body a buffered read (JSON, text) accepts, counted after decompression; a larger
    /// one fails with [`ErrorKind::TooLarge`] naming the URL, and memory stays bounded. Streamed
    /// bodies (console logs, artifacts) are not capped. Default [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit.max(1);
        self
    }

    /// Trusts the CA certificates of `pem` (one or more PEM blocks) besides the system's roots,
    /// for servers behind a company CA. Certificates are still checked, host names too.
    pub fn extra_root_certificates_pem(mut self, pem: Vec<u8>) -> Self {
        self.extra_roots_pem = Some(pem);
        self
    }

    /// A header sent with every request.
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.default_headers.insert(name, value);
        self
    }

    /// Builds the client. User name and password embedded in the base URL become basic auth when no
    /// other auth is set, and are removed from the URL.
    pub fn build(self) -> Result<HttpClient> {
        let mut auth = self.auth;
        let stripped = match Url::parse(self.base.trim()) {
            Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
                if auth.is_anonymous() {
                    let user = percent_decode(url.username());
                    let secret = percent_decode(url.password().unwrap_or(""));
                    auth = Auth::basic(user, secret);
                }
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.to_string()
            }
            _ => self.base.clone(),
        };
        let base = BaseUrl::parse(&stripped)?;
        let redirect_base = base.clone();
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().iter().any(|u| u == attempt.url()) {
                let message = format!(
                    "a redirect loop: the server sends back to {}",
                    crate::error::short_url(attempt.url())
                );
                attempt.error(message)
            } else if attempt.previous().len() >= 10 {
                attempt.error("more than 10 redirects")
            } else if redirect_base.is_same_origin(attempt.url()) {
                attempt.follow()
            } else {
                // The 3xx answer comes back to `send`, which reports it: credentials stay home.
                attempt.stop()
            }
        });
        install_tls_provider()?;
        let mut http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .connect_timeout(self.connect_timeout)
            .redirect(redirect)
            .default_headers(self.default_headers);
        if let Some(t) = self.request_timeout {
            http = http.read_timeout(t);
        }
        if let Some(pem) = &self.extra_roots_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                Error::new(ErrorKind::InvalidInput, "the CA bundle is not PEM").with_source(e)
            })?;
            if certificates.is_empty() {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "the CA bundle holds no certificate",
                ));
            }
            for certificate in certificates {
                http = http.add_root_certificate(certificate);
            }
        }
        let http = http.build().map_err(|e| {
            Error::new(ErrorKind::InvalidInput, "could not build the HTTP client").with_source(e)
        })?;
        let limiter = self.rate_limit.map(RateLimiter::direct);
        Ok(HttpClient {
            inner: Arc::new(ClientInner {
                http,
                base,
                auth,
                retry: self.retry,
                request_timeout: self.request_timeout,
                limiter,
                stats: RequestStats::default(),
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

/// Makes ring the process's rustls crypto provider unless the application installed one (say,
/// aws-lc-rs for FIPS) before building a client: reqwest needs one and would panic without it.
fn install_tls_provider() -> Result<()> {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing one is fine: there is one now.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    match rustls::crypto::CryptoProvider::get_default() {
        Some(_) => Ok(()),
        None => Err(Error::new(
            ErrorKind::InvalidInput,
            "no TLS crypto provider could be installed",
        )),
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// An HTTP client bound to one server: it sends only to the configured origin, authenticates,
/// retries idempotent requests, rate-limits, and counts. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    http: reqwest::Client,
    base: BaseUrl,
    auth: Auth,
    retry: RetryPolicy,
    request_timeout: Option<Duration>,
    limiter: Option<DefaultDirectRateLimiter>,
    stats: RequestStats,
    max_response_bytes: usize,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &self.inner.base)
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .field("rate_limited", &self.inner.limiter.is_some())
            .finish()
    }
}

/// What the caller expects in a response body; anything else is [`ErrorKind::UnexpectedContent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// JSON (`application/json`, `+json`).
    Json,
    /// Anything: bytes or text.
    Any,
}

/// One request, built apart from sending it so that it can be inspected and tested without a server.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Bytes>,
    idempotent: bool,
    expect: Expect,
}

impl Request {
    /// A request with `method` to `url`. GET, HEAD, PUT, DELETE and OPTIONS are idempotent (retried
    /// on transient failures); POST and PATCH are not.
    pub fn new(method: Method, url: Url) -> Request {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        Request {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            idempotent,
            expect: Expect::Any,
        }
    }

    /// A GET request.
    pub fn get(url: Url) -> Request {
        Request::new(Method::GET, url)
    }

    /// A POST request (never retried unless marked idempotent).
    pub fn post(url: Url) -> Request {
        Request::new(Method::POST, url)
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Request {
        self.headers.insert(name, value);
        self
    }

    /// Sets a body and its content type.
    pub fn body(mut self, body: impl Into<Bytes>, content_type: &'static str) -> Request {
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        self.body = Some(body.into());
        self
    }

    /// Sets an `application/x-www-form-urlencoded` body.
    pub fn form<'a>(self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Request {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body(body, "application/x-www-form-urlencoded")
    }

    /// Declares whether repeating the request is safe.
    pub fn idempotent(mut self, idempotent: bool) -> Request {
        self.idempotent = idempotent;
        self
    }

    /// Sets what the body must be.
    pub fn expect(mut self, expect: Expect) -> Request {
        self.expect = expect;
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The headers set on this request (auth is added when sending).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Whether the request may be retried.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }
}

/// A successful (2xx) response whose body has not been read yet.
pub struct Response {
    inner: reqwest::Response,
    method: Method,
    url: Url,
    stats: RequestStats,
    max_bytes: usize,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.inner.status())
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .finish()
    }
}

impl Response {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// A header as text, if present and valid.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.inner.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// The URL the request went to.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Reads the whole body, up to the client's
    /// [`max_response_bytes`](HttpClientBuilder::max_response_bytes).
    pub async fn bytes(self) -> Result<Bytes> {
        let (method, url, limit) = (self.method, self.url, self.max_bytes);
        let too_large = |what: String| {
            Error::new(
                ErrorKind::TooLarge,
                format!("{what}, over the limit of {limit} bytes"),
            )
            .with_request(method.as_str(), &url)
        };
        // A declared length over the limit fails before anything is read (compressed bodies
        // declare their compressed length, so the count below still applies).
        if let Some(declared) = self.inner.content_length()
            && declared > limit as u64
        {
            return Err(too_large(format!("the body is {declared} bytes")));
        }
        let mut body = bytes::BytesMut::new();
        let mut stream = self.inner.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Error::from(e).with_request(method.as_str(), &url))?;
            self.stats.add_bytes(chunk.len());
            if body.len() + chunk.len() > limit {
                return Err(too_large("the body grew".to_owned()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// Reads the body as text (lossy UTF-8).
    pub async fn text(self) -> Result<String> {
        let bytes = self.bytes().await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The body as a stream of chunks, in constant memory.
    pub fn bytes_stream(self) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let (method, url, stats) = (self.method, self.url, self.stats);
        self.inner.bytes_stream().map(move |chunk| match chunk {
            Ok(bytes) => {
                stats.add_bytes(bytes.len());
                Ok(bytes)
            }
            Err(e) => Err(Error::from(e).with_request(method.as_str(), &url)),
        })
    }
}

impl HttpClient {
    /// Starts a builder for a server at `base_url` (which may carry a context path).
    pub fn builder(base_url: impl Into<String>) -> HttpClientBuilder {
        HttpClientBuilder {
            base: base_url.into(),
            auth: Auth::Anonymous,
            user_agent: concat!("cidata-core/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Some(Duration::from_secs(60)),
            retry: RetryPolicy::default(),
            rate_limit: None,
            default_headers: HeaderMap::new(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            extra_roots_pem: None,
        }
    }

    /// The configured base URL.
    pub fn base(&self) -> &BaseUrl {
        &self.inner.base
    }

    /// The configured credentials (their `Debug` is redacted).
    pub fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    /// The request counters.
    pub fn stats(&self) -> &RequestStats {
        &self.inner.stats
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Sends `request`, retrying it if it is idempotent, and returns the 2xx response with its body
    /// unread. Non-2xx statuses become errors with status, URL, `Retry-After` and a body snippet.
    pub async fn send(&self, request: Request) -> Result<Response> {
        self.with_retries(&request, |resp| async move { Ok(resp) })
            .await
    }

    /// GETs `url` and decodes its JSON body into `T`; the whole exchange (body read included) is retried.
    pub async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T> {
        self.send_json(Request::get(url)).await
    }

    /// Sends `request` and decodes its JSON body into `T`.
    pub async fn send_json<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        let request = request.expect(Expect::Json);
        let auth = &self.inner.auth;
        self.with_retries(&request, |resp| async move {
            let (method, url) = (resp.method.clone(), resp.url.clone());
            let bytes = resp.bytes().await?;
            decode_json(&bytes).map_err(|e| {
                let head = &bytes[..bytes.len().min(4096)];
                e.with_request(method.as_str(), &url)
                    .with_body(&auth.redact(head))
            })
        })
        .await
    }

    /// Runs one exchange (`send_once` then `finish`) under the retry policy.
    async fn with_retries<T, F, Fut>(&self, request: &Request, finish: F) -> Result<T>
    where
        F: Fn(Response) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let retry = &self.inner.retry;
        let attempt = || async { finish(self.send_once(request).await?).await };
        let result = attempt
            .retry(retry.backoff())
            .when(|e: &Error| request.idempotent && e.is_retryable())
            .adjust(|e: &Error, backoff| backoff.map(|b| retry.delay(b, e.retry_after())))
            .notify(|e: &Error, delay| {
                self.inner.stats.add_retry();
                tracing::warn!(error = %e, delay_ms = delay.as_millis() as u64, "retrying request");
            })
            .await;
        if result.is_err() {
            self.inner.stats.add_failure();
        }
        result
    }

    /// One attempt: origin check, auth, rate limit, send, status check, content check.
    async fn send_once(&self, request: &Request) -> Result<Response> {
        let inner = &self.inner;
        if !inner.base.is_same_origin(&request.url) {
            return Err(Error::new(
                ErrorKind::ForeignOrigin,
                format!(
                    "refused to send to another origin than {}",
                    inner.base.as_url().origin().ascii_serialization()
                ),
            )
            .with_request(request.method.as_str(), &request.url));
        }
        if let Some(limiter) = &inner.limiter {
            limiter.until_ready().await;
        }
        let mut builder = inner
            .http
            .request(request.method.clone(), request.url.clone());
        builder = builder.headers(request.headers.clone());
        if let Some((name, value)) = inner.auth.header_value()? {
            builder = builder.header(name, value);
        }
        if request.expect == Expect::Json {
            builder = builder.header(reqwest::header::ACCEPT, "application/json");
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        if let (Some(t), Expect::Json) = (inner.request_timeout, request.expect) {
            builder = builder.timeout(t);
        }
        inner.stats.add_request();
        let started = Instant::now();
        let method = request.method.as_str();
        let resp = builder
            .send()
            .await
            .map_err(|e| Error::from(e).with_request(method, &request.url))?;
        let status = resp.status();
        tracing::debug!(
            method,
            url = %request.url,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "http"
        );
        if !status.is_success() {
            let retry_after = parse_retry_after(resp.headers());
            let location = resp
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let content_type = content_type(resp.headers());
            let body = inner.auth.redact(&read_prefix(resp, 4096).await);
            inner.stats.add_bytes(body.len());
            let mut err = Error::from_status(status, &body)
                .with_request(method, &request.url)
                .with_retry_after(retry_after)
                .with_content_type(content_type);
            if let (true, Some(location)) = (status.is_redirection(), location) {
                err = err.with_message(format!("redirect to `{location}` not followed"));
            }
            return Err(err);
        }
        if request.expect == Expect::Json {
            let ct = content_type(resp.headers());
            if let Some(ct) = ct.as_deref()
                && !is_json_content_type(ct)
            {
                let ct = ct.to_owned();
                let body = inner.auth.redact(&read_prefix(resp, 4096).await);
                return Err(Error::new(ErrorKind::UnexpectedContent, "expected JSON")
                    .with_request(method, &request.url)
                    .with_content_type(Some(ct))
                    .with_body(&body));
            }
        }
        Ok(Response {
            inner: resp,
            method: request.method.clone(),
            url: request.url.clone(),
            stats: inner.stats.clone(),
            max_bytes: inner.max_response_bytes,
        })
    }
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn is_json_content_type(ct: &str) -> bool {
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json") || essence == "text/json"
}

/// Reads at most `limit` bytes of an error body, for the snippet; a broken body gives what arrived.
async fn read_prefix(resp: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Ok(Some(chunk)) = stream.try_next().await {
        out.extend_from_slice(&chunk[..chunk.len().min(limit - out.len())]);
        if out.len() >= limit {
            break;
        }
    }
    out
}

/// Decodes JSON into `T`; a failure names the JSON path of the value that did not fit, and an HTML
/// body is reported as [`ErrorKind::UnexpectedContent`].
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|err| decode_error(bytes, &err))
}

/// The error of a body that did not decode (not generic: one copy for every model).
fn decode_error(bytes: &[u8], err: &serde_json::Error) -> Error {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'<') {
        return Error::new(
            ErrorKind::UnexpectedContent,
            "expected JSON, got an HTML or XML page",
        )
        .with_body(bytes);
    }
    let path = crate::json_path::json_path_of(bytes, err);
    Error::new(ErrorKind::Decode, err.to_string())
        .with_json_path(path)
        .with_body(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_bundle_without_certificates_is_refused_at_build() {
        let err = HttpClient::builder("https://ci.example.com/")
            .extra_root_certificates_pem(b"not a certificate".to_vec())
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("CA bundle"), "{err}");
    }

    #[test]
    fn json_content_types() {
        for ct in [
            "application/json",
            "application/json;charset=utf-8",
            "application/hal+json",
            "Application/JSON",
        ] {
            assert!(is_json_content_type(ct), "{ct}");
        }
        for ct in ["text/html;charset=utf-8", "text/plain", ""] {
            assert!(!is_json_content_type(ct), "{ct}");
        }
    }

    #[test]
    fn decode_names_the_json_path() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Item {
            number: u32,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct List {
            items: Vec<Item>,
        }
        let err = decode_json::<List>(br#"{"items":[{"number":1},{"number":"x"}]}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert_eq!(err.json_path(), Some("items[1].number"));
        let err = decode_json::<List>(b"<html><body>Login</body></html>").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedContent);
    }

    #[test]
    fn credentials_in_base_url_become_basic_auth() {
        let client = HttpClient::builder("https://bob:p%40ss@ci.example.com/jenkins")
            .build()
            .unwrap();
        assert_eq!(
            client.base().as_url().as_str(),
            "https://ci.example.com/jenkins/"
        );
        let shown = format!("{client:?}");
        assert!(
            !shown.contains("p@ss") && !shown.contains("p%40ss"),
            "{shown}"
        );
        match client.auth() {
            Auth::Basic { user, secret } => {
                use secrecy::ExposeSecret;
                assert_eq!(user, "bob");
                assert_eq!(secret.expose_secret(), "p@ss");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn post_is_not_idempotent() {
        let url = Url::parse("http://h/x").unwrap();
        assert!(!Request::post(url.clone()).is_idempotent());
        assert!(Request::get(url).is_idempotent());
    }
}
